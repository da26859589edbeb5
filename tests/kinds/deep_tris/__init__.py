"""The deep id buffer's own harness (tests/test_deep_ids.py, tools/bench_deep_ids.py):
semi-transparent flat triangles in 2D clip space, ``copies`` tiled copies (copy c
shifted by c * shift), built into a structure of diffrast_cli/sge/deep_ids.py with
the core's deep_id.frag, and read back by a G-shaped resolve pass
(glsl/deep_tris_resolve.comp: the core's gather, compositing and hashed contributor
list). Not a scene kind: no parameters, no estimator."""

from __future__ import annotations

from pathlib import Path

import moderngl
import numpy as np

from diffrast_cli.gl import shaders
from diffrast_cli.gl.bindings import WG_2D_X, WG_2D_Y
from diffrast_cli.gl.passes import barrier, set_uniforms
from diffrast_cli.sge.deep_ids import contributor_defines
from diffrast_cli.sge.targets import enable_tile_clipping

GLSL = (Path(__file__).parent / "glsl",)

# The harness's own binding points (above the core's and the visibility range).
SSBO_DEEP_TRIS = 30       # triangles: 3 corners xyz + (rgb, opacity), 4 vec4 each
SSBO_DEEP_OUT_COLOR = 31  # resolve output: composited colour + transmittance per copy pixel
SSBO_DEEP_OUT_CONTRIB = 32  # resolve output: contributor count, digest, dropped (+ list)
SSBO_DEEP_OUT_FRAGS = 33  # resolve output: gathered fragments of each sample
BINDINGS = {"SSBO_DEEP_TRIS": SSBO_DEEP_TRIS, "SSBO_DEEP_OUT_COLOR": SSBO_DEEP_OUT_COLOR,
            "SSBO_DEEP_OUT_CONTRIB": SSBO_DEEP_OUT_CONTRIB, "SSBO_DEEP_OUT_FRAGS": SSBO_DEEP_OUT_FRAGS}


class DeepTriangles:
    """``tris``: (T, 4, 4) float32 -- corners xyz (w unused) and (r, g, b, opacity)."""

    def __init__(self, device, deep, tris: np.ndarray, tile: tuple[int, int], cols: int, rows: int,
                 copies: int = 2, shift=(0.0, 0.0), background=(0.0, 0.0, 0.0), write_contrib: bool = False,
                 write_frags: bool = False, max_contrib: int | None = None):
        self.device, self.ctx, self.deep = device, device.ctx, deep
        self.tile, self.cols, self.rows, self.copies = tuple(tile), cols, rows, copies
        assert copies % 2 == 0 and cols * tile[0] == deep.width and rows * tile[1] == deep.height
        self.count = len(tris)
        self.max_contrib = int(max_contrib or 2 * deep.k)
        self.tris = self.ctx.buffer(np.ascontiguousarray(tris, np.float32).tobytes())
        defines = {**deep.defines(), **BINDINGS, "SS": 1, "SCENE_MAX_CONTRIB": 1,
                   **contributor_defines(self.max_contrib)}
        self.program = shaders.program(self.ctx, "deep_tris.vert", "deep_id.frag", defines, dirs=GLSL)
        rdef = dict(defines)
        if write_contrib:
            rdef["DEEP_WRITE_CONTRIB"] = 1
        if write_frags:
            rdef["DEEP_WRITE_FRAGS"] = 1
        self.write_contrib, self.write_frags = write_contrib, write_frags
        self.resolve_prog = shaders.compute(self.ctx, "deep_tris_resolve.comp", rdef, dirs=GLSL)
        self.vao = self.ctx.vertex_array(self.program, [])
        npix = tile[0] * tile[1]
        self.stride = self.max_contrib + 3 if write_contrib else 3
        self.out_color = self.ctx.buffer(reserve=16 * npix * copies)
        self.out_contrib = self.ctx.buffer(reserve=4 * npix * (copies // 2) * self.stride)
        self.out_frags = self.ctx.buffer(reserve=16 * deep.samples * deep.k if write_frags else 16)
        tiles = {"u_cols": cols, "u_rows": rows, "u_tile_size": tuple(tile)}
        set_uniforms(self.program, u_copy_shift=tuple(map(float, shift)), **tiles, **deep.uniforms())
        set_uniforms(self.resolve_prog, u_size=tuple(tile), u_background=tuple(map(float, background)), **tiles,
                     **deep.uniforms())

    def draw(self) -> None:
        self.vao.render(mode=moderngl.TRIANGLES, vertices=3 * self.count, instances=self.copies)

    def build(self) -> None:
        """Clear the structure and run R (the k-buffer's two raster passes)."""
        self.ctx.disable(moderngl.DEPTH_TEST | moderngl.BLEND | moderngl.CULL_FACE)
        enable_tile_clipping(self.ctx)
        self.deep.bind()
        self.tris.bind_to_storage_buffer(SSBO_DEEP_TRIS)
        self.deep.clear()
        self.deep.draw(self.program, self.draw)

    def resolve(self) -> None:
        self.deep.bind()
        self.tris.bind_to_storage_buffer(SSBO_DEEP_TRIS)
        self.out_color.bind_to_storage_buffer(SSBO_DEEP_OUT_COLOR)
        self.out_contrib.bind_to_storage_buffer(SSBO_DEEP_OUT_CONTRIB)
        self.out_frags.bind_to_storage_buffer(SSBO_DEEP_OUT_FRAGS)
        w, h = self.tile
        self.resolve_prog.run(-(-w // WG_2D_X), -(-h // WG_2D_Y), self.copies // 2)
        barrier(self.ctx)

    def read_colors(self) -> np.ndarray:
        """(copies, H, W, 4): rgb over the background, transmittance."""
        w, h = self.tile
        return np.frombuffer(self.out_color.read(), np.float32).reshape(self.copies, h, w, 4)

    def read_contrib(self) -> tuple[np.ndarray, np.ndarray | None]:
        """(header (pairs, H, W, 3): count | full flag << 31, digest, dropped; lists or None)."""
        w, h = self.tile
        raw = np.frombuffer(self.out_contrib.read(), np.uint32).reshape(self.copies // 2, h, w, self.stride)
        return raw[..., :3], (raw[..., 3:] if self.write_contrib else None)

    def read_frags(self) -> np.ndarray:
        """(N, K, 4): gathered (key, id, alpha bits, count) of every sample of the target."""
        return np.frombuffer(self.out_frags.read(), np.uint32).reshape(self.deep.samples, self.deep.k, 4)

    def release(self) -> None:
        for obj in (self.vao, self.program, self.resolve_prog, self.tris, self.out_color, self.out_contrib,
                    self.out_frags):
            obj.release()
