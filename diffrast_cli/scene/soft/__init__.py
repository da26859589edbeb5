"""The soft rasterizer (issue 12; docs/soft.md): scene kinds ``soft`` (a triangle soup) and
``soft_mesh`` (an indexed mesh) whose triangles cover the samples around them by a CDF of the
signed edge distance. Shaders in glsl/scene/soft/ (and the soup's or the mesh's)."""

from ..registry import KindSpec, register_kind
from .config import CDF_FAMILIES, SoftConfig, SoftCoverage, SoftMeshConfig
from .kind import SoftRasterizer
from .mesh_kind import SoftMesh
from .softness import BAND_TAUS, Softness

SPEC = KindSpec(name="soft", config=SoftConfig, factory=SoftRasterizer)
MESH_SPEC = KindSpec(name="soft_mesh", config=SoftMeshConfig, factory=SoftMesh, path_keys=("mesh",))
register_kind(SPEC)
register_kind(MESH_SPEC)

__all__ = ["BAND_TAUS", "CDF_FAMILIES", "MESH_SPEC", "SPEC", "SoftConfig", "SoftCoverage", "SoftMesh",
           "SoftMeshConfig", "SoftRasterizer", "Softness"]
