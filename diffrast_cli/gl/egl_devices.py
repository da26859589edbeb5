"""Which CUDA device each EGL device is (EGL_NV_device_cuda), read through ctypes from libEGL.

EGL enumerates devices in its own order (``eglQueryDevicesEXT``; the index ``create_device``
takes), which need not be CUDA's. Schedulers hand out GPUs by CUDA ordinal (Ray's
``get_gpu_ids()``) and restrict ``CUDA_VISIBLE_DEVICES``; NVIDIA's EGL then reports CUDA ids
within the visible set (and none for the hidden devices): :func:`visible_ordinal` turns a
physical id into that, :func:`egl_index_of_cuda` finds the EGL device.
"""

from __future__ import annotations

import ctypes
import os

EGL_CUDA_DEVICE_NV = 0x323A
MAX_DEVICES = 64


def cuda_ids() -> list:
    """The CUDA ordinal of each EGL device in EGL's order (None where the driver does not say:
    not an NVIDIA device, or no EGL_NV_device_cuda); [] when libEGL or its device query is missing."""
    try:
        egl = ctypes.CDLL("libEGL.so.1")
    except OSError:
        return []
    get = egl.eglGetProcAddress
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.c_char_p]
    query_devices = get(b"eglQueryDevicesEXT")
    query_attrib = get(b"eglQueryDeviceAttribEXT")
    if not query_devices or not query_attrib:
        return []
    devices_fn = ctypes.CFUNCTYPE(ctypes.c_uint, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                                  ctypes.POINTER(ctypes.c_int))(query_devices)
    attrib_fn = ctypes.CFUNCTYPE(ctypes.c_uint, ctypes.c_void_p, ctypes.c_int,
                                 ctypes.POINTER(ctypes.c_ssize_t))(query_attrib)
    devices = (ctypes.c_void_p * MAX_DEVICES)()
    count = ctypes.c_int(0)
    if not devices_fn(MAX_DEVICES, devices, ctypes.byref(count)):
        return []
    out = []
    for i in range(count.value):
        value = ctypes.c_ssize_t(-1)
        ok = attrib_fn(devices[i], EGL_CUDA_DEVICE_NV, ctypes.byref(value))
        out.append(int(value.value) if ok and value.value >= 0 else None)
    return out


def egl_index_of_cuda(cuda_id: int, ids: list | None = None) -> int | None:
    """The EGL device index of CUDA device ``cuda_id`` (None when no EGL device says it is)."""
    ids = cuda_ids() if ids is None else ids
    return ids.index(cuda_id) if cuda_id in ids else None


def visible_ordinal(physical: int) -> int:
    """The CUDA ordinal of physical GPU ``physical`` under ``$CUDA_VISIBLE_DEVICES`` (itself when unset
    or when the variable names devices by UUID)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if not visible:
        return physical
    names = [v.strip() for v in visible.split(",")]
    return names.index(str(physical)) if str(physical) in names else physical
