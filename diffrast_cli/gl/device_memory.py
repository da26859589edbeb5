"""Free device memory, asked of the driver: NVIDIA ``GL_NVX_gpu_memory_info``, AMD
``GL_ATI_meminfo``, system RAM (capped by the cgroup limit) for CPU renderers.
Unknown free memory is None, never an error."""

from __future__ import annotations

import contextlib
import ctypes

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
