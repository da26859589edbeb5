"""Checkpoints: everything a run needs to continue bit-identically.

A checkpoint holds the parameters, the Adam moments, the draw order, the
iteration, the seed, the resolved job (and its hash), the metrics and
progress frames so far and the loop time. It is written atomically
(temporary file, fsync, rename); the one before it is kept as
checkpoint.prev.npz, and loading falls back to it if the newest is damaged.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConfigError, OutputError
from .io.atomic import atomic_path

CHECKPOINT = "checkpoint.npz"
PREVIOUS = "checkpoint.prev.npz"
FORMAT = 1


def job_dict(job) -> dict:
    return job.model_dump(mode="json")


def job_hash(job) -> str:
    return hashlib.sha256(json.dumps(job_dict(job), sort_keys=True).encode()).hexdigest()


def _flatten(d, prefix=""):
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def job_differences(old: dict, new: dict) -> list[str]:
    """Dotted keys whose values differ, as 'key (old -> new)'."""
    a, b = _flatten(old), _flatten(new)
    return [f"{k} ({a.get(k)!r} -> {b.get(k)!r})" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


@dataclass
class Checkpoint:
    iteration: int
    seed: int
    job: dict
    state: dict                                   # name -> np.ndarray (estimator state)
    records: list = field(default_factory=list)   # metrics.jsonl lines so far
    frames: list = field(default_factory=list)    # (iteration, HxWx3 image)
    loop_seconds: float = 0.0
    flags: dict = field(default_factory=dict)

    def save(self, run_dir: Path) -> Path:
        run_dir = Path(run_dir)
        meta = {"format": FORMAT, "iteration": self.iteration, "seed": self.seed, "job": self.job,
                "job_hash": hashlib.sha256(json.dumps(self.job, sort_keys=True).encode()).hexdigest(),
                "records": self.records, "frame_iterations": [f[0] for f in self.frames],
                "loop_seconds": self.loop_seconds, "flags": self.flags}
        arrays = {f"state_{k}": v for k, v in self.state.items()}
        if self.frames:
            arrays["frames"] = np.stack([f[1] for f in self.frames]).astype(np.float16)
        target = run_dir / CHECKPOINT
        buf = io.BytesIO()
        np.savez(buf, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
        with atomic_path(run_dir / f".{CHECKPOINT}.new") as tmp:   # complete and synced before it counts
            tmp.write_bytes(buf.getvalue())
        try:
            if target.exists():
                os.replace(target, run_dir / PREVIOUS)
            os.replace(run_dir / f".{CHECKPOINT}.new", target)
        except OSError as exc:
            raise OutputError(f"{target}: cannot store the checkpoint ({exc.strerror or exc}); "
                              f"the previous one is intact")
        return target


class DamagedCheckpoint(Exception):
    """A checkpoint file that cannot be read; the message says how (one line, no numpy internals)."""


def _read(path: Path) -> Checkpoint:
    try:
        with np.load(path, allow_pickle=False) as data:
            if not hasattr(data, "files") or "meta" not in data.files:
                raise DamagedCheckpoint("not a diffrast checkpoint (no metadata)")
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise DamagedCheckpoint(f"checkpoint format {meta.get('format')!r}, this diffrast reads {FORMAT}")
            state = {k[len("state_"):]: data[k].copy() for k in data.files if k.startswith("state_")}
            frames = (list(zip(meta["frame_iterations"], data["frames"].astype(np.float32)))
                      if "frames" in data.files else [])
            return Checkpoint(iteration=int(meta["iteration"]), seed=int(meta["seed"]), job=meta["job"], state=state,
                              records=meta["records"], frames=frames, loop_seconds=float(meta["loop_seconds"]),
                              flags=meta.get("flags", {}))
    except DamagedCheckpoint:
        raise
    except OSError as exc:
        if exc.strerror:                     # unreadable (permissions, I/O error), not damaged
            raise DamagedCheckpoint(f"cannot read it ({exc.strerror})") from None
        raise DamagedCheckpoint("damaged or truncated (not a readable .npz archive)") from None
    except Exception:          # a zip that is not one, pickled or missing entries, bad JSON, ...
        raise DamagedCheckpoint("damaged or truncated (not a readable .npz archive)") from None


def load_checkpoint(run_dir: Path) -> tuple[Checkpoint, Path]:
    """The newest readable checkpoint of a run folder (falls back to the previous one).
    Neither readable: a ConfigError naming each file, what is wrong with it and what to do."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"--resume {run_dir}: no such run folder")
    problems = []
    for name in (CHECKPOINT, PREVIOUS):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            return _read(path), path
        except DamagedCheckpoint as exc:       # damaged or foreign file: try the older one
            problems.append(f"{path} is {exc}" if str(exc).startswith("damaged") else f"{path}: {exc}")
    if not problems:
        raise ConfigError(f"--resume {run_dir}: no usable checkpoint (no {CHECKPOINT} in the folder); "
                          f"start the run again (--out {run_dir} --overwrite)")
    raise ConfigError(f"--resume {run_dir}: no usable checkpoint: {'; '.join(problems)}; start the run again "
                      f"(--out {run_dir} --overwrite) or restore the file from a backup")
