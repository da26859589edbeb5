"""Building blocks of the job schema shared by the core sections and the scene kinds'
config models: strict models (unknown keys rejected, no silent coercion), strict
numbers, vectors, and the settings of one parameter group."""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic import Strict as StrictType


def reject_bool(v):
    """A before-validator: true/false is not a number."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number, got {str(v).lower()}")
    return v


# Types that do not coerce: true is not 1, "5" is not 5, 2.5 is not an integer.
# Floats still accept ints and numeric strings (YAML 1.1 reads 1e-8 as a string).
Int = Annotated[int, StrictType()]
Float = Annotated[float, BeforeValidator(reject_bool)]
Bool = Annotated[bool, StrictType()]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


Vec3 = tuple[Float, Float, Float]
Range = tuple[Float, Float]


class ParamGroupConfig(Strict):
    """Perturbation size, learning rate and bounds of one parameter group."""

    eps: Optional[Float] = Field(None, gt=0, description="perturbation size; null = the group's default")
    lr: Optional[Float] = Field(None, ge=0, description="Adam learning rate; null = default")
    bounds: Optional[Range] = None
    optimize: Bool = True
    start: Int = Field(0, ge=0, le=100_000_000, description="iteration at which the group starts to be optimised; "
                       "before it the group is frozen (no perturbation, no update); 0 = from the first iteration")
    stop: Optional[Int] = Field(None, ge=1, le=100_000_000, description="iteration at which the group stops being "
                                "optimised (frozen from then on); null = at the end")

    @field_validator("bounds")
    @classmethod
    def _ordered(cls, v):
        if v is not None and not v[0] < v[1]:
            raise ValueError("bounds must be [low, high] with low < high")
        return v

    @model_validator(mode="after")
    def _window(self):
        if self.stop is not None and self.stop <= self.start:
            raise ValueError(f"stop ({self.stop}) must be greater than start ({self.start})")
        return self
