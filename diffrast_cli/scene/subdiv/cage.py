"""Control cages: polygon OBJ files read with their faces kept (trimesh would triangulate them),
and written back the same way."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import InputError


@dataclass
class Cage:
    positions: np.ndarray            # (V, 3) float64
    faces: list                      # vertex index tuples, counter-clockwise
    uvs: np.ndarray | None           # (corners, 2) per face corner, faces back to back; None: no vt
    name: str

    @property
    def corners(self) -> int:
        return sum(len(f) for f in self.faces)


def _index(token: str, count: int, path, line: int, what: str) -> int:
    try:
        i = int(token)
    except ValueError:
        raise InputError(f"{path}:{line}: bad {what} index {token!r}") from None
    i = i - 1 if i > 0 else count + i
    if not 0 <= i < count:
        raise InputError(f"{path}:{line}: {what} index {token} out of range (1..{count})")
    return i


def load_cage(path) -> Cage:
    """A polygon OBJ (v, vt and f lines; other lines ignored)."""
    path = Path(path)
    if path.suffix.lower() != ".obj":
        raise InputError(f"{path}: a control cage is an OBJ file (its polygons are kept)")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the cage ({exc.strerror or exc})") from None
    pos, tex, faces, fuv = [], [], [], []
    for n, raw in enumerate(text.splitlines(), 1):
        parts = raw.split("#", 1)[0].split()
        if not parts:
            continue
        if parts[0] in ("v", "vt"):
            need = 3 if parts[0] == "v" else 2
            try:
                vals = [float(x) for x in parts[1:need + 1]]
            except ValueError:
                raise InputError(f"{path}:{n}: bad number in a {parts[0]!r} line") from None
            if len(vals) < need:
                raise InputError(f"{path}:{n}: a {parts[0]!r} line needs {need} numbers")
            (pos if parts[0] == "v" else tex).append(vals)
        if parts[0] == "f":
            if len(parts) < 4:
                raise InputError(f"{path}:{n}: a face needs at least 3 vertices")
            corners = [c.split("/") for c in parts[1:]]
            faces.append(tuple(_index(c[0], len(pos), path, n, "vertex") for c in corners))
            has_vt = all(len(c) > 1 and c[1] for c in corners)
            fuv.append([_index(c[1], len(tex), path, n, "texture") for c in corners] if has_vt else None)
    if not faces:
        raise InputError(f"{path}: no faces")
    positions = np.asarray(pos, np.float64)
    if not np.all(np.isfinite(positions)):
        raise InputError(f"{path}: a vertex position is not finite")
    uvs = None
    if tex and all(f is not None for f in fuv):
        uvs = np.asarray(tex, np.float64)[np.concatenate(fuv)]
    return Cage(positions, faces, uvs, path.stem)


def cage_obj_text(positions, faces, uvs=None, mtllib: str | None = None, material: str = "material_0") -> str:
    """OBJ text of a polygon cage (faces kept), with per-corner UVs when given."""
    lines = ["# diffrast subdivision cage (Catmull-Clark control mesh)"]
    if mtllib:
        lines += [f"mtllib {mtllib}"]
    lines += ["v %.7g %.7g %.7g" % tuple(p) for p in np.asarray(positions, np.float64)]
    if uvs is not None:
        lines += ["vt %.7g %.7g" % tuple(t) for t in np.asarray(uvs, np.float64)]
    if mtllib:
        lines.append(f"usemtl {material}")
    k = 0
    for f in faces:
        if uvs is None:
            lines.append("f " + " ".join(str(v + 1) for v in f))
        else:
            lines.append("f " + " ".join(f"{v + 1}/{k + i + 1}" for i, v in enumerate(f)))
        k += len(f)
    return "\n".join(lines) + "\n"


# cube sides: outward normal, in-plane axes u x v = normal
_SIDES = [((1, 0, 0), (0, 0, -1), (0, 1, 0)), ((-1, 0, 0), (0, 0, 1), (0, 1, 0)),
          ((0, 1, 0), (1, 0, 0), (0, 0, -1)), ((0, -1, 0), (1, 0, 0), (0, 0, 1)),
          ((0, 0, 1), (1, 0, 0), (0, 1, 0)), ((0, 0, -1), (-1, 0, 0), (0, 1, 0))]


def _cell_origin(side: int) -> tuple[float, float]:
    return (side % 3) / 3.0, (side // 3) / 2.0


def sphere_cage(n: int, margin: float = 0.02, name: str = "sphere_cage") -> Cage:
    """A cube of n x n quads per side pushed onto the unit sphere, with per-corner UVs: each cube
    side is a cell of a 3 x 2 atlas, ``margin`` (of a cell) around its square."""
    index, pos, faces, uvs = {}, [], [], []
    for side, axes in enumerate(_SIDES):
        normal, u, v = (np.asarray(a, float) for a in axes)
        ids = np.empty((n + 1, n + 1), int)
        for i in range(n + 1):
            for j in range(n + 1):
                p = normal + (2 * i / n - 1) * u + (2 * j / n - 1) * v
                key = tuple(np.round(p, 6))
                if key not in index:
                    index[key] = len(pos)
                    pos.append(p / np.linalg.norm(p))
                ids[i, j] = index[key]
        ox, oy = _cell_origin(side)
        for i in range(n):
            for j in range(n):
                corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)]
                faces.append(tuple(int(ids[a, b]) for a, b in corners))
                for a, b in corners:
                    uvs.append((ox + (margin + (1 - 2 * margin) * a / n) / 3.0,
                                oy + (margin + (1 - 2 * margin) * b / n) / 2.0))
    return Cage(np.asarray(pos), faces, np.asarray(uvs), name)
