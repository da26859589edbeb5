"""The pose task (not built yet)."""
from __future__ import annotations

from .task import Task


class Pose(Task):
    name = "pose"
    primary = "success"
