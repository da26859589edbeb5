"""The job's ``scene`` section for ``kind: soup`` (the default kind)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...schema import Float, Int, ParamGroupConfig, Range, Strict, Vec3


class SoupInit(Strict):
    """Random initialisation of a triangle soup."""

    center: Vec3 = (0.0, 0.0, 0.5)
    extent: Vec3 = (1.0, 1.0, 0.5)      # triangle centres uniform in center +- extent
    size: Float = Field(0.1, gt=0)      # vertex offsets from the centre, uniform in +-size
    color: Range = (0.0, 1.0)


class SoupConfig(Strict):
    kind: Literal["soup"] = "soup"
    triangles: Int = Field(2000, ge=1, le=50_000_000)
    init: SoupInit = SoupInit()
    positions: ParamGroupConfig = ParamGroupConfig()
    depths: ParamGroupConfig = ParamGroupConfig()
    colors: ParamGroupConfig = ParamGroupConfig()
