"""Per-triangle opacity of the soup and mesh kinds (``scene.opacity``, off by default).

When ``scene.opacity.enabled`` is true the kind adds the parameter group ``opacity``
(one logit per triangle, alpha = sigmoid(logit); its contributor is the triangle),
switches its visibility to the deep id buffer (``deep_id``: every fragment recorded,
composited front to back with early termination, every composited fragment a
contributor of the pixel) and its R fragment stage to one that records the copy's
perturbed opacity. Off, nothing of this exists: the layout, the shaders and the
results are those of an opaque job.

The GLSL side needs no define of its own: the layout defines ``GROUP_OPACITY`` exactly
when the group exists.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field, model_validator

from ..schema import Bool, Float, Int, ParamGroupConfig
from .params import ParamGroup, group_settings

DEFAULT_EPS = 0.2         # logit units (as the semi-transparent test kind tests/kinds/glass)
DEFAULT_LR = 0.05
DEFAULT_BOUNDS = (-8.0, 8.0)   # alpha in [3.4e-4, 0.99966]


class OpacityConfig(ParamGroupConfig):
    """``scene.opacity``: semi-transparent triangles. eps / lr / bounds are in logit units."""

    enabled: Bool = Field(False, description="one opacity per triangle, composited front to back")
    init: Float = Field(0.5, gt=0, lt=1, description="initial opacity of every triangle (0 < init < 1)")
    layers: Int = Field(16, ge=1, le=256, description="fragments composited per sample (nearest first)")

    @model_validator(mode="after")
    def _off_means_off(self):
        """Settings of an opacity that will not exist: say so rather than ignore them."""
        if not self.enabled:
            changed = [k for k, f in type(self).model_fields.items() if k != "enabled" and getattr(self, k) != f.default]
            if changed:
                raise ValueError(f"{changed[0]} is set but opacity is off (add enabled: true)")
        return self


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def sigmoid(x) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, np.float64)))


def opacity_group(cfg: OpacityConfig, triangles: int) -> ParamGroup:
    """The ``opacity`` group: one logit per triangle, contributor = the triangle (MAP_DIRECT, base 0)."""
    return ParamGroup("opacity", triangles, 1, **group_settings(cfg, DEFAULT_EPS, DEFAULT_LR, DEFAULT_BOUNDS))


def initial_logits(cfg: OpacityConfig, triangles: int) -> np.ndarray:
    return np.full(triangles, logit(cfg.init), np.float32)


def alphas(theta, layout) -> np.ndarray:
    """Opacity of each triangle (float64) of a parameter vector."""
    return sigmoid(theta[layout.slice("opacity")])


def visibility_options(cfg: OpacityConfig, fragments: float | None = None) -> dict:
    """Options of the deep id buffer: K = ``layers``; ``fragments`` (expected per sample, sizes
    the first node budget of the lists; None: the strategy's default)."""
    out = {"layers": int(cfg.layers)}
    if fragments is not None:
        out["fragments"] = float(fragments)
    return out
