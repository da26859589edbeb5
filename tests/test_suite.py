"""``diffrast suite`` (issue 12; docs/soft.md): a quick run writes every run and the summary as
JSON and prints the table; the hard rasterizer's per-pixel SGE fits the 2D shape task's
silhouette; bad arguments are one-line errors."""

from __future__ import annotations

import json


def test_quick_suite_runs_every_method_and_fits_the_silhouette(run_cli, tmp_path):
    out = tmp_path / "suite.json"
    code, stdout, stderr = run_cli("suite", "shape2d", "--quick", "--instances", "1", "--json", out, timeout=300)
    assert code == 0, stderr
    result = json.loads(out.read_text())
    methods = {r["method"] for r in result["runs"]}
    assert methods == {"sge", "sge_full", "soft_logistic"}
    by = {s["method"]: s for s in result["summary"]}
    # the instance's silhouette, fitted from the scattered template triangles (images this run made)
    assert by["sge"]["iou"] > by["sge"]["iou_start"] + 0.4
    assert by["soft_logistic"]["iou"] > by["soft_logistic"]["iou_start"] + 0.3
    assert "| shape2d | sge |  | 1 |" in stdout and "IoU" in stdout


def test_unknown_task_is_a_one_line_error(run_cli):
    code, stdout, stderr = run_cli("suite", "shape9d")
    assert code == 2 and "unknown task 'shape9d'" in stderr and "Traceback" not in stderr


def test_grid_search_picks_the_best_tau_on_training_instances(device, monkeypatch):
    from diffrast_cli.suite import runner
    monkeypatch.setattr(runner, "TAU_GRID", (-3.0, -1.0))
    monkeypatch.setattr(runner, "GRID_SEEDS", (1000,))
    monkeypatch.setattr(runner, "methods", lambda quick: ["soft_logistic"])
    result = runner.run_suite(device, ("shape2d",), 1, quick=True, grid=True)
    scores = result["grid"]["soft_logistic"]["grid_iou"]
    assert set(scores) == {-3.0, -1.0}
    assert result["grid"]["soft_logistic"]["log_tau"] == max(scores, key=scores.get)
    assert result["summary"][0]["log_tau"] == result["grid"]["soft_logistic"]["log_tau"]
    assert all(r["seed"] == 0 for r in result["runs"])          # the reported seeds are not the grid's
