"""``diffrast batch`` (issue 15): the job list (files, globs, batch files with sweeps), and a
batch on a local Ray cluster of 2 CPU workers: per-job run folders and logs, a failing job's
one-line error, a retry, the JSON and JUnit summaries, the exit code."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from diffrast_cli.batch.jobs import expand
from diffrast_cli.errors import ConfigError
from tests.conftest import TINY_JOB, write_target


def _tiny(tmp_path, name="tiny"):
    write_target(tmp_path / "target.png")
    path = tmp_path / f"{name}.yaml"
    path.write_text(TINY_JOB.replace("name: tiny", f"name: {name}"))
    return path


def test_job_lists_expand_files_globs_and_sweeps(tmp_path):
    a, b = _tiny(tmp_path, "a"), _tiny(tmp_path, "b")
    (tmp_path / "sweep.yaml").write_text(
        "jobs:\n  - a.yaml\n  - {job: b.yaml, name: bee, set: [optimize.iterations=2]}\n"
        "set: [output.log_every=2]\nsweep:\n  seed: [0, 1]\n")
    jobs = expand([str(tmp_path / "[ab].yaml"), str(tmp_path / "sweep.yaml")], ["scene.triangles=20"])
    assert [j.name for j in jobs] == ["a", "b", "a-seed=0", "a-seed=1", "bee-seed=0", "bee-seed=1"]
    assert all(j.error is None for j in jobs)
    bee = jobs[4]
    assert bee.path == b.resolve() and bee.overrides == ["scene.triangles=20", "output.log_every=2",
                                                         "optimize.iterations=2", "seed=0"]
    assert jobs[0].path == a.resolve() and jobs[0].overrides == ["scene.triangles=20"]
    # a job that does not load is a failed job of the batch, with its one-line error
    bad = expand([str(a)], ["scene.triangles=-1"])
    assert bad[0].error is not None and "scene.triangles" in bad[0].error


@pytest.mark.parametrize("text, message", [
    ("jobs: []\n", "a non-empty list"),
    ("jobs: [a.yaml]\nsweep: {seed: []}\n", "non-empty lists of values"),
    ("jobs: [{job: a.yaml, seeds: 3}]\n", "unknown key 'seeds'"),
    ("jobs: [a.yaml]\nextra: 1\n", "unknown key 'extra'"),
])
def test_bad_batch_files_are_one_line_errors(tmp_path, text, message):
    _tiny(tmp_path, "a")
    (tmp_path / "batch.yaml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        expand([str(tmp_path / "batch.yaml")], [])
    with pytest.raises(ConfigError, match="matches no file"):
        expand([str(tmp_path / "*.nothing")], [])


def test_batch_on_a_local_ray_cluster(tmp_path, run_cli):
    pytest.importorskip("ray")
    _tiny(tmp_path, "one")
    _tiny(tmp_path, "two")
    broken = _tiny(tmp_path, "broken")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    broken.write_text(broken.read_text().replace("image: target.png", "image: broken.png"))
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("batch", tmp_path / "one.yaml", tmp_path / "two.yaml", broken, "--out", out,
                                   "--cpus", 2, "--retries", 1, "--json", tmp_path / "s.json",
                                   "--junit", tmp_path / "s.xml", timeout=300)
    assert code == 1, stderr
    summary = json.loads((tmp_path / "s.json").read_text())
    by_name = {r["name"]: r for r in summary["jobs"]}
    assert summary["passed"] == 2 and summary["failed"] == 1 and summary["gpus_per_job"] == 0
    for name in ("one", "two"):
        r = by_name[name]
        assert r["status"] == "passed" and r["iterations"] == 3 and r["psnr"] > 0
        assert (out / name / "report.json").is_file() and (out / name / "final.png").is_file()
        assert "== passed" in (out / f"{name}.log").read_text()
    failed = by_name["broken"]
    assert failed["status"] == "failed" and failed["attempt"] == 2 and "broken.png" in failed["error"]
    assert "\n" not in failed["error"] and not (out / "broken").exists()
    assert (out / "broken.log").read_text().count("== failed") == 2           # tried twice
    suites = ET.parse(tmp_path / "s.xml").getroot()
    suite = suites.find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["broken"].find("failure").get("message") == failed["error"]
    assert cases["one"].find("failure") is None
    assert "1 failed" in stdout and "broken" in stdout


def test_ray_gpus_map_to_egl_devices(monkeypatch):
    """Ray's GPU (a physical CUDA id, CUDA_VISIBLE_DEVICES narrowed to it) -> the EGL device whose
    CUDA id is its ordinal among the visible ones (as NVIDIA's EGL reported on 2 H200s)."""
    from diffrast_cli.gl.egl_devices import egl_index_of_cuda, visible_ordinal
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert visible_ordinal(1) == 0 and egl_index_of_cuda(visible_ordinal(1), [None, 0]) == 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,1")
    assert visible_ordinal(1) == 1 and egl_index_of_cuda(1, [1, None, 0]) == 0
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert visible_ordinal(2) == 2 and egl_index_of_cuda(2, [None, None]) is None
