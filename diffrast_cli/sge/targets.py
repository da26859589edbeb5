"""The R target: every copy of an iteration tiled into one R32UI id buffer.

Copy c (pair c // 2, plus for even c, minus for odd) sits at tile
(c % cols, c // cols); each tile is (W*SS, H*SS) pixels for supersampling
factor SS. One clear and one instanced draw cover all copies.
"""

from __future__ import annotations

import math

import moderngl

from ..errors import LimitError


GL_CLIP_DISTANCE0 = 0x3000


def enable_tile_clipping(ctx) -> None:
    """Turn on the four clip planes that keep each copy inside its tile (include/tiles.glsl
    writes gl_ClipDistance[0..3]). GL applies clip distances only where enabled: without
    this a copy spills into its neighbours' tiles (llvmpipe happened to clip anyway; the
    NVIDIA driver does not)."""
    for i in range(4):
        ctx.enable_direct(GL_CLIP_DISTANCE0 + i)


def tile_layout(device, size: tuple[int, int], copies: int, supersample: int = 1) -> tuple[int, int]:
    """(cols, rows) of the tiled target, or LimitError if it does not fit the device."""
    w, h = size
    tw, th = w * supersample, h * supersample
    info = device.ctx.info
    limit = min(device.max_texture_size, int(info.get("GL_MAX_FRAMEBUFFER_WIDTH") or device.max_texture_size))
    if tw > limit or th > limit:
        raise LimitError(f"render.resolution {w}x{h} with render.supersample {supersample} needs a {tw}x{th} "
                         f"target; this device allows {limit}x{limit}")
    cols = max(1, min(math.ceil(math.sqrt(copies)), limit // tw))
    rows = math.ceil(copies / cols)
    if rows * th > limit:
        raise LimitError(f"render.resolution {w}x{h}: its {copies} copies ({tw}x{th} each) do not fit one "
                         f"target; this device allows {limit}x{limit} (lower render.resolution, optimize.samples "
                         f"or optimize.views_per_iteration)")
    return cols, rows


class TiledIdTarget:
    """The id buffer (R32UI) of every copy and a depth buffer. Scenes write only
    ids; G recomputes everything else from them (visibility buffer)."""

    def __init__(self, device, size: tuple[int, int], copies: int, supersample: int = 1):
        ctx = device.ctx
        w, h = size
        self.size = (w, h)
        self.ss = supersample
        self.copies = copies
        tw, th = w * supersample, h * supersample
        cols, rows = tile_layout(device, size, copies, supersample)
        self.cols, self.rows = cols, rows
        self.tile = (tw, th)
        self.texture = ctx.texture((cols * tw, rows * th), 1, dtype="u4")
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.depth = ctx.depth_renderbuffer((cols * tw, rows * th))
        self.fbo = ctx.framebuffer(color_attachments=[self.texture], depth_attachment=self.depth)

    def uniforms(self) -> dict:
        return {"u_cols": self.cols, "u_rows": self.rows, "u_tile_size": self.tile}

    def clear(self) -> None:
        self.fbo.use()
        self.fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)

    def release(self) -> None:
        for obj in (self.fbo, self.texture, self.depth):
            obj.release()
