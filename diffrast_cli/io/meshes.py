"""Triangle meshes: load OBJ (+MTL, texture), glTF/GLB and PLY into one welded :class:`MeshData`.

Conventions
-----------
* ``positions`` are unique (welded): trimesh splits vertices wherever a UV or
  normal seam runs, so per-corner attributes are taken first and the positions
  are merged afterwards -- a seam does not tear the surface being optimised.
* ``uvs`` follow OpenGL: v = 0 is the BOTTOM row of the texture image
  (OBJ stores this; glTF stores 1 - v and trimesh flips it on load).
* ``texture`` is row 0 = TOP of the image (as pillow reads it), so the texel
  for (u, v) is at row ``(1 - v) * H``, column ``u * W``.
* ``normals`` are per corner and unit length, in the same frame as
  ``positions`` (node transforms applied with the inverse transpose); None when
  the file has none -- :func:`compute_vertex_normals` gives smooth ones.
* Colours are taken as stored (no sRGB/linear conversion).  With a texture the
  material's base colour factor (OBJ ``Kd``, glTF ``baseColorFactor``) is
  ignored; without one it becomes ``vertex_colors``.
* ``material``: a glTF/GLB whose objects all use one metallic-roughness material gets
  it as a :class:`~diffrast_cli.io.material.PbrMaterial` (maps decoded as
  :mod:`~diffrast_cli.io.pbr_import` describes); ``texture`` stays the stored base colour.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np

from ..errors import InputError, one_line
from .images import MAX_IMAGE_PIXELS, check_input_file
from .mesh_data import MeshData
from .mesh_formats import (check_gltf, check_ply_header, file_resolver, image_key, image_to_rgb, obj_materials,
                           open_texture, quiet_loaders)
from .mesh_geometry import compute_vertex_normals, icosphere, lat_long_sphere, unit_rows, weld, weld_map
from .pbr_import import add_gltf_height, pbr_material_from_trimesh

__all__ = ["EXTENSIONS", "MAX_FACES", "MAX_VERTICES", "MeshData", "compute_vertex_normals", "icosphere",
           "image_to_rgb", "lat_long_sphere", "load_mesh", "weld"]

MAX_FACES = 20_000_000
MAX_VERTICES = 3 * MAX_FACES
F32_MAX = float(np.finfo(np.float32).max)                # positions are float32 on the GPU
EXTENSIONS = (".obj", ".gltf", ".glb", ".ply")
# A face line ("f ...", as trimesh reads them) with an index component [+-]0: one linear pass, no backtracking.
_OBJ_ZERO_INDEX = re.compile(rb"\nf(?:[ \t/]++[+-]?+0*+[1-9][0-9]*+)*+[ \t/]++[+-]?+0++(?![0-9])")


def load_mesh(path, *, need_uvs: bool = False) -> MeshData:
    """Load an OBJ/glTF/GLB/PLY asset; every object is flattened into one welded mesh."""
    import trimesh

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise InputError(f"{path}: unsupported mesh format '{path.suffix}' (use {', '.join(EXTENSIONS)})")
    check_input_file(path, "mesh")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read mesh ({exc.strerror or exc.__class__.__name__})")
    if not data.strip():
        raise InputError(f"{path}: empty file")
    materials, textured = None, False
    source: dict = {"file_obj": str(path), "resolver": file_resolver(path)}
    if suffix == ".obj":
        if b"\0" in data:
            raise InputError(f"{path}: binary data, not an OBJ text file")
        n = data.count(b"\nf ") + data.startswith(b"f ")
        if n > MAX_FACES:
            raise InputError(f"{path}: {n} faces, more than the {MAX_FACES} triangles allowed")
        zero = _OBJ_ZERO_INDEX.search(b"\n" + data)       # trimesh would read index 0 as vertex 1
        if zero is not None:
            line = data.count(b"\n", 0, zero.start()) + 1
            raise InputError(f"{path}:{line}: a face refers to index 0, a vertex that does not exist "
                             f"(OBJ indices start at 1)")
        materials = obj_materials(path, data)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:                         # trimesh would need charset_normalizer
            source.update(file_obj=io.BytesIO(data.decode("latin-1").encode("utf-8")), file_type="obj")
    elif suffix in (".gltf", ".glb"):
        textured = check_gltf(path, data, MAX_FACES)
    else:
        check_ply_header(path, data, MAX_FACES, MAX_VERTICES)
    try:
        with quiet_loaders():
            scene = trimesh.load_scene(process=False, **source)
            parts = [scene.graph[node] for node in scene.graph.nodes_geometry]
    except MemoryError:
        raise InputError(f"{path}: not enough memory to load the mesh")
    except Exception as exc:
        if suffix == ".obj" and isinstance(exc, IndexError):
            raise InputError(f"{path}: a face refers to a vertex that does not exist ({one_line(exc)})")
        raise InputError(f"{path}: cannot read the mesh: malformed or truncated {suffix[1:].upper()} file "
                         f"({exc.__class__.__name__}: {one_line(exc)})")

    try:
        with quiet_loaders():
            objs = []
            for matrix, gname in parts:
                geom = scene.geometry.get(gname)
                if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
                    continue
                objs.append(_object(path, geom, gname, np.asarray(matrix, dtype=np.float64), materials))
            if not objs:
                raise InputError(f"{path}: no triangles in the mesh")
            if textured and all(o["texture"] is None for o in objs):   # a safety net: trimesh drops them silently
                raise InputError(f"{path}: the base-colour texture could not be loaded")
            mesh = _assemble(path, objs, need_uvs)
            if mesh.material is not None:
                add_gltf_height(path, data, mesh.material)
            return mesh
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{path}: not enough memory to load the mesh")
    except (ValueError, IndexError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        # a safety net: trimesh can hand back odd arrays (shapes, dtypes) for a malformed file
        raise InputError(f"{path}: cannot read the mesh: malformed {suffix[1:].upper()} file "
                         f"({exc.__class__.__name__}: {one_line(exc)})")


def _object(path: Path, geom, gname: str, matrix: np.ndarray, materials: dict | None) -> dict:
    """One scene node's geometry as world-space per-corner arrays."""
    from trimesh.visual.material import PBRMaterial

    v = np.asarray(geom.vertices, dtype=np.float64)
    f = np.asarray(geom.faces, dtype=np.int64)
    if v.ndim != 2 or v.shape[1] != 3 or len(v) == 0:
        raise InputError(f"{path}: object {gname} has no vertices")
    if f.ndim != 2 or f.shape[1] != 3:
        raise InputError(f"{path}: object {gname} has faces that are not triangles")
    if f.min() < 0 or f.max() >= len(v):
        raise InputError(f"{path}: object {gname} has face indices outside its {len(v)} vertices")
    if not np.isfinite(v).all():
        raise InputError(f"{path}: object {gname} has NaN or infinite vertex coordinates")
    if not np.isfinite(matrix).all():
        raise InputError(f"{path}: object {gname} has a NaN or infinite transform")
    lin, shift = matrix[:3, :3], matrix[:3, 3]
    pos = v @ lin.T + shift
    if not np.isfinite(pos).all():
        raise InputError(f"{path}: object {gname} has vertex coordinates that overflow after its transform")
    if np.abs(pos).max(initial=0.0) > F32_MAX:
        raise InputError(f"{path}: object {gname} has vertex coordinates beyond the 32-bit float range "
                         f"(|x| up to {np.abs(pos).max():.3g}, at most {F32_MAX:.3g})")
    obj = {"pos": pos, "faces": f, "uv": None, "normal": None, "color": None, "texture": None, "name": gname,
           "pbr": None}
    vis = geom.visual
    uv = getattr(vis, "uv", None)
    if uv is not None and len(uv) == len(v):
        uv = np.asarray(uv, dtype=np.float64)[:, :2]
        if not np.isfinite(uv).all():
            raise InputError(f"{path}: object {gname} has NaN or infinite UV coordinates")
        if np.abs(uv).max(initial=0.0) > F32_MAX:
            raise InputError(f"{path}: object {gname} has UV coordinates beyond the 32-bit float range")
        obj["uv"] = uv[f]
    vn = getattr(geom, "_cache", None)
    vn = vn.cache.get("vertex_normals") if vn is not None and hasattr(vn, "cache") else None
    if vn is not None and np.shape(vn) == v.shape:
        with np.errstate(all="ignore"):
            inv_t = np.linalg.inv(lin).T if abs(np.linalg.det(lin)) > 1e-300 else lin
        obj["normal"] = (np.asarray(vn, dtype=np.float64) @ inv_t.T)[f]
    color = None
    kind = getattr(vis, "kind", None)
    if kind == "vertex":
        color = (np.asarray(vis.vertex_colors)[:, :3] / 255.0)[f]
    elif kind == "face":
        color = np.repeat((np.asarray(vis.face_colors)[:, :3] / 255.0)[:, None], 3, axis=1)
    elif "color" in getattr(vis, "vertex_attributes", {}):
        vc = np.asarray(vis.vertex_attributes["color"], dtype=np.float64)
        if vc.shape[0] == len(v):
            color = (vc[:, :3] / (255.0 if vc.max(initial=0) > 1 else 1.0))[f]
    mat = getattr(vis, "material", None)
    factor = None
    if materials is not None:                              # OBJ: materials from our own MTL parse
        m = materials.get(getattr(mat, "name", None)) or materials.get(gname)
        if m is not None:
            if m["texture"] is not None:
                obj["texture"] = ("file", m["texture"].resolve())
            else:
                factor = m["kd"]
    elif mat is not None:                                  # glTF: trimesh's PBR material
        if isinstance(mat, PBRMaterial):
            obj["pbr"] = mat
        img = getattr(mat, "baseColorTexture", None)
        if img is not None:
            obj["texture"] = ("image", img)
        elif getattr(mat, "baseColorFactor", None) is not None:
            factor = np.asarray(mat.baseColorFactor, dtype=np.float64)[:3] / 255.0
    if factor is not None:
        color = np.broadcast_to(factor, (len(f), 3, 3)) * (1.0 if color is None else color)
    obj["color"] = color
    if np.linalg.det(lin) < 0:                             # mirrored: keep faces counter-clockwise
        for key in ("faces", "uv", "normal", "color"):
            if obj[key] is not None:
                obj[key] = obj[key][:, [0, 2, 1]]
    return obj


def _assemble(path: Path, objs: list[dict], need_uvs: bool) -> MeshData:
    n_faces = sum(len(o["faces"]) for o in objs)
    if n_faces > MAX_FACES:
        raise InputError(f"{path}: {n_faces} triangles, more than the {MAX_FACES} allowed")
    # textures: at most one distinct image for the whole asset
    keys: dict = {}
    for o in objs:
        if o["texture"] is not None:
            kind, ref = o["texture"]
            keys.setdefault(("file", ref) if kind == "file" else image_key(ref), o["texture"])
    if len(keys) > 1:
        raise InputError(f"{path}: has {len(keys)} different textures; one texture per asset is supported")
    texture = None
    if keys:
        untextured = sum(o["texture"] is None for o in objs)
        if untextured:
            raise InputError(f"{path}: {untextured} of {len(objs)} objects have no texture; "
                             "one texture for the whole asset is supported")
        kind, ref = next(iter(keys.values()))
        img = open_texture(path, ref) if kind == "file" else ref
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise InputError(f"{path}: texture is {img.width}x{img.height}, more than the "
                             f"{MAX_IMAGE_PIXELS} pixels allowed")
        try:
            with quiet_loaders():
                texture = image_to_rgb(img)
        except Exception as exc:
            raise InputError(f"{path}: cannot convert the {img.mode} texture to RGB ({one_line(exc)})")
    no_uv = sum(o["uv"] is None for o in objs)
    if no_uv and (need_uvs or texture is not None):
        what = "has no UV coordinates" if no_uv == len(objs) else \
            f"has no UV coordinates on {no_uv} of {len(objs)} objects"
        raise InputError(f"{path}: {what}; a texture needs them")

    offsets = np.cumsum([0] + [len(o["pos"]) for o in objs])
    pos = np.concatenate([o["pos"] for o in objs])
    faces = np.concatenate([o["faces"] + off for o, off in zip(objs, offsets)])
    positions, wfaces, _ = weld_map(pos, faces)
    keep = (wfaces[:, 0] != wfaces[:, 1]) & (wfaces[:, 1] != wfaces[:, 2]) & (wfaces[:, 2] != wfaces[:, 0])
    if not keep.any():
        raise InputError(f"{path}: every triangle is degenerate (a corner repeated, or corners closer than 1e-7)")

    def corners(key, fill):                                # per-corner (F, 3, 3), ``fill`` where missing
        if all(o[key] is None for o in objs):
            return None
        return np.concatenate([o[key] if o[key] is not None else np.full((len(o["faces"]), 3, 3), fill)
                               for o in objs])[keep]

    wfaces = wfaces[keep]
    if not keep.all():                                     # drop vertices that only degenerate faces used
        positions, wfaces, _ = weld_map(positions, wfaces, tol=0)
    uvs = None if no_uv else np.concatenate([o["uv"] for o in objs])[keep].astype(np.float32)
    normals = corners("normal", np.nan)                    # missing or zero: smooth normals instead
    if normals is not None:
        normals = unit_rows(normals, fallback=compute_vertex_normals(positions, wfaces)[wfaces]).astype(np.float32)
    colors = corners("color", 1.0)                         # objects without colour are white
    vertex_colors = None
    if colors is not None:
        count = np.bincount(wfaces.ravel(), minlength=len(positions))
        vertex_colors = np.stack([np.bincount(wfaces.ravel(), weights=colors[..., c].ravel(),
                                              minlength=len(positions)) for c in range(3)], axis=1)
        vertex_colors = np.clip(vertex_colors / np.maximum(count, 1)[:, None], 0, 1).astype(np.float32)
    return MeshData(positions=positions, faces=wfaces.astype(np.int32), uvs=uvs, normals=normals,
                    texture=texture, vertex_colors=vertex_colors, name=path.stem, material=_material(path, objs))


def _material(path: Path, objs: list[dict]):
    """The glTF PBR material as a PbrMaterial when every object uses the same one, else None."""
    first = objs[0]["pbr"]
    if first is None or any(o["pbr"] is not first for o in objs):
        return None
    return pbr_material_from_trimesh(path, first)
