"""The one place that creates GL contexts: headless EGL through moderngl, GL >= 4.3 core."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import GLError

DEVICE_ENV = "DIFFRAST_DEVICE"
ATOMICS_ENV = "DIFFRAST_ATOMICS"
REQUIRED_GL = 430
FLOAT_ATOMICS_EXT = "GL_NV_shader_atomic_float"

INSTALL_HINT = (
    "diffrast needs OpenGL 4.3 through headless EGL: on Debian/Ubuntu install "
    "'libegl1 libegl-mesa0 libgl1-mesa-dri' (Mesa's CPU renderer llvmpipe) or a GPU driver"
)

# Limits read from the context and reported by `diffrast info`.
LIMIT_NAMES = (
    "GL_MAX_TEXTURE_SIZE",
    "GL_MAX_SHADER_STORAGE_BLOCK_SIZE",
    "GL_MAX_COMPUTE_WORK_GROUP_COUNT",
    "GL_MAX_COMPUTE_WORK_GROUP_INVOCATIONS",
    "GL_MAX_DRAW_BUFFERS",
    "GL_MAX_VIEWPORTS",
    "GL_MAX_CLIP_DISTANCES",
    "GL_MAX_FRAMEBUFFER_WIDTH",
    "GL_MAX_FRAMEBUFFER_HEIGHT",
    "GL_MAX_COMPUTE_SHADER_STORAGE_BLOCKS",
)


@dataclass
class GLDevice:
    """A live GL context and what diffrast knows about it."""

    ctx: object
    index: int
    renderer: str
    vendor: str
    version: str
    extensions: set = field(default_factory=set)
    atomics: str = "float"  # "float" (GL_NV_shader_atomic_float) or "fixed" (integer atomics)

    @property
    def limits(self) -> dict:
        info = self.ctx.info
        return {name: info.get(name) for name in LIMIT_NAMES}

    @property
    def max_texture_size(self) -> int:
        return int(self.ctx.info["GL_MAX_TEXTURE_SIZE"])

    @property
    def max_ssbo_bytes(self) -> int:
        return int(self.ctx.info["GL_MAX_SHADER_STORAGE_BLOCK_SIZE"])

    @property
    def max_groups_x(self) -> int:
        return int(self.ctx.info["GL_MAX_COMPUTE_WORK_GROUP_COUNT"][0])

    @property
    def is_software(self) -> bool:
        r = self.renderer.lower()
        return "llvmpipe" in r or "softpipe" in r or "swrast" in r

    def available_memory(self) -> int | None:
        """Bytes this device can still allocate, or None when the driver does not say."""
        from .device_memory import available_memory

        return available_memory(self)

    def describe(self) -> dict:
        return {
            "index": self.index,
            "renderer": self.renderer,
            "vendor": self.vendor,
            "version": self.version,
            "atomics": self.atomics,
            "float_atomics_available": FLOAT_ATOMICS_EXT in self.extensions,
        }

    def activate(self) -> None:
        """Make this device's context the thread's current one (GL calls go to the current
        context; with several devices in one process the last created or activated is)."""
        self.ctx.__enter__()
        _LIVE_DEVICES[:] = [d for d in _LIVE_DEVICES if d is not self] + [self]

    def release(self) -> None:
        live = _LIVE_DEVICES
        was_current = bool(live) and live[-1] is self
        live[:] = [d for d in live if d is not self]
        try:
            self.ctx.release()
        except Exception:  # pragma: no cover - best effort at shutdown
            pass
        # Releasing the current context leaves none current: later GL calls of another live
        # device would go nowhere (NVIDIA drops them silently). Re-activate the newest other.
        if was_current and live:
            live[-1].activate()


# Live devices, oldest first; the last is the current context.
_LIVE_DEVICES: list[GLDevice] = []


def _device_index(device: int | str | None) -> int:
    if device is None:
        device = os.environ.get(DEVICE_ENV, "0")
    try:
        index = int(device)
    except (TypeError, ValueError):
        raise GLError(f"device must be an EGL device number, got {device!r} (from --device or ${DEVICE_ENV})")
    if index < 0:
        raise GLError(f"device must be >= 0, got {index}")
    return index


def _choose_atomics(extensions: set, atomics: str | None) -> str:
    if atomics in (None, "auto"):  # $DIFFRAST_ATOMICS decides what "auto" means
        atomics = os.environ.get(ATOMICS_ENV) or "auto"
    atomics = atomics.lower()
    if atomics not in ("auto", "float", "fixed"):
        raise GLError(f"atomics must be auto, float or fixed, got {atomics!r}")
    have_float = FLOAT_ATOMICS_EXT in extensions
    if atomics == "float" and not have_float:
        raise GLError(f"atomics: float needs {FLOAT_ATOMICS_EXT}, which this driver lacks; use 'fixed' or 'auto'")
    if atomics == "auto":
        # Integer (fixed-point) atomics add in any order to the same sum, so a run is
        # bit-reproducible on its device; float atomics are not (and only a few % faster).
        return "fixed"
    return atomics


def create_device(device: int | str | None = None, atomics: str | None = None) -> GLDevice:
    """Create a headless GL >= 4.3 core context on EGL device ``device``.

    ``device`` defaults to ``$DIFFRAST_DEVICE`` or 0. ``atomics`` is ``auto``
    (= fixed, reproducible), ``float`` (GL_NV_shader_atomic_float) or ``fixed``.
    """
    index = _device_index(device)
    try:
        import moderngl
    except Exception as exc:  # pragma: no cover - depends on the install
        raise GLError(f"cannot import moderngl ({exc}); reinstall diffrast with pip")
    try:
        ctx = moderngl.create_context(standalone=True, backend="egl", require=REQUIRED_GL, device_index=index)
    except Exception as exc:
        text = " ".join(str(exc).split())
        if "found 0 devices" in text:
            raise GLError(f"no EGL device found. {INSTALL_HINT}")
        if "device index" in text:
            raise GLError(f"EGL device {index} does not exist ({text}); see `diffrast info --list`")
        raise GLError(f"cannot create an OpenGL 4.3 context on EGL device {index}: {text}. {INSTALL_HINT}")
    info = ctx.info
    extensions = set(ctx.extensions)
    if ctx.version_code < REQUIRED_GL:
        version = info.get("GL_VERSION", "?")
        ctx.release()
        raise GLError(f"OpenGL {version} is too old: diffrast needs 4.3 core. {INSTALL_HINT}")
    dev = GLDevice(
        ctx=ctx,
        index=index,
        renderer=str(info.get("GL_RENDERER", "?")),
        vendor=str(info.get("GL_VENDOR", "?")),
        version=str(info.get("GL_VERSION", "?")),
        extensions=extensions,
    )
    _LIVE_DEVICES.append(dev)     # the new context is the current one
    try:
        dev.atomics = _choose_atomics(extensions, atomics)
    except GLError:
        dev.release()
        raise
    return dev


def list_devices(limit: int = 16) -> list[dict]:
    """Describe every EGL device that gives a GL 4.3 context."""
    found = []
    for i in range(limit):
        try:
            dev = create_device(i)
        except GLError as exc:
            if "does not exist" in str(exc):
                break
            found.append({"index": i, "error": str(exc)})
            continue
        found.append(dev.describe())
        dev.release()
    return found
