"""Export a :class:`~diffrast_cli.io.mesh_data.MeshData` with a
:class:`~diffrast_cli.io.material.PbrMaterial` as glTF 2.0 (GLB, or .gltf + .bin + PNGs)
and as OBJ + MTL + PNGs.

glTF: one mesh, one primitive, one metallic-roughness material.  Vertices are one per
distinct (position, uv, normal, tangent) corner, numbered in position order; NORMAL
(smooth vertex normals when the mesh has none) and, with uvs, TEXCOORD_0 (v stored as
1 - v) and TANGENT (:func:`~diffrast_cli.io.tangents.corner_tangents`) are written.
Maps are encoded as :mod:`~diffrast_cli.io.pbr_maps` describes; a constant (1, 1) map
becomes baseColorFactor (linear) / metallicFactor / roughnessFactor instead of an image.
Occlusion goes into the R channel of the metallic-roughness image when that image
exists and the sizes agree (glTF allows the two slots to share a texture), else into
an image of its own.

Height map (glTF has no slot for it): a 16-bit grayscale PNG listed in ``images``
(embedded in the GLB; the file ``<stem>_height.png`` beside a .gltf) and named from
the material's ``extras``:
``{"diffrast_height": {"image": <index into images>, "strength": s, "midlevel": m}}``.
The image is not used by any texture, so other viewers ignore it.

Every file is written atomically; the file that names the others (.glb, .gltf, .obj)
is written last.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

from .atomic import atomic_write_bytes, ensure_folder
from .material import PbrMaterial, linear_to_srgb
from .mesh_data import MeshData
from .mesh_export import check_mesh, obj_text
from .mesh_geometry import compute_vertex_normals, unique_rows
from .pbr_maps import (HEIGHT_EXTRAS, base_color_png, is_constant, metallic_roughness_png, normal_png, packed_size,
                       png_gray8, png_gray16)
from .tangents import corner_tangents

FLOAT, UINT16, UINT32 = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
LINEAR, REPEAT = 9729, 10497


def _material(mesh: MeshData) -> PbrMaterial:
    mat = mesh.material
    if not isinstance(mat, PbrMaterial):
        raise ValueError(f"mesh {mesh.name}: material must be a PbrMaterial, got {type(mat).__name__}")
    textured = [k for k in ("base_color", "roughness", "metallic", "normal", "occlusion", "height")
                if getattr(mat, k) is not None and not is_constant(getattr(mat, k))]
    if textured and mesh.uvs is None:
        raise ValueError(f"mesh {mesh.name}: the maps {', '.join(textured)} need uvs; the mesh has none")
    return mat


def _flat_normal(normal) -> bool:
    """True where the normal map is absent or the constant +z (nothing to write)."""
    return normal is None or (is_constant(normal) and np.allclose(np.ravel(normal), [0, 0, 1], atol=1e-6))


# --------------------------------------------------------------------------- vertices
def gltf_vertices(mesh: MeshData) -> dict:
    """The glTF vertex arrays: ``position`` (V, 3), ``normal`` (V, 3), ``uv`` (V, 2) (glTF v, or None),
    ``tangent`` (V, 4) (or None), float32, and ``indices`` (F * 3,) -- one vertex per distinct
    (position index, uv, normal, tangent) corner, in position order."""
    pos, tri = check_mesh(mesh)
    n = len(tri)
    normals = mesh.normals if mesh.normals is not None else compute_vertex_normals(pos, tri)[tri]
    normals = np.asarray(normals, dtype=np.float64).reshape(-1, 3)
    normals = (normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-30)).astype(np.float32)
    cols = [tri.reshape(-1, 1).astype(np.int32).view(np.float32), normals]   # the index's bits
    uv = tangent = None
    if mesh.uvs is not None:
        uv = np.asarray(mesh.uvs, dtype=np.float32).reshape(-1, 2)
        tangent = corner_tangents(pos, tri, mesh.uvs, normals.reshape(n, 3, 3)).reshape(-1, 4)
        cols += [uv, tangent]
    rows, corner = unique_rows(np.concatenate(cols, axis=1))
    src = np.empty(len(rows), dtype=np.int64)               # the first corner that uses each vertex
    src[corner[::-1]] = np.arange(3 * n)[::-1]
    perm = np.argsort(tri.reshape(-1)[src], kind="stable")  # position order: loading welds back in order
    rank = np.empty_like(perm)
    rank[perm] = np.arange(len(perm))
    src, corner = src[perm], rank[corner]
    out = {"position": pos[tri.reshape(-1)[src]].astype(np.float32), "normal": normals[src],
           "uv": None, "tangent": None, "indices": corner.astype(np.int64)}
    if uv is not None:
        glv = uv[src].copy()
        glv[:, 1] = 1.0 - glv[:, 1]
        out["uv"], out["tangent"] = glv, tangent[src]
    return out


# --------------------------------------------------------------------------- material images
def material_images(mat: PbrMaterial, stem: str) -> tuple[dict, list[tuple[str, bytes]]]:
    """The glTF material (texture ``index`` = position in the image list) and the images
    [(file name, PNG bytes)]; texture i samples image i, the height image (last) no texture."""
    images: list[tuple[str, bytes]] = []

    def add(suffix: str, data: bytes) -> int:
        images.append((f"{stem}_{suffix}.png", data))
        return len(images) - 1

    pbr: dict = {}
    base = np.asarray(mat.base_color, dtype=np.float64)
    if is_constant(base):
        pbr["baseColorFactor"] = [float(x) for x in np.clip(base.reshape(3), 0, 1)] + [1.0]
    else:
        pbr["baseColorTexture"] = {"index": add("basecolor", base_color_png(base))}
    out: dict = {"name": mat.name or "material_0", "pbrMetallicRoughness": pbr}
    rough, metal, occ = mat.roughness, mat.metallic, mat.occlusion
    mr = None
    if is_constant(rough) and is_constant(metal):
        pbr["metallicFactor"] = float(np.clip(np.ravel(metal)[0], 0, 1))
        pbr["roughnessFactor"] = float(np.clip(np.ravel(rough)[0], 0, 1))
    else:
        packs = occ is not None and (is_constant(occ) or np.shape(occ)[:2] == packed_size(rough, metal))
        mr = add("metallic_roughness", metallic_roughness_png(rough, metal, occ if packs else None))
        pbr["metallicRoughnessTexture"] = {"index": mr}
        pbr["metallicFactor"] = pbr["roughnessFactor"] = 1.0
        if packs:
            out["occlusionTexture"] = {"index": mr}
    if not _flat_normal(mat.normal):
        out["normalTexture"] = {"index": add("normal", normal_png(mat.normal))}
    if occ is not None and "occlusionTexture" not in out:
        out["occlusionTexture"] = {"index": add("occlusion", png_gray8(occ))}
    if mat.height is not None:
        out["extras"] = {HEIGHT_EXTRAS: {"image": add("height", png_gray16(mat.height)),
                                         "strength": float(mat.height_strength),
                                         "midlevel": float(mat.height_midlevel)}}
    return out, images


# --------------------------------------------------------------------------- glTF document
def _gltf(mesh: MeshData, stem: str, embed_images: bool, bin_uri: str | None) -> tuple[dict, bytes, list]:
    """(glTF JSON, binary buffer, [(file name, PNG bytes)] of images to write beside it)."""
    mat = _material(mesh)
    v = gltf_vertices(mesh)
    material, images = material_images(mat, stem)
    blob = bytearray()
    views: list[dict] = []
    accessors: list[dict] = []

    def view(data: bytes, target: int | None) -> int:
        blob.extend(b"\0" * (-len(blob) % 4))
        bv = {"buffer": 0, "byteOffset": len(blob), "byteLength": len(data)}
        if target is not None:
            bv["target"] = target
        blob.extend(data)
        views.append(bv)
        return len(views) - 1

    def attribute(a: np.ndarray, kind: str, bounds: bool = False) -> int:
        a = np.ascontiguousarray(a, dtype="<f4")
        acc = {"bufferView": view(a.tobytes(), ARRAY_BUFFER), "componentType": FLOAT,
               "count": len(a), "type": kind}
        if bounds:
            acc["min"], acc["max"] = a.min(axis=0).tolist(), a.max(axis=0).tolist()
        accessors.append(acc)
        return len(accessors) - 1

    idx = v["indices"]
    small = len(v["position"]) < 65535
    data = idx.astype("<u2" if small else "<u4").tobytes()
    accessors.append({"bufferView": view(data, ELEMENT_ARRAY_BUFFER), "componentType": UINT16 if small else UINT32,
                      "count": len(idx), "type": "SCALAR"})
    attrs = {"POSITION": attribute(v["position"], "VEC3", bounds=True), "NORMAL": attribute(v["normal"], "VEC3")}
    if v["uv"] is not None:
        attrs["TEXCOORD_0"] = attribute(v["uv"], "VEC2")
        attrs["TANGENT"] = attribute(v["tangent"], "VEC4")
    doc: dict = {
        "asset": {"version": "2.0", "generator": "diffrast"},
        "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": mesh.name or stem}],
        "meshes": [{"name": mesh.name or stem,
                    "primitives": [{"attributes": attrs, "indices": 0, "material": 0, "mode": 4}]}],
        "materials": [material],
    }
    sidecar = []
    if images:
        entries = []
        for name, png in images:
            if embed_images:
                entries.append({"bufferView": view(png, None), "mimeType": "image/png"})
            else:
                entries.append({"uri": name})
                sidecar.append((name, png))
        doc["images"] = entries
        n_tex = len(images) - (1 if mat.height is not None else 0)
        if n_tex:
            doc["samplers"] = [{"magFilter": LINEAR, "minFilter": LINEAR, "wrapS": REPEAT, "wrapT": REPEAT}]
            doc["textures"] = [{"sampler": 0, "source": i} for i in range(n_tex)]
    blob.extend(b"\0" * (-len(blob) % 4))
    buffer = {"byteLength": len(blob)}
    if bin_uri is not None:
        buffer["uri"] = bin_uri
    doc.update(accessors=accessors, bufferViews=views, buffers=[buffer])
    return doc, bytes(blob), sidecar


def export_pbr_glb(mesh: MeshData, out_dir, stem: str = "mesh") -> Path:
    """Write ``stem.glb`` with every image embedded (the height map too, see the module doc)."""
    doc, blob, _ = _gltf(mesh, stem, embed_images=True, bin_uri=None)
    text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(blob), b"BIN\0") + blob
    path = ensure_folder(out_dir) / f"{stem}.glb"
    atomic_write_bytes(path, struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body)
    return path


def export_pbr_gltf(mesh: MeshData, out_dir, stem: str = "mesh") -> list[Path]:
    """Write ``stem.gltf``, ``stem.bin`` and the PNGs beside them; returns the paths, .gltf first."""
    out = ensure_folder(out_dir)
    doc, blob, images = _gltf(mesh, stem, embed_images=False, bin_uri=f"{stem}.bin")
    written = [out / f"{stem}.bin"]
    atomic_write_bytes(written[0], blob)
    for name, png in images:
        written.append(out / name)
        atomic_write_bytes(written[-1], png)
    gltf = out / f"{stem}.gltf"
    atomic_write_bytes(gltf, (json.dumps(doc, indent=1) + "\n").encode("utf-8"))
    return [gltf] + written


# --------------------------------------------------------------------------- OBJ + MTL
def _number(x) -> str:
    return "%.6g" % float(x)


def export_pbr_obj(mesh: MeshData, out_dir, stem: str = "mesh") -> list[Path]:
    """Write ``stem.obj``, ``stem.mtl`` and the map PNGs (write_pbr_mtl).  Returns the paths, OBJ first."""
    mtl, name, written = write_pbr_mtl(_material(mesh), out_dir, stem)
    obj = Path(out_dir) / f"{stem}.obj"
    atomic_write_bytes(obj, obj_text(mesh, mtl.name, name).encode("utf-8"))
    return [obj, mtl] + written


def write_pbr_mtl(mat: PbrMaterial, out_dir, stem: str) -> tuple[Path, str, list[Path]]:
    """Write ``stem.mtl`` and the map PNGs of ``mat`` (PBR extension of MTL: ``Kd``/``map_Kd``
    sRGB base colour, ``Pr``/``map_Pr`` roughness, ``Pm``/``map_Pm`` metallic, ``norm`` and
    ``map_Bump -bm 1`` the tangent-space normal map, ``disp`` the 16-bit height map).  MTL has
    no occlusion slot: occlusion is not written.  Returns (the MTL, the material's name, the PNGs)."""
    out = ensure_folder(out_dir)
    name = mat.name or "material_0"
    lines = ["# diffrast PBR material (Kd / map_Kd: sRGB base colour)", f"newmtl {name}",
             "Ka 1 1 1", "Ks 0 0 0", "d 1", "illum 2"]
    files: list[tuple[str, bytes]] = []

    def image(key: str, suffix: str, data: bytes, options: str = "") -> None:
        files.append((f"{stem}_{suffix}.png", data))
        lines.append(f"{key} {options}{files[-1][0]}")

    if is_constant(mat.base_color):
        lines.append("Kd " + " ".join(_number(x) for x in np.clip(linear_to_srgb(np.ravel(mat.base_color)), 0, 1)))
    else:
        lines.append("Kd 1 1 1")
        image("map_Kd", "basecolor", base_color_png(mat.base_color))
    for key, attr in (("Pr", "roughness"), ("Pm", "metallic")):
        value = getattr(mat, attr)
        if is_constant(value):
            lines.append(f"{key} {_number(np.clip(np.ravel(value)[0], 0, 1))}")
        else:
            lines.append(f"{key} 1")
            image(f"map_{key}", attr, png_gray8(value))
    if not _flat_normal(mat.normal):
        image("norm", "normal", normal_png(mat.normal))
        lines.append(f"map_Bump -bm 1 {files[-1][0]}")
    if mat.height is not None:
        lines.append(f"# height: displacement = {_number(mat.height_strength)} * (h - "
                     f"{_number(mat.height_midlevel)})")
        image("disp", "height", png_gray16(mat.height),
              f"-mm {_number(-mat.height_strength * mat.height_midlevel)} {_number(mat.height_strength)} ")
    written = []
    for fname, data in files:
        written.append(out / fname)
        atomic_write_bytes(written[-1], data)
    mtl = out / f"{stem}.mtl"
    atomic_write_bytes(mtl, ("\n".join(lines) + "\n").encode("utf-8"))
    return mtl, name, written


__all__ = ["export_pbr_glb", "export_pbr_gltf", "export_pbr_obj", "gltf_vertices",
           "material_images", "write_pbr_mtl"]
