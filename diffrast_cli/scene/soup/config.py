"""The job's ``scene`` section for ``kind: soup`` (the default kind)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...schema import Float, Int, ParamGroupConfig, Range, Strict, Vec3
from ..opacity import OpacityConfig


class SoupInit(Strict):
    """Random initialisation of a triangle soup."""

    center: Vec3 = (0.0, 0.0, 0.5)
    extent: Vec3 = (1.0, 1.0, 0.5)      # triangle centres uniform in center +- extent
    size: Float = Field(0.1, gt=0)      # vertex offsets from the centre, uniform in +-size
    color: Range = (0.0, 1.0)


class SoupResample(Strict):
    """Re-placing useless triangles (off while ``every`` is 0): every ``every`` iterations, each
    triangle unseen for ``unseen`` iterations or with a screen area below ``min_area`` px^2
    (camera 0) takes half of a large visible triangle, split along its longest edge; the
    largest of ``candidates`` donors drawn from the seed is split."""

    every: Int = Field(0, ge=0, description="iterations between re-placements; 0 = off")
    unseen: Int = Field(50, ge=1, description="iterations without a non-zero contribution")
    min_area: Float = Field(0.25, ge=0, description="screen area in pixels^2 (camera 0)")
    candidates: Int = Field(4, ge=1, le=64, description="donors compared per re-placed triangle")


class SoupConfig(Strict):
    kind: Literal["soup"] = "soup"
    triangles: Int = Field(2000, ge=1, le=50_000_000)
    init: SoupInit = SoupInit()
    positions: ParamGroupConfig = ParamGroupConfig()
    depths: ParamGroupConfig = ParamGroupConfig()
    colors: ParamGroupConfig = ParamGroupConfig()
    resample: SoupResample = SoupResample()
    opacity: OpacityConfig = OpacityConfig()
