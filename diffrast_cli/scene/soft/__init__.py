"""The soft rasterizer scene kind (``scene: {kind: soft}``, issue 12; docs/soft.md): a triangle
soup whose triangles cover the samples around them by a CDF of the signed edge distance.
Shaders in glsl/scene/soft/ (and the soup's)."""

from ..registry import KindSpec, register_kind
from .config import CDF_FAMILIES, SoftConfig, SoftCoverage
from .kind import BAND_TAUS, SoftRasterizer

SPEC = KindSpec(name="soft", config=SoftConfig, factory=SoftRasterizer)
register_kind(SPEC)

__all__ = ["BAND_TAUS", "CDF_FAMILIES", "SPEC", "SoftConfig", "SoftCoverage", "SoftRasterizer"]
