"""UV atlases for meshes that have no UV coordinates, generated with xatlas.

xatlas cuts the surface into charts, flattens each with least-squares conformal
maps and packs them into [0, 1]^2 -- the unwrapper game engines and
nvdiffrast's examples use. It splits vertices along chart seams; here only its
per-corner UVs are kept, so the mesh's welded positions and faces stay as they
were loaded and the parameters being optimised are unchanged (MeshData.uvs is
per corner already, like a loaded seam).

Deterministic: the same positions and faces give the same atlas (xatlas's
chart growing and packing have no random state; tests/test_uv_atlas.py checks).

xatlas runs in a child process: it crashes (SIGSEGV) on some inputs (an
80K-triangle icosphere, xatlas 0.0.11), and a crash must end as a one-line
error, not take the job down.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from ..errors import InputError, one_line

WORKER = "from diffrast_cli.io.uv_atlas import _worker; _worker()"

PADDING_TEXELS = 2          # gutter between charts, in texels of the target texture: bilinear taps stay inside


def generate_uvs(positions: np.ndarray, faces: np.ndarray, resolution: int = 0) -> tuple[np.ndarray, int]:
    """Per-corner UVs (F, 3, 2) float32 in [0, 1] (v = 0 at the bottom, as loaded UVs) and the
    number of charts. ``resolution``: the texture's longer side, for the gutters (0 = xatlas's
    own estimate). Triangles of zero area get zero-area UVs."""
    buf = io.BytesIO()
    np.savez(buf, positions=np.ascontiguousarray(positions, np.float32),
             faces=np.ascontiguousarray(faces, np.uint32), resolution=np.int64(resolution))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, "-c", WORKER], input=buf.getvalue(), capture_output=True, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        why = lines[-1] if lines else (f"killed by {signal.Signals(-proc.returncode).name}" if proc.returncode < 0
                                       and -proc.returncode in signal.Signals._value2member_map_
                                       else f"exit {proc.returncode}")
        raise InputError(f"xatlas could not build a UV atlas for the mesh ({one_line(why)}); give the mesh UV "
                         f"coordinates, or set scene.texture.uv_atlas: never")
    out = np.load(io.BytesIO(proc.stdout))
    uvs, charts = out["uvs"], int(out["charts"])
    if not np.isfinite(uvs).all():
        raise InputError("xatlas produced non-finite UV coordinates")
    return np.clip(uvs, 0.0, 1.0).astype(np.float32), charts


def _worker() -> None:
    """The child process: an npz of positions, faces, resolution on stdin -> uvs, charts on stdout."""
    import xatlas

    data = np.load(io.BytesIO(sys.stdin.buffer.read()))
    try:
        uvs, charts = _pack(xatlas, data["positions"], data["faces"], int(data["resolution"]))
    except InputError as exc:
        sys.exit(str(exc))
    buf = io.BytesIO()
    np.savez(buf, uvs=uvs, charts=np.int64(charts))
    sys.stdout.buffer.write(buf.getvalue())


def _pack(xatlas, pos, tri, resolution: int):
    for res in ((resolution, 0) if resolution else (0,)):
        atlas = xatlas.Atlas()
        try:
            atlas.add_mesh(pos, tri)
            pack = xatlas.PackOptions()
            pack.resolution = res
            pack.padding = PADDING_TEXELS
            pack.bilinear = True
            atlas.generate(xatlas.ChartOptions(), pack)
        except (RuntimeError, ValueError) as exc:
            raise InputError(f"xatlas could not build a UV atlas ({one_line(exc)})")
        if atlas.atlas_count == 1:                  # a fixed resolution too small for the charts gives several
            vmapping, indices, uv = atlas[0]
            if indices.shape != tri.shape or not np.array_equal(vmapping[indices], tri):
                raise InputError("xatlas changed the triangles of the mesh")  # a safety net: it keeps them in order
            return uv[indices], atlas.chart_count
    raise InputError(f"xatlas packed the charts into {atlas.atlas_count} atlases, not one")


__all__ = ["PADDING_TEXELS", "generate_uvs"]
