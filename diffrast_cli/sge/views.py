"""The views of a job: cameras, their target images, and which are trained on.

Targets live on the GPU as one RGBA16F texture array (a layer per camera).
Each iteration shows `views_per_iteration` training cameras; the order is a
fresh permutation of the training cameras every epoch, derived from the seed
and the epoch number alone, so any iteration's views can be recomputed
(resume needs no state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ViewSet:
    view_proj: np.ndarray            # (N, 4, 4) float64, scene -> clip, row-major
    eyes: np.ndarray                 # (N, 3) camera positions
    targets: np.ndarray              # (N, H, W, 3) float32, row 0 = top
    train: list = field(default_factory=list)
    holdout: list = field(default_factory=list)
    names: list = field(default_factory=list)

    def __post_init__(self):
        n = len(self.view_proj)
        if not self.train:
            self.train = [i for i in range(n) if i not in set(self.holdout)]
        if not self.names:
            self.names = [f"view{i:03d}" for i in range(n)]

    @classmethod
    def single(cls, view_proj: np.ndarray, target: np.ndarray, eye=(0.0, 0.0, 0.0)) -> "ViewSet":
        return cls(view_proj=np.asarray(view_proj, np.float64)[None], eyes=np.asarray(eye, np.float64)[None],
                   targets=np.asarray(target, np.float32)[None], train=[0])

    @property
    def count(self) -> int:
        return len(self.view_proj)

    @property
    def size(self) -> tuple[int, int]:
        return int(self.targets.shape[2]), int(self.targets.shape[1])

    def slots(self, iteration: int, per_iteration: int, seed: int) -> np.ndarray:
        """Camera indices shown at ``iteration`` (epoch-shuffled training cameras)."""
        train = np.asarray(self.train, dtype=np.uint32)
        n = len(train)
        if n == 1 or per_iteration >= n:
            return np.resize(train, per_iteration)
        start = iteration * per_iteration
        out = np.empty(per_iteration, dtype=np.uint32)
        for j in range(per_iteration):
            epoch, pos = divmod(start + j, n)
            out[j] = train[self._permutation(seed, epoch, n)[pos]]
        return out

    def _permutation(self, seed: int, epoch: int, n: int) -> np.ndarray:
        cache = self.__dict__.setdefault("_perm_cache", {})
        if (seed, epoch) not in cache:
            if len(cache) > 4:
                cache.clear()
            cache[seed, epoch] = np.random.default_rng([seed, epoch]).permutation(n)
        return cache[seed, epoch]

    def eval_views(self, max_train: int = 4) -> list[int]:
        """Cameras scored at log steps: every held-out one, plus up to ``max_train`` training ones."""
        if len(self.train) <= max_train:
            picked = list(self.train)
        else:
            picked = [self.train[round(k * (len(self.train) - 1) / (max_train - 1))] for k in range(max_train)] \
                if max_train > 1 else [self.train[0]]
        return list(self.holdout) + picked

    def camera_table(self) -> np.ndarray:
        """(N, 20) float32 rows for SSBO_CAMERAS: column-major mat4, then eye xyz1."""
        table = np.zeros((self.count, 20), np.float32)
        table[:, :16] = np.transpose(self.view_proj, (0, 2, 1)).reshape(self.count, 16)
        table[:, 16:19] = self.eyes
        table[:, 19] = 1.0
        return table

    def target_layers(self) -> np.ndarray:
        """(N, H, W, 4) float16, rows bottom-up as GL textures store them."""
        n, h, w, _ = self.targets.shape
        out = np.ones((n, h, w, 4), np.float16)
        out[..., :3] = self.targets[:, ::-1]
        return out
