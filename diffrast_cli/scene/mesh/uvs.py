"""Whether a mesh scene has a texture, at what size, and where its UVs come from.

A texture is there when the mesh brings one, or the job gives
``scene.texture.resolution`` or an RGB ``scene.texture.init``; otherwise the
mesh wears vertex colours. A texture on a mesh without UVs is never dropped
silently: ``scene.texture.uv_atlas: auto`` (the default) generates a UV atlas
with xatlas (one line on stderr says so), ``never`` refuses with a one-line
ConfigError naming the key and the mesh.
"""

from __future__ import annotations

import sys
from dataclasses import replace

from ...errors import ConfigError

DEFAULT_TEXTURE_SIDE = 256


def texture_wanted(mesh, tex_cfg) -> bool:
    return mesh.texture is not None or tex_cfg.resolution is not None or tex_cfg.init != "asset"


def texture_size(mesh, tex_cfg) -> tuple[int, int]:
    """(w, h) of the texture being optimised (when there is one)."""
    res = tex_cfg.resolution
    if res is None and tex_cfg.init == "asset" and mesh.texture is not None:
        return mesh.texture.shape[1], mesh.texture.shape[0]
    res = res or DEFAULT_TEXTURE_SIDE
    return (res, res) if isinstance(res, int) else tuple(res)


def mesh_source(cfg) -> str:
    return cfg.mesh if cfg.mesh is not None else "icosphere"


def needs_atlas(mesh, cfg) -> bool:
    """True when a UV atlas is to be generated; ConfigError when the job asks for
    something the mesh cannot give (see the module doc)."""
    tex = cfg.texture
    if not texture_wanted(mesh, tex) or mesh.uvs is not None:
        return False
    if tex.uv_atlas == "never":
        raise ConfigError(f"scene.texture.uv_atlas: never, and mesh {mesh_source(cfg)} has no UV coordinates for "
                          f"its texture (uv_atlas: auto generates a UV atlas with xatlas)")
    return True


def with_uvs(mesh, cfg, echo=True):
    """``mesh``, with a generated UV atlas when :func:`needs_atlas` says so."""
    if not needs_atlas(mesh, cfg):
        return mesh
    from ...io.uv_atlas import generate_uvs
    w, h = texture_size(mesh, cfg.texture)
    uvs, charts = generate_uvs(mesh.positions, mesh.faces, resolution=max(w, h))
    if echo:
        print(f"diffrast: note: mesh {mesh_source(cfg)} has no UV coordinates; generated a UV atlas with xatlas "
              f"({charts} charts; scene.texture.uv_atlas: never refuses instead)", file=sys.stderr)
    return replace(mesh, uvs=uvs)


__all__ = ["DEFAULT_TEXTURE_SIDE", "mesh_source", "needs_atlas", "texture_size", "texture_wanted", "with_uvs"]
