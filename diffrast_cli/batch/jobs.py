"""The job list of ``diffrast batch``: job files, globs of them, and batch files.

A batch file is a YAML file with a top-level ``jobs`` list (a job file is one without)::

    jobs:                            # job files, relative to this file
      - configs/quickstart.yaml
      - {job: configs/soup_3d.yaml, name: soup3d, set: [optimize.iterations=300]}
    set: [output.log_every=100]      # overrides of every job (before each job's own)
    sweep:                           # every job once per combination (names get -key=value)
      seed: [0, 1, 2]

Every job is loaded and validated here, before anything runs; a job that does not load is a
failed job of the batch (its one-line error), not the end of the batch.
"""

from __future__ import annotations

import glob
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import ConfigError, DiffrastError, one_line

GLOB_CHARS = "*?["


@dataclass
class BatchJob:
    name: str
    path: Path
    overrides: list = field(default_factory=list)
    error: str | None = None          # set when the job does not load (a failed job)

    def as_dict(self) -> dict:
        return {"name": self.name, "path": str(self.path), "overrides": list(self.overrides)}


def _read_yaml(path: Path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({one_line(exc)})") from None


def _strings(value, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: a list of KEY=VALUE strings")
    return list(value)


def _from_batch_file(path: Path, data: dict, common: list) -> list[BatchJob]:
    unknown = set(data) - {"jobs", "set", "sweep"}
    if unknown:
        raise ConfigError(f"{path}: unknown key {sorted(unknown)[0]!r} (a batch file has jobs, set, sweep)")
    entries = data.get("jobs")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{path}: jobs: a non-empty list of job files or {{job, name, set}} entries")
    shared = common + _strings(data.get("set"), f"{path}: set")
    sweep = data.get("sweep") or {}
    if not isinstance(sweep, dict) or not all(isinstance(v, list) and v for v in sweep.values()):
        raise ConfigError(f"{path}: sweep: a mapping of job keys to non-empty lists of values")
    combos = [()] if not sweep else list(itertools.product(*[[(k, v) for v in vals] for k, vals in sweep.items()]))
    out = []
    for i, entry in enumerate(entries):
        where = f"{path}: jobs[{i}]"
        if isinstance(entry, str):
            entry = {"job": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("job"), str):
            raise ConfigError(f"{where}: a job file path or a mapping with job: PATH")
        extra = set(entry) - {"job", "name", "set"}
        if extra:
            raise ConfigError(f"{where}: unknown key {sorted(extra)[0]!r} (job, name, set)")
        job_path = (path.parent / entry["job"]).resolve()
        own = _strings(entry.get("set"), f"{where}.set")
        for combo in combos:
            name = entry.get("name") or None
            sets = [f"{k}={yaml.safe_dump(v, default_flow_style=True).strip().removesuffix('...').strip()}"
                    for k, v in combo]
            suffix = "".join(f"-{k.split('.')[-1]}={v}" for k, v in combo)
            out.append(BatchJob(name=(name or "") + suffix if name else suffix, path=job_path,
                                overrides=shared + own + sets))
    return out


def expand(args: list, overrides: list) -> list[BatchJob]:
    """The jobs of the command line's JOBS arguments (files, globs, batch files), each loaded and
    validated (``error`` set where it fails); names unique (job name, then -2, -3 ...)."""
    if not args:
        raise ConfigError("no jobs given: name job files, globs of them, or batch files")
    jobs: list[BatchJob] = []
    for arg in args:
        if any(c in arg for c in GLOB_CHARS):
            matches = sorted(glob.glob(arg, recursive=True))
            if not matches:
                raise ConfigError(f"{arg}: the glob matches no file")
            paths = [Path(m) for m in matches]
        else:
            paths = [Path(arg)]
        for path in paths:
            if not path.is_file():
                raise ConfigError(f"{path}: no such job file")
            data = _read_yaml(path) if path.suffix.lower() in (".yaml", ".yml") else None
            if isinstance(data, dict) and "jobs" in data:
                jobs += _from_batch_file(path, data, list(overrides))
            else:
                jobs.append(BatchJob(name="", path=path.resolve(), overrides=list(overrides)))
    _load_all(jobs)
    return jobs


def _load_all(jobs: list[BatchJob]) -> None:
    from ..jobfile import load_job
    seen: dict[str, int] = {}
    for job in jobs:
        stem = job.path.stem
        try:
            config, _ = load_job(job.path, job.overrides)
            stem = config.name
        except DiffrastError as exc:
            job.error = one_line(exc)
        base = f"{stem}{job.name}" if job.name.startswith("-") or not job.name else job.name
        count = seen.get(base, 0) + 1
        seen[base] = count
        job.name = base if count == 1 else f"{base}-{count}"
