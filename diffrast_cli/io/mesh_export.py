"""Export a :class:`~diffrast_cli.io.meshes.MeshData` as OBJ (+MTL, PNG) and as binary glTF.

Both keep the conventions of :mod:`diffrast_cli.io.meshes`: OBJ ``vt`` and
MeshData ``uvs`` share the OpenGL v (0 = bottom of the image); the glTF file
stores 1 - v (trimesh flips it both ways).  The texture is written as an
8-bit RGB PNG, row 0 = top.  Every file is written to a temporary file in the
same folder and moved into place (0644), the OBJ last so that it never names a
file that is not there yet.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes, ensure_folder
from .mesh_geometry import unique_rows
from .mesh_data import MeshData


def check_mesh(mesh: MeshData) -> tuple[np.ndarray, np.ndarray]:
    pos = np.asarray(mesh.positions, dtype=np.float32)
    tri = np.asarray(mesh.faces, dtype=np.int64)
    if pos.ndim != 2 or pos.shape[1] != 3 or tri.ndim != 2 or tri.shape[1] != 3 or len(tri) == 0:
        raise ValueError(f"mesh {mesh.name}: need positions (P, 3) and faces (F>0, 3), "
                         f"got {pos.shape} and {tri.shape}")
    if tri.min() < 0 or tri.max() >= len(pos):
        raise ValueError(f"mesh {mesh.name}: face indices outside 0..{len(pos) - 1}")
    for key, shape in (("uvs", (len(tri), 3, 2)), ("normals", (len(tri), 3, 3)),
                       ("vertex_colors", (len(pos), 3))):
        value = getattr(mesh, key)
        if value is not None and np.shape(value) != shape:
            raise ValueError(f"mesh {mesh.name}: {key} must have shape {shape}, got {np.shape(value)}")
    return pos, tri


def texture_png(texture) -> bytes:
    """(H, W, 3) float in [0, 1], row 0 = top, as 8-bit RGB PNG bytes."""
    buf = io.BytesIO()
    _texture_image(texture).save(buf, format="PNG")
    return buf.getvalue()


def _texture_image(texture):
    from PIL import Image

    tex = np.asarray(texture, dtype=np.float64)
    if tex.ndim != 3 or tex.shape[2] != 3 or tex.shape[0] < 1 or tex.shape[1] < 1:
        raise ValueError(f"texture must have shape (H, W, 3), got {tex.shape}")
    u8 = np.rint(np.clip(np.nan_to_num(tex, nan=0.0), 0.0, 1.0) * 255.0).astype(np.uint8)
    return Image.fromarray(u8, mode="RGB")


def _fmt(rows: np.ndarray, prefix: str, fmt: str) -> list[str]:
    line = prefix + " " + " ".join([fmt] * rows.shape[1])
    return [line % tuple(r) for r in rows.tolist()]


def export_obj(mesh: MeshData, out_dir, stem: str = "mesh") -> list[Path]:
    """Write ``stem.obj`` (v, vt, vn, f v/vt/vn) and, with a texture, ``stem.mtl`` + ``stem.png``.

    Without a texture, vertex colours are written as ``v x y z r g b``.  Returns the paths
    written, OBJ first.  ``out_dir`` is created if missing.
    """
    check_mesh(mesh)
    out = ensure_folder(out_dir)
    has_tex = mesh.texture is not None and mesh.uvs is not None
    written = []
    mtl = None
    if has_tex:
        png, mtl = out / f"{stem}.png", out / f"{stem}.mtl"
        atomic_write_bytes(png, texture_png(mesh.texture))
        atomic_write_bytes(mtl, (f"# diffrast material\nnewmtl material_0\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\n"
                                 f"d 1\nillum 1\nmap_Kd {png.name}\n").encode("utf-8"))
        written = [mtl, png]
    obj = out / f"{stem}.obj"
    text = obj_text(mesh, None if mtl is None else mtl.name, "material_0")
    atomic_write_bytes(obj, text.encode("utf-8"))
    return [obj] + written


def obj_text(mesh: MeshData, mtllib: str | None = None, material: str = "material_0") -> str:
    """The OBJ file of ``mesh``: ``mtllib``/``usemtl material`` lines when ``mtllib`` is given,
    else vertex colours (if any) as ``v x y z r g b``."""
    pos, tri = check_mesh(mesh)
    n = len(tri)
    lines = [f"# diffrast mesh {mesh.name}: {len(pos)} vertices, {n} triangles"]
    if mtllib is not None:
        lines.append(f"mtllib {mtllib}")
    if mesh.vertex_colors is not None and mtllib is None:
        col = np.clip(np.asarray(mesh.vertex_colors, dtype=np.float64), 0.0, 1.0)
        lines += _fmt(np.concatenate([pos.astype(np.float64), col], axis=1), "v", "%.9g")
    else:
        lines += _fmt(pos.astype(np.float64), "v", "%.9g")
    corner = [(tri.reshape(-1) + 1).astype(np.int64)]
    pattern = "%d"
    if mesh.uvs is not None:
        vt, vt_idx = unique_rows(np.asarray(mesh.uvs, dtype=np.float32).reshape(-1, 2))
        lines += _fmt(vt.astype(np.float64), "vt", "%.9g")
        corner.append(vt_idx + 1)
        pattern += "/%d"
    if mesh.normals is not None:
        vn, vn_idx = unique_rows(np.asarray(mesh.normals, dtype=np.float32).reshape(-1, 3))
        lines += _fmt(vn.astype(np.float64), "vn", "%.9g")
        corner.append(vn_idx + 1)
        pattern += "/%d" if mesh.uvs is not None else "//%d"
    if mtllib is not None:
        lines.append(f"usemtl {material}")
    c = np.stack(corner, axis=1).reshape(n, 3 * len(corner))
    face = "f " + " ".join([pattern] * 3)
    lines += [face % tuple(r) for r in c.tolist()]
    return "\n".join(lines) + "\n"


def _to_trimesh(mesh: MeshData):
    import trimesh
    from trimesh.visual.material import PBRMaterial

    pos, tri = check_mesh(mesh)
    n = len(tri)
    # one glTF vertex per distinct (position, uv, normal) corner
    cols = [tri.reshape(-1, 1).astype(np.int32).view(np.float32)]   # bits of the index, compared by bytes
    if mesh.uvs is not None:
        cols.append(np.asarray(mesh.uvs, dtype=np.float32).reshape(-1, 2))
    if mesh.normals is not None:
        cols.append(np.asarray(mesh.normals, dtype=np.float32).reshape(-1, 3))
    rows, corner = unique_rows(np.concatenate(cols, axis=1))
    src = np.empty(len(rows), dtype=np.int64)               # the first corner that uses each vertex
    src[corner[::-1]] = np.arange(3 * n)[::-1]
    # number the glTF vertices in position order, so that loading (which welds by lowest
    # index) gives back the positions in their original order
    perm = np.argsort(tri.reshape(-1)[src], kind="stable")
    rank = np.empty_like(perm)
    rank[perm] = np.arange(len(perm))
    src, corner = src[perm], rank[corner]
    vidx = tri.reshape(-1)[src]
    kwargs = {}
    if mesh.normals is not None:
        kwargs["vertex_normals"] = np.asarray(mesh.normals, dtype=np.float64).reshape(-1, 3)[src]
    colors = None
    if mesh.vertex_colors is not None:
        rgb = np.rint(np.clip(np.asarray(mesh.vertex_colors, dtype=np.float64)[vidx], 0, 1) * 255)
        colors = np.concatenate([rgb, np.full((len(vidx), 1), 255.0)], axis=1).astype(np.uint8)
    if mesh.uvs is not None or mesh.texture is not None:
        material = PBRMaterial(name="material_0", metallicFactor=0.0, roughnessFactor=1.0,
                               baseColorFactor=[255, 255, 255, 255],
                               baseColorTexture=None if mesh.texture is None else _texture_image(mesh.texture))
        uv = None if mesh.uvs is None else np.asarray(mesh.uvs, dtype=np.float64).reshape(-1, 2)[src]
        visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
        if colors is not None:
            visual.vertex_attributes["color"] = colors
    elif colors is not None:
        visual = trimesh.visual.ColorVisuals(vertex_colors=colors)
    else:
        visual = None
    return trimesh.Trimesh(vertices=pos[vidx].astype(np.float64), faces=corner.reshape(n, 3),
                           visual=visual, process=False, **kwargs)


def export_glb(mesh: MeshData, out_dir, stem: str = "mesh") -> Path:
    """Write ``stem.glb``: the texture embedded as PNG (PBR baseColorTexture, metallic 0),
    per-vertex COLOR_0 when the mesh has vertex colours.  Returns the path."""
    import trimesh

    out = ensure_folder(out_dir)
    scene = trimesh.Scene()
    scene.add_geometry(_to_trimesh(mesh), geom_name=mesh.name or stem, node_name=mesh.name or stem)
    data = trimesh.exchange.gltf.export_glb(scene, include_normals=mesh.normals is not None)
    path = out / f"{stem}.glb"
    data = _stride_shared_views(data)
    atomic_write_bytes(path, data)
    return path


def _stride_shared_views(glb: bytes) -> bytes:
    """glTF requires a byteStride on a bufferView that several vertex attributes share;
    trimesh shares one view between byte-identical arrays (the normals of a unit sphere
    at the origin equal its positions) without one.  Set it (tightly packed) where missing."""
    import json
    import struct

    length, kind = struct.unpack_from("<II", glb, 12)
    doc = json.loads(glb[20:20 + length])
    users: dict[int, set] = {}
    for m in doc.get("meshes", []):
        for prim in m.get("primitives", []):
            for acc in prim.get("attributes", {}).values():
                view = doc["accessors"][acc].get("bufferView")
                if view is not None:
                    users.setdefault(view, set()).add(acc)
    sizes = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
    changed = False
    for view, accs in users.items():
        bv = doc["bufferViews"][view]
        if len(accs) > 1 and "byteStride" not in bv:
            acc = doc["accessors"][min(accs)]
            comp = {5120: 1, 5121: 1, 5122: 2, 5123: 2, 5125: 4, 5126: 4}[acc["componentType"]]
            bv["byteStride"] = -(-sizes[acc["type"]] * comp // 4) * 4
            changed = True
    if not changed:
        return glb
    text = json.dumps(doc, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    rest = glb[20 + length:]
    body = struct.pack("<II", len(text), kind) + text + rest
    return glb[:8] + struct.pack("<I", 12 + len(body)) + body


def export_mesh(mesh: MeshData, out_dir, stem: str = "mesh") -> list[Path]:
    """Both :func:`export_obj` and :func:`export_glb`: OBJ files first, then the GLB."""
    return export_obj(mesh, out_dir, stem) + [export_glb(mesh, out_dir, stem)]
