"""Generate the project's own environment map.

Run from the repository root::

    python assets/make_environment.py

This writes ``assets/sky.hdr`` (512x256 equirectangular, linear RGB, the
convention of docs/pbr.md): a blue gradient sky, a dark ground and a small
bright sun disk. Procedural and deterministic (no randomness).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diffrast_cli.io.hdr import write_hdr  # noqa: E402
from diffrast_cli.scene.material.environment import procedural_sky  # noqa: E402


def main() -> None:
    sky = procedural_sky(512, 256, sun_dir=(0.4, 0.55, -0.73), sun_color=(1.0, 0.95, 0.85), sun_irradiance=3.0,
                         sun_radius_deg=2.0)
    out = ROOT / "assets" / "sky.hdr"
    write_hdr(out, sky)
    print(f"wrote {out.relative_to(ROOT)} ({sky.shape[1]}x{sky.shape[0]}, {out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
