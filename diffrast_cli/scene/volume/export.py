"""What a volume run writes: the grid as ``volume.npz`` (density (z, y, x), color (z, y, x, 3),
lo, hi: what ``scene.init_file`` reads back) and, for a quick look, ``volume.glb``: the surface
where the density crosses a level (marching cubes by PyMCubes), with the grid's colour at its
vertices."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ...io.atomic import atomic_write_bytes, ensure_folder
from .grid import trilinear

DEFAULT_LEVEL_FRACTION = 0.5      # the surface at half the densest node's density (at least 1e-6)


def surface_level(density: np.ndarray) -> float:
    return max(float(density.max()) * DEFAULT_LEVEL_FRACTION, 1e-6)


def density_surface(spec, density: np.ndarray, color: np.ndarray, level: float | None = None):
    """A MeshData of the level set of the density grid (None when the grid never reaches it)."""
    import mcubes
    from ...io.mesh_data import MeshData
    level = surface_level(density) if level is None else level
    if not float(density.max()) > level:
        return None
    # mcubes indexes the array as given: pass (x, y, z) so that vertex coordinates are node indices
    verts, tris = mcubes.marching_cubes(np.ascontiguousarray(np.transpose(density, (2, 1, 0)), np.float64), level)
    if len(tris) == 0:
        return None
    pos = spec.lo + verts * spec.voxel
    col = np.clip(trilinear(spec, color.reshape(-1, 3), pos), 0.0, 1.0)
    # marching cubes winds its triangles with normals towards lower values: flip to face outwards
    faces = np.ascontiguousarray(tris[:, ::-1], np.int32)
    return MeshData(positions=pos.astype(np.float32), faces=faces, uvs=None, normals=None, texture=None,
                    vertex_colors=col.astype(np.float32), name="volume_surface")


def export_volume(scene, theta, out_dir) -> list[Path]:
    out = ensure_folder(out_dir)
    density, color = scene.grids(theta)
    buf = io.BytesIO()
    np.savez_compressed(buf, density=density, color=color, lo=scene.spec.lo.astype(np.float32),
                        hi=scene.spec.hi.astype(np.float32))
    paths = [atomic_write_bytes(out / "volume.npz", buf.getvalue())]
    mesh = density_surface(scene.spec, density, color)
    if mesh is not None:
        from ...io.mesh_export import export_glb
        paths.append(export_glb(mesh, out, "volume"))
    return paths
