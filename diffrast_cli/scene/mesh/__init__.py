"""The indexed triangle mesh scene kind (``scene: {kind: mesh}``): shared vertices,
vertex colours or a base-colour texture, Lambert shading, Laplacian smoothing.
Shaders in glsl/scene/mesh/."""

from ..registry import KindSpec, register_kind
from .config import IcosphereConfig, LaplacianConfig, MeshConfig, ShadingConfig, TextureConfig
from .geometry import closed_orientation, edge_weights, laplacian_csr, vertex_triangles
from .kind import DEFAULT_BASE_COLOR, TexturedMesh

SPEC = KindSpec(name="mesh", config=MeshConfig, factory=TexturedMesh, path_keys=("mesh", "lights.*.*.file"))
register_kind(SPEC)

__all__ = ["DEFAULT_BASE_COLOR", "IcosphereConfig", "LaplacianConfig", "MeshConfig", "SPEC", "ShadingConfig",
           "TexturedMesh", "TextureConfig", "closed_orientation", "edge_weights", "laplacian_csr",
           "vertex_triangles"]
