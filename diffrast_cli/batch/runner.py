"""``diffrast batch``: jobs as Ray tasks, one worker process (and GL context) per job.

``ray.init()`` with no address starts a local cluster (nothing to set up); ``address`` joins a
running one. A job asks for ``gpus_per_job`` GPUs (0: a CPU task on the EGL device
``$DIFFRAST_DEVICE`` or 0, the CPU renderer on a machine without a GPU); its worker maps the GPU
Ray assigned (a CUDA ordinal) to the EGL device that is that GPU (gl/egl_devices.py). Workers
run one task and exit (``max_calls=1``), so no GL context outlives its job. A failed job is
submitted again up to ``retries`` times and never stops the others. Each job writes its run
folder ``OUT/<name>/`` and its log ``OUT/<name>.log``.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from pathlib import Path

from ..errors import ConfigError, DiffrastError, one_line


def run_one(spec: dict) -> dict:
    """Run one job in this (worker) process: its record for the summary. Never raises."""
    t0 = time.perf_counter()
    record = {"name": spec["name"], "path": spec["path"], "out": spec["out"], "attempt": spec["attempt"]}
    log_path = Path(spec["log"])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        print(f"== {spec['name']} attempt {spec['attempt']}: {spec['path']} {' '.join(spec['overrides'])}")
        try:
            device = _device_index(spec["gpus"])
            record["egl_device"] = device
            from ..jobfile import load_job
            from ..pipeline import run_job
            job, base = load_job(spec["path"], spec["overrides"])
            report = run_job(job, base, Path(spec["out"]), quiet=True, device_index=device)
            final = report["final"]
            record.update(status="passed", psnr=final.get("psnr"), holdout_psnr=final.get("holdout_psnr"),
                          loss=final.get("loss"), iterations=report["iterations"], it_per_s=report["it_per_s"],
                          renderer=report["device"]["renderer"])
            print(f"== passed: PSNR {final.get('psnr')}")
        except DiffrastError as exc:
            record.update(status="failed", error=one_line(exc))
        except BaseException as exc:           # a bug or a crash in the job: its traceback goes to the log
            traceback.print_exc()
            record.update(status="failed", error=f"{type(exc).__name__}: {one_line(exc)}")
        if record["status"] == "failed":
            print(f"== failed: {record['error']}")
    record["seconds"] = round(time.perf_counter() - t0, 3)
    return record


def _device_index(gpus: float):
    """The EGL device of this worker's GPU (Ray's CUDA ordinal, matched through EGL's CUDA ids);
    None (``$DIFFRAST_DEVICE`` or 0) for a CPU task or where the driver does not say."""
    if not gpus:
        return None
    import ray
    from ..gl.egl_devices import cuda_ids, egl_index_of_cuda, visible_ordinal
    assigned = [int(g) for g in ray.get_gpu_ids()]
    ids = cuda_ids()
    print(f"== Ray GPU ids {assigned}, EGL devices' CUDA ids {ids}")
    if not assigned:
        return None
    # Ray sets CUDA_VISIBLE_DEVICES to the assigned GPUs, and NVIDIA's EGL numbers CUDA ids within
    # it (seen on 2 H200s: GPU 1 was EGL device 1 with CUDA id 0, device 0 had none)
    index = egl_index_of_cuda(visible_ordinal(assigned[0]), ids)
    if index is None:      # the driver names no CUDA ids: assume EGL's order is CUDA's
        index = assigned[0] if assigned[0] < max(len(ids), 1) else 0
    return index


def run_batch(jobs: list, out_dir: Path, *, address: str | None = None, gpus_per_job: float | None = None,
              retries: int = 0, num_cpus: int | None = None, echo=print) -> dict:
    """Run every loadable job on Ray; returns the summary (``jobs``: one record each, in order)."""
    try:
        import ray
    except ImportError:
        raise ConfigError("diffrast batch runs on Ray: pip install 'diffrast[batch]'") from None
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    taken = [j.name for j in jobs if (out_dir / j.name).exists()]
    if taken:
        raise ConfigError(f"--out {out_dir}: {out_dir / taken[0]} exists; batch runs write fresh folders")
    init = dict(ignore_reinit_error=True, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    if address:
        init["address"] = address
    elif num_cpus is not None:
        init["num_cpus"] = num_cpus
    ray.init(**init)
    try:
        if gpus_per_job is None:                  # auto: a GPU each where the cluster has GPUs
            gpus_per_job = 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
        task = ray.remote(max_calls=1)(run_one).options(num_gpus=gpus_per_job, num_cpus=1)
        records: dict[str, dict] = {}
        pending = {}
        for job in jobs:
            if job.error is not None:
                records[job.name] = {"name": job.name, "path": str(job.path), "status": "failed",
                                     "error": job.error, "attempt": 0, "seconds": 0.0}
                echo(f"[{len(records)}/{len(jobs)}] {job.name}: failed (did not load): {job.error}")
                continue
            pending[task.remote(_spec(job, out_dir, gpus_per_job, 1))] = job
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            job = pending.pop(done[0])
            rec = ray.get(done[0])
            if rec["status"] == "failed" and rec["attempt"] <= retries:
                echo(f"      {job.name}: attempt {rec['attempt']} failed ({rec['error']}); retrying")
                pending[task.remote(_spec(job, out_dir, gpus_per_job, rec["attempt"] + 1))] = job
                continue
            records[job.name] = rec
            echo(f"[{len(records)}/{len(jobs)}] {job.name}: {_short(rec)}")
    finally:
        if not address:
            ray.shutdown()
    ordered = [records[j.name] for j in jobs]
    return {"jobs": ordered, "passed": sum(r["status"] == "passed" for r in ordered),
            "failed": sum(r["status"] != "passed" for r in ordered), "seconds": round(time.perf_counter() - t0, 3),
            "gpus_per_job": gpus_per_job, "out": str(out_dir)}


def _spec(job, out_dir: Path, gpus: float, attempt: int) -> dict:
    return {"name": job.name, "path": str(job.path), "overrides": list(job.overrides), "gpus": gpus,
            "out": str(out_dir / job.name), "log": str(out_dir / f"{job.name}.log"), "attempt": attempt}


def _short(rec: dict) -> str:
    if rec["status"] != "passed":
        return f"failed: {rec.get('error')}"
    held = f", held-out {rec['holdout_psnr']:.2f} dB" if rec.get("holdout_psnr") is not None else ""
    return f"passed, PSNR {rec['psnr']:.2f} dB{held}, {rec['seconds']:.1f} s"


def summary_table(summary: dict) -> str:
    rows = [("job", "status", "PSNR dB", "held-out dB", "seconds", "note")]
    for r in summary["jobs"]:
        psnr = f"{r['psnr']:.2f}" if r.get("psnr") is not None else "-"
        held = f"{r['holdout_psnr']:.2f}" if r.get("holdout_psnr") is not None else "-"
        note = r.get("error", "") if r["status"] != "passed" else (f"attempt {r['attempt']}" if r["attempt"] > 1 else "")
        rows.append((r["name"], r["status"], psnr, held, f"{r['seconds']:.1f}", note))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:5], widths)) + ("  " + row[5] if row[5] else "")
             for row in rows]
    lines.append(f"{summary['passed']} passed, {summary['failed']} failed in {summary['seconds']:.1f} s")
    return "\n".join(line.rstrip() for line in lines)
