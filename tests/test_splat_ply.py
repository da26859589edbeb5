"""diffrast_cli.io.splat_ply: the 3DGS PLY of docs/splats.md ("Files") and plain point clouds."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from diffrast_cli.errors import InputError
from diffrast_cli.io.splat_ply import (SH_C0, SplatCloud, SplatFileError, read_point_cloud, read_splat_ply,
                                       splat_property_names, write_splat_ply)

FIELDS = ("positions", "log_scales", "rotations", "opacity_logits", "sh")


def random_cloud(n, degree, seed=0) -> SplatCloud:
    rng = np.random.default_rng(seed)
    k = (degree + 1) ** 2
    return SplatCloud(rng.normal(size=(n, 3)), rng.normal(size=(n, 3)) - 2, rng.normal(size=(n, 4)),
                      rng.normal(size=n), rng.normal(size=(n, k, 3)))


def assert_same(a: SplatCloud, b: SplatCloud):
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.dtype == y.dtype == np.float32, f
        assert x.shape == y.shape, f
        assert np.array_equal(x, y), f


def header_of(path) -> list[str]:
    data = path.read_bytes()
    end = data.index(b"end_header\n") + len(b"end_header\n")
    return data[:end].decode("ascii").splitlines()


def ply_text(fmt, props, n, extra_header=()):
    """The header bytes of a one-element PLY."""
    head = ["ply", f"format {fmt} 1.0", *extra_header, f"element vertex {n}"]
    head += [f"property {t} {name}" for t, name in props]
    head.append("end_header")
    return ("\n".join(head) + "\n").encode("ascii")


# --------------------------------------------------------------------------- the cloud

@pytest.mark.parametrize("degree", [0, 1, 2, 3])
def test_degree_from_coefficient_count(degree):
    assert random_cloud(2, degree).degree == degree


@pytest.mark.parametrize("kwargs, words", [
    (dict(positions=np.zeros((3, 2))), "positions"),
    (dict(log_scales=np.zeros((2, 3))), "log_scales"),
    (dict(rotations=np.zeros((3, 3))), "rotations"),
    (dict(opacity_logits=np.zeros((3, 1))), "opacity_logits"),
    (dict(sh=np.zeros((3, 5, 3))), "K = 5"),
    (dict(sh=np.zeros((3, 25, 3))), "K = 25"),
    (dict(sh=np.zeros((3, 4))), "sh must have shape"),
    (dict(sh=np.zeros((3, 4, 4))), "sh must have shape"),
    (dict(positions="abc"), "positions"),
])
def test_cloud_validation(kwargs, words):
    args = dict(positions=np.zeros((3, 3)), log_scales=np.zeros((3, 3)), rotations=np.zeros((3, 4)),
                opacity_logits=np.zeros(3), sh=np.zeros((3, 4, 3)))
    args.update(kwargs)
    with pytest.raises(ValueError, match=words):
        SplatCloud(**args)


# --------------------------------------------------------------------------- writing

@pytest.mark.parametrize("degree", [0, 3])
def test_round_trip_is_exact(tmp_path, degree):
    cloud = random_cloud(57, degree)
    path = write_splat_ply(tmp_path / "c.ply", cloud)
    back = read_splat_ply(path)
    assert back.degree == degree
    assert_same(cloud, back)
    assert not list(tmp_path.glob(".*"))  # no temporary file left


@pytest.mark.parametrize("degree", [0, 1, 3])
def test_header_and_property_order(tmp_path, degree):
    n = 4
    path = write_splat_ply(tmp_path / "c.ply", random_cloud(n, degree))
    rest = 3 * ((degree + 1) ** 2 - 1)
    names = (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
             + [f"f_rest_{i}" for i in range(rest)]
             + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"])
    assert splat_property_names(degree) == names
    assert header_of(path) == (["ply", "format binary_little_endian 1.0", f"element vertex {n}"]
                               + [f"property float {p}" for p in names] + ["end_header"])
    assert path.stat().st_size == len("\n".join(header_of(path))) + 1 + n * len(names) * 4


def test_written_values_sit_in_their_columns(tmp_path):
    # every value distinct: the raw float32 table of the file, read without the reader
    n, k = 2, 4
    vals = np.arange(n * (3 + 3 + 4 + 1 + 3 * k), dtype=np.float32) + 1
    it = iter(np.split(vals, np.cumsum([n * 3, n * 3, n * 4, n])))
    pos, scl, rot, opa, sh = (next(it) for _ in range(5))
    cloud = SplatCloud(pos.reshape(n, 3), scl.reshape(n, 3), rot.reshape(n, 4), opa, sh.reshape(n, k, 3))
    path = write_splat_ply(tmp_path / "c.ply", cloud)
    names = splat_property_names(1)
    data = path.read_bytes()
    body = data[data.index(b"end_header\n") + 11:]
    table = np.frombuffer(body, dtype="<f4").reshape(n, len(names))
    col = {name: table[:, i] for i, name in enumerate(names)}
    for i in range(n):
        assert [col[c][i] for c in ("x", "y", "z")] == list(cloud.positions[i])
        assert [col[c][i] for c in ("nx", "ny", "nz")] == [0, 0, 0]
        assert [col[f"scale_{a}"][i] for a in range(3)] == list(cloud.log_scales[i])
        assert [col[f"rot_{a}"][i] for a in range(4)] == list(cloud.rotations[i])  # w x y z as given
        assert col["opacity"][i] == cloud.opacity_logits[i]
        for c in range(3):
            assert col[f"f_dc_{c}"][i] == cloud.sh[i, 0, c]
            for kk in range(1, k):
                assert col[f"f_rest_{c * (k - 1) + kk - 1}"][i] == cloud.sh[i, kk, c]


def test_f_rest_is_channel_major_on_a_hand_made_file(tmp_path):
    # degree 1 (K = 4): f_rest_0..2 are channel 0 (red) of coefficients 1..3, f_rest_3..5 green, ...
    names = splat_property_names(1)
    row = {name: 0.0 for name in names}
    row.update(rot_0=1.0, f_dc_0=0.25, f_dc_1=0.5, f_dc_2=0.75)
    for i in range(9):
        row[f"f_rest_{i}"] = 10.0 + i
    path = tmp_path / "hand.ply"
    path.write_bytes(ply_text("binary_little_endian", [("float", n) for n in names], 1)
                     + struct.pack("<" + "f" * len(names), *(row[n] for n in names)))
    sh = read_splat_ply(path).sh[0]
    assert sh.shape == (4, 3)
    np.testing.assert_array_equal(sh[0], [0.25, 0.5, 0.75])
    np.testing.assert_array_equal(sh[1:, 0], [10, 11, 12])  # red of coefficients 1, 2, 3
    np.testing.assert_array_equal(sh[1:, 1], [13, 14, 15])
    np.testing.assert_array_equal(sh[1:, 2], [16, 17, 18])


def test_trimesh_loads_the_vertices(tmp_path):
    trimesh = pytest.importorskip("trimesh")
    cloud = random_cloud(31, 2)
    path = write_splat_ply(tmp_path / "c.ply", cloud)
    try:
        loaded = trimesh.load(path)
    except Exception as exc:  # pragma: no cover - depends on the trimesh version
        pytest.skip(f"trimesh cannot parse this PLY: {exc}")
    assert isinstance(loaded, trimesh.PointCloud)
    assert len(loaded.vertices) == 31
    np.testing.assert_allclose(loaded.vertices, cloud.positions, rtol=0, atol=0)


# --------------------------------------------------------------------------- reading other writers' files

def test_ascii_with_shuffled_order_doubles_and_extras(tmp_path):
    names = splat_property_names(1)
    rng = np.random.default_rng(3)
    shuffled = list(rng.permutation(names)) + ["extra"]
    types = {n: ("double" if i % 2 else "float") for i, n in enumerate(shuffled)}
    values = {n: rng.normal(size=2).round(4) for n in shuffled}
    head = ply_text("ascii", [(types[n], n) for n in shuffled], 2,
                    extra_header=("comment made by hand", "obj_info nothing"))
    body = "\n".join(" ".join(repr(float(values[n][i])) for n in shuffled) for i in range(2)) + "\n"
    path = tmp_path / "a.ply"
    path.write_bytes(head.replace(b"\n", b"\r\n") + body.encode())  # CRLF header and lines
    cloud = read_splat_ply(path)
    assert cloud.degree == 1
    f32 = lambda v: np.float32(v)  # noqa: E731
    for i in range(2):
        assert list(cloud.positions[i]) == [f32(values[c][i]) for c in "xyz"]
        assert cloud.opacity_logits[i] == f32(values["opacity"][i])
        assert list(cloud.rotations[i]) == [f32(values[f"rot_{a}"][i]) for a in range(4)]
        assert list(cloud.log_scales[i]) == [f32(values[f"scale_{a}"][i]) for a in range(3)]
        for c in range(3):
            assert cloud.sh[i, 0, c] == f32(values[f"f_dc_{c}"][i])
            for k in range(1, 4):
                assert cloud.sh[i, k, c] == f32(values[f"f_rest_{c * 3 + k - 1}"][i])


def test_big_endian_with_an_element_before_the_vertices(tmp_path):
    cloud = random_cloud(5, 2, seed=4)
    names = splat_property_names(2)
    le = write_splat_ply(tmp_path / "le.ply", cloud).read_bytes()
    table = np.frombuffer(le[le.index(b"end_header\n") + 11:], dtype="<f4").reshape(5, len(names))
    head = ("ply\nformat binary_big_endian 1.0\nelement camera 2\nproperty double fx\nproperty uchar id\n"
            "element vertex 5\n" + "".join(f"property float {n}\n" for n in names)
            + "element face 0\nproperty list uchar int vertex_indices\nend_header\n").encode()
    path = tmp_path / "be.ply"
    path.write_bytes(head + b"\x01" * 18 + table.astype(">f4").tobytes())
    assert_same(cloud, read_splat_ply(path))


def test_point_cloud_uchar_colours(tmp_path):
    pts = np.array([[0, 1, 2], [3, 4, 5], [-1, 0.5, 7]], np.float32)
    rgb = np.array([[0, 128, 255], [255, 0, 1], [10, 20, 30]], np.uint8)
    head = ply_text("binary_little_endian", [("float", "x"), ("float", "y"), ("float", "z"), ("uchar", "red"),
                                            ("uchar", "green"), ("uchar", "blue"), ("uchar", "alpha")], 3)
    rec = np.zeros(3, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1"),
                             ("a", "u1")])
    rec["x"], rec["y"], rec["z"] = pts.T
    rec["r"], rec["g"], rec["b"] = rgb.T
    path = tmp_path / "pc.ply"
    path.write_bytes(head + rec.tobytes())
    p, c = read_point_cloud(path)
    np.testing.assert_array_equal(p, pts)
    assert c.dtype == np.float32
    np.testing.assert_allclose(c, rgb / 255.0, rtol=0, atol=1e-7)


def test_point_cloud_float_colours_none_and_3dgs(tmp_path):
    path = tmp_path / "f.ply"
    path.write_text("ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\n"
                    "property float z\nproperty float red\nproperty float green\nproperty float blue\n"
                    "end_header\n0 0 0 0.25 0.5 1.5\n1 2 3 0 1 -0.5\n")
    p, c = read_point_cloud(path)
    np.testing.assert_array_equal(p, [[0, 0, 0], [1, 2, 3]])
    np.testing.assert_allclose(c, [[0.25, 0.5, 1.0], [0, 1, 0]])  # clipped to [0, 1]

    path.write_text("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
                    "property float z\nend_header\n1 2 3\n")
    p, c = read_point_cloud(path)
    assert c is None and p.tolist() == [[1, 2, 3]]

    cloud = random_cloud(6, 1, seed=5)
    cloud.sh[0, 0] = [10, -10, 0]
    p, c = read_point_cloud(write_splat_ply(tmp_path / "g.ply", cloud))
    np.testing.assert_array_equal(p, cloud.positions)
    want = np.clip(0.5 + SH_C0 * cloud.sh[:, 0].astype(np.float64), 0, 1)
    np.testing.assert_allclose(c, want, rtol=0, atol=1e-6)
    assert c[0].tolist() == [1, 0, 0.5]


# --------------------------------------------------------------------------- errors

def _full(tmp_path):
    return write_splat_ply(tmp_path / "full.ply", random_cloud(4, 1))


def _bad(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _errors(tmp_path):
    full = _full(tmp_path).read_bytes()
    head = full[:full.index(b"end_header\n") + 11]
    yield _bad(tmp_path, "trunc.ply", full[:-3]), "truncated", read_splat_ply
    yield _bad(tmp_path, "trunc_pc.ply", full[:len(head) + 10]), "truncated", read_point_cloud
    yield _bad(tmp_path, "noend.ply", head[:-11]), "end_header", read_splat_ply
    yield _bad(tmp_path, "missing.ply", full.replace(b"property float rot_2\n", b"property float rot_x\n")), \
        "'rot_2'", read_splat_ply
    yield _bad(tmp_path, "nodc.ply", full.replace(b"property float f_dc_1\n", b"property float foo\n")), \
        "'f_dc_1'", read_splat_ply
    yield _bad(tmp_path, "rest.ply", full.replace(b"property float f_rest_4\n", b"property float f_rest_x\n")), \
        "f_rest", read_splat_ply
    yield _bad(tmp_path, "noz.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
                                    "property float y\nend_header\n1 2\n"), "'z'", read_point_cloud
    yield _bad(tmp_path, "nogreen.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
                                        "property float y\nproperty float z\nproperty uchar red\n"
                                        "end_header\n1 2 3 4\n"), "'green'", read_point_cloud
    yield _bad(tmp_path, "notply.ply", "solid cube\nfacet normal 0 0 1\n"), "not a PLY", read_splat_ply
    yield _bad(tmp_path, "empty.ply", b""), "not a PLY", read_point_cloud
    yield _bad(tmp_path, "face.ply", "ply\nformat ascii 1.0\nelement face 1\n"
                                     "property list uchar int vertex_indices\nend_header\n3 0 1 2\n"), \
        "no 'vertex' element", read_point_cloud
    yield _bad(tmp_path, "fmt.ply", "ply\nformat binary_middle_endian 1.0\nend_header\n"), "format", read_splat_ply
    yield _bad(tmp_path, "ascii_short.ply", "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\n"
                                            "property float y\nproperty float z\nend_header\n1 2 3\n"), \
        "truncated", read_point_cloud
    yield _bad(tmp_path, "ascii_nan.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"
                                          "property float y\nproperty float z\nend_header\n1 two 3\n"), \
        "not a number", read_point_cloud
    yield tmp_path / "absent.ply", "cannot read", read_splat_ply


def test_every_error_names_the_file(tmp_path):
    cases = list(_errors(tmp_path))
    assert len(cases) == 15
    for path, words, reader in cases:
        with pytest.raises(SplatFileError) as info:
            reader(path)
        msg = str(info.value)
        assert isinstance(info.value, ValueError) and isinstance(info.value, InputError)
        assert msg.startswith(f"{path}: "), msg
        assert words in msg, (path.name, msg)
        assert "\n" not in msg
