"""PLACEHOLDER (replaced by the splatio branch's full reader/writer): the splat cloud
container and a minimal binary 3DGS PLY writer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SplatCloud:
    positions: np.ndarray
    log_scales: np.ndarray
    rotations: np.ndarray
    opacity_logits: np.ndarray
    sh: np.ndarray

    @property
    def degree(self) -> int:
        return int(round(self.sh.shape[1] ** 0.5)) - 1


def write_splat_ply(path, cloud):
    n, k = cloud.sh.shape[:2]
    rest = np.transpose(cloud.sh[:, 1:], (0, 2, 1)).reshape(n, -1)
    cols = [cloud.positions, np.zeros((n, 3)), cloud.sh[:, 0], rest, cloud.opacity_logits[:, None],
            cloud.log_scales, cloud.rotations]
    names = (["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
             + [f"f_rest_{i}" for i in range(rest.shape[1])] + ["opacity", "scale_0", "scale_1", "scale_2",
                                                               "rot_0", "rot_1", "rot_2", "rot_3"])
    data = np.concatenate([np.asarray(c, np.float32).reshape(n, -1) for c in cols], axis=1).astype("<f4")
    header = "ply\nformat binary_little_endian 1.0\nelement vertex %d\n%send_header\n" % (
        n, "".join(f"property float {p}\n" for p in names))
    with open(path, "wb") as f:
        f.write(header.encode() + data.tobytes())
    return path


def read_splat_ply(path):
    raise NotImplementedError("placeholder")


def read_point_cloud(path):
    raise NotImplementedError("placeholder")
