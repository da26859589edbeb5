"""Readbacks at log intervals: clean renders scored against the targets (resolve.comp),
colour images, and the GPU-side flags."""

from __future__ import annotations

import moderngl
import numpy as np

from ..gl import bindings as B
from ..gl import shaders
from ..gl.passes import barrier


def psnr(mse: float) -> float:
    return float("inf") if mse <= 0 else float(10.0 * np.log10(1.0 / mse))


def color_layers(copies: int) -> int:
    """Layers of the clean pass's colour images: half the view slots (the colours are read only
    when images are asked for, at log steps, so those evaluations go in batches of this many;
    scores are summed in the pass itself, every slot at once). On the 4-view 1024^2 PBR bench
    problem this is 8 of its 65 bytes per parameter."""
    return max(1, copies // 2)


class CleanPass:
    """The clean shading pass: colours of up to ``color_layers(copies)`` view slots and
    per-work-group error sums of up to ``copies``, read back by :meth:`evaluate`."""

    def __init__(self, ctx, size, copies: int, defines: dict, aliases: dict, extensions: tuple, dirs: tuple):
        self.ctx = ctx
        self.size = size
        self.copies = copies
        w, h = size
        self.wg = ((w + B.WG_2D_X - 1) // B.WG_2D_X, (h + B.WG_2D_Y - 1) // B.WG_2D_Y)
        self.prog = shaders.compute(ctx, "resolve.comp", defines, aliases, extensions, dirs)
        self.prog["u_color_layers"].value = color_layers(copies)
        self.partials = ctx.buffer(reserve=8 * self.wg[0] * self.wg[1] * copies)
        self.layers = color_layers(copies)
        self.colors = ctx.texture_array((w, h, self.layers), 4, dtype="f4")

    def bind(self) -> None:
        self.partials.bind_to_storage_buffer(B.SSBO_PARTIALS)
        self.colors.bind_to_image(B.IMG_COLOR, read=False, write=True)

    def evaluate(self, estimator, cams, images: bool) -> dict:
        """Per-view and mean mse/mae/psnr of clean renders of ``cams``; images (row 0 = top) if asked."""
        w, h = self.size
        n_px = 3.0 * w * h
        nwg = self.wg[0] * self.wg[1]
        per_view, colors = [], []
        step = self.layers if images else self.copies
        for start in range(0, len(cams), step):
            batch = cams[start:start + step]
            estimator.set_slots(np.asarray(batch + [0] * (self.copies - len(batch))))
            estimator.render(0, len(batch), clean=True)
            self.prog.run(self.wg[0], self.wg[1], len(batch))
            barrier(self.ctx)
            sums = np.frombuffer(self.partials.read(size=8 * nwg * len(batch)), dtype=np.float32)
            sums = sums.reshape(len(batch), nwg, 2).astype(np.float64).sum(axis=1)
            for mse, mae in sums / n_px:
                per_view.append({"mse": float(mse), "mae": float(mae), "psnr": psnr(mse)})
            if images:
                data = np.frombuffer(self.colors.read(), dtype=np.float32).reshape(self.layers, h, w, 4)
                colors.extend(np.ascontiguousarray(data[i, ::-1, :, :3]) for i in range(len(batch)))
        mse = float(np.mean([v["mse"] for v in per_view]))
        out = {"mse": mse, "mae": float(np.mean([v["mae"] for v in per_view])), "psnr": psnr(mse),
               "views": per_view}
        if images:
            out["images"] = colors
        return out

    def release(self) -> None:
        for obj in (self.prog, self.partials, self.colors):
            obj.release()


def target_array(ctx, views):
    """The target images of every camera, one RGBA16F layer each."""
    w, h = views.size
    tex = ctx.texture_array((w, h, views.count), 4, views.target_layers().tobytes(), dtype="f2")
    tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
    return tex


def read_flags(stats, layout, clear: bool = True) -> dict:
    """GPU-side flags since the last clear: fixed-point overflow, and the groups (by
    name) with non-finite gradients or parameters, non-finite pixel losses, the
    first Adam step that saw one, and the visibility strategy's overflow (a deep id
    buffer out of nodes, a pixel with more contributors than its list holds)."""
    v = np.frombuffer(stats.read(), dtype=np.uint32)
    names = [g.name for g in layout.groups]

    def groups(mask):
        return [n for i, n in enumerate(names) if mask >> min(i, 31) & 1]

    out = {"overflow": bool(v[B.STAT_OVERFLOW]),
           "nonfinite": bool(v[B.STAT_NONFINITE] or v[B.STAT_NONFINITE_PARAM] or v[B.STAT_NONFINITE_LOSS]),
           "nonfinite_gradient": groups(int(v[B.STAT_NONFINITE])),
           "nonfinite_parameter": groups(int(v[B.STAT_NONFINITE_PARAM])),
           "nonfinite_loss": bool(v[B.STAT_NONFINITE_LOSS]),
           "first_bad_step": int(v[B.STAT_FIRST_BAD]) or None,
           "visibility_overflow": bool(v[B.STAT_VISIBILITY])}
    if clear and v.any():
        stats.clear()
    return out
