"""Catmull-Clark subdivision surfaces (``scene: {kind: subdiv}``; issue 13, docs/subdiv.md): a
polygon control cage refined on the GPU every iteration (halfedge refinement of Dupuy & Vanhoey
2021 as per-level stencil gathers), PBR maps and displacement on the refined surface. Shaders in
glsl/scene/subdiv/ (and the material layer's)."""

from ..registry import KindSpec, register_kind
from .config import SubdivConfig
from .kind import SubdivSurface

SPEC = KindSpec(name="subdiv", config=SubdivConfig, factory=SubdivSurface, path_keys=("cage", "lights.*.*.file"))
register_kind(SPEC)

__all__ = ["SPEC", "SubdivConfig", "SubdivSurface"]
