"""The job's ``scene`` section for ``kind: soft``: a triangle soup drawn by the soft rasterizer
(docs/soft.md): every triangle covers the pixels within a band around it by a CDF of the signed
distance to its nearest edge."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...schema import Float, Int, Strict
from ..soup.config import SoupConfig

# glsl/scene/soft/soft_coverage.glsl's SOFT_* family numbers (the learned MLP is not offered here yet)
CDF_FAMILIES = {"hard": 0, "uniform": 1, "hermite": 2, "logistic": 3, "gaussian": 4, "laplace": 5, "cauchy": 6,
                "exponential": 7, "exponential_rev": 8, "gamma": 9}


class SoftCoverage(Strict):
    """Coverage = cdf(d / tau), d the signed distance (NDC, inside positive) from the pixel
    centre to the triangle's nearest edge, tau = 10^log_tau; the coverages of a sample are
    aggregated by the probabilistic t-conorm (front-to-back alpha compositing)."""

    cdf: Literal[tuple(CDF_FAMILIES)] = Field("logistic", description="the CDF family")
    log_tau: Float = Field(-2.0, ge=-6.0, le=0.0, description="log10 of the softness scale tau (NDC units)")
    shape: Float = Field(2.0, gt=0.0, le=10.0, description="the gamma family's shape p")
    band_pixels: Float = Field(16.0, gt=0.0, le=64.0, description="the band outside a triangle is cut at "
                               "this many pixels (heavy-tailed families, e.g. cauchy, reach further)")
    layers: Int = Field(32, ge=1, le=256, description="fragments composited per sample (the nearest)")


class SoftConfig(SoupConfig):
    kind: Literal["soft"] = "soft"
    coverage: SoftCoverage = SoftCoverage()
