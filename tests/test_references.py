"""Mesh passes against references built here from their definitions (no code shared with
diffrast_cli.scene.mesh): the Laplacian regularizer's gradient, and face culling on the
perturbed renders of R.

Laplacian (glsl/laplacian.comp, diffrast_cli/scene/mesh.py): E(p) = weight / V * |L p|^2
(Frobenius, over the V x 3 positions), L = I - D^-1 W over the mesh's edge graph, W the
edge weights of the *input* mesh (fixed at load), D = diag(row sums of W):
  uniform:    W_ij = 1 for every edge ij;
  cotangent:  W_ij = (cot alpha + cot beta) / 2 over the triangles sharing ij (one term on a
              boundary edge), then clamped at 0 (as edge_weights documents).
"""

import numpy as np
import pytest

from diffrast_cli.io.meshes import icosphere
from tests.mesh_scenes import grid_mesh, mesh_problem, regularizer_gradient
from tests.scenes import gradient_target
from tests.test_kernels import pair_key_ref, signs_ref

LAPLACIAN_WEIGHT = 0.7


# -- dense references ------------------------------------------------------------------

def edge_set(faces) -> set:
    edges = set()
    for tri in np.asarray(faces).tolist():
        for k in range(3):
            a, b = tri[k], tri[(k + 1) % 3]
            edges.add((min(a, b), max(a, b)))
    return edges


def dense_weights(positions, faces, kind: str, clamp: bool = True) -> np.ndarray:
    """W (V x V): 1 per edge (uniform), or half the sum of the cotangents of the angles
    opposite the edge, one per triangle holding it (angles from arccos, cot = 1 / tan)."""
    p = np.asarray(positions, np.float64)
    n = len(p)
    w = np.zeros((n, n))
    if kind == "uniform":
        for a, b in edge_set(faces):
            w[a, b] = w[b, a] = 1.0
        return w
    for tri in np.asarray(faces).tolist():
        for k in range(3):
            o, a, b = tri[k], tri[(k + 1) % 3], tri[(k + 2) % 3]     # corner o faces edge ab
            u, v = p[a] - p[o], p[b] - p[o]
            angle = np.arccos(np.clip(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)), -1.0, 1.0))
            w[a, b] += 0.5 / np.tan(angle)
            w[b, a] += 0.5 / np.tan(angle)
    return np.maximum(w, 0.0) if clamp else w


def dense_laplacian(positions, faces, kind: str, clamp: bool = True) -> np.ndarray:
    w = dense_weights(positions, faces, kind, clamp)
    return np.eye(len(w)) - w / w.sum(axis=1, keepdims=True)


def energy(lap, p, weight=LAPLACIAN_WEIGHT) -> float:
    return weight / len(p) * float(np.sum((lap @ p) ** 2))


def energy_gradient(lap, p, weight=LAPLACIAN_WEIGHT) -> np.ndarray:
    return 2.0 * weight / len(p) * lap.T @ (lap @ p)


def jittered_grid():
    """A bumped 6 x 6 grid with its vertices moved by up to 30% of the spacing: irregular
    triangles, several with obtuse angles (negative cotangent weights)."""
    mesh = grid_mesh(n=6, bump=0.15)
    spacing = 1.6 / 5
    r = np.random.default_rng(4)
    mesh.positions = mesh.positions.copy()
    mesh.positions[:, :2] += (r.uniform(-0.3, 0.3, (len(mesh.positions), 2)) * spacing).astype(np.float32)
    mesh.uvs = None
    mesh.texture = None
    return mesh


MESHES = {"jittered_grid": jittered_grid, "icosphere": lambda: icosphere(2, 0.9)}


def test_dense_reference_is_the_gradient_of_its_energy():
    """Central differences of E(p) = weight/V |L p|^2 against 2 weight/V L^T L p."""
    mesh = jittered_grid()
    r = np.random.default_rng(0)
    for kind in ("uniform", "cotangent"):
        lap = dense_laplacian(mesh.positions, mesh.faces, kind)
        assert np.allclose(lap.sum(axis=1), 0.0)          # L 1 = 0: translations cost nothing
        p = mesh.positions.astype(np.float64) + r.normal(0, 0.05, mesh.positions.shape)
        g = energy_gradient(lap, p)
        for v, c in ((0, 0), (7, 1), (14, 2), (35, 0)):
            e = np.zeros_like(p)
            e[v, c] = 1e-6
            fd = (energy(lap, p + e) - energy(lap, p - e)) / 2e-6
            assert fd == pytest.approx(g[v, c], rel=1e-6, abs=1e-9)
        assert np.abs(g).max() > 1e-3


def test_cotangent_reference_of_a_known_configuration():
    """Two right isosceles triangles (a unit square cut along a diagonal): the diagonal's
    opposite angles are 90 deg (weight 0), each side has one 45 deg angle (weight 1/2)."""
    pos = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float64)
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    w = dense_weights(pos, faces, "cotangent")
    assert w[0, 2] == pytest.approx(0.0, abs=1e-12)
    for a, b in ((0, 1), (1, 2), (2, 3), (3, 0)):
        assert w[a, b] == pytest.approx(0.5) and w[b, a] == pytest.approx(0.5)
    # an obtuse opposite angle (120 deg) alone on a boundary edge: cot = -1/sqrt(3), clamped to 0
    pos = np.array([[0, 0, 0], [2, 0, 0], [1, np.tan(np.pi / 6), 0]])
    assert dense_weights(pos, [[0, 1, 2]], "cotangent", clamp=False)[0, 1] == pytest.approx(-0.5 / np.sqrt(3))
    assert dense_weights(pos, [[0, 1, 2]], "cotangent")[0, 1] == 0.0


@pytest.mark.parametrize("kind", ["uniform", "cotangent"])
@pytest.mark.parametrize("shape", sorted(MESHES))
def test_laplacian_pass_matches_the_dense_definition(device, tmp_path, shape, kind):
    mesh = MESHES[shape]()
    problem = mesh_problem(device, tmp_path, mesh, gradient_target(16, 16), extra={
        "scene.laplacian.weight": LAPLACIAN_WEIGHT, "scene.laplacian.weights": kind})
    try:
        loaded = problem.scene.mesh                 # the job reads the mesh back from an OBJ
        np.testing.assert_array_equal(loaded.positions, mesh.positions)
        np.testing.assert_array_equal(loaded.faces, mesh.faces)
        s = problem.scene.layout.slice("positions")
        theta = problem.theta0.copy()
        theta[s] += np.random.default_rng(2).normal(0, 0.05, s.stop - s.start).astype(np.float32)
        got = regularizer_gradient(problem, theta)
        lap = dense_laplacian(mesh.positions, mesh.faces, kind)
        p = theta[s].reshape(-1, 3).astype(np.float64)
        want = energy_gradient(lap, p)
        assert np.abs(want).max() > 1e-3
        np.testing.assert_allclose(got[s].reshape(-1, 3), want, rtol=1e-4, atol=1e-6 * np.abs(want).max())
        assert not got[s.stop:].any()               # only the positions get a regularizer gradient
        if kind == "cotangent" and shape == "jittered_grid":
            # the clamp is exercised here: without it the gradient would be another one
            raw = energy_gradient(dense_laplacian(mesh.positions, mesh.faces, kind, clamp=False), p)
            assert (dense_weights(mesh.positions, mesh.faces, kind, clamp=False) < 0).any()
            assert np.abs(raw - want).max() > 0.1 * np.abs(want).max()
    finally:
        problem.release()


# -- culling on perturbed renders -------------------------------------------------------

EYE = np.array([0.0, 0.0, 3.0])     # mesh_problem's camera
TOL = 1e-4                          # |cos| below this: edge-on, facing left undecided


def facing(positions, faces) -> np.ndarray:
    """cos of the angle between each triangle's counter-clockwise normal and the direction to
    the eye: > 0 front-facing, < 0 back-facing (the sign of its projected area)."""
    p = np.asarray(positions, np.float64)[faces]
    n = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    to_eye = EYE - p.mean(axis=1)
    return np.einsum("ij,ij->i", n, to_eye) / (np.linalg.norm(n, axis=1) * np.linalg.norm(to_eye, axis=1))


def copy_ids(est) -> np.ndarray:
    """The id buffer of every copy of the last R pass: (copies, H, W), 0 = background."""
    t = est.target_ids
    tw, th = t.tile
    ids = np.frombuffer(t.texture.read(), np.uint32).reshape(t.rows * th, t.cols * tw)
    return np.stack([ids[(c // t.cols) * th:(c // t.cols + 1) * th, (c % t.cols) * tw:(c % t.cols + 1) * tw]
                     for c in range(est.copies)])


def perturbed_positions(theta, vertices, seed, iteration, copy, eps):
    """Copy c of an iteration: pair c // 2, plus (even c) or minus: theta + sigma s eps."""
    s = signs_ref(3 * vertices, pair_key_ref(seed, iteration, copy // 2))
    sigma = np.float32(1.0 if copy % 2 == 0 else -1.0)
    return (theta[:3 * vertices] + sigma * s * np.float32(eps)).reshape(-1, 3)


def render_perturbed(device, tmp_path, mesh, cull, iterations, extra, width):
    """Per iteration: the SGE estimate and the perturbed id buffers of all copies."""
    problem = mesh_problem(device, tmp_path, mesh, gradient_target(width, width),
                           extra={"render.cull": cull, "optimize.samples": 4, **extra})
    try:
        est = problem.estimator
        assert problem.scene.cull == (None if cull == "none" else "back")
        grads, ids = [], []
        for it in range(iterations):
            grads.append(est.estimate_gradient(it))
            ids.append(copy_ids(est))
        info = dict(theta=problem.theta0.copy(), faces=problem.scene.faces.astype(np.int64), seed=est.seed,
                    vertices=problem.scene.vertices, eps=problem.scene.layout["positions"].eps)
        return np.array(grads), np.array(ids), info
    finally:
        problem.release()


def _facings(info, iterations, copies):
    """Facing of every triangle, clean and in every copy of every iteration."""
    th, faces = info["theta"], info["faces"]
    clean = facing(th[:3 * info["vertices"]].reshape(-1, 3), faces)
    per_copy = np.array([[facing(perturbed_positions(th, info["vertices"], info["seed"], it, c, info["eps"]), faces)
                          for c in range(copies)] for it in range(iterations)])
    return clean, per_copy


def test_culling_removes_exactly_the_back_faces_of_each_perturbed_copy(device, tmp_path):
    """A closed icosphere (auto culls back faces) against no culling, perturbed by ~1 pixel.

    Per copy, from the reference signs: many triangles turn from back- to front-facing and the
    other way. Culled renders must never show a triangle that is back-facing in that copy, and
    must equal the unculled one wherever that shows a front-facing triangle. So culling by
    the clean orientation, culling front faces, or changing anything else, fails here; what
    culling does change is pixels where the perturbed surface folds over and shows a back face
    (the perturbed mesh is no longer an embedded closed surface there)."""
    mesh = icosphere(3, 0.9)
    extra = {"scene.positions.eps": 0.05}      # about a pixel at the sphere (48 px, 40 deg)
    _, ids_none, info = render_perturbed(device, tmp_path, mesh, "none", 2, extra, 48)
    _, ids_back, _ = render_perturbed(device, tmp_path, mesh, "auto", 2, extra, 48)
    clean, per_copy = _facings(info, 2, ids_none.shape[1])
    assert (clean > TOL).sum() > 400 and (clean < -TOL).sum() > 400
    for it in range(ids_none.shape[0]):
        for c in range(ids_none.shape[1]):
            f = per_copy[it, c]
            none, back = ids_none[it, c], ids_back[it, c]
            assert (none > 0).mean() > 0.3 and len(np.unique(none)) > 200      # the sphere, in pieces
            assert ((clean < -TOL) & (f > TOL)).sum() > 50                     # back faces turned front
            assert ((clean > TOL) & (f < -TOL)).sum() > 50                     # ... and the other way
            assert not back[none == 0].any()                                   # culling only removes
            shown = back[back > 0] - 1
            assert not (f[shown] < -TOL).any(), f"copy {c}: a culled render shows a back face"
            f_of_id = np.concatenate([[0.0], f])                                # id 0: background
            front = f_of_id[none] > TOL
            np.testing.assert_array_equal(back[front], none[front])
            assert (none == back).mean() > 0.99
    # some pixels show triangles that were back faces in the clean mesh (so culling by the
    # clean orientation would change them), and the culled renders keep them
    clean_of_id = np.concatenate([[0.0], clean])
    was_back = [clean_of_id[ids_back[it, c]] < -TOL
                for it in range(ids_none.shape[0]) for c in range(ids_none.shape[1])]
    assert sum(int(m.sum()) for m in was_back) > 0


def test_culling_changes_no_estimate_when_no_perturbed_back_face_shows(device, tmp_path):
    """A coarser icosphere at the default perturbation (half a pixel): facings still flip
    near the silhouette in every copy, but no unculled copy shows a back face. Then the
    perturbed renders, hence the SGE estimates, are bit-identical with and without culling."""
    mesh = icosphere(2, 0.9)
    grads_none, ids_none, info = render_perturbed(device, tmp_path, mesh, "none", 3, {}, 40)
    grads_back, ids_back, _ = render_perturbed(device, tmp_path, mesh, "auto", 3, {}, 40)
    clean, per_copy = _facings(info, 3, ids_none.shape[1])
    flipped = (np.sign(per_copy) != np.sign(clean)).sum(axis=2)
    assert flipped.min() >= 2                                    # in every copy
    for it in range(ids_none.shape[0]):
        for c in range(ids_none.shape[1]):
            none = ids_none[it, c]
            assert (none > 0).mean() > 0.2
            assert (per_copy[it, c][none[none > 0] - 1] > 0).all()   # the precondition
    np.testing.assert_array_equal(ids_back, ids_none)
    s = slice(0, 3 * info["vertices"])
    assert all(np.abs(g[s]).max() > 1e-4 for g in grads_none)
    np.testing.assert_array_equal(grads_back, grads_none)
