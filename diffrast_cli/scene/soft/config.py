"""The job's ``scene`` section for ``kind: soft``: a triangle soup drawn by the soft rasterizer
(docs/soft.md): every triangle covers the pixels within a band around it by a CDF of the signed
distance to its nearest edge; a sample's coverages are combined by a t-conorm, its colour by
alpha compositing, the z-buffer or softmax depth weights."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...schema import Float, Int, Strict
from ..mesh.config import MeshConfig
from ..soup.config import SoupConfig
from .mlp import WEIGHTS

# glsl/scene/soft/soft_coverage.glsl's SOFT_* numbers
CDF_FAMILIES = {"hard": 0, "uniform": 1, "hermite": 2, "logistic": 3, "gaussian": 4, "laplace": 5, "cauchy": 6,
                "exponential": 7, "exponential_rev": 8, "gamma": 9, "mlp": 10}
CONORMS = {"max": 0, "probabilistic": 1, "einstein": 2, "hamacher": 3, "yager": 4, "dombi": 5}
COLOR_MODES = {"composite": 0, "zbuffer": 1, "softmax": 2, "softmax_silhouette": 3}   # glsl/scene/soft/soft_shade.glsl


class SoftCoverage(Strict):
    """Coverage = cdf(d / tau), d the signed distance (NDC, inside positive) from the pixel
    centre to the triangle's nearest edge, tau = 10^log_tau (annealed linearly in log_tau to
    log_tau_final over the run when that is set)."""

    cdf: Literal[tuple(CDF_FAMILIES)] = Field("logistic", description="the CDF family")
    log_tau: Float = Field(-2.0, ge=-6.0, le=0.0, description="log10 of the softness scale tau (NDC units)")
    log_tau_final: Float | None = Field(None, ge=-6.0, le=0.0, description="log10 tau at the last iteration "
                                        "(linear in log tau from log_tau); null: tau stays")
    shape: Float = Field(2.0, gt=0.0, le=10.0, description="the gamma family's shape p")
    mlp: list[Float] | None = Field(None, description="the 56 weights of cdf: mlp (docs/soft.md); null: a "
                                    "start close to the logistic CDF")
    band_pixels: Float = Field(16.0, gt=0.0, le=64.0, description="the band outside a triangle is cut at "
                               "this many pixels (heavy-tailed families, e.g. cauchy, reach further)")
    layers: Int = Field(32, ge=1, le=256, description="fragments composited per sample (the nearest)")

    @model_validator(mode="after")
    def _mlp_weights(self):
        if self.mlp is not None and len(self.mlp) != WEIGHTS:
            raise ValueError(f"mlp: needs {WEIGHTS} weights, got {len(self.mlp)}")
        return self


class SoftAggregate(Strict):
    """How a sample's coverages and colours combine (docs/soft.md, "Aggregation")."""

    conorm: Literal[tuple(CONORMS)] = Field("probabilistic", description="the t-conorm folding a sample's "
                                            "coverages into its silhouette A")
    p: Float = Field(1.0, ge=0.0, le=20.0, description="the t-conorm's parameter (hamacher >= 0; yager, dombi > 0)")
    p_final: Float | None = Field(None, ge=0.0, le=20.0, description="p at the last iteration (linear); null: p stays")
    color: Literal[tuple(COLOR_MODES)] = Field(
        "composite", description="composite: alpha compositing front to back (needs conorm probabilistic); "
        "zbuffer: A times the colour of the nearest triangle the sample is inside of, over the background; "
        "softmax: weights coverage * exp((z - z_max) / gamma), z = 1 - window depth, with a background term; "
        "softmax_silhouette: those weights without the background's, times A, over the background")
    log_gamma: Float = Field(-4.0, ge=-8.0, le=1.0, description="log10 of the softmax temperature gamma")
    log_gamma_final: Float | None = Field(None, ge=-8.0, le=1.0, description="log10 gamma at the last "
                                          "iteration (linear in log gamma); null: gamma stays")
    background_depth: Float = Field(1e-3, ge=0.0, lt=1.0, description="softmax: the background's z")

    @model_validator(mode="after")
    def _consistent(self):
        if self.color == "composite" and self.conorm != "probabilistic":
            raise ValueError(f"color: composite aggregates by the probabilistic t-conorm; conorm {self.conorm} "
                             "needs color zbuffer or softmax")
        if self.color == "softmax" and self.conorm != "probabilistic":
            raise ValueError(f"conorm: softmax colour weighs coverages by depth and takes no t-conorm; conorm "
                             f"{self.conorm} needs color zbuffer")
        for key in ("p", "p_final"):
            v = getattr(self, key)
            if v is not None and self.conorm in ("yager", "dombi") and v <= 0.0:
                raise ValueError(f"{key}: the {self.conorm} t-conorm needs p > 0")
        return self


class SoftConfig(SoupConfig):
    kind: Literal["soft"] = "soft"
    coverage: SoftCoverage = SoftCoverage()
    aggregate: SoftAggregate = SoftAggregate()
    gradient: Literal["analytic", "sge"] = Field(
        "analytic", description="positions and colours: analytic = exact derivatives of the soft image "
        "(G, soft_analytic.glsl; they are not perturbed), sge = the estimator's; depths and opacity use SGE")

    @model_validator(mode="after")
    def _resample(self):
        if self.gradient == "analytic" and self.resample.every > 0:
            raise ValueError("resample: re-placing triangles needs gradient: sge (exact gradients keep no "
                             "per-triangle signal)")
        return self


class SoftMeshConfig(MeshConfig):
    """An indexed mesh (the mesh kind's inputs, shading and regularizers) drawn by the soft
    rasterizer; no opacity, displacement or PBR maps."""

    kind: Literal["soft_mesh"] = "soft_mesh"
    coverage: SoftCoverage = SoftCoverage()
    aggregate: SoftAggregate = SoftAggregate()

    @model_validator(mode="after")
    def _plain_mesh(self):
        for key, used in (("opacity", self.opacity.enabled), ("displacement", self.displacement is not None),
                          ("material", self.material is not None or self.shading.model == "pbr")):
            if used:
                raise ValueError(f"{key}: the soft rasterizer draws plain meshes (vertex colours or a texture, "
                                 "unlit or lambert)")
        return self
