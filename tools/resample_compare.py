"""Compare configs/soup_100k.yaml with and without resampling (configs/soup_100k_resample.yaml)
at equal iterations on this machine's GPU; prints final PSNR and it/s of each and writes
comparison.json into --out.

    python tools/resample_compare.py --out $OUT [--iterations 2000] [--set key=value ...]

Each run is a plain `diffrast optimize` into --out/without and --out/with.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JOBS = {"without": ROOT / "configs" / "soup_100k.yaml", "with": ROOT / "configs" / "soup_100k_resample.yaml"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--iterations", type=int, default=None, help="default: the jobs' own (2000)")
    ap.add_argument("--set", action="append", default=[], dest="sets", help="more overrides for both runs")
    args = ap.parse_args()
    sets = list(args.sets) + ([f"optimize.iterations={args.iterations}"] if args.iterations else [])
    rows = {}
    for name, job in JOBS.items():
        out = args.out / name
        cmd = [sys.executable, "-m", "diffrast_cli", "optimize", str(job), "--out", str(out), "--overwrite",
               "--quiet"] + [f"--set={s}" for s in sets]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)
        report = json.loads((out / "report.json").read_text())
        rows[name] = {"iterations": report["iterations"], "initial_psnr": report["initial"]["psnr"],
                      "final_psnr": report["final"]["psnr"], "it_per_s": report["it_per_s"],
                      "device": report["device"].get("renderer")}
    for name, r in rows.items():
        print(f"{name:>8} resampling: {r['initial_psnr']:.2f} -> {r['final_psnr']:.2f} dB after {r['iterations']} "
              f"iterations, {r['it_per_s']} it/s on {r['device']}")
    print(f"difference: {rows['with']['final_psnr'] - rows['without']['final_psnr']:+.2f} dB")
    (args.out / "comparison.json").write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
