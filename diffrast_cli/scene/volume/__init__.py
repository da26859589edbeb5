"""Voxel volumes (``scene: {kind: volume}``; issue 14, docs/volume.md): a dense grid of density
and colour, ray-marched with emission-absorption compositing; G spreads each pixel's difference
over the nodes its ray read. Shaders in glsl/scene/volume/."""

from ..registry import KindSpec, register_kind
from .config import VolumeConfig, VolumeInit
from .kind import VoxelVolume

SPEC = KindSpec(name="volume", config=VolumeConfig, factory=VoxelVolume, path_keys=("init_file",))
register_kind(SPEC)

__all__ = ["SPEC", "VolumeConfig", "VolumeInit", "VoxelVolume"]
