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
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import re
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .images import MAX_IMAGE_PIXELS, _c_stderr_into, _one_line, check_input_file, open_image

MAX_FACES = 20_000_000
MAX_VERTICES = 3 * MAX_FACES
F32_MAX = float(np.finfo(np.float32).max)                # positions are float32 on the GPU
EXTENSIONS = (".obj", ".gltf", ".glb", ".ply")


@dataclass
class MeshData:
    positions: np.ndarray              # (P, 3) float32, unique (welded) vertex positions
    faces: np.ndarray                  # (F, 3) int32 indices into positions
    uvs: np.ndarray | None             # (F, 3, 2) float32 per corner, v = 0 at the bottom of the image
    normals: np.ndarray | None         # (F, 3, 3) float32 per corner, unit length
    texture: np.ndarray | None         # (H, W, 3) float32 in [0, 1], row 0 = top of the image
    vertex_colors: np.ndarray | None   # (P, 3) float32 in [0, 1]
    name: str


# --------------------------------------------------------------------------- geometry helpers
_WELD_EXACT_ABOVE = float(2 ** 61)   # |x| / tol beyond this: compare coordinates exactly (int64 keys)


def _weld_keys(pos: np.ndarray, tol: float) -> np.ndarray:
    """Integer keys (N, 3): equal keys = the same welded position.

    |x| <= 2^61 tol: round(x / tol) (so |key| <= 2^61); beyond, the bits of the float itself
    (exact comparison; |key| > 2^62 for such magnitudes, so the two kinds never collide).  A
    mesh spanning 1e30 therefore still keeps its unit-sized triangles apart."""
    if tol <= 0:
        keys = np.ascontiguousarray(pos).view(np.int64).copy()   # exact: compare the bits
        keys[pos == 0] = 0                                        # ... with -0.0 == 0.0
        return keys
    scaled = pos / tol
    small = np.abs(scaled) <= _WELD_EXACT_ABOVE
    keys = np.round(np.where(small, scaled, 0.0)).astype(np.int64)
    if not small.all():
        bits = np.ascontiguousarray(np.abs(pos)).view(np.int64)
        keys = np.where(small, keys, np.where(pos < 0, -bits, bits))
    return keys


def _weld_map(positions, faces, tol: float = 1e-7):
    """Merge positions closer than ``tol`` (same cell of a ``tol`` grid) and drop unreferenced ones.

    Returns (positions (P, 3) float32, faces (F, 3) int32, old_to_new (N,) int64,
    -1 for unreferenced).  Welded vertices keep the order of their lowest input index.
    """
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    tri = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    used = np.zeros(len(pos), dtype=bool)
    used[tri.ravel()] = True
    keys = _weld_keys(pos, float(tol))
    keys = keys[used]
    idx_used = np.flatnonzero(used)
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    # renumber the unique keys in order of their lowest input index (stable, deterministic)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    old_to_new = np.full(len(pos), -1, dtype=np.int64)
    old_to_new[idx_used] = rank[inverse]
    new_pos = np.empty((len(first), 3), dtype=np.float64)
    new_pos[rank] = pos[idx_used[first]]
    return new_pos.astype(np.float32), old_to_new[tri].astype(np.int32), old_to_new


def weld(positions, faces, tol: float = 1e-7) -> tuple[np.ndarray, np.ndarray]:
    """Merge duplicate positions (within ``tol``) and drop unreferenced ones: (positions, faces)."""
    pos, tri, _ = _weld_map(positions, faces, tol)
    return pos, tri


def compute_vertex_normals(positions, faces) -> np.ndarray:
    """Area-weighted unit vertex normals (P, 3) float32; (0, 0, 1) where undefined."""
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    tri = np.asarray(faces, dtype=np.int64).reshape(-1, 3)
    finite = np.isfinite(pos)
    scale = float(np.abs(pos[finite]).max(initial=0.0))
    if scale > 0:                                          # normals do not depend on the scale: avoid
        pos = pos / scale                                  # overflow (1e200) and underflow (1e-200)
    p = pos[tri]
    with np.errstate(all="ignore"):
        fn = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])  # length = 2 x area
    fn[~np.isfinite(fn).all(axis=1)] = 0.0                 # a face with a NaN/inf corner counts for nothing
    acc = np.zeros((len(pos), 3))
    for c in range(3):
        acc[:, c] = np.bincount(tri.ravel(), weights=np.repeat(fn[:, c], 3), minlength=len(pos))
    return _unit(acc, fallback=np.array([0.0, 0.0, 1.0])).astype(np.float32)


def _unit(v, fallback) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(all="ignore"):
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        ok = np.isfinite(n) & (n > 1e-30)
        out = np.where(ok, v / np.where(ok, n, 1.0), fallback)
    return out


def icosphere(subdivisions: int, radius: float = 1.0) -> MeshData:
    """Icosahedron subdivided ``subdivisions`` times (20 * 4^s faces), outward CCW faces, no uvs."""
    if not isinstance(subdivisions, (int, np.integer)) or not 0 <= subdivisions <= 9:
        raise ValueError(f"icosphere: subdivisions must be an integer in 0..9, got {subdivisions!r}")
    t = (1.0 + 5.0 ** 0.5) / 2.0
    pos = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                    [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], float)
    tri = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
                    [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
                    [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]], np.int64)
    pos /= np.linalg.norm(pos, axis=1, keepdims=True)
    for _ in range(int(subdivisions)):
        edges = np.sort(tri[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        mid = pos[uniq].mean(axis=1)
        mid /= np.linalg.norm(mid, axis=1, keepdims=True)
        m = (inv.reshape(-1, 3) + len(pos))               # midpoints of edges 01, 12, 20
        pos = np.concatenate([pos, mid])
        a, b, c = tri.T
        ab, bc, ca = m.T
        tri = np.stack([np.stack([a, ab, ca], 1), np.stack([ab, b, bc], 1),
                        np.stack([ca, bc, c], 1), np.stack([ab, bc, ca], 1)], 1).reshape(-1, 3)
    normals = pos[tri].astype(np.float32)
    return MeshData(positions=(pos * float(radius)).astype(np.float32), faces=tri.astype(np.int32), uvs=None,
                    normals=normals, texture=None, vertex_colors=None, name=f"icosphere{int(subdivisions)}")


def lat_long_sphere(n_lat: int, n_lon: int, radius_fn=None, name: str = "lat_long_sphere") -> MeshData:
    """A sphere r(d) * d sampled on a lat-long grid: rows from the north pole (+y) down,
    columns eastwards from +z; uv = (j / n_lon, 1 - i / n_lat), pole corners at the middle
    of their column.  2 * n_lon * (n_lat - 1) triangles, counter-clockwise seen from outside."""
    theta = np.pi * np.arange(1, n_lat) / n_lat
    phi = 2.0 * np.pi * np.arange(n_lon) / n_lon
    th, ph = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(th) * np.sin(ph), np.cos(th), np.sin(th) * np.cos(ph)], -1).reshape(-1, 3)
    dirs = np.concatenate([[[0.0, 1.0, 0.0]], ring, [[0.0, -1.0, 0.0]]])
    pos = dirs * (radius_fn(dirs)[:, None] if radius_fn is not None else 1.0)
    south = len(dirs) - 1

    def vid(i, j):          # grid row i (0 = north pole .. n_lat = south pole), column j (wraps)
        return np.where(i == 0, 0, np.where(i == n_lat, south, 1 + (i - 1) * n_lon + j % n_lon))

    i, j = np.meshgrid(np.arange(n_lat), np.arange(n_lon), indexing="ij")
    i, j = i.ravel(), j.ravel()
    a, b, c, d = (i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1)
    tris, uvs = [], []
    for corners, mask in (((a, b, c), i < n_lat - 1), ((a, c, d), i > 0)):   # no degenerate pole halves
        tris.append(np.stack([vid(ci[mask], cj[mask]) for ci, cj in corners], axis=1))
        uv = []
        for ci, cj in corners:
            ci, cj = ci[mask], cj[mask].astype(np.float64)
            pole = (ci == 0) | (ci == n_lat)
            uv.append(np.stack([np.where(pole, j[mask] + 0.5, cj) / n_lon, 1.0 - ci / n_lat], axis=1))
        uvs.append(np.stack(uv, axis=1))
    faces = np.concatenate(tris).astype(np.int32)
    order = np.argsort(np.concatenate([np.flatnonzero(i < n_lat - 1) * 2, np.flatnonzero(i > 0) * 2 + 1]),
                       kind="stable")                      # interleave the two halves of each quad
    faces, uvs = faces[order], np.concatenate(uvs)[order]
    pos = pos.astype(np.float32)
    normals = compute_vertex_normals(pos, faces)[faces]
    return MeshData(positions=pos, faces=faces, uvs=uvs.astype(np.float32), normals=normals,
                    texture=None, vertex_colors=None, name=name)


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
def _obj_materials(path: Path, data: bytes) -> dict:
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


def _gltf_json(path: Path, data: bytes) -> tuple[dict, bytes | None]:
    if path.suffix.lower() == ".glb" or data[:4] == b"glTF":
        if len(data) < 20 or data[:4] != b"glTF":
            raise InputError(f"{path}: not a GLB file (bad header)")
        (n,) = struct.unpack_from("<I", data, 12)
        js = data[20:20 + n]
        rest = data[20 + n:]
        binary = rest[8:8 + struct.unpack_from("<I", rest, 0)[0]] if len(rest) >= 8 and rest[4:8] == b"BIN\0" else None
    else:
        js, binary = data, None
    try:
        tree = json.loads(js.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path}: not a valid glTF file ({_one_line(exc)})")
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


def _check_gltf(path: Path, data: bytes) -> bool:
    """Buffers and base-colour textures that trimesh would silently drop; the face count.
    True if a material that a mesh uses has a base-colour texture."""
    tree, binary = _gltf_json(path, data)
    textured = False
    try:
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
                buffers.append(None)                       # trimesh reads it; not needed for checks
        acc = tree.get("accessors", [])
        faces = 0
        meshes = tree.get("meshes", [])
        for node in tree.get("nodes", []):
            for prim in meshes[node["mesh"]]["primitives"] if "mesh" in node else []:
                if prim.get("mode", 4) == 4:
                    a = prim.get("indices", prim.get("attributes", {}).get("POSITION"))
                    faces += int(acc[a]["count"]) // 3 if a is not None else 0
        if faces > MAX_FACES:
            raise InputError(f"{path}: {faces} triangles, more than the {MAX_FACES} allowed")
        used = {p["material"] for m in meshes for p in m.get("primitives", []) if "material" in p}
        for mi in sorted(used):
            pbr = tree["materials"][mi].get("pbrMetallicRoughness", {})
            if "baseColorTexture" not in pbr:
                continue
            textured = True
            tex = tree["textures"][pbr["baseColorTexture"]["index"]]
            src = tex.get("source")
            for ext in tex.get("extensions", {}).values():
                src = ext.get("source", src) if isinstance(ext, dict) else src
            img = tree["images"][src]
            if "uri" in img and not img["uri"].startswith("data:"):
                f = _gltf_file(path, img["uri"])
                if not f.is_file():
                    raise InputError(f"{path}: texture {img['uri']} not found (looked for {f})")
                _open_texture(path, f)
                continue
            if "uri" in img:
                blob = base64.b64decode(img["uri"].split(",", 1)[1])
            else:
                view = tree["bufferViews"][img["bufferView"]]
                buf = buffers[view["buffer"]]
                if buf is None:
                    continue
                off = view.get("byteOffset", 0)
                blob = buf[off:off + view["byteLength"]]
            _check_image_bytes(path, blob, f"embedded texture image {src}")
    except InputError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError, RecursionError,
            struct.error) as exc:
        raise InputError(f"{path}: malformed glTF ({exc.__class__.__name__}: {_one_line(exc)})")
    return textured


def _open_texture(path: Path, file: Path):
    try:
        return open_image(file)
    except InputError as exc:
        raise InputError(f"{path}: texture {exc.message}") from None


def _check_image_bytes(path: Path, blob: bytes, what: str) -> None:
    from PIL import Image

    try:
        with warnings.catch_warnings(), _c_stderr_into([]):
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(blob))
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise InputError(f"{path}: {what} is {img.width}x{img.height}, more than the "
                                 f"{MAX_IMAGE_PIXELS} pixels allowed")
            img.load()
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path}: {what} cannot be decoded ({_one_line(exc)})")


def _check_ply_header(path: Path, data: bytes) -> None:
    head = data[:65536]
    if not head.startswith(b"ply"):
        raise InputError(f"{path}: not a PLY file (missing 'ply' header)")
    for name, count in re.findall(rb"^element[ \t]+(\w+)[ \t]+(\d+)", head, re.M):
        limit = {b"face": MAX_FACES, b"vertex": MAX_VERTICES}.get(name)
        if limit is not None and int(count) > limit:
            raise InputError(f"{path}: {int(count)} {'faces' if name == b'face' else 'vertices'}, "
                             f"more than the {limit} allowed")


# --------------------------------------------------------------------------- loading
@contextlib.contextmanager
def _quiet():
    log = logging.getLogger("trimesh")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:       # C decoders (libtiff for a texture) print to fd 2: keep the CLI's error on one line
        with warnings.catch_warnings(), np.errstate(all="ignore"), _c_stderr_into([]):
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


def _resolver(path: Path):
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


def _image_key(img) -> tuple:
    a = np.ascontiguousarray(np.asarray(img))
    return a.shape, a.dtype.str, hash(a.tobytes())


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
    source: dict = {"file_obj": str(path), "resolver": _resolver(path)}
    if suffix == ".obj":
        if b"\0" in data:
            raise InputError(f"{path}: binary data, not an OBJ text file")
        n = data.count(b"\nf ") + data.startswith(b"f ")
        if n > MAX_FACES:
            raise InputError(f"{path}: {n} faces, more than the {MAX_FACES} triangles allowed")
        materials = _obj_materials(path, data)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:                         # trimesh would need charset_normalizer
            source.update(file_obj=io.BytesIO(data.decode("latin-1").encode("utf-8")), file_type="obj")
    elif suffix in (".gltf", ".glb"):
        textured = _check_gltf(path, data)
    else:
        _check_ply_header(path, data)
    try:
        with _quiet():
            scene = trimesh.load_scene(process=False, **source)
            parts = [scene.graph[node] for node in scene.graph.nodes_geometry]
    except MemoryError:
        raise InputError(f"{path}: not enough memory to load the mesh")
    except Exception as exc:
        if suffix == ".obj" and isinstance(exc, IndexError):
            raise InputError(f"{path}: a face refers to a vertex that does not exist ({_one_line(exc)})")
        raise InputError(f"{path}: cannot read the mesh: malformed or truncated {suffix[1:].upper()} file "
                         f"({exc.__class__.__name__}: {_one_line(exc)})")

    try:
        with _quiet():
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
            return _assemble(path, objs, need_uvs)
    except InputError:
        raise
    except MemoryError:
        raise InputError(f"{path}: not enough memory to load the mesh")
    except (ValueError, IndexError, TypeError, KeyError, AttributeError, OverflowError, RecursionError) as exc:
        # a safety net: trimesh can hand back odd arrays (shapes, dtypes) for a malformed file
        raise InputError(f"{path}: cannot read the mesh: malformed {suffix[1:].upper()} file "
                         f"({exc.__class__.__name__}: {_one_line(exc)})")


def _object(path: Path, geom, gname: str, matrix: np.ndarray, materials: dict | None) -> dict:
    """One scene node's geometry as world-space per-corner arrays."""
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
    obj = {"pos": pos, "faces": f, "uv": None, "normal": None, "color": None, "texture": None, "name": gname}
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
            keys.setdefault(("file", ref) if kind == "file" else _image_key(ref), o["texture"])
    if len(keys) > 1:
        raise InputError(f"{path}: has {len(keys)} different textures; one texture per asset is supported")
    texture = None
    if keys:
        untextured = sum(o["texture"] is None for o in objs)
        if untextured:
            raise InputError(f"{path}: {untextured} of {len(objs)} objects have no texture; "
                             "one texture for the whole asset is supported")
        kind, ref = next(iter(keys.values()))
        img = _open_texture(path, ref) if kind == "file" else ref
        if img.width * img.height > MAX_IMAGE_PIXELS:
            raise InputError(f"{path}: texture is {img.width}x{img.height}, more than the "
                             f"{MAX_IMAGE_PIXELS} pixels allowed")
        try:
            with _quiet():
                texture = image_to_rgb(img)
        except Exception as exc:
            raise InputError(f"{path}: cannot convert the {img.mode} texture to RGB ({_one_line(exc)})")
    no_uv = sum(o["uv"] is None for o in objs)
    if no_uv and (need_uvs or texture is not None):
        what = "has no UV coordinates" if no_uv == len(objs) else \
            f"has no UV coordinates on {no_uv} of {len(objs)} objects"
        raise InputError(f"{path}: {what}; a texture needs them")

    offsets = np.cumsum([0] + [len(o["pos"]) for o in objs])
    pos = np.concatenate([o["pos"] for o in objs])
    faces = np.concatenate([o["faces"] + off for o, off in zip(objs, offsets)])
    positions, wfaces, _ = _weld_map(pos, faces)
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
        positions, wfaces, _ = _weld_map(positions, wfaces, tol=0)
    uvs = None if no_uv else np.concatenate([o["uv"] for o in objs])[keep].astype(np.float32)
    normals = corners("normal", np.nan)                    # missing or zero: smooth normals instead
    if normals is not None:
        normals = _unit(normals, fallback=compute_vertex_normals(positions, wfaces)[wfaces]).astype(np.float32)
    colors = corners("color", 1.0)                         # objects without colour are white
    vertex_colors = None
    if colors is not None:
        count = np.bincount(wfaces.ravel(), minlength=len(positions))
        vertex_colors = np.stack([np.bincount(wfaces.ravel(), weights=colors[..., c].ravel(),
                                              minlength=len(positions)) for c in range(3)], axis=1)
        vertex_colors = np.clip(vertex_colors / np.maximum(count, 1)[:, None], 0, 1).astype(np.float32)
    return MeshData(positions=positions, faces=wfaces.astype(np.int32), uvs=uvs, normals=normals,
                    texture=texture, vertex_colors=vertex_colors, name=path.stem)
