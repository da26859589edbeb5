"""The `diffrast` command: optimize, bench, info, validate.

Every DiffrastError becomes one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

import click

from . import __version__
from .errors import ConfigError, DiffrastError, GLError
from .interrupts import Interrupted

EXIT_USER_ERROR = 2


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _fail(exc: DiffrastError) -> None:
    click.echo(f"diffrast: {exc.kind}: {_one_line(exc)}", err=True)
    sys.exit(EXIT_USER_ERROR)


class _UsageError(click.ClickException):
    """A click usage error (missing argument, unknown option) shown as one line, exit code 2."""

    exit_code = EXIT_USER_ERROR

    def __init__(self, exc: click.UsageError):
        super().__init__(exc.format_message())
        ctx = exc.ctx
        self.hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""

    def show(self, file=None) -> None:
        click.echo(f"diffrast: usage error: {_one_line(self.format_message())}{self.hint}", err=True)


def _is_plain_usage_error(exc) -> bool:
    # `diffrast` alone prints the help (click's NoArgsIsHelpError): keep that as it is.
    return isinstance(exc, click.UsageError) and type(exc).__name__ != "NoArgsIsHelpError"


class _Group(click.Group):
    """Maps DiffrastError (and stray internal errors, and usage errors) to one line, no traceback."""

    def make_context(self, *args, **kwargs):
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            if _is_plain_usage_error(exc):
                raise _UsageError(exc) from None
            raise

    def invoke(self, ctx):
        try:
            from .scene import registry        # every scene kind before the command: a broken
            registry.load_kinds()              # plug-in fails each command alike, on one line
            return super().invoke(ctx)
        except DiffrastError as exc:
            _fail(exc)
        except click.UsageError as exc:
            if _is_plain_usage_error(exc):
                raise _UsageError(exc) from None
            raise
        except BrokenPipeError:  # e.g. `diffrast info | head`: stop quietly
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
            sys.exit(0)
        except Interrupted as exc:          # a signal outside the optimization loop
            click.echo(f"diffrast: {_one_line(exc)}", err=True)
            sys.exit(exc.code)
        except KeyboardInterrupt:
            click.echo("diffrast: SIGINT: interrupted", err=True)
            sys.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: still one line unless asked for the traceback
            if os.environ.get("DIFFRAST_DEBUG"):
                raise
            click.echo(f"diffrast: internal error: {exc.__class__.__name__}: {_one_line(exc)} "
                       f"(set DIFFRAST_DEBUG=1 for the traceback)", err=True)
            sys.exit(1)


device_option = click.option("--device", "device", default=None, metavar="N",
                             help="EGL device number (default: $DIFFRAST_DEVICE or 0).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="diffrast")
def main():
    """diffrast: fit 3D assets to images with a differentiable OpenGL rasterizer."""


@main.command()
@click.argument("job_file", type=click.Path(path_type=Path), required=False)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: runs/<job name>, or runs/<job name>-N if that exists).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a job key, e.g. --set optimize.iterations=500 (repeatable).")
@device_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; one summary line at the end.")
@click.option("--resume", "resume_dir", type=click.Path(path_type=Path), default=None, metavar="RUN_DIR",
              help="Continue the run in RUN_DIR from its checkpoint (its job.yaml, unless JOB_FILE is given).")
@click.option("--force", is_flag=True, help="With --resume: continue even if the job changed.")
@click.option("--window", is_flag=True, help="Show target | render | error in a live window while optimizing "
              "(needs a display; headless is the default).")
@click.option("--overwrite", is_flag=True,
              help="Replace the run in --out (once the new run has written all its outputs).")
def optimize(job_file, out_dir, overrides, device, quiet, resume_dir, force, overwrite, window):
    """Optimise the scene of JOB_FILE to match its target.

    Ctrl-C (or SIGTERM) stops after the current iteration, writes a checkpoint
    and the outputs so far, and exits with 130 (143); a second one exits at once.
    """
    from .api import load_job, optimize as run
    from .interrupts import RaiseOnSignals

    if resume_dir is not None and out_dir is not None and Path(out_dir).resolve() != Path(resume_dir).resolve():
        raise click.UsageError("--resume RUN_DIR writes into RUN_DIR; leave out --out or give the same folder")
    if force and resume_dir is None:
        raise click.UsageError("--force only applies with --resume")
    if overwrite and resume_dir is not None:
        raise click.UsageError("--overwrite replaces a run, --resume continues it: give one of them")
    if overwrite and out_dir is None:
        raise click.UsageError("--overwrite needs --out (default folders are never overwritten)")
    if job_file is None and resume_dir is None:
        raise click.UsageError("Missing argument 'JOB_FILE' (or --resume RUN_DIR).")
    if window:
        from .window.live import require_display
        require_display()
    with RaiseOnSignals("interrupted before the optimization started; nothing was written"):
        if job_file is None:
            job_file = Path(resume_dir) / "job.yaml"
            if Path(resume_dir).is_dir() and not job_file.is_file():
                raise ConfigError(f"--resume {resume_dir}: {job_file} is missing; give the job file: "
                                  f"diffrast optimize JOB_FILE --resume {resume_dir}")
        job = load_job(job_file, overrides)
    result = run(job, out=resume_dir or out_dir, runs=None if (resume_dir or out_dir) else "runs",
                 resume=resume_dir is not None, force=force, overwrite=overwrite, device=device,
                 progress=not quiet, stop_on_signals=True, config=job_file, window=window)
    report = result.report
    if report["interrupted"]:
        cmd = " ".join(["diffrast", "optimize", "--resume", shlex.quote(report["out_dir"])]
                       + (["--device", shlex.quote(str(device))] if device is not None else []))
        click.echo(f"diffrast: {report['interrupted']}: stopped at iteration {report['iterations']} of "
                   f"{report['iterations_planned']}; checkpoint and outputs so far in {report['out_dir']}. "
                   f"Resume with: {cmd}", err=True)
        sys.exit(report["exit_code"])
    f = report["final"]
    click.echo(f"{report['job']}: PSNR {report['initial']['psnr']:.2f} -> {f['psnr']:.2f} dB, "
               f"loss {f['loss']:.6f}, {report['iterations']} iterations at {report['it_per_s']} it/s "
               f"on {report['device']['renderer']} -> {report['out_dir']}")
    if report["flags"].get("overflow"):
        click.echo("diffrast: warning: a fixed-point accumulator overflowed (lower optimize.fixed_point_scale; "
                   "see report.json)", err=True)
    if report["flags"].get("nonfinite"):
        click.echo("diffrast: warning: non-finite values were skipped (optimize.on_nonfinite: skip; "
                   "see report.json)", err=True)


@main.command()
@click.argument("job_file", type=click.Path(path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a job key.")
def validate(job_file, overrides):
    """Check a job file (schema, images, meshes) without running it."""
    from .jobfile import load_job
    from .problem import check_inputs

    job, base = load_job(job_file, overrides)
    click.echo(f"{job_file}: ok ({job.name}: {check_inputs(job, base)}, {job.optimize.iterations} iterations)")


@main.command()
@device_option
@click.option("--list", "list_all", is_flag=True, help="List every EGL device.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def info(device, list_all, as_json):
    """Show the GL device (renderer, version, extensions, limits, atomic path) and the scene kinds."""
    from .gl.context import FLOAT_ATOMICS_EXT, create_device, list_devices

    if list_all:
        devices = list_devices()
        if as_json:
            click.echo(json.dumps(devices, indent=2))
        else:
            for d in devices:
                click.echo(f"[{d['index']}] {d.get('renderer', d.get('error'))}")
            _echo_kinds(_scene_kinds())
        return
    dev = create_device(device)
    try:
        data = dev.describe()
        data["limits"] = dev.limits
        wanted = (FLOAT_ATOMICS_EXT, "GL_ARB_shader_viewport_layer_array", "GL_ARB_compute_shader",
                  "GL_ARB_shader_storage_buffer_object", "GL_ARB_timer_query")
        data["extensions"] = {e: e in dev.extensions for e in wanted}
    finally:
        dev.release()
    data["scene_kinds"] = _scene_kinds()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"device {data['index']}: {data['renderer']} ({data['vendor']})")
    click.echo(f"OpenGL {data['version']}")
    click.echo(f"atomics: {data['atomics']} ({'float atomics' if data['atomics'] == 'float' else 'fixed-point integer atomics'})")
    click.echo("extensions:")
    for e, ok in data["extensions"].items():
        click.echo(f"  {'yes' if ok else 'no '} {e}")
    click.echo("limits:")
    for k, v in data["limits"].items():
        click.echo(f"  {k}: {v}")
    _echo_kinds(data["scene_kinds"])


def _scene_kinds() -> dict:
    """The registered scene kinds: name -> its scene class and where it came from."""
    from .scene import registry

    kinds = registry.kinds()
    return {name: {"class": f"{kinds[name].factory.__module__}.{kinds[name].factory.__qualname__}",
                   "source": source} for name, source in registry.kind_sources().items()}


def _echo_kinds(kinds: dict) -> None:
    click.echo("scene kinds:")
    for name, k in kinds.items():
        click.echo(f"  {name}: {k['class']} ({k['source']})")


@main.command()
@click.argument("tasks", nargs=-1)
@click.option("--instances", default=None, type=click.IntRange(1, 1000),
              help="Instances per task (seeds 0..N-1); default: each task's own count (docs/soft.md).")
@click.option("--quick", is_flag=True, help="Small images, few steps, three methods, one instance: a smoke run.")
@click.option("--grid", is_flag=True, help="Choose each soft family's tau by a grid search on training "
              "instances first (seeds 1000, 1001).")
@click.option("--learned", "learned_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Add the soft rasterizer with a meta-trained MLP (softness.json of diffrast meta).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Write every run (with its curve) and the summary as JSON here.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Write suite.json, suite.md and the convergence plots (one PNG per task) into this folder.")
@device_option
def suite(tasks, instances, quick, grid, learned_path, json_path, out_dir, device):
    """Run the inverse-rendering task suite with each gradient method (docs/soft.md)."""
    from .gl.context import create_device
    from .suite.runner import TASKS, markdown, run_suite

    tasks = tuple(tasks) or TASKS
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise click.BadParameter(f"unknown task {unknown[0]!r}; choose from {', '.join(TASKS)}", param_hint="TASKS")
    learned = _read_softness(learned_path) if learned_path else None
    out = _fresh_folder(out_dir) if out_dir else None
    dev = create_device(device)
    try:
        result = run_suite(dev, tasks, instances, quick, grid, progress=_echo_suite_progress, learned=learned)
    finally:
        dev.release()
    table = markdown(result["summary"])
    click.echo(table)
    if json_path:
        from .io.atomic import atomic_write_bytes
        atomic_write_bytes(json_path, (json.dumps(result, indent=2) + "\n").encode())
    if out is not None:
        from .suite.plots import write_outputs
        write_outputs(result, table, out)


@main.command()
@click.argument("task")
@click.option("--target", type=click.Choice(["mlp", "sge_eps"]), default="mlp", show_default=True,
              help="What to learn: the soft rasterizer's MLP CDF (with tau, gamma) or SGE's perturbation size.")
@click.option("--steps", default=40, show_default=True, type=click.IntRange(1, 100000), help="Outer steps.")
@click.option("--test-instances", default=4, show_default=True, type=click.IntRange(1, 1000),
              help="Held-out instances (seeds 0..N-1) the start and the learned values are compared on.")
@click.option("--transfer", default=None, help="Also compare them on this other task.")
@click.option("--full", is_flag=True, help="Inner runs at the tasks' default sizes (default: the quick sizes).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="A new folder for softness.json (the learned values, history, held-out figures).")
@device_option
def meta(task, target, steps, test_instances, transfer, full, out_dir, device):
    """Meta-train a gradient method's softness on a task family (docs/soft.md)."""
    from .gl.context import create_device
    from .io.atomic import atomic_write_bytes
    from .suite import meta as metalib
    from .suite.runner import TASKS

    for name, hint in ((task, "TASK"), (transfer, "--transfer")):
        if name is not None and name not in TASKS:
            raise click.BadParameter(f"unknown task {name!r}; choose from {', '.join(TASKS)}", param_hint=hint)
    out = _fresh_folder(out_dir)
    quick = not full
    dev = create_device(device)
    try:
        result = metalib.meta_train(dev, task, target, steps, quick, progress=_echo_suite_progress)
        seeds = list(range(test_instances))
        result["held_out"] = metalib.evaluate(dev, task, target, result["start"], result["phi"], seeds, quick)
        if transfer:
            result["transfer"] = {"task": transfer, **metalib.evaluate(dev, transfer, target, metalib.transfer_start(
                dev, transfer, target), metalib.transfer_phi(result, transfer, target), seeds, quick)}
    finally:
        dev.release()
    for key in ("held_out", "transfer"):
        if key in result:
            r = result[key]
            click.echo(f"{key.replace('_', '-')} {r.get('task', task)}: meta loss {r['start']['meta_loss']:.4g} -> "
                       f"{r['learned']['meta_loss']:.4g}, {r['metric']} {r['start'][r['metric']]:.3f} -> "
                       f"{r['learned'][r['metric']]:.3f} ({len(seeds)} instances)")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "softness.json", (json.dumps(result, indent=2) + "\n").encode())
    click.echo(f"wrote {out / 'softness.json'}")


def _echo_suite_progress(r: dict) -> None:
    if "grid" in r:
        click.echo(f"grid {r['grid']} log_tau {r['log_tau']:g}: {r['metric']} {r['score']:.3f}", err=True)
    elif "outer" in r:
        shown = {k: round(v, 3) for k, v in r["value"].items() if k != "mlp"}
        click.echo(f"meta step {r['outer']}: train {r['metric']} {r['train']:.4g}, {shown}", err=True)
    else:
        m = r["metric"]
        click.echo(f"{r['task']} {r['method']} instance {r['seed']}: {m} {r['start'][m]:.3f} -> {r['final'][m]:.3f} "
                   f"({r['it_per_s']} it/s)", err=True)


def _read_softness(path: str) -> dict:
    from .suite.meta import load_softness
    return load_softness(path)


def _fresh_folder(path: str) -> Path:
    """An output folder that does not exist yet or is empty (never overwrite a result)."""
    out = Path(path)
    if out.exists() and any(out.iterdir()):
        raise click.BadParameter(f"{path} exists and is not empty; choose a new folder", param_hint="--out")
    return out


@main.command()
@click.option("--problem", "problems", multiple=True, help="Problem name (repeatable; default: all).")
@click.option("--iterations", default=200, show_default=True, type=click.IntRange(min=1),
              help="Timed iterations per problem.")
@click.option("--warmup", default=20, show_default=True, type=click.IntRange(min=0), help="Untimed iterations first.")
@click.option("--samples", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Antithetic pairs per iteration.")
@device_option
@click.option("--atomics", type=click.Choice(["auto", "float", "fixed"]), default="auto", show_default=True)
@click.option("--aggregation", type=click.Choice(["auto", "direct", "shared", "subgroup"]), default="auto",
              show_default=True, help="How G merges additions to one contributor (auto: per device and scene).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def bench(problems, iterations, warmup, samples, device, atomics, aggregation, as_json):
    """Time the optimisation loop on standard problems (it/s and per-pass ms)."""
    from .bench import PROBLEMS, run_bench

    names = list(problems) or list(PROBLEMS)
    unknown = [n for n in names if n not in PROBLEMS]
    if unknown:
        raise click.BadParameter(f"unknown problem {unknown[0]!r}; choose from {', '.join(PROBLEMS)}",
                                 param_hint="--problem")
    try:
        results = run_bench(names, iterations, warmup, samples, device, atomics, progress=not as_json,
                            aggregation=None if aggregation == "auto" else aggregation)
    except GLError as e:
        raise click.UsageError(str(e)) from None
    if as_json:
        click.echo(json.dumps(results, indent=2))


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--device", default=None, metavar="N", help="EGL device number (default: $DIFFRAST_DEVICE or 0).")
@click.option("--size", default=640, show_default=True, type=click.IntRange(64, 4096),
              help="Window size (its longer side), pixels.")
def view(path, device, size):
    """Open an orbit viewer of a run folder (its last checkpoint) or a mesh asset.

    Drag to orbit, wheel to zoom; C colour, I id buffer, E error (on a target view), N / P next /
    previous target view, O free orbit, Q or Esc quit. Needs a display.
    """
    from .window.live import require_display
    from .window.view import Viewer, load_view_problem

    require_display("diffrast view")
    problem, theta = load_view_problem(path, size, device)
    try:
        viewer = Viewer(problem, theta, size)
        try:
            viewer.run()
        finally:
            viewer.close()
    finally:
        problem.release()


def _register_batch() -> None:
    from .batch.command import batch
    main.add_command(batch)


_register_batch()
