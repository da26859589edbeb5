"""Export a fitted triangle soup as coloured PLY and OBJ meshes (via trimesh).

A soup is ``positions`` (N, 3, 3) float32 -- triangle, vertex, xyz -- plus
``colors`` (N, 3) float32 in [0, 1], one flat colour per triangle, or (N, 4) with
an opacity per triangle (the PLY face colours' alpha; OBJ has none).  Vertices
are never merged, so per-vertex colours (OBJ) represent the flat per-face
colours exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

from .atomic import atomic_write_bytes, ensure_folder


def _check_soup(positions, colors) -> tuple[np.ndarray, np.ndarray]:
    pos = np.asarray(positions, dtype=np.float32)
    col = np.asarray(colors, dtype=np.float32)
    if pos.ndim != 3 or pos.shape[1:] != (3, 3):
        raise ValueError(f"positions must have shape (N, 3, 3), got {pos.shape}")
    if col.ndim != 2 or col.shape[1] not in (3, 4) or col.shape[0] != pos.shape[0]:
        raise ValueError(f"colors must have shape ({pos.shape[0]}, 3) or ({pos.shape[0]}, 4), got {col.shape}")
    if pos.shape[0] == 0:
        raise ValueError("cannot export an empty triangle soup")
    return pos, col


def _rgba_u8(col: np.ndarray) -> np.ndarray:
    """RGB(A) in [0, 1] -> RGBA uint8 (alpha 255 where none is given)."""
    u8 = np.rint(np.clip(np.nan_to_num(col, nan=0.0), 0.0, 1.0) * 255.0).astype(np.uint8)
    if u8.shape[1] == 4:
        return u8
    return np.concatenate([u8, np.full((u8.shape[0], 1), 255, dtype=np.uint8)], axis=1)


def soup_to_trimesh(positions, colors) -> trimesh.Trimesh:
    """Unmerged mesh with one face per triangle and RGBA uint8 face colours."""
    pos, col = _check_soup(positions, colors)
    n = pos.shape[0]
    return trimesh.Trimesh(
        vertices=pos.reshape(-1, 3),
        faces=np.arange(3 * n, dtype=np.int64).reshape(n, 3),
        face_colors=_rgba_u8(col),
        process=False,
    )


def _obj_text(mesh: trimesh.Trimesh) -> str:
    """OBJ with ``v x y z r g b`` lines; each vertex carries its face's colour.

    Written by hand: trimesh's own OBJ exporter converts face colours to vertex
    colours through scipy.sparse, which is not a dependency of diffrast.
    """
    verts = np.asarray(mesh.vertices, dtype=np.float64)
    # faces are 0..3N-1 in order, so vertex i belongs to face i // 3
    vcol = np.repeat(np.asarray(mesh.visual.face_colors)[:, :3], 3, axis=0) / 255.0
    lines = [f"# diffrast triangle soup: {len(mesh.faces)} triangles, per-vertex colours"]
    lines += [
        f"v {x:.9g} {y:.9g} {z:.9g} {r:.6f} {g:.6f} {b:.6f}"
        for (x, y, z), (r, g, b) in zip(verts.tolist(), vcol.tolist())
    ]
    lines += [f"f {a} {b} {c}" for a, b, c in (np.asarray(mesh.faces) + 1).tolist()]
    return "\n".join(lines) + "\n"


def export_soup(positions, colors, out_dir, stem: str = "soup") -> list[Path]:
    """Write ``<stem>.ply`` (binary, face colours) and ``<stem>.obj`` (vertex colours).

    Returns the two paths, PLY first.  ``out_dir`` is created if missing.  Each
    file is replaced atomically; a failed write raises OutputError and leaves
    the previous file intact.
    """
    out = ensure_folder(out_dir)
    mesh = soup_to_trimesh(positions, colors)
    ply_path, obj_path = out / f"{stem}.ply", out / f"{stem}.obj"
    atomic_write_bytes(ply_path, mesh.export(file_type="ply", encoding="binary"))
    atomic_write_bytes(obj_path, _obj_text(mesh).encode("ascii"))
    return [ply_path, obj_path]
