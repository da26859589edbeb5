"""Shared fixtures: run the CLI as a subprocess, write a tiny job + target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

TINY_JOB = """\
name: tiny
seed: 0
target:
  image: target.png
render:
  resolution: 32
scene:
  triangles: 50
optimize:
  iterations: 3
output:
  log_every: 1
  frames: 2
"""


@pytest.fixture
def run_cli():
    """run_cli(*args, cwd=REPO, env=None, timeout=60) -> (exit code, stdout, stderr)."""

    def run(*args, cwd=None, env=None, timeout=60):
        full_env = dict(os.environ)
        full_env.pop("DIFFRAST_DEBUG", None)
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), full_env.get("PYTHONPATH")]))
        full_env.update(env or {})
        proc = subprocess.run([sys.executable, "-m", "diffrast_cli", *map(str, args)],
                              cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout)
        return proc.returncode, proc.stdout, proc.stderr

    return run


def write_target(path: Path, w: int = 32, h: int = 32, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def job_file(tmp_path) -> Path:
    """tmp_path/job.yaml (TINY_JOB) next to a 32x32 target.png."""
    write_target(tmp_path / "target.png")
    path = tmp_path / "job.yaml"
    path.write_text(TINY_JOB)
    return path


@pytest.fixture(scope="module")
def device():
    """A GL device on the default EGL device (the CPU renderer in CI), shared by a test module."""
    from diffrast_cli.gl.context import create_device
    dev = create_device()
    yield dev
    dev.release()


@pytest.fixture
def steps(monkeypatch):
    """(iteration, lr_scale) of every Estimator.step, in order."""
    from diffrast_cli.sge.estimator import Estimator
    calls = []
    step = Estimator.step

    def recording(self, iteration, lr_scale=1.0, *args, **kwargs):
        calls.append((iteration, lr_scale))
        return step(self, iteration, lr_scale, *args, **kwargs)

    monkeypatch.setattr(Estimator, "step", recording)
    return calls
