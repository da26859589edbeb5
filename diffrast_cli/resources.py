"""Where the former resources module's parts live now (names kept for existing imports):
free device memory in :mod:`diffrast_cli.gl.device_memory`, the job's memory estimate
and check in :mod:`diffrast_cli.sge.memory`, atomic output writes in
:mod:`diffrast_cli.io.atomic`."""

from __future__ import annotations

from .gl.device_memory import available_memory
from .io.atomic import atomic_path, atomic_write_bytes, ensure_folder, output_error
from .sge.memory import check_memory, estimate_job_memory, format_bytes

__all__ = ["atomic_path", "atomic_write_bytes", "available_memory", "check_memory", "ensure_folder",
           "estimate_job_memory", "format_bytes", "output_error"]
