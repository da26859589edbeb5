"""The splat scene kind (docs/splats.md) through the estimator on the CPU renderer: the SGE
mean against central finite differences for every parameter kind (positions, log scales,
quaternions, opacity logits, SH degree 0 and higher coefficients), the job schema's errors,
and the exported PLY."""

from __future__ import annotations

import numpy as np
import pytest

from diffrast_cli.config import JobConfig
from diffrast_cli.problem import Problem
from tests.gradcheck import check_gradient
from tests.scenes import gradient_target, set_dotted
from tests.test_gradients import released

W = 40
GROUPS = ("positions", "scales", "rotations", "opacity", "sh_dc", "sh_rest")


def splat_job(extra=None, *, count=12, degree=1, resolution=W) -> dict:
    cfg = {"name": "splats", "target": {"image": "<memory>"}, "optimize": {"samples": 64},
           "render": {"resolution": [resolution, resolution], "projection": "perspective",
                      "camera": {"position": [0.0, 0.0, 4.0], "fov_y": 40.0}},
           "scene": {"kind": "splats", "count": count, "sh_degree": degree,
                     "init": {"extent": [0.8, 0.8, 0.3], "scale": 0.15, "opacity": 0.5}}}
    set_dotted(cfg, extra)
    return cfg


def splat_problem(device, tmp_path, extra=None, target=None, **kw) -> Problem:
    cfg = splat_job(extra, **kw)
    w = cfg["render"]["resolution"][0]
    return Problem(JobConfig.model_validate(cfg), tmp_path, device=device,
                   target=gradient_target(w, w) if target is None else target)


def anisotropic(problem, seed=1) -> np.ndarray:
    """theta0 with random per-axis scales (so rotations matter) and random higher SH."""
    theta = problem.theta0.copy()
    rng = np.random.default_rng(seed)
    lay = problem.scene.layout
    s = lay.slice("scales")
    theta[s] = np.log(rng.uniform(0.06, 0.25, s.stop - s.start))
    if any(g.name == "sh_rest" for g in lay.groups):
        s = lay.slice("sh_rest")
        theta[s] = rng.normal(0.0, 0.3, s.stop - s.start)
    return theta


EXACT = ("positions", "scales", "rotations", "sh_dc")     # analytic by default (opacity: below)


@pytest.mark.parametrize("group", GROUPS)
def test_splat_gradients(device, tmp_path, group):
    """Each group optimised alone (the others frozen), at the defaults: the exact gradients of
    positions, scales, rotations and dc colours (scene.geometry_gradient, color_gradient:
    analytic) and the SGE mean of 96 estimates of the higher SH match central differences of
    the clean render's loss. The scales' exact gradient leaves out what the 1/255 alpha
    cut-off ring adds as a splat grows (as 3DGS does): ~5 % of its magnitude here."""
    extra = {f"scene.{g}.optimize": g == group for g in GROUPS}
    with released(splat_problem(device, tmp_path, extra)) as problem:
        theta = anisotropic(problem)
        if group == "sh_dc":
            # exact (analytic) dc gradients have no noise to hide behind: keep every colour
            # channel off its clamp at 0, where central differences read half the slope
            dc = problem.scene.layout.slice("sh_dc")
            theta[dc] += 1.5
            theta[dc.start:dc.start + 6] = -6.0    # two splats clamped black: no gradient at all
        loose = dict(scale_tol=0.08, floor=0.15) if group == "scales" else {}
        results = check_gradient(problem, theta, (group,), estimates=8 if group in EXACT else 96, **loose)
        if group in EXACT:
            assert results[group].scale_se < 1e-4, "an exact gradient varies between estimates"


@pytest.mark.parametrize("group", ("positions", "scales", "rotations"))
def test_sge_geometry_gradients_match_finite_differences(device, tmp_path, group):
    """scene.geometry_gradient: sge perturbs positions, scales and rotations and estimates them."""
    extra = {f"scene.{g}.optimize": g == group for g in GROUPS}
    extra["scene.geometry_gradient"] = "sge"
    with released(splat_problem(device, tmp_path, extra)) as problem:
        check_gradient(problem, anisotropic(problem), (group,), estimates=96)


@pytest.mark.parametrize("mode", ["analytic", "sge"])
def test_opacity_gradients_match_finite_differences(device, tmp_path, mode):
    """scene.opacity_gradient: analytic (the default): the opacity logits' exact gradient (each
    fragment's place in its sample's compositing, the background behind); sge: perturbed and
    estimated. Both against central differences, over a coloured background."""
    extra = {f"scene.{g}.optimize": g == "opacity" for g in GROUPS}
    extra["scene.opacity_gradient"] = mode
    extra["render.background"] = [0.3, 0.2, 0.6]
    with released(splat_problem(device, tmp_path, extra)) as problem:
        theta = anisotropic(problem)
        theta[problem.scene.layout.slice("sh_dc")] += 1.5
        results = check_gradient(problem, theta, ("opacity",), estimates=8 if mode == "analytic" else 96)
        if mode == "analytic":
            assert abs(results["opacity"].scale - 1.0) < 0.02


def test_sge_colour_gradients_match_finite_differences(device, tmp_path):
    """scene.color_gradient: sge perturbs the dc colours and estimates them like the rest."""
    extra = {f"scene.{g}.optimize": g == "sh_dc" for g in GROUPS}
    extra["scene.color_gradient"] = "sge"
    with released(splat_problem(device, tmp_path, extra)) as problem:
        theta = anisotropic(problem)
        theta[problem.scene.layout.slice("sh_dc")] += 1.5
        check_gradient(problem, theta, ("sh_dc",), estimates=96)


def test_degree_three_colours_move_with_the_view(device, tmp_path):
    """SH degree 3: a clean render changes when only the degree-3 coefficients change."""
    with released(splat_problem(device, tmp_path, degree=3)) as problem:
        theta = anisotropic(problem)
        lay = problem.scene.layout
        assert lay["sh_rest"].count == 12 * 15 * 3
        est = problem.estimator
        est.upload(theta)
        a = est.evaluate([0], images=True)["images"][0]
        s = lay.slice("sh_rest")
        theta2 = theta.copy()
        theta2[s.start:s.stop].reshape(12, 15, 3)[:, 8:] += 0.5     # coefficients 9..15 (degree 3)
        est.upload(theta2)
        b = est.evaluate([0], images=True)["images"][0]
        assert np.abs(a - b).max() > 0.01


@pytest.mark.parametrize("key, value, words", [
    ("scene.sh_degree", 4, "sh_degree"),
    ("scene.init.kind", "points", "init.file"),
    ("scene.init.opacity", 1.0, "opacity"),
    ("scene.count", 0, "count"),
    ("scene.layers", 300, "layers"),
])
def test_schema_errors(key, value, words):
    cfg = splat_job({key: value})
    with pytest.raises(Exception) as err:
        JobConfig.model_validate(cfg)
    assert words.split(".")[-1] in str(err.value)


def test_export_writes_a_ply_with_every_splat(device, tmp_path):
    with released(splat_problem(device, tmp_path, count=7, degree=2)) as problem:
        paths = problem.scene.export(problem.theta0, tmp_path)
    assert [p.name for p in map(__import__("pathlib").Path, paths)] == ["splats.ply"]
    head = open(paths[0], "rb").read(2000)
    assert b"element vertex 7\n" in head and b"property float f_rest_23\n" in head
    assert b"property float f_rest_24\n" not in head


def random_splats(problem, seed=3, degree=1) -> np.ndarray:
    """theta of random anisotropic splats, some half off-screen, one behind the camera."""
    rng = np.random.default_rng(seed)
    lay, n = problem.scene.layout, problem.scene.n
    theta = problem.theta0.copy()
    pos = rng.uniform([-1.5, -1.5, -1.0], [1.5, 1.5, 1.0], (n, 3))
    pos[0] = (0.0, 0.0, 6.0)                                   # behind the camera at z = 4
    theta[lay.slice("positions")] = pos.reshape(-1)
    theta[lay.slice("scales")] = np.log(rng.uniform(0.04, 0.3, 3 * n))
    theta[lay.slice("rotations")] = rng.normal(0.0, 1.0, 4 * n) * rng.uniform(0.5, 2.0)
    theta[lay.slice("opacity")] = rng.normal(0.5, 1.5, n)
    theta[lay.slice("sh_dc")] = rng.normal(0.0, 1.0, 3 * n)
    if degree > 0:
        theta[lay.slice("sh_rest")] = rng.normal(0.0, 0.4, lay["sh_rest"].count)
    return theta


@pytest.mark.parametrize("degree, ss, structure", [(0, 1, "lists"), (1, 2, "lists"), (3, 1, "lists"),
                                                   (1, 2, "kbuffer")])
def test_render_matches_the_numpy_reference(device, tmp_path, degree, ss, structure):
    """The device's clean render of 24 random splats against tests/splat_reference.py (float64),
    over a non-black background; a reference with the splats in the other depth order is far off.
    With the lists R runs in a compute shader (splat_raster.comp), with the k-buffer through
    the raster pipeline (splat.vert, splat.frag): both must match."""
    from tests.splat_reference import render_splats
    background = (0.2, 0.3, 0.1)
    extra = {"render.supersample": ss, "render.background": list(background), "optimize.samples": 1,
             "scene.structure": structure, "scene.layers": 32}
    with released(splat_problem(device, tmp_path, extra, count=24, degree=degree, resolution=48)) as problem:
        theta = random_splats(problem, degree=degree)
        est = problem.estimator
        est.upload(theta)
        got = est.evaluate([0], images=True)["images"][0].astype(np.float64)
        cloud = problem.scene.to_cloud(theta)
        vp, eye = problem.views.view_proj[0], problem.views.eyes[0]
        expected = render_splats(cloud, vp, eye, 48, 48, background=background, ss=ss)
        err = np.abs(got - expected)
        assert np.ptp(expected) > 0.3
        # measured max |error|: llvmpipe 2.5e-6 .. 5.6e-6, H200 1.1e-3 .. 3.0e-3 (mean 1.8e-5 .. 2.8e-5):
        # float32 exp/conic against float64 flips the odd fragment whose alpha sits at the 1/255 cut
        assert np.mean(err) < 1e-4 and err.max() < 1e-2, (np.mean(err), err.max())
        if structure == "lists":   # the clean render drew one copy: its lists hold every fragment
            from tests.splat_reference import fragment_count
            want = fragment_count(cloud, problem.views.view_proj[0], problem.views.eyes[0],
                                               48, 48, ss=ss)
            got_n = est.visibility.deep.needed()
            assert want > 0 and abs(got_n - want) <= 0.002 * want + 2, (got_n, want)
        flipped = cloud.positions.copy()
        flipped[:, 2] *= -1.0
        other = render_splats(type(cloud)(flipped, cloud.log_scales, cloud.rotations, cloud.opacity_logits,
                                          cloud.sh), vp, eye, 48, 48, background=background, ss=ss)
        assert np.abs(other - expected).max() > 0.05


def test_init_from_a_3dgs_ply_keeps_every_value(device, tmp_path):
    from diffrast_cli.io.splat_ply import SplatCloud, write_splat_ply
    rng = np.random.default_rng(5)
    n = 9
    cloud = SplatCloud(positions=rng.normal(0, 0.5, (n, 3)), log_scales=rng.normal(-3, 0.3, (n, 3)),
                       rotations=rng.normal(0, 1, (n, 4)), opacity_logits=rng.normal(0, 1, n),
                       sh=rng.normal(0, 0.5, (n, 4, 3)))
    write_splat_ply(tmp_path / "start.ply", cloud)
    job = splat_job({"scene.init": {"kind": "ply", "file": str(tmp_path / "start.ply")}, "scene.count": 3,
                     "optimize.samples": 1})
    with released(Problem(JobConfig.model_validate(job), tmp_path, device=device,
                          target=gradient_target(W, W))) as problem:
        assert problem.scene.n == n                      # the file's count, not scene.count
        back = problem.scene.to_cloud(problem.theta0)
    for name in ("positions", "log_scales", "rotations", "opacity_logits", "sh"):
        np.testing.assert_array_equal(getattr(back, name), getattr(cloud, name), err_msg=name)


def test_init_on_points_and_on_a_mesh_surface(device, tmp_path):
    from diffrast_cli.io.meshes import load_mesh
    from diffrast_cli.scene.mesh.chamfer import point_to_surface_sq
    from tests.conftest import REPO
    pts = np.random.default_rng(2).uniform(-1, 1, (50, 3)).astype(np.float32)
    lines = ["ply", "format ascii 1.0", "element vertex 50", "property float x", "property float y",
             "property float z", "property uchar red", "property uchar green", "property uchar blue", "end_header"]
    lines += [f"{x} {y} {z} 255 0 0" for x, y, z in pts]
    (tmp_path / "points.ply").write_text("\n".join(lines) + "\n")
    job = splat_job({"scene.init": {"kind": "points", "file": str(tmp_path / "points.ply")}, "scene.count": 20,
                     "optimize.samples": 1}, degree=0)
    with released(Problem(JobConfig.model_validate(job), tmp_path, device=device,
                          target=gradient_target(W, W))) as problem:
        cloud = problem.scene.to_cloud(problem.theta0)
    assert cloud.positions.shape == (20, 3)
    assert np.abs(cloud.positions[:, None, :] - pts[None]).sum(-1).min(axis=1).max() < 1e-6   # drawn from the file
    np.testing.assert_allclose(0.5 + 0.28209479177387814 * cloud.sh[:, 0], np.tile([1.0, 0.0, 0.0], (20, 1)), atol=1e-5)
    blob = REPO / "assets" / "textured_blob.obj"
    job = splat_job({"scene.init": {"kind": "mesh", "file": str(blob)}, "scene.count": 200, "optimize.samples": 1},
                    degree=0)
    with released(Problem(JobConfig.model_validate(job), tmp_path, device=device,
                          target=gradient_target(W, W))) as problem:
        cloud = problem.scene.to_cloud(problem.theta0)
    mesh = load_mesh(blob)
    assert point_to_surface_sq(cloud.positions, mesh.positions, mesh.faces).max() < 1e-8    # on the surface
    assert np.ptp(cloud.sh[:, 0], axis=0).max() > 0.5                                        # texture colours


def test_a_frame_that_overflows_the_lists_adds_no_gradient(device, tmp_path):
    """With a node pool far too small, the plus and minus copies lose different fragments: G
    adds nothing for the frame and raises visibility_overflow; after the pool grows (what the
    loop does at a log step) the same estimate is non-zero."""
    with released(splat_problem(device, tmp_path, {"scene.fragments": 0.05, "optimize.samples": 4},
                                count=24, resolution=32)) as problem:
        est = problem.estimator
        est.upload(random_splats(problem))
        assert not np.any(est.estimate_gradient(0))
        flags = est.flags()
        assert flags["visibility_overflow"]
        assert not est.flags()["visibility_overflow"]        # read and cleared
        assert np.count_nonzero(est.estimate_gradient(0)) > 24
        assert est.flags()["visibility_overflow"] is False


def test_default_initial_size_is_bounded_by_the_views_overdraw(device, tmp_path):
    """init.scale null: half the 3D spacing of the box, at most the sigma whose 3-sigma discs
    cover the view 8 times (many splats in a thin box: the bound; few in a cube: the spacing)."""
    from diffrast_cli.scene.splats.init import mean_spacing
    from diffrast_cli.scene.splats.kind import INITIAL_OVERDRAW
    cases = [(3000, [1.5, 1.5, 0.2], "bound"), (40, [0.3, 0.3, 0.3], "spacing")]
    for count, extent, which in cases:
        extra = {"scene.init.scale": None, "scene.init.extent": extent}
        with released(splat_problem(device, tmp_path, extra, count=count, degree=0, resolution=32)) as problem:
            scene = problem.scene
            sigma = np.exp(problem.theta0[scene.layout.slice("scales")])
            bound = scene.pixel * np.sqrt(INITIAL_OVERDRAW * 32 * 32 / (9 * np.pi * count))
            e = np.asarray(extent)
            spacing = mean_spacing(np.stack([-e, e]), count)
            expected = bound if which == "bound" else spacing
            assert (bound < spacing) == (which == "bound")
            np.testing.assert_allclose(sigma, expected, rtol=1e-5)
