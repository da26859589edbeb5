"""3D Gaussian splat clouds and their PLY files (docs/splats.md, "Files").

``write_splat_ply`` writes the standard 3DGS PLY: binary little-endian, one
``vertex`` element with the float properties

    x y z nx ny nz f_dc_0 f_dc_1 f_dc_2 f_rest_0 .. f_rest_{3(K-1)-1}
    opacity scale_0 scale_1 scale_2 rot_0 rot_1 rot_2 rot_3

``opacity`` and ``scale_*`` are the raw logit / log values, ``rot_*`` is the
quaternion (w, x, y, z), normals are 0 and ``f_rest`` is channel-major:
f_rest_{c (K-1) + (k-1)} = sh[:, k, c].

``read_splat_ply`` reads any such file: binary little- or big-endian or ascii,
properties in any order and of any scalar type, extra properties and other
elements ignored; the SH degree comes from the number of ``f_rest_*``.
``read_point_cloud`` reads a plain point cloud (x y z, optional red green blue)
or a 3DGS file (colour 0.5 + C0 f_dc). Every problem with a file is a
``SplatFileError`` (a ``ValueError`` and an ``InputError``) naming the file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .atomic import atomic_path

SH_C0 = 0.28209479177387814
MAX_SH_COEFFS = 16  # degree 3

_TYPES = {
    "char": "i1", "int8": "i1", "uchar": "u1", "uint8": "u1",
    "short": "i2", "int16": "i2", "ushort": "u2", "uint16": "u2",
    "int": "i4", "int32": "i4", "uint": "u4", "uint32": "u4",
    "float": "f4", "float32": "f4", "double": "f8", "float64": "f8",
}
_FORMATS = {"binary_little_endian": "<", "binary_big_endian": ">", "ascii": None}
_MAX_HEADER = 1 << 20


class SplatFileError(InputError, ValueError):
    """A splat or point-cloud PLY that cannot be read (the message names the file)."""

    kind = "input error"


@dataclass(eq=False)
class SplatCloud:
    """N splats: positions (N,3), log_scales (N,3), rotations (N,4) quaternions (w,x,y,z),
    opacity_logits (N,), sh (N,K,3) coefficient-major with K = (degree+1)^2 (sh[:,0] = f_dc).
    Every array is stored as C-contiguous float32."""

    positions: np.ndarray
    log_scales: np.ndarray
    rotations: np.ndarray
    opacity_logits: np.ndarray
    sh: np.ndarray

    def __post_init__(self):
        for name in ("positions", "log_scales", "rotations", "opacity_logits", "sh"):
            try:
                arr = np.ascontiguousarray(getattr(self, name), dtype=np.float32)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"SplatCloud: {name} is not a numeric array ({exc})") from None
            setattr(self, name, arr)
        p = self.positions
        if p.ndim != 2 or p.shape[1] != 3:
            raise ValueError(f"SplatCloud: positions must have shape (N, 3), got {p.shape}")
        n = p.shape[0]
        for name, tail in (("log_scales", (3,)), ("rotations", (4,)), ("opacity_logits", ())):
            shape = getattr(self, name).shape
            if shape != (n, *tail):
                want = "(" + ", ".join(["N", *map(str, tail)]) + ")"
                raise ValueError(f"SplatCloud: {name} must have shape {want} with N = {n}, got {shape}")
        s = self.sh
        if s.ndim != 3 or s.shape[0] != n or s.shape[2] != 3:
            raise ValueError(f"SplatCloud: sh must have shape (N, K, 3) with N = {n}, got {s.shape}")
        k = s.shape[1]
        if _degree_of(k) is None:
            raise ValueError(f"SplatCloud: sh has K = {k} coefficients; K must be (degree + 1)^2 "
                             f"for a degree 0..3 (1, 4, 9 or 16)")

    def __len__(self) -> int:
        return self.positions.shape[0]

    @property
    def degree(self) -> int:
        return _degree_of(self.sh.shape[1])


def _degree_of(k: int) -> int | None:
    d = math.isqrt(k) - 1 if k >= 1 else -1
    return d if 0 <= d and (d + 1) ** 2 == k and k <= MAX_SH_COEFFS else None


def splat_property_names(degree: int) -> list[str]:
    """The vertex properties of a written 3DGS PLY of SH degree ``degree``, in file order."""
    k = (degree + 1) ** 2
    return (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
            + [f"f_rest_{i}" for i in range(3 * (k - 1))]
            + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"])


# --------------------------------------------------------------------------- writing

def write_splat_ply(path, cloud: SplatCloud) -> Path:
    """Write ``cloud`` as a standard 3DGS PLY (binary little-endian float32), atomically."""
    path = Path(path)
    n, k = cloud.sh.shape[:2]
    names = splat_property_names(cloud.degree)
    table = np.zeros((n, len(names)), dtype="<f4")
    table[:, 0:3] = cloud.positions
    table[:, 6:9] = cloud.sh[:, 0, :]
    rest = 3 * (k - 1)
    # channel-major: column c (K-1) + (k-1) holds sh[:, k, c]
    table[:, 9:9 + rest] = cloud.sh[:, 1:, :].transpose(0, 2, 1).reshape(n, rest)
    table[:, 9 + rest] = cloud.opacity_logits
    table[:, 10 + rest:13 + rest] = cloud.log_scales
    table[:, 13 + rest:17 + rest] = cloud.rotations
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {n}"]
    header += [f"property float {name}" for name in names]
    header.append("end_header")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(("\n".join(header) + "\n").encode("ascii"))
            fh.write(memoryview(table).cast("B"))
    return path


# --------------------------------------------------------------------------- reading

@dataclass
class _Element:
    name: str
    count: int
    props: list  # (name, numpy type code) or (name, None) for a list property


def _parse_header(path: Path, fh) -> tuple[str, list[_Element]]:
    """Read the header from ``fh`` (left at the first data byte): (format, elements)."""
    err = lambda msg: SplatFileError(f"{path}: {msg}")  # noqa: E731
    first = fh.readline(16)
    if first.rstrip(b"\r\n") != b"ply":
        raise err("not a PLY file (it does not start with 'ply')")
    fmt, elements, size = None, [], len(first)
    while True:
        raw = fh.readline(_MAX_HEADER)
        size += len(raw)
        if not raw or size >= _MAX_HEADER:
            raise err("the PLY header has no end_header line")
        try:
            line = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise err("the PLY header is not ASCII text") from None
        words = line.split()
        if not words or words[0] in ("comment", "obj_info"):
            continue
        key = words[0]
        if key == "end_header":
            break
        if key == "format":
            if len(words) != 3 or words[1] not in _FORMATS:
                raise err(f"unsupported PLY format line {line!r}")
            fmt = words[1]
        elif key == "element":
            if len(words) != 3 or not words[2].isdigit():
                raise err(f"malformed PLY element line {line!r}")
            elements.append(_Element(words[1], int(words[2]), []))
        elif key == "property":
            if not elements:
                raise err(f"PLY property before any element: {line!r}")
            if len(words) == 5 and words[1] == "list":
                elements[-1].props.append((words[4], None))
            elif len(words) == 3 and words[1] in _TYPES:
                elements[-1].props.append((words[2], _TYPES[words[1]]))
            else:
                raise err(f"malformed PLY property line {line!r}")
        else:
            raise err(f"unknown PLY header line {line!r}")
    if fmt is None:
        raise err("the PLY header has no format line")
    return fmt, elements


def _read_vertices(path) -> np.ndarray:
    """The ``vertex`` element of a PLY as a numpy structured array (native or file byte order)."""
    path = Path(path)
    err = lambda msg: SplatFileError(f"{path}: {msg}")  # noqa: E731
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise err(f"cannot read ({exc.strerror or exc})") from None
    with fh:
        fmt, elements = _parse_header(path, fh)
        names = [e.name for e in elements]
        if "vertex" not in names:
            raise err(f"the PLY has no 'vertex' element (elements: {', '.join(names) or 'none'})")
        vi = names.index("vertex")
        vertex = elements[vi]
        if any(t is None for _, t in vertex.props):
            raise err("the PLY 'vertex' element has a list property; splat and point files have scalars only")
        seen = [n for n, _ in vertex.props]
        if len(set(seen)) != len(seen):
            raise err("the PLY 'vertex' element repeats a property name")
        if fmt == "ascii":
            return _read_ascii(path, fh, elements, vi)
        order = _FORMATS[fmt]
        for e in elements[:vi]:  # skip the elements stored before the vertices
            if any(t is None for _, t in e.props):
                raise err(f"cannot skip the PLY element {e.name!r} (list property) before 'vertex'")
            fh.seek(e.count * np.dtype([(n, order + t) for n, t in e.props]).itemsize, 1)
        dtype = np.dtype([(n, order + t) for n, t in vertex.props])
        data = np.fromfile(fh, dtype=dtype, count=vertex.count)
        if data.shape[0] != vertex.count:
            raise err(f"truncated PLY: {vertex.count} vertices declared, {data.shape[0]} complete in the file")
        return data


def _read_ascii(path, fh, elements, vi) -> np.ndarray:
    vertex = elements[vi]
    lines = fh.read().decode("ascii", errors="replace").splitlines()
    lines = [ln for ln in lines if ln.strip()]
    skip = sum(e.count for e in elements[:vi])
    rows = lines[skip:skip + vertex.count]
    if len(rows) != vertex.count:
        raise SplatFileError(f"{path}: truncated PLY: {vertex.count} vertices declared, {len(rows)} lines in the file")
    nprop = len(vertex.props)
    try:
        values = np.array(" ".join(rows).split(), dtype=np.float64)
    except ValueError:
        raise SplatFileError(f"{path}: the ASCII vertex data holds a value that is not a number") from None
    if values.size != vertex.count * nprop:
        raise SplatFileError(f"{path}: the ASCII vertex lines do not hold {nprop} values each")
    values = values.reshape(vertex.count, nprop)
    data = np.empty(vertex.count, dtype=[(n, t) for n, t in vertex.props])
    for j, (n, _) in enumerate(vertex.props):
        data[n] = values[:, j]
    return data


def _columns(path, data: np.ndarray, names, dtype=np.float32) -> np.ndarray:
    """Stack the named properties as columns of an (N, len(names)) array."""
    present = data.dtype.names
    for n in names:
        if n not in present:
            raise SplatFileError(f"{path}: the PLY 'vertex' element has no property {n!r}")
    types = {data.dtype[n] for n in present}
    if len(types) == 1 and data.dtype.itemsize == len(present) * next(iter(types)).itemsize:
        # one scalar type: a plain (N, P) view, gathered row by row (column copies of a wide
        # table are cache-hostile: 1M 3DGS splats take seconds that way)
        table = data.view(next(iter(types))).reshape(data.shape[0], len(present))
        return np.take(table, [present.index(n) for n in names], axis=1).astype(dtype, copy=False)
    out = np.empty((data.shape[0], len(names)), dtype=dtype)
    for j, n in enumerate(names):
        out[:, j] = data[n]
    return out


def _sh_count(path, data) -> int:
    """K, the number of SH coefficients, from the count of f_rest_* properties."""
    rest = [n for n in data.dtype.names if n.startswith("f_rest_")]
    k = len(rest) // 3 + 1
    if len(rest) % 3 or _degree_of(k) is None:
        raise SplatFileError(f"{path}: {len(rest)} f_rest_* properties; a 3DGS file has 3 ((degree + 1)^2 - 1) "
                             f"of them for a degree 0..3 (0, 9, 24 or 45)")
    return k


def read_splat_ply(path) -> SplatCloud:
    """Read a 3DGS PLY (any order of properties, float or double, extra properties ignored)."""
    data = _read_vertices(path)
    n = data.shape[0]
    k = _sh_count(path, data)
    dc = _columns(path, data, ["f_dc_0", "f_dc_1", "f_dc_2"])
    rest = _columns(path, data, [f"f_rest_{i}" for i in range(3 * (k - 1))])
    sh = np.empty((n, k, 3), dtype=np.float32)
    sh[:, 0] = dc
    sh[:, 1:] = rest.reshape(n, 3, k - 1).transpose(0, 2, 1)
    return SplatCloud(
        positions=_columns(path, data, ["x", "y", "z"]),
        log_scales=_columns(path, data, ["scale_0", "scale_1", "scale_2"]),
        rotations=_columns(path, data, ["rot_0", "rot_1", "rot_2", "rot_3"]),
        opacity_logits=_columns(path, data, ["opacity"])[:, 0],
        sh=sh,
    )


def read_point_cloud(path) -> tuple[np.ndarray, np.ndarray | None]:
    """(positions (N,3) float32, colours (N,3) float32 in [0, 1] or None) of a PLY point cloud.

    Colours come from red/green/blue (an integer type scaled by its maximum, e.g. uchar / 255;
    a float type as is), or else from a 3DGS file's f_dc (0.5 + C0 f_dc); clipped to [0, 1]."""
    data = _read_vertices(path)
    positions = _columns(path, data, ["x", "y", "z"])
    names = data.dtype.names
    rgb = ["red", "green", "blue"]
    if any(c in names for c in rgb):
        cols = _columns(path, data, rgb, dtype=np.float64)
        kinds = {data.dtype[c] for c in rgb}
        if len(kinds) != 1:
            raise SplatFileError(f"{path}: red, green and blue have different types")
        kind = kinds.pop()
        if kind.kind in "ui":
            cols /= float(np.iinfo(kind).max)
        return positions, np.clip(cols, 0.0, 1.0).astype(np.float32)
    if any(c in names for c in ("f_dc_0", "f_dc_1", "f_dc_2")):
        dc = _columns(path, data, ["f_dc_0", "f_dc_1", "f_dc_2"], dtype=np.float64)
        return positions, np.clip(0.5 + SH_C0 * dc, 0.0, 1.0).astype(np.float32)
    return positions, None
