"""Resources: device memory (what is free, what a job needs) and safe output writes.

Memory. ``estimate_job_memory`` adds up what ``sge.estimator.Estimator``
allocates on the device, ``available_memory`` asks the driver what it can
still give (NVIDIA ``GL_NVX_gpu_memory_info``, AMD ``GL_ATI_meminfo``, system
RAM for CPU renderers) and ``check_memory`` refuses a job that would not fit
with a one-line ``LimitError`` giving the numbers. Unknown free memory is
never an error: the check is skipped.

Outputs. Every output file is written to a temporary file in the same folder
and ``os.replace``'d onto its name (``atomic_path``, ``atomic_write_bytes``):
a full disk, a read-only or unwritable folder gives a one-line
``OutputError`` naming the file and the reason, the previous file keeps its
bytes, and no temporary file is left.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import math
import os
import tempfile
from pathlib import Path

from .errors import LimitError, OutputError
from .gl import bindings as B

# -- device memory -----------------------------------------------------------

NVX_MEMINFO_EXT = "GL_NVX_gpu_memory_info"
GL_GPU_MEMORY_INFO_CURRENT_AVAILABLE_VIDMEM_NVX = 0x9049  # KiB
ATI_MEMINFO_EXT = "GL_ATI_meminfo"
GL_TEXTURE_FREE_MEMORY_ATI = 0x87FB  # 4 ints, KiB; [0] = total free in the pool

_NO_CGROUP_LIMIT = 1 << 60  # cgroup v1 writes "no limit" as a huge number

_gl_funcs: dict = {}


def _gl_function(name: str, restype, *argtypes):
    """A GL entry point through eglGetProcAddress (libEGL.so.1), cached; None if unavailable."""
    key = name
    if key not in _gl_funcs:
        egl = ctypes.CDLL("libEGL.so.1")
        get = egl.eglGetProcAddress
        get.restype = ctypes.c_void_p
        get.argtypes = [ctypes.c_char_p]
        ptr = get(name.encode("ascii"))
        _gl_funcs[key] = ctypes.CFUNCTYPE(restype, *argtypes)(ptr) if ptr else None
    return _gl_funcs[key]


_EGL_DRAW, _EGL_READ = 0x3059, 0x305A


def _egl():
    """libEGL.so.1 with the current-context calls typed."""
    if "egl" not in _gl_funcs:
        egl = ctypes.CDLL("libEGL.so.1")
        for name in ("eglGetCurrentDisplay", "eglGetCurrentContext"):
            getattr(egl, name).restype = ctypes.c_void_p
            getattr(egl, name).argtypes = []
        egl.eglGetCurrentSurface.restype = ctypes.c_void_p
        egl.eglGetCurrentSurface.argtypes = [ctypes.c_int]
        egl.eglMakeCurrent.restype = ctypes.c_uint
        egl.eglMakeCurrent.argtypes = [ctypes.c_void_p] * 4
        _gl_funcs["egl"] = egl
    return _gl_funcs["egl"]


@contextlib.contextmanager
def _current(device):
    """Make ``device``'s context current in this thread, then make the previous one current again.

    Not ``with device.ctx``: moderngl's exit releases the context (no context is
    current afterwards, and the next moderngl call fails), so the previous EGL
    binding is saved and restored here.
    """
    egl = _egl()
    prev = (egl.eglGetCurrentDisplay(), egl.eglGetCurrentSurface(_EGL_DRAW), egl.eglGetCurrentSurface(_EGL_READ),
            egl.eglGetCurrentContext())
    device.ctx.__enter__()
    try:
        yield
    finally:
        if prev[3] and egl.eglGetCurrentContext() != prev[3]:
            egl.eglMakeCurrent(*prev)


def _gl_get_integers(device, pname: int, count: int = 1) -> list[int]:
    """glGetIntegerv(pname) on ``device``'s context; raises on any failure."""
    get_integerv = _gl_function("glGetIntegerv", None, ctypes.c_uint, ctypes.POINTER(ctypes.c_int))
    get_error = _gl_function("glGetError", ctypes.c_uint)
    if get_integerv is None or get_error is None:
        raise RuntimeError("glGetIntegerv is not available through eglGetProcAddress")
    values = (ctypes.c_int * max(4, count))()
    with _current(device):
        for _ in range(64):  # drop stale errors so the check below is about this call
            if not get_error():
                break
        get_integerv(pname, values)
        err = get_error()
    if err:
        raise RuntimeError(f"glGetIntegerv(0x{pname:04X}) failed with GL error 0x{err:04X}")
    return [int(v) for v in values[:count]]


def _meminfo_available() -> int | None:
    """MemAvailable from /proc/meminfo, in bytes."""
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                parts = line.split()
                return int(parts[1]) * (1024 if parts[2].lower() == "kb" else 1)
    return None


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def _cgroup_available() -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 or v1), or None if unlimited/unknown."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        limit = _read_int(limit_file)
        if limit is None or limit >= _NO_CGROUP_LIMIT:
            continue
        usage = _read_int(usage_file) or 0
        return max(0, limit - usage)
    return None


def available_memory(device) -> int | None:
    """Bytes ``device`` can still allocate, or None when unknown (never raises).

    NVIDIA: GL_GPU_MEMORY_INFO_CURRENT_AVAILABLE_VIDMEM_NVX; AMD: the free
    texture pool of GL_ATI_meminfo; CPU renderers: the system's MemAvailable,
    capped by the cgroup memory limit when there is one.
    """
    try:
        if getattr(device, "is_software", False):
            avail = _meminfo_available()
            group = _cgroup_available()
            if avail is None:
                return group
            return avail if group is None else min(avail, group)
        extensions = getattr(device, "extensions", None) or ()
        if NVX_MEMINFO_EXT in extensions:
            kib = _gl_get_integers(device, GL_GPU_MEMORY_INFO_CURRENT_AVAILABLE_VIDMEM_NVX, 1)[0]
        elif ATI_MEMINFO_EXT in extensions:
            kib = _gl_get_integers(device, GL_TEXTURE_FREE_MEMORY_ATI, 4)[0]
        else:
            return None
        return 1024 * kib if kib > 0 else None
    except Exception:
        return None


def _tile_pixels(width: int, height: int, supersample: int, tile_cols: int, tile_rows: int) -> int:
    return tile_cols * width * supersample * tile_rows * height * supersample


def estimate_job_memory(*, parameters: int, pairs: int, contributors: int, views: int, width: int, height: int,
                        supersample: int, copies: int, tile_cols: int, tile_rows: int, extra_bytes: int = 0,
                        primitives: int = 0, attachment_bytes: int = 0) -> dict[str, int]:
    """Device bytes of a job, per item, mirroring ``Estimator.__init__``, plus ``"total"``.

    ``parameters`` = layout size d, ``pairs`` = samples x views_per_iteration,
    ``contributors`` = accumulator slots per pair (1 for full_image),
    ``views`` = cameras whose targets are uploaded, ``copies`` = 2 x pairs,
    ``tile_cols``/``tile_rows`` from ``sge.targets.tile_layout``,
    ``extra_bytes`` = the scene's own buffers and textures, ``primitives`` =
    what R draws (the depth-order buffer), ``attachment_bytes`` = bytes per
    pixel of the scene's extra render targets beside the ids.
    Small fixed buffers (stats, cameras, keys) are left out.
    """
    wg = math.ceil(width / B.WG_2D_X) * math.ceil(height / B.WG_2D_Y)
    items = {
        "parameters": 4 * parameters,
        "gradient": 4 * parameters,
        "adam_moments": 8 * parameters,
        "accumulators": 4 * pairs * contributors,
        "targets": views * width * height * 4 * 2,  # RGBA float16 texture array
        "id_target": _tile_pixels(width, height, supersample, tile_cols, tile_rows) * (4 + 4 + attachment_bytes),
        "colors": copies * width * height * 16,  # RGBA float32 image array
        "partials": 8 * wg * copies,
        "sort": 4 * primitives + 4 * B.SORT_BUCKETS,
        "scene": extra_bytes,
    }
    items = {k: int(v) for k, v in items.items()}
    items["total"] = sum(items.values())
    return items


_SCENE = "the scene size"
# Job keys that shrink each item (the scene's own keys replace _SCENE when given).
_ITEM_KEYS = {
    "parameters": [_SCENE],
    "gradient": [_SCENE],
    "adam_moments": [_SCENE],
    "sort": [_SCENE],
    "scene": [_SCENE],
    "accumulators": [_SCENE, "optimize.samples", "optimize.views_per_iteration"],
    "targets": ["render.resolution", "cameras.orbit.count"],
    "id_target": ["render.resolution", "render.supersample", "optimize.samples", "optimize.views_per_iteration"],
    "colors": ["render.resolution", "optimize.samples", "optimize.views_per_iteration"],
    "partials": ["render.resolution", "optimize.samples"],
}


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'; MiB below 1 GiB, GiB above."""
    n = float(n)
    if n >= 2**30:
        return f"{n / 2**30:.2f} GiB"
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 2**10:
        return f"{n / 2**10:.1f} KiB"
    return f"{int(n)} B"


def check_memory(device, estimate: dict, fraction: float = 0.9, *, size_keys: str | None = None) -> None:
    """Raise LimitError when ``estimate["total"]`` exceeds ``fraction`` of the device's free memory.

    Does nothing when the free memory is unknown. ``size_keys`` names the job
    keys that set the scene size (``scene.size_keys``) for the advice.
    """
    avail = available_memory(device)
    if avail is None:
        return
    total = int(estimate.get("total", sum(v for k, v in estimate.items() if k != "total")))
    usable = fraction * avail
    if total <= usable:
        return
    items = sorted(((v, k) for k, v in estimate.items() if k != "total" and v > 0), reverse=True)
    biggest = items[:3]
    keys: list[str] = []
    for _, item in biggest[:2]:
        for key in _ITEM_KEYS.get(item, [_SCENE]):
            key = size_keys if (key == _SCENE and size_keys) else key
            if key not in keys:
                keys.append(key)
    software = getattr(device, "is_software", False)
    where = "system memory for the CPU renderer" if software else "GPU memory"
    parts = ", ".join(f"{k.replace('_', ' ')} {format_bytes(v)}" for v, k in biggest)
    raise LimitError(f"this job needs about {format_bytes(total)} of {where} ({parts}) but only "
                     f"{format_bytes(avail)} is available ({fraction:.0%} usable: {format_bytes(usable)}); "
                     f"lower {', '.join(keys[:-1]) + ' or ' + keys[-1] if len(keys) > 1 else keys[0]}")


# -- outputs -----------------------------------------------------------------

_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only file system",
    errno.ENOENT: "the folder does not exist",
    errno.ENOTDIR: "a parent is not a folder",
    errno.EISDIR: "a folder of that name exists",
    errno.EEXIST: "a file of that name exists",
    errno.EIO: "input/output error",
}


def _reason(exc: OSError) -> str:
    reason = _REASONS.get(exc.errno)
    detail = exc.strerror or str(exc) or exc.__class__.__name__
    if reason is None:
        return detail
    return reason if detail.lower() == reason else f"{reason}: {detail}"


def output_error(path, exc: OSError, existed: bool | None = None) -> OutputError:
    """The OutputError for a failed write of ``path`` (the previous file, if any, untouched)."""
    path = Path(path)
    if existed is None:
        existed = path.exists()
    after = "the previous file is intact" if existed else "nothing was written"
    return OutputError(f"{path}: cannot write ({_reason(exc)}); {after}")


def ensure_folder(path) -> Path:
    """Create the folder ``path`` (and parents) if missing; OutputError if that fails."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{path}: cannot create the output folder ({_reason(exc)})") from exc
    return path


def _remove(tmp: str | None) -> None:
    if tmp is None:
        return
    try:
        os.unlink(tmp)
    except OSError:
        pass


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to ``path``; on success it replaces ``path`` (mode 0644).

    The temporary file exists (empty) when yielded and keeps ``path``'s
    suffix, so writers that guess the format from the name still work. On any
    exception it is removed and ``path`` is untouched; an OSError (while
    creating, writing, syncing or renaming) becomes an OutputError naming
    the file and the reason.
    """
    path = Path(path)
    existed = path.exists()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
        os.close(fd)
        yield Path(tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # a full disk can surface only here; and the data must be on disk before the rename
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        _remove(tmp)
        raise output_error(path, exc, existed) from exc
    except BaseException:
        _remove(tmp)
        raise


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see ``atomic_path``); returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return path
