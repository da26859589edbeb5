"""What a subdivision run writes: the optimised cage as OBJ with its faces kept (cage.obj, with
cage.mtl and the maps when shaded PBR), and the refined (displaced) surface as GLB with the PBR
material (refined.glb; displacement applied, so no height map)."""

from __future__ import annotations

from pathlib import Path

from ...io.atomic import atomic_write_bytes, ensure_folder
from .cage import cage_obj_text


def export_subdiv(scene, theta, out_dir) -> list[Path]:
    out = ensure_folder(out_dir)
    control = scene.control_points(theta)
    paths = []
    mtllib = name = None
    if scene.pbr:
        from ...io.pbr_export import write_pbr_mtl
        mtl, name, maps = write_pbr_mtl(scene.material.material(theta, scene.layout), out, "cage")
        mtllib = mtl.name
        paths += [mtl] + maps
    obj = atomic_write_bytes(out / "cage.obj", cage_obj_text(control, scene.cage.faces, scene.cage.uvs, mtllib,
                                                             name or "material_0").encode("utf-8"))
    paths.insert(0, obj)
    data = scene.refined_data(theta)
    if scene.pbr:
        from ...io.pbr_export import export_pbr_glb
        paths.append(export_pbr_glb(data, out, "refined"))
    else:
        from ...io.mesh_export import export_glb
        paths.append(export_glb(data, out, "refined"))
    return paths
