"""Jobs for the Python API: from a job file, a mapping or a job, with ``--set``-style overrides."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import yaml

from diffrast_cli.config import JobConfig
from diffrast_cli.errors import ConfigError
from diffrast_cli.jobfile import apply_override, dump_job, load_job as load_job_file, path_keys, path_nodes, validate_job

# target.image of a job whose target images are given as arrays (``targets=``), not files.
ARRAY_TARGET = "<array>"


def _assignments(overrides) -> list[str]:
    """``["key=value", ...]`` or ``{"dotted.key": value}`` as ``--set`` assignments."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return [overrides]
    if isinstance(overrides, dict):
        out = []
        for key, value in overrides.items():
            text = value if isinstance(value, str) else json.dumps(value)
            out.append(f"{key}={text}")
        return out
    return [str(a) for a in overrides]


def _absolute_paths(data: dict) -> None:
    """Relative paths of a mapping's path keys are taken from the working directory."""
    for key in path_keys():
        for node, leaf in path_nodes(data, key):
            node[leaf] = _absolute_value(node[leaf])


def _absolute_value(value):
    """A path value (or a list of them) relative to the working directory, made absolute."""
    def absolute(value):
        if not isinstance(value, str) or not value or value == ARRAY_TARGET or "\0" in value:
            return value
        try:
            p = Path(value).expanduser()
        except (RuntimeError, KeyError):        # ~nosuchuser: the loader names the missing file
            p = Path(value)
        return str(p if p.is_absolute() else Path.cwd() / p)

    return [absolute(v) for v in value] if isinstance(value, list) else absolute(value)


def load_job(source, overrides=None) -> JobConfig:
    """A validated job from a job file (path), a mapping (the job file's keys) or a job.

    ``overrides``: ``["optimize.iterations=200", ...]`` or ``{"optimize.iterations": 200}``,
    with the semantics of ``diffrast optimize --set``. A mapping without ``target`` gets
    ``target.image: "<array>"``: its target images must then be given to :func:`optimize`
    as arrays. Paths in a mapping are relative to the working directory. Raises
    ``ConfigError`` with the command line's one-line message."""
    assignments = _assignments(overrides)
    if isinstance(source, (str, os.PathLike)):
        job, _ = load_job_file(Path(source), assignments)
        return job
    if isinstance(source, JobConfig):
        data = yaml.safe_load(dump_job(source))          # as job.yaml holds it
        where = "<job>"
    elif isinstance(source, dict):
        data = copy.deepcopy(source)
        data.setdefault("target", {"image": ARRAY_TARGET})
        where = "<dict>"
    else:
        raise ConfigError(f"load_job: expected a job file path, a mapping or a job, got {type(source).__name__}")
    keys = [apply_override(data, a) for a in assignments]
    _absolute_paths(data)
    return validate_job(data, where, keys)
