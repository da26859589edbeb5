"""The scene-kind seam: the registry and the entry-point loader, the scene union of the
job schema, a kind defined entirely in tests/ (tests/kinds/quads: Python and GLSL, a
declared buffer, the G hook) run end to end through `diffrast optimize`, with its
finite-difference checks."""

from __future__ import annotations

import importlib.metadata
import json

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.errors import ConfigError
from diffrast_cli.jobfile import dump_job, load_job, validate_job
from diffrast_cli.problem import Problem
from diffrast_cli.scene import registry
from tests.gradcheck import check_gradient
from tests.kinds import registered
from tests.scenes import gradient_target, set_dotted

W = 48
QUADS_PLUGIN = "tests.kinds.quads:SPEC"


@pytest.fixture
def quads():
    """The test kind, registered through the function the entry-point loader calls."""
    with registered("quads", QUADS_PLUGIN) as spec:
        yield spec


def quads_problem(device, extra=None, **options) -> Problem:
    cfg = {"name": "quads", "target": {"image": "<memory>"}, "render": {"resolution": [W, W]},
           "scene": {"kind": "quads", "quads": 3}, "optimize": {"samples": 64}}
    set_dotted(cfg, extra)
    return Problem(JobConfig.model_validate(cfg), None, device=device, target=gradient_target(W, W), **options)


def quads_theta():
    """Three non-overlapping quads with edges slanted against the pixel grid."""
    centres = np.array([[-0.45, -0.4], [0.45, -0.35], [0.0, 0.45]])
    angle = 0.35 + np.pi / 2 * np.arange(4)
    corners = centres[:, None, :] + 0.3 * np.stack([np.cos(angle), np.sin(angle)], axis=1)[None]
    colors = np.array([[0.8, 0.2, 0.5], [0.1, 0.7, 0.3], [0.5, 0.5, 0.9]])
    return np.concatenate([corners.reshape(-1), colors.reshape(-1)]).astype(np.float32)


# -- registry and schema -------------------------------------------------------------

def test_shipped_kinds_and_the_default():
    assert {"soup", "mesh"} <= set(registry.kinds())
    job = validate_job({"target": {"image": "t.png"}})
    assert job.scene.kind == "soup" and job.scene.triangles == 2000


def test_unknown_kind_is_one_line_naming_the_key():
    with pytest.raises(ConfigError) as info:
        validate_job({"target": {"image": "t.png"}, "scene": {"kind": "voxels"}}, "job.yaml")
    msg = str(info.value)
    assert msg.startswith("job.yaml: scene.kind: unknown kind 'voxels' (known: ") and "mesh" in msg and "soup" in msg
    assert "\n" not in msg


def test_a_key_of_another_kind_is_named_as_such():
    with pytest.raises(ConfigError, match=r"job.yaml: scene: texture does not apply to kind: soup"):
        validate_job({"target": {"image": "t.png"}, "scene": {"texture": {}}}, "job.yaml")
    with pytest.raises(ConfigError, match=r"scene.trianglez: unknown key \(did you mean 'triangles'\?\)"):
        validate_job({"target": {"image": "t.png"}, "scene": {"trianglez": 3}}, "job.yaml")


def test_registered_kind_joins_the_schema_and_leaves_it(quads):
    job = validate_job({"target": {"image": "t.png"}, "scene": {"kind": "quads", "quads": 7}})
    assert type(job.scene).__name__ == "QuadsConfig" and job.scene.quads == 7
    assert validate_job(__import__("yaml").safe_load(dump_job(job))).scene == job.scene
    registry.unregister_kind("quads")
    with pytest.raises(ConfigError, match="unknown kind 'quads'"):
        validate_job({"target": {"image": "t.png"}, "scene": {"kind": "quads"}})
    registry.register_kind(quads)


def test_entry_point_that_names_nothing_useful_is_refused():
    ep = importlib.metadata.EntryPoint(name="x", value="tests.kinds.quads:CORNERS", group=registry.ENTRY_POINT_GROUP)
    with pytest.raises(ConfigError, match="names neither a KindSpec"):
        registry.load_entry_point(ep)
    ep = importlib.metadata.EntryPoint(name="x", value="tests.kinds.nosuch:SPEC", group=registry.ENTRY_POINT_GROUP)
    with pytest.raises(ConfigError, match="cannot be loaded"):
        registry.load_entry_point(ep)


def test_kind_config_must_name_its_kind():
    from diffrast_cli.scene.soup import SoupConfig, TriangleSoup
    with pytest.raises(ValueError, match="Literal"):
        registry.register_kind(registry.KindSpec(name="other", config=SoupConfig, factory=TriangleSoup))


# -- the test kind on the GPU --------------------------------------------------------

def test_declared_buffer_is_bound_at_a_scene_binding(device, quads):
    from diffrast_cli.gl import bindings as B
    problem = quads_problem(device)
    try:
        est = problem.estimator
        d = est.declared.defines()
        assert d == {"SSBO_SCENE_DEPTHS": B.SSBO_SCENE_FIRST}
        depths = np.frombuffer(est.declared.buffers["DEPTHS"].read(), np.float32)
        assert np.allclose(depths, problem.scene.depths)
        # the front quad (depth 0.1) covers the back one where they overlap
        theta = quads_theta()
        xy = theta[:24].reshape(3, 4, 2)
        xy[1] = xy[0] + 0.1
        est.upload(theta)
        img = est.color(0)
        assert np.allclose(img[W // 2 + 8, W // 2 - 10], theta[24:27], atol=1e-3)   # quad 0's colour
    finally:
        problem.release()


@pytest.mark.parametrize("group", ["positions", "colors"])
def test_quads_gradient_matches_finite_differences(device, quads, group):
    other = "colors" if group == "positions" else "positions"
    problem = quads_problem(device, {f"scene.{other}.optimize": False, "scene.positions.eps": 4.0 / W})
    try:
        check_gradient(problem, quads_theta(), (group,), estimates=64)
    finally:
        problem.release()


def test_g_hook_spreads_like_the_contributor_list(device, quads):
    """The hook (quads_spread.glsl) gives the quads the same gradient as G's own list."""
    grads = {}
    for spread in ("ids", "hook"):
        problem = quads_problem(device, {"scene.spread": spread, "optimize.atomics": "fixed"})
        try:
            assert (problem.scene.spread_include != "") == (spread == "hook")
            problem.estimator.upload(quads_theta())
            grads[spread] = [problem.estimator.estimate_gradient(it) for it in range(3)]
        finally:
            problem.release()
    assert all(np.any(g != 0) for g in grads["ids"])
    assert all(np.array_equal(a, b) for a, b in zip(grads["ids"], grads["hook"]))


def test_g_hook_gradient_matches_finite_differences(device, quads):
    problem = quads_problem(device, {"scene.spread": "hook", "scene.positions.optimize": False})
    try:
        check_gradient(problem, quads_theta(), ("colors",), estimates=64)
    finally:
        problem.release()


def test_quads_run_end_to_end_through_the_cli(tmp_path, run_cli):
    from tests.conftest import write_target
    write_target(tmp_path / "target.png", 32, 32)
    job = tmp_path / "job.yaml"
    job.write_text("name: quads\ntarget: {image: target.png}\nrender: {resolution: 32}\n"
                   "scene: {kind: quads, quads: 5}\noptimize: {iterations: 30}\noutput: {log_every: 10}\n")
    env = {registry.ENV_VAR: QUADS_PLUGIN}
    code, out, err = run_cli("validate", job, env=env)
    assert code == 0, err
    assert "5 quads" in out
    code, out, err = run_cli("optimize", job, "--out", tmp_path / "run", "-q", env=env, timeout=120)
    assert code == 0, err
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["scene"] == "quads" and report["quads"] == 5
    assert report["final"]["loss"] < report["initial"]["loss"]
    assert report["final"]["quad_area"] > 0
    lines = (tmp_path / "run" / "quads.txt").read_text().splitlines()
    assert len(lines) == 5 and all(len(line.split()) == 11 for line in lines)
    # without the plug-in the kind is unknown: one line, exit 2
    code, out, err = run_cli("validate", job)
    assert code == 2 and "scene.kind: unknown kind 'quads'" in err and len(err.strip().splitlines()) == 1


def test_quads_run_through_the_api(quads):
    """The opaque test kind through `diffrast.optimize` with an array target, writing nothing."""
    try:
        import diffrast
    except ImportError:   # not installed (PYTHONPATH only): the same package under its own name
        import diffrast_cli.api as diffrast
    target = gradient_target(32, 32)
    job = diffrast.load_job({"name": "quads", "render": {"resolution": 32}, "scene": {"kind": "quads", "quads": 5},
                             "optimize": {"iterations": 30}, "output": {"log_every": 10}})
    steps = []
    result = diffrast.optimize(job, out=None, targets=target, callback=lambda step: steps.append(step.iteration))
    assert result.out is None and steps[0] == 0 and steps[-1] == 30 and {10, 20} <= set(steps)
    assert steps == sorted(set(steps))                     # log (and frame) steps, each once, in order
    assert result.report["scene"] == "quads" and result.report["quads"] == 5
    assert result.report["final"]["loss"] < result.report["initial"]["loss"]
    assert result.report["final"]["quad_area"] > 0
    assert set(result.parameters) == {"positions", "colors"} and result.parameters["colors"].shape == (5, 3)
    image = diffrast.render(result)
    assert image.shape == (32, 32, 3) and np.isfinite(image).all()
    # the render is the final parameters' clean render: its error is the report's final loss
    assert float(np.mean((image - target) ** 2)) == pytest.approx(result.report["final"]["mse"], rel=0.02)


def test_load_job_paths_of_a_kind_are_its_own(tmp_path):
    (tmp_path / "m.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    (tmp_path / "job.yaml").write_text("target: {image: t.png}\nscene: {kind: mesh, mesh: m.obj}\n")
    job, _ = load_job(tmp_path / "job.yaml")
    assert job.scene.mesh == str((tmp_path / "m.obj").resolve())
