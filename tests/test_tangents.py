"""io.tangents.corner_tangents: MikkTSpace conventions (u -> tangent, w the handedness)."""

from __future__ import annotations

import numpy as np

from diffrast_cli.io.mesh_geometry import compute_vertex_normals, lat_long_sphere
from diffrast_cli.io.tangents import corner_tangents
from tests.mesh_scenes import grid_mesh


def _flat_grid(n=4):
    mesh = grid_mesh(n=n, bump=0.0)                # xy plane, uv = (x, y) scaled: u along +x, v along +y
    mesh.normals = np.broadcast_to(np.float32([0, 0, 1]), mesh.faces.shape + (3,)).copy()
    return mesh


def _bitangent(t, n):
    return np.cross(n, t[..., :3]) * t[..., 3:]


def test_planar_grid_tangent_is_plus_x_and_bitangent_plus_y():
    mesh = _flat_grid()
    t = corner_tangents(mesh.positions, mesh.faces, mesh.uvs, mesh.normals)
    assert t.shape == (len(mesh.faces), 3, 4) and t.dtype == np.float32
    np.testing.assert_allclose(t[..., :3], np.broadcast_to([1, 0, 0], t[..., :3].shape), atol=1e-6)
    np.testing.assert_array_equal(t[..., 3], 1.0)
    np.testing.assert_allclose(_bitangent(t, mesh.normals), np.broadcast_to([0, 1, 0], t[..., :3].shape), atol=1e-6)


def test_mirrored_u_flips_the_tangent_and_the_handedness():
    mesh = _flat_grid()
    uvs = mesh.uvs.copy()
    uvs[..., 0] = 1.0 - uvs[..., 0]
    t = corner_tangents(mesh.positions, mesh.faces, uvs, mesh.normals)
    np.testing.assert_allclose(t[..., :3], np.broadcast_to([-1, 0, 0], t[..., :3].shape), atol=1e-6)
    np.testing.assert_array_equal(t[..., 3], -1.0)
    # the bitangent still points to increasing v (+y)
    np.testing.assert_allclose(_bitangent(t, mesh.normals), np.broadcast_to([0, 1, 0], t[..., :3].shape), atol=1e-6)


def test_mirrored_v_keeps_the_tangent_and_flips_the_handedness():
    mesh = _flat_grid()
    uvs = mesh.uvs.copy()
    uvs[..., 1] = 1.0 - uvs[..., 1]
    t = corner_tangents(mesh.positions, mesh.faces, uvs, mesh.normals)
    np.testing.assert_allclose(t[..., :3], np.broadcast_to([1, 0, 0], t[..., :3].shape), atol=1e-6)
    np.testing.assert_array_equal(t[..., 3], -1.0)
    np.testing.assert_allclose(_bitangent(t, mesh.normals), np.broadcast_to([0, -1, 0], t[..., :3].shape), atol=1e-6)


def test_rotated_uvs_rotate_the_tangent():
    mesh = _flat_grid()
    uvs = mesh.uvs[..., ::-1].copy()                # u along +y, v along +x: a mirrored layout
    t = corner_tangents(mesh.positions, mesh.faces, uvs, mesh.normals)
    np.testing.assert_allclose(t[..., :3], np.broadcast_to([0, 1, 0], t[..., :3].shape), atol=1e-6)
    np.testing.assert_array_equal(t[..., 3], -1.0)


def test_curved_mesh_tangents_are_unit_orthogonal_and_follow_u():
    mesh = lat_long_sphere(12, 16)
    t = corner_tangents(mesh.positions, mesh.faces, mesh.uvs, mesh.normals)
    xyz = t[..., :3].astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=-1), 1.0, atol=1e-5)
    assert np.abs(np.sum(xyz * mesh.normals, axis=-1)).max() < 1e-5
    assert set(np.unique(t[..., 3])) <= {-1.0, 1.0}
    # u grows eastwards (columns from +z towards +x): away from the poles, the tangent is the
    # east direction d(phi) = (cos phi, 0, -sin phi) of the corner's position
    p = mesh.positions[mesh.faces].astype(np.float64)
    ring = np.abs(p[..., 1]) < 0.9
    east = np.stack([p[..., 2], np.zeros_like(p[..., 0]), -p[..., 0]], axis=-1)
    east /= np.maximum(np.linalg.norm(east, axis=-1, keepdims=True), 1e-12)
    assert np.sum(xyz[ring] * east[ring], axis=-1).min() > 0.95
    # v grows northwards (+y): the bitangent points up away from the poles
    assert _bitangent(t, mesh.normals)[ring][:, 1].min() > 0.2


def test_shared_corners_get_one_tangent_and_normals_default_to_smooth():
    mesh = grid_mesh(n=5, bump=0.3)
    t = corner_tangents(mesh.positions, mesh.faces, mesh.uvs)       # the grid's uvs are continuous
    t2 = corner_tangents(mesh.positions, mesh.faces, mesh.uvs,
                         compute_vertex_normals(mesh.positions, mesh.faces)[mesh.faces])
    np.testing.assert_allclose(t, t2, atol=1e-6)
    flat = t.reshape(-1, 4)
    idx = mesh.faces.reshape(-1)
    for v in np.unique(idx):
        np.testing.assert_allclose(flat[idx == v], np.broadcast_to(flat[idx == v][0], flat[idx == v].shape),
                                   atol=1e-6)


def test_degenerate_uvs_give_unit_orthogonal_tangents():
    mesh = _flat_grid(3)
    uvs = np.zeros_like(mesh.uvs)                   # every face collapsed in UV space
    t = corner_tangents(mesh.positions, mesh.faces, uvs, mesh.normals)
    assert np.isfinite(t).all()
    np.testing.assert_allclose(np.linalg.norm(t[..., :3], axis=-1), 1.0, atol=1e-6)
    assert np.abs(t[..., 2]).max() < 1e-6          # orthogonal to +z
    assert set(np.unique(t[..., 3])) <= {-1.0, 1.0}
