"""Tests for diffrast_cli.io.export (triangle soup -> PLY / OBJ via trimesh)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import trimesh

from diffrast_cli.io import export as E


def _soup(n=40, seed=0):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1, 1, (n, 3, 3)).astype(np.float32)
    col = rng.random((n, 3), dtype=np.float32)
    col[0] = [0.0, 1.0, 0.5]  # exact extremes and a half value
    # make two triangles share a corner position: must NOT be merged
    pos[1, 0] = pos[0, 0]
    return pos, col


def test_soup_to_trimesh_is_unmerged_with_face_colours():
    pos, col = _soup()
    m = E.soup_to_trimesh(pos, col)
    assert isinstance(m, trimesh.Trimesh)
    assert m.faces.shape == (len(pos), 3) and m.vertices.shape == (3 * len(pos), 3)
    assert np.allclose(m.vertices[m.faces], pos)
    fc = m.visual.face_colors
    assert fc.dtype == np.uint8 and fc.shape == (len(pos), 4)
    assert np.all(fc[:, 3] == 255)
    assert np.abs(fc[:, :3] / 255.0 - col).max() <= 0.5 / 255 + 1e-6


def test_soup_to_trimesh_validates_shapes():
    pos, col = _soup(4)
    with pytest.raises(ValueError):
        E.soup_to_trimesh(pos.reshape(4, 9), col)
    with pytest.raises(ValueError):
        E.soup_to_trimesh(pos, col[:3])
    with pytest.raises(ValueError):
        E.soup_to_trimesh(pos[:0], col[:0])


def test_colours_are_clipped():
    pos, col = _soup(3)
    col[1] = [-0.2, 1.7, np.nan]
    fc = E.soup_to_trimesh(pos, col).visual.face_colors
    assert fc[1, :3].tolist() == [0, 255, 0]


@pytest.mark.parametrize("ext", ["ply", "obj"])
def test_export_roundtrip(tmp_path, ext):
    pos, col = _soup(57, seed=3)
    paths = E.export_soup(pos, col, tmp_path, stem="fit")
    assert [p.name for p in paths] == ["fit.ply", "fit.obj"]
    path = tmp_path / f"fit.{ext}"
    m = trimesh.load(path, process=False)
    assert isinstance(m, trimesh.Trimesh)
    assert len(m.faces) == len(pos)
    assert len(m.vertices) == 3 * len(pos)  # nothing was merged
    # positions: faces index the stored vertices in triangle order
    assert np.allclose(m.vertices[m.faces], pos, atol=1e-6)
    # colours within 1/255 (PLY stores face colours, OBJ per-vertex colours)
    if ext == "ply":
        got = m.visual.face_colors[:, :3].astype(float) / 255.0
    else:
        vc = m.visual.vertex_colors[:, :3].astype(float) / 255.0
        got = vc[m.faces[:, 0]]
        # all three corners of a triangle carry the same (face) colour
        assert np.array_equal(vc[m.faces[:, 0]], vc[m.faces[:, 1]])
        assert np.array_equal(vc[m.faces[:, 0]], vc[m.faces[:, 2]])
    assert np.abs(got - col).max() <= 1.0 / 255 + 1e-6


def test_ply_is_binary_with_face_colours(tmp_path):
    pos, col = _soup(5)
    ply, _ = E.export_soup(pos, col, tmp_path)
    head = ply.read_bytes()[:400]
    assert head.startswith(b"ply\nformat binary_")
    assert b"element face 5" in head and b"property uchar red" in head


def test_obj_lines_have_vertex_colours(tmp_path):
    pos, col = _soup(4)
    _, obj = E.export_soup(pos, col, tmp_path)
    lines = obj.read_text().splitlines()
    v = [ln.split() for ln in lines if ln.startswith("v ")]
    f = [ln.split() for ln in lines if ln.startswith("f ")]
    assert len(v) == 12 and all(len(x) == 7 for x in v)
    assert len(f) == 4 and f[0] == ["f", "1", "2", "3"]
    rgb = np.array([[float(c) for c in x[4:]] for x in v])
    # each corner carries its triangle's colour (8-bit, as in the PLY), the corners their positions
    np.testing.assert_allclose(rgb, np.repeat(np.rint(col * 255) / 255, 3, axis=0), atol=1e-6)
    xyz = np.array([[float(c) for c in x[1:4]] for x in v])
    np.testing.assert_allclose(xyz, pos.reshape(-1, 3), atol=1e-6)
    faces = np.array([[int(c) for c in x[1:]] for x in f])
    assert faces.tolist() == (np.arange(12).reshape(4, 3) + 1).tolist()


def test_export_is_atomic_and_leaves_no_temp_files(tmp_path):
    pos, col = _soup(10)
    out = tmp_path / "out"
    out.mkdir()
    (out / "soup.ply").write_bytes(b"old contents")
    paths = E.export_soup(pos, col, out)
    first = {p.name: p.read_bytes() for p in paths}
    paths = E.export_soup(pos + 1, col, out)  # overwriting works too
    assert sorted(os.listdir(out)) == ["soup.obj", "soup.ply"]
    assert (out / "soup.ply").read_bytes()[:3] == b"ply"
    m = trimesh.load(out / "soup.ply", process=False)
    assert np.allclose(m.vertices[m.faces], pos + 1, atol=1e-6)      # the new soup, whole
    assert all(p.read_bytes() != first[p.name] for p in paths)


def test_atomic_write_failure_keeps_old_file_and_cleans_up(tmp_path, monkeypatch):
    from diffrast_cli.errors import OutputError
    from diffrast_cli.io.atomic import atomic_write_bytes
    target = tmp_path / "soup.ply"
    target.write_bytes(b"previous")

    def boom(src, dst):
        raise OSError("simulated failure")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OutputError, match="simulated failure"):
        atomic_write_bytes(target, b"new data")
    assert target.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["soup.ply"]

def test_export_creates_missing_directory(tmp_path):
    pos, col = _soup(2)
    paths = E.export_soup(pos, col, tmp_path / "a" / "b", stem="s")
    assert [p.name for p in paths] == ["s.ply", "s.obj"] and all(p.parent == tmp_path / "a" / "b" for p in paths)
    for p in paths:
        m = trimesh.load(p, process=False)
        assert np.allclose(m.vertices[m.faces], pos, atol=1e-6)
