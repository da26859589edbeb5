"""The ``diffrast batch`` command (registered on the CLI group by cli.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click


@click.command()
@click.argument("jobs", nargs=-1)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a key of every job (repeatable).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder of the run folders and logs (default: runs/batch-<date>-<time>).")
@click.option("--address", default=None, help="Join a running Ray cluster (default: start a local one).")
@click.option("--gpus-per-job", type=click.FloatRange(0, 64), default=None,
              help="GPUs each job asks Ray for (default: 1 where the cluster has GPUs, else 0: CPU tasks).")
@click.option("--retries", type=click.IntRange(0, 100), default=0, show_default=True,
              help="Run a failed job again up to this many times.")
@click.option("--cpus", type=click.IntRange(1, 4096), default=None,
              help="CPUs of the local cluster (default: Ray's count of this machine's).")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a JUnit XML report (one test case per job).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the summary as JSON.")
def batch(jobs, overrides, out_dir, address, gpus_per_job, retries, cpus, junit_path, json_path):
    """Run many jobs on a Ray cluster: JOBS are job files, globs of them, or batch files
    (a YAML file with a top-level jobs: list, set: and sweep:; docs in README "Batch runs").

    Each job runs in its own worker process with its own GL context, writes OUT/NAME/ and
    OUT/NAME.log; a failed job does not stop the others. Exit code 1 if any job failed.
    """
    from .jobs import expand
    from .reports import write_json, write_junit
    from .runner import run_batch, summary_table

    plan = expand(list(jobs), list(overrides))
    out = out_dir or Path("runs") / time.strftime("batch-%Y%m%d-%H%M%S")
    click.echo(f"diffrast batch: {len(plan)} job{'s' if len(plan) != 1 else ''} -> {out}")
    summary = run_batch(plan, out, address=address, gpus_per_job=gpus_per_job, retries=retries, num_cpus=cpus,
                        echo=click.echo)
    click.echo(summary_table(summary))
    if json_path is not None:
        write_json(summary, json_path)
    if junit_path is not None:
        write_junit(summary, junit_path)
    if summary["failed"]:
        sys.exit(1)
