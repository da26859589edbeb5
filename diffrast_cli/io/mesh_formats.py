"""Format-specific checks and helpers for loading meshes: MTL materials and
textures, glTF/GLB JSON, buffers and images, PLY headers. trimesh silently
drops missing or broken textures and accepts some corrupt files; these
checks make such files a one-line InputError instead."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import re
import struct
import warnings
from pathlib import Path

import numpy as np

from ..errors import InputError, one_line
from .images import c_stderr_into, decode_checked, open_image

def image_to_rgb(img) -> np.ndarray:
    """A pillow image as (H, W, 3) float32 in [0, 1], row 0 = top; alpha is dropped."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float64)
        a = a / (65535.0 if mode.startswith("I;16") or (mode == "I" and a.max(initial=0) > 255)
                 else 255.0 if mode == "I" else 1.0)
        return np.repeat(np.clip(a, 0, 1)[:, :, None], 3, axis=2).astype(np.float32)
    rgb = img.convert("RGBA").convert("RGB") if mode in ("P", "PA") else img.convert("RGB")
    return np.asarray(rgb, dtype=np.float32) / 255.0


# --------------------------------------------------------------------------- pre-checks per format
def obj_materials(path: Path, data: bytes) -> dict:
    """Materials of an OBJ's MTL files that ``usemtl`` uses: {name: {"kd": rgb|None, "texture": file|None}}.

    Texture paths are resolved relative to the .mtl (trimesh resolves them relative to the
    .obj and silently drops missing or undecodable ones, so they are checked and read here).
    """
    lines = re.findall(rb"^[ \t]*(mtllib|usemtl)[ \t]+([^\r\n]*?)[ \t]*\r?$", data, re.M)
    used = {v.decode("utf-8", "replace") for k, v in lines if k == b"usemtl"}
    materials: dict = {}
    for key, value in lines:
        if key != b"mtllib":
            continue
        name = value.decode("utf-8", "replace")
        cands = [path.parent / name] + [path.parent / n for n in name.split()]
        mtl = next((c for c in cands if c.is_file()), None)
        if mtl is None:
            raise InputError(f"{path}: material library {name} not found "
                             "(remove the mtllib line to load the mesh without materials)")
        try:
            text = mtl.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"{path}: cannot read material library {mtl} "
                             f"({exc.strerror or exc.__class__.__name__})")
        current = None
        for raw in text.splitlines():
            parts = raw.strip().split()
            if len(parts) < 2:
                continue
            key_l = parts[0].lower()
            if key_l == "newmtl":
                current = materials.setdefault(" ".join(parts[1:]), {"kd": None, "texture": None, "mtl": mtl})
            elif current is None:
                continue
            elif key_l == "kd" and len(parts) >= 4:
                with contextlib.suppress(ValueError):
                    current["kd"] = np.clip([float(x) for x in parts[1:4]], 0.0, 1.0)
            elif key_l == "map_kd":
                rest = raw.strip()[6:].strip()
                cands = [rest, parts[-1]]                  # "map_Kd file name.png" or "map_Kd -s 1 1 1 f.png"
                found = next((mtl.parent / c for c in cands if (mtl.parent / c).is_file()), None)
                current["texture"] = found if found is not None else mtl.parent / rest
    out = {k: v for k, v in materials.items() if k in used}
    for name, mat in out.items():
        if mat["texture"] is not None and not mat["texture"].is_file():
            raise InputError(f"{path}: texture {mat['texture'].name} (map_Kd of material {name} in "
                             f"{mat['mtl'].name}) not found (looked for {mat['texture']})")
    return out


def gltf_json(path: Path, data: bytes) -> tuple[dict, bytes | None]:
    """A glTF/GLB file's JSON tree and (GLB) its binary chunk; InputError if malformed."""
    if path.suffix.lower() == ".glb" or data[:4] == b"glTF":
        if len(data) < 20 or data[:4] != b"glTF":
            raise InputError(f"{path}: not a GLB file (bad header)")
        (n,) = struct.unpack_from("<I", data, 12)
        if 20 + n > len(data):
            raise InputError(f"{path}: truncated GLB file (its JSON chunk is {n} bytes, the file has "
                             f"{len(data) - 20} after the header)")
        js = data[20:20 + n]
        rest = data[20 + n:]
        binary = rest[8:8 + struct.unpack_from("<I", rest, 0)[0]] if len(rest) >= 8 and rest[4:8] == b"BIN\0" else None
    else:
        js, binary = data, None
    try:
        tree = json.loads(js.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a valid glTF file ({one_line(exc)})")
    except RecursionError:
        raise InputError(f"{path}: not a valid glTF file (JSON nested too deeply)")
    if not isinstance(tree, dict):
        raise InputError(f"{path}: not a valid glTF file (the JSON is not an object)")
    return tree, binary


def _gltf_file(path: Path, uri: str) -> Path:
    """A relative glTF uri as a file next to ``path`` (uris may be percent-encoded)."""
    from urllib.parse import unquote

    plain = path.parent / uri
    return plain if plain.is_file() else path.parent / unquote(uri)


def _gltf_buffers(path: Path, tree: dict, binary: bytes | None, read_files: bool) -> list:
    buffers = []
    for buf in tree.get("buffers", []):
        uri = buf.get("uri")
        if uri is None:
            buffers.append(binary)
        elif uri.startswith("data:"):
            buffers.append(base64.b64decode(uri.split(",", 1)[1]))
        else:
            f = _gltf_file(path, uri)
            if not f.is_file():
                raise InputError(f"{path}: buffer file {uri} not found (looked for {f})")
            buffers.append(f.read_bytes() if read_files else None)   # else trimesh reads it
    return buffers


def _image_source(path: Path, tree: dict, buffers: list, src: int, what: str):
    """The image ``src`` of a glTF tree as a checked, decoded pillow image (None where its
    buffer was not read)."""
    img = tree["images"][src]
    if "uri" in img and not img["uri"].startswith("data:"):
        f = _gltf_file(path, img["uri"])
        if not f.is_file():
            raise InputError(f"{path}: {what} {img['uri']} not found (looked for {f})")
        return open_texture(path, f)
    if "uri" in img:
        blob = base64.b64decode(img["uri"].split(",", 1)[1])
    else:
        view = tree["bufferViews"][img["bufferView"]]
        buf = buffers[view["buffer"]]
        if buf is None:
            return None
        off = view.get("byteOffset", 0)
        blob = buf[off:off + view["byteLength"]]
    return _check_image_bytes(path, blob, f"embedded {what} image {src}")


# the material slots whose images are checked before trimesh loads them (it drops broken ones silently)
TEXTURE_SLOTS = ("baseColorTexture", "metallicRoughnessTexture", "normalTexture", "occlusionTexture")


def check_gltf(path: Path, data: bytes, max_faces: int) -> bool:
    """Buffers and textures (base colour, metallic-roughness, normal, occlusion) that trimesh
    would silently drop; the face count.  True if a material that a mesh uses has a
    base-colour texture."""
    tree, binary = gltf_json(path, data)
    textured = False
    try:
        buffers = _gltf_buffers(path, tree, binary, read_files=False)
        acc = tree.get("accessors", [])
        faces = 0
        meshes = tree.get("meshes", [])
        for node in tree.get("nodes", []):
            for prim in meshes[node["mesh"]]["primitives"] if "mesh" in node else []:
                if prim.get("mode", 4) == 4:
                    a = prim.get("indices", prim.get("attributes", {}).get("POSITION"))
                    faces += int(acc[a]["count"]) // 3 if a is not None else 0
        if faces > max_faces:
            raise InputError(f"{path}: {faces} triangles, more than the {max_faces} allowed")
        used = {p["material"] for m in meshes for p in m.get("primitives", []) if "material" in p}
        for mi in sorted(used):
            material = tree["materials"][mi]
            slots = dict(material.get("pbrMetallicRoughness", {}), **material)
            textured = textured or "baseColorTexture" in slots
            for slot in TEXTURE_SLOTS:
                if slot not in slots:
                    continue
                tex = tree["textures"][slots[slot]["index"]]
                src = tex.get("source")
                for ext in tex.get("extensions", {}).values():
                    src = ext.get("source", src) if isinstance(ext, dict) else src
                _image_source(path, tree, buffers, src, "texture")
    except InputError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, RecursionError,
            struct.error) as exc:
        raise InputError(f"{path}: malformed glTF ({exc.__class__.__name__}: {one_line(exc)})")
    return textured


def gltf_image(path: Path, data: bytes, src: int, what: str):
    """Image ``src`` of the glTF/GLB file ``path`` (content ``data``) as a decoded pillow image,
    size-checked; InputError if it is missing, malformed or too large."""
    tree, binary = gltf_json(path, data)
    if not 0 <= src < len(tree.get("images", [])):
        raise InputError(f"{path}: {what}: no image {src} in the glTF")
    try:
        return _image_source(path, tree, _gltf_buffers(path, tree, binary, read_files=True), src, what)
    except InputError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, struct.error) as exc:
        raise InputError(f"{path}: malformed glTF {what} ({exc.__class__.__name__}: {one_line(exc)})")


def open_texture(path: Path, file: Path):
    """The texture ``file`` of the mesh ``path`` as a pillow image (errors name the mesh)."""
    try:
        return open_image(file)
    except InputError as exc:
        raise InputError(f"{path}: texture {exc.message}") from None


def _check_image_bytes(path: Path, blob: bytes, what: str):
    try:
        with warnings.catch_warnings(), c_stderr_into([]):
            warnings.simplefilter("ignore")
            return decode_checked(io.BytesIO(blob), path, what)
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: {what} cannot be decoded ({one_line(exc)})")


def check_ply_header(path: Path, data: bytes, max_faces: int, max_vertices: int) -> None:
    """A PLY file's magic and element counts, before trimesh allocates them."""
    head = data[:65536]
    if not head.startswith(b"ply"):
        raise InputError(f"{path}: not a PLY file (missing 'ply' header)")
    for name, count in re.findall(rb"^element[ \t]+(\w+)[ \t]+(\d+)", head, re.M):
        limit = {b"face": max_faces, b"vertex": max_vertices}.get(name)
        if limit is not None and int(count) > limit:
            raise InputError(f"{path}: {int(count)} {'faces' if name == b'face' else 'vertices'}, "
                             f"more than the {limit} allowed")


# --------------------------------------------------------------------------- loading
@contextlib.contextmanager
def quiet_loaders():
    """trimesh's logging, Python warnings and C decoders' stderr silenced meanwhile."""
    log = logging.getLogger("trimesh")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:       # C decoders (libtiff for a texture) print to fd 2: keep the CLI's error on one line
        with warnings.catch_warnings(), np.errstate(all="ignore"), c_stderr_into([]):
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def file_resolver(path: Path):
    """trimesh's file resolver, also for assets outside the mesh's folder (``../tex.png``, which
    trimesh 5 refuses by default) and for percent-encoded glTF uris (``my%20texture.png``)."""
    from urllib.parse import unquote

    from trimesh.resolvers import FilePathResolver

    class Resolver(FilePathResolver):
        def get(self, name):
            try:
                return super().get(name)
            except (OSError, ValueError):
                return super().get(unquote(name))

    return Resolver(str(path), allow_anywhere=True)


def image_key(img) -> tuple:
    """A key equal for equal images (tells an asset's textures apart)."""
    a = np.ascontiguousarray(np.asarray(img))
    return a.shape, a.dtype.str, hash(a.tobytes())
