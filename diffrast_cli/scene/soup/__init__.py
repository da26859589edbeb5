"""The triangle soup scene kind (``scene: {kind: soup}``, the default): N independent
flat-coloured triangles. Shaders in glsl/scene/soup/."""

from ..registry import KindSpec, register_kind
from .config import SoupConfig, SoupInit, SoupResample
from .kind import PARAMS_PER_TRIANGLE, TriangleSoup

SPEC = KindSpec(name="soup", config=SoupConfig, factory=TriangleSoup)
register_kind(SPEC)

__all__ = ["PARAMS_PER_TRIANGLE", "SPEC", "SoupConfig", "SoupInit", "SoupResample", "TriangleSoup"]
