"""The 3D Gaussian splat scene kind (``scene: {kind: splats}``, docs/splats.md): anisotropic
Gaussians with spherical-harmonic colour, composited front to back through the deep id
buffer; written as the standard 3DGS PLY. Shaders in glsl/scene/splats/."""

from ..registry import KindSpec, register_kind
from .config import SplatInit, SplatsConfig
from .kind import GaussianSplats

SPEC = KindSpec(name="splats", config=SplatsConfig, factory=GaussianSplats, path_keys=("init.file",))
register_kind(SPEC)

__all__ = ["GaussianSplats", "SPEC", "SplatInit", "SplatsConfig"]
