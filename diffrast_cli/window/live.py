"""A glfw window that shows an RGB image (float, row 0 = top), scaled to its size.

It has its own GL context (GLX on X11; the optimisation keeps its headless EGL one): each :meth:`LiveWindow.show` makes the window's context current, draws, and hands the
thread back to the caller's context (``restore``). The thread's EGL context is released before
the window's is made current, and the window's before the caller's comes back: making a GLX
context current over a current EGL one failed under Xvfb (BadAccess in glXMakeCurrent). Headless stays the default: without a
display the window is a one-line error (:func:`require_display`).
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import ConfigError

VERTEX = """#version 330
out vec2 v_uv;
void main() {
    vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
    v_uv = p;                                  // a triangle over the screen: uv (0..2)
    gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
"""
FRAGMENT = """#version 330
uniform sampler2D u_image;
in vec2 v_uv;
out vec4 f_color;
void main() { f_color = vec4(texture(u_image, v_uv).rgb, 1.0); }
"""


def release_egl() -> None:
    """Make no EGL context current on this thread (eglMakeCurrent with EGL_NO_CONTEXT)."""
    import ctypes
    try:
        egl = ctypes.CDLL("libEGL.so.1")
    except OSError:
        return
    egl.eglGetCurrentDisplay.restype = ctypes.c_void_p
    display = egl.eglGetCurrentDisplay()
    if display:
        egl.eglMakeCurrent.argtypes = [ctypes.c_void_p] * 4
        egl.eglMakeCurrent(display, None, None, None)


def require_display(what: str = "--window") -> None:
    """A one-line error when there is no display to open a window on."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise ConfigError(f"{what}: no display (DISPLAY is not set); run without it (headless is the default), "
                          "or under a display server such as Xvfb")


class LiveWindow:
    def __init__(self, title: str, size: tuple[int, int], restore=None):
        """``size``: (w, h) of the window in pixels; ``restore``: called after each draw to make the
        caller's GL context current again (e.g. GLDevice.activate)."""
        require_display()
        import glfw
        import moderngl
        if not glfw.init():
            raise ConfigError("--window: glfw could not connect to the display")
        self.glfw = glfw
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.RESIZABLE, True)
        release_egl()
        self.win = glfw.create_window(int(size[0]), int(size[1]), title, None, None)
        if not self.win:
            glfw.terminate()
            self._restore()
            raise ConfigError("--window: the display gave no OpenGL 3.3 window")
        glfw.make_context_current(self.win)
        glfw.swap_interval(0)            # never wait for the display's refresh: the fit must not wait
        self.ctx = moderngl.create_context()
        self.prog = self.ctx.program(vertex_shader=VERTEX, fragment_shader=FRAGMENT)
        self.vao = self.ctx.vertex_array(self.prog, [])
        self.tex = None
        self.restore = restore
        self.closed = False
        self._restore()

    def _enter(self) -> None:
        release_egl()
        self.glfw.make_context_current(self.win)

    def _restore(self) -> None:
        self.glfw.make_context_current(None)
        if self.restore is not None:
            self.restore()

    def show(self, image: np.ndarray) -> None:
        """Draw ``image`` (h, w, 3) float in [0, 1], row 0 = top, over the whole window."""
        if self.closed:
            return
        glfw = self.glfw
        self._enter()
        try:
            img = np.ascontiguousarray(np.clip(image, 0.0, 1.0)[::-1], np.float32)
            h, w = img.shape[:2]
            if self.tex is None or self.tex.size != (w, h):
                if self.tex is not None:
                    self.tex.release()
                self.tex = self.ctx.texture((w, h), 3, dtype="f4")
                self.tex.filter = (self.ctx.NEAREST, self.ctx.NEAREST)     # pixels as they are
            self.tex.write(img.tobytes())
            fw, fh = glfw.get_framebuffer_size(self.win)
            self.ctx.screen.use()
            self.ctx.viewport = (0, 0, fw, fh)
            self.tex.use(0)
            self.vao.render(vertices=3)
            glfw.swap_buffers(self.win)
            glfw.poll_events()
            if glfw.window_should_close(self.win):
                self.close()
        finally:
            self._restore()

    def screenshot(self) -> np.ndarray:
        """The window's last drawn frame (front buffer after a swap: read the back buffer we drew
        by drawing again first), (h, w, 3) float, row 0 = top."""
        glfw = self.glfw
        self._enter()
        try:
            fw, fh = glfw.get_framebuffer_size(self.win)
            self.ctx.screen.use()
            self.tex.use(0)
            self.vao.render(vertices=3)
            data = self.ctx.screen.read(viewport=(0, 0, fw, fh), components=3, dtype="f1")
            return np.frombuffer(data, np.uint8).reshape(fh, fw, 3)[::-1].astype(np.float32) / 255.0
        finally:
            self._restore()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        glfw = self.glfw
        self._enter()
        for obj in (self.vao, self.prog, self.tex):
            if obj is not None:
                obj.release()
        self.ctx.release()
        glfw.make_context_current(None)
        glfw.destroy_window(self.win)
        glfw.poll_events()
        if self.restore is not None:
            self.restore()
