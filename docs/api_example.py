"""diffrast's Python API, end to end: fit 300 triangles to an image given as a numpy array,
watch the fit at every log step, stop early, render the result, then write a run folder.
(CPU renderer, 2 cores: a few seconds.) Run it: python docs/api_example.py"""

import tempfile
from pathlib import Path

import numpy as np

import diffrast

# The target: any HxWx3 image (floats in [0, 1] or uint8), e.g. np.asarray(PIL.Image.open("photo.jpg")).
y, x = np.mgrid[0:64, 0:64].astype(np.float32) / 64
target = np.stack([x, y, 0.5 + 0.5 * np.sin(6 * (x + y))], axis=2)
target[(x - 0.4) ** 2 + (y - 0.5) ** 2 < 0.05] = (0.9, 0.2, 0.1)

# A job: the keys of a job file (README, "Job file"); overrides work like `diffrast optimize --set`.
# Without a `target` key the target is given as an array to optimize().
job = diffrast.load_job({"name": "api-example", "seed": 1, "render": {"resolution": 64},
                         "scene": {"triangles": 300, "init": {"size": 0.2}},
                         "optimize": {"iterations": 300}, "output": {"log_every": 50, "frames": 4}},
                        overrides={"optimize.lr_schedule": "cosine"})

seen = []


def watch(step):
    """Called at every log step; returning False stops the run after it."""
    seen.append((step.iteration, step.psnr))
    print(f"iteration {step.iteration:4d}  loss {step.loss:.5f}  PSNR {step.psnr:5.2f} dB")
    if step.iteration == 100:
        image = step.image()                     # the clean render now, HxWx3 float32
        print(f"  render at iteration 100: {image.shape}, mean {image.mean():.3f}")
    return step.iteration < 200                  # stop at iteration 200 (of 300)


result = diffrast.optimize(job, targets=target, callback=watch)      # out=None: nothing written to disk
report = result.report
print(f"stopped by the {report['interrupted']} at iteration {report['iterations']}: "
      f"PSNR {report['initial']['psnr']:.2f} -> {report['final']['psnr']:.2f} dB")
print({name: values.shape for name, values in result.parameters.items()})  # (triangles, values per triangle)
assert result.out is None and report["iterations"] == 200 and report["final"]["psnr"] > report["initial"]["psnr"]

final = diffrast.render(result)                  # a clean render of the final parameters
start = diffrast.render(job, targets=target)     # ... or of a job's initial ones
mse = lambda a: float(np.mean((a - target) ** 2))
print(f"render: {final.shape} {final.dtype}; MSE to the target {mse(start):.4f} at the start, {mse(final):.4f} now")
assert mse(final) < mse(start)

# The same run, written to a run folder (the files of `diffrast optimize`); errors are one line.
with tempfile.TemporaryDirectory() as tmp:
    run = diffrast.optimize(job, out=Path(tmp) / "run", targets=target,
                            callback=lambda step: step.iteration < 200)
    print(f"wrote {', '.join(run.report['outputs'])}")
    try:
        diffrast.optimize(job, out=Path(tmp) / "run", targets=target)      # the folder holds a run
    except diffrast.OutputError as exc:
        print(f"refused: {exc}")
    assert run.report["final"] == report["final"]                         # the same job, the same numbers
