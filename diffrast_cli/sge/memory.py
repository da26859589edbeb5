"""The device memory of a job, next to what it estimates (the estimator's buffers and
targets): ``estimate_job_memory`` adds up what ``sge.estimator.Estimator`` allocates,
``check_memory`` refuses a job that would not fit the device's free memory
(``gl.device_memory.available_memory``) with a one-line ``LimitError`` giving the
numbers. Unknown free memory is never an error: the check is skipped."""

from __future__ import annotations

import math

from ..errors import LimitError
from ..gl import bindings as B
from ..gl.device_memory import available_memory
from .evaluation import color_layers as evaluation_color_layers


def _tile_pixels(width: int, height: int, supersample: int, tile_cols: int, tile_rows: int) -> int:
    return tile_cols * width * supersample * tile_rows * height * supersample


def estimate_job_memory(*, parameters: int, pairs: int, contributors: int, views: int, width: int, height: int,
                        supersample: int, copies: int, tile_cols: int, tile_rows: int, extra_bytes: int = 0,
                        primitives: int = 0, attachment_bytes: int = 0, color_layers: int | None = None) -> dict[str, int]:
    """Device bytes of a job, per item, mirroring ``Estimator.__init__``, plus ``"total"``.

    ``parameters`` = layout size d, ``pairs`` = samples x views_per_iteration,
    ``contributors`` = accumulator slots per pair (1 for full_image),
    ``views`` = cameras whose targets are uploaded, ``copies`` = 2 x pairs,
    ``tile_cols``/``tile_rows`` from ``sge.targets.tile_layout``,
    ``extra_bytes`` = the scene's own buffers and textures, ``primitives`` =
    what R draws (the depth-order buffer), ``attachment_bytes`` = bytes per
    pixel of the scene's extra render targets beside the ids, ``color_layers`` = layers of the
    clean pass's colour images (default: evaluation.color_layers(copies), as the estimator has).
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
        "colors": (evaluation_color_layers(copies) if color_layers is None else color_layers) * width * height * 16,  # RGBA f32
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
