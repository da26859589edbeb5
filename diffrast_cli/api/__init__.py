"""diffrast's Python API (``import diffrast``).

    job = diffrast.load_job("configs/quickstart.yaml", {"optimize.iterations": 200})
    result = diffrast.optimize(job, out="runs/mine", callback=print)
    image = diffrast.render(result)            # HxWx3 float32

Installed as the import package ``diffrast`` (pyproject maps it onto this folder); the
imports below are absolute so that ``diffrast`` and ``diffrast_cli.api`` share one copy
of every class.
"""

from diffrast_cli import __version__
from diffrast_cli.api.jobs import load_job
from diffrast_cli.api.run import Result, optimize, render
from diffrast_cli.config import JobConfig
from diffrast_cli.errors import (ConfigError, DiffrastError, GLError, InputError, LimitError, NumericalError,
                                 OutputError)
from diffrast_cli.pipeline import Step

__all__ = ["load_job", "optimize", "render", "Result", "Step", "JobConfig", "DiffrastError", "ConfigError",
           "InputError", "GLError", "LimitError", "OutputError", "NumericalError", "__version__"]
