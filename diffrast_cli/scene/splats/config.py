"""The job's ``scene`` section for ``kind: splats`` (3D Gaussian splats, docs/splats.md)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, model_validator

from ...schema import Bool, Float, Int, ParamGroupConfig, Range, Strict, Vec3


class SplatInit(Strict):
    """Where the splats start. ``random``: means uniform in center +- extent; ``points``: the
    points of a point-cloud PLY (colours from it when it has them); ``mesh``: points sampled on
    a mesh's surface; ``ply``: a 3DGS PLY as it is (e.g. an earlier result)."""

    kind: Literal["random", "points", "mesh", "ply"] = "random"
    file: Optional[str] = Field(None, description="the PLY or mesh file of points / mesh / ply")
    center: Vec3 = (0.0, 0.0, 0.0)
    extent: Vec3 = (1.0, 1.0, 1.0)
    scale: Optional[Float] = Field(None, gt=0, description="initial standard deviation (world units); "
                                   "null = half the mean spacing of the splats, (volume / count)^(1/3) / 2, at most the "
                                   "size whose 3-sigma discs would cover the view ~8 times over")
    opacity: Float = Field(0.1, gt=0, lt=1, description="initial opacity (3DGS: 0.1)")
    color: Range = (0.0, 1.0)
    random_rotations: Bool = Field(True, description="uniformly random orientations (else identity)")

    @model_validator(mode="after")
    def _file(self):
        if self.kind != "random" and not self.file:
            raise ValueError(f"init.kind {self.kind} needs init.file")
        return self


class SplatDensify(Strict):
    """Re-placing dead splats (off while ``every`` is 0; scene/splats/densify.py). Every ``every``
    steps from ``start`` to ``stop``, each splat whose opacity is below ``min_opacity`` or that
    was unseen for ``unseen`` steps is dead and re-placed onto a live donor drawn with probability
    proportional to ``signal``: a donor larger than ``split_pixels`` (its largest standard
    deviation, in pixels) is split (donor and copies resampled from its Gaussian, scales / 1.6),
    a smaller one cloned (the copies sampled from its Gaussian; donor and copies share its opacity,
    1 - (1 - o)^(1 / (copies + 1)) each). The count is fixed (``scene.count`` is the cap)."""

    every: Int = Field(0, ge=0, description="steps between re-placements; 0 = off")
    start: Int = Field(0, ge=0, description="first step that may re-place (a multiple of every)")
    stop: Optional[Int] = Field(None, ge=0, description="last step that may re-place (null: to the end)")
    min_opacity: Float = Field(0.005, ge=0, lt=1, description="a splat below this opacity is dead (3DGS: 0.005)")
    unseen: Int = Field(100, ge=1, description="a splat not drawn in a pixel with a non-zero f+ - f- (or a "
                        "non-zero exact gradient) for this many steps is dead")
    signal: Literal["opacity", "adam", "loss"] = Field(
        "opacity", description="donors are drawn in proportion to: opacity (MCMC relocation), adam (the "
        "magnitude of the positions' Adam first moment) or loss (the accumulated |f+ - f-| of the pixels the "
        "splat is composited in since the last re-placement)")
    budget: Float = Field(0.2, gt=0, le=1, description="at most this fraction of the live splats is re-placed "
                          "per event (the first dead ones in index order); stops a cascade where copies fall "
                          "under min_opacity themselves")
    split_pixels: Float = Field(0.0, ge=0, description="a donor whose largest standard deviation exceeds "
                                "this many pixels (at the scene centre) is split, a smaller one cloned; "
                                "0 = always clone")
    shrink: Float = Field(1.0, gt=0, le=1, description="scale factor of a clone's copies")
    reset_every: Int = Field(0, ge=0, description="steps between opacity resets (from start to stop); 0 = off")
    reset_opacity: Float = Field(0.01, gt=0, lt=1, description="opacities above this are lowered to it "
                                 "at a reset (3DGS: 0.01)")

    @model_validator(mode="after")
    def _window(self):
        if self.stop is not None and self.stop < self.start:
            raise ValueError(f"stop ({self.stop}) is before start ({self.start})")
        if self.every and self.reset_every and self.reset_opacity <= self.min_opacity:
            raise ValueError(f"reset_opacity ({self.reset_opacity}) must be above min_opacity "
                             f"({self.min_opacity}): a reset would kill every splat")
        return self


class SplatsConfig(Strict):
    kind: Literal["splats"] = "splats"
    count: Int = Field(10_000, ge=1, le=20_000_000, description="number of splats (with init.kind points/mesh: "
                       "sampled from the file; ply: the file's own count is used)")
    sh_degree: Int = Field(0, ge=0, le=3, description="spherical-harmonic degree of the colour")
    init: SplatInit = SplatInit()
    layers: Int = Field(32, ge=1, le=256, description="fragments composited per sample (the nearest)")
    fragments: Float = Field(0.0, ge=0, description="fragments per sample of the first node budget "
                             "(0: 4x what the initial splats need, at least min(layers, 16), at most 256); it grows at log steps "
                             "when a frame needed more")
    contributors: Int = Field(128, ge=1, le=4096, description="contributors (splats) kept per pixel")
    structure: Literal["default", "lists", "kbuffer"] = "default"
    color_gradient: Literal["analytic", "sge"] = Field(
        "analytic", description="gradient of the SH dc colours: analytic = exact, from each composited "
        "fragment's weight (not perturbed); sge = the stochastic estimator")
    opacity_gradient: Literal["analytic", "sge"] = Field(
        "analytic", description="gradient of the opacity logits: analytic = exact, from each composited "
        "fragment's place in its sample (not perturbed); sge = the stochastic estimator")
    geometry_gradient: Literal["analytic", "sge"] = Field(
        "analytic", description="gradient of the positions, log scales and rotations: analytic = exact, "
        "each fragment's screen-space derivative chained through the EWA projection (not perturbed); "
        "sge = the stochastic estimator")
    positions: ParamGroupConfig = ParamGroupConfig()
    scales: ParamGroupConfig = ParamGroupConfig()
    rotations: ParamGroupConfig = ParamGroupConfig()
    opacity: ParamGroupConfig = ParamGroupConfig()
    sh_dc: ParamGroupConfig = ParamGroupConfig()
    sh_rest: ParamGroupConfig = ParamGroupConfig()
    densify: SplatDensify = SplatDensify()

    @model_validator(mode="after")
    def _loss_signal(self):
        exact = (self.color_gradient == "analytic" and self.opacity_gradient == "analytic"
                 and self.geometry_gradient == "analytic" and self.sh_degree == 0)
        if self.densify.every and self.densify.signal == "loss" and exact:
            raise ValueError("densify.signal loss needs a parameter the estimator perturbs (every gradient "
                             "is analytic here: set a *_gradient to sge, sh_degree > 0, or another signal)")
        return self
