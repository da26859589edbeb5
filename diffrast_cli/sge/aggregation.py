"""How G merges additions to the same contributor before its global atomics."""

from __future__ import annotations

from ..errors import GLError

SUBGROUP_EXTENSIONS = ("GL_KHR_shader_subgroup", "GL_NV_shader_subgroup_partitioned")
SUBGROUP_GLSL_EXTENSIONS = ("GL_KHR_shader_subgroup_basic", "GL_KHR_shader_subgroup_ballot",
                            "GL_KHR_shader_subgroup_arithmetic", "GL_NV_shader_subgroup_partitioned")


def choose_aggregation(device, aggregate=None, scene=None) -> str:
    """direct: none (CPU renderers: their shared atomics and barriers cost more than
    they save); shared: per work group, in a shared-memory hash table of
    primitives (GPUs; best when all contributors are primitives: H100, a
    100K-triangle scene at 1024^2, G 0.135 ms vs 0.30 subgrouped); subgroup: within
    a warp, by partitioning lanes on the contributor (GPUs with
    GL_NV_shader_subgroup_partitioned, when there are texel contributors: H100,
    textured surface, G 18.6 ms vs 24.1 shared). ``aggregate``: None for this
    automatic choice, True for shared, False for direct, or a mode name.
    """
    if aggregate is None:
        if device.is_software:
            return "direct"
        texels = scene is not None and scene.contributors > scene.shared_contributors
        have = all(e in device.extensions for e in SUBGROUP_EXTENSIONS)
        return "subgroup" if texels and have else "shared"
    if isinstance(aggregate, bool):
        return "shared" if aggregate else "direct"
    if aggregate not in ("direct", "shared", "subgroup"):
        raise ValueError(f"unknown aggregation {aggregate!r}")
    if aggregate == "subgroup" and not all(e in device.extensions for e in SUBGROUP_EXTENSIONS):
        raise GLError(f"subgroup aggregation needs {' and '.join(SUBGROUP_EXTENSIONS)}")
    return aggregate


def aggregation_defines(aggregation: str, shared_contributors: int) -> tuple[dict, tuple]:
    """G's defines and extra GLSL extensions for an aggregation mode."""
    if aggregation == "shared":
        return {"AGGREGATE": 1, "AGG_SHARED_BELOW": shared_contributors}, ()
    if aggregation == "subgroup":
        return {"SUBGROUP_AGGREGATE": 1}, SUBGROUP_GLSL_EXTENSIONS
    return {}, ()
