"""Field types every part of the language uses, texts in the course's languages, uncertain numbers."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

LANGUAGES: tuple[str, ...] = ("en", "el", "de", "pt")
SCENARIO_FORMAT = "scro-scenario/1"
PLAN_FORMAT = "scro-plan/1"

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
#: an action target: an id, a road FROM~TO, or (in plan rules) $asset / $district.
Target = Annotated[str, Field(min_length=1, max_length=130,
                              pattern=r"^(\$asset|\$district|[A-Za-z0-9_.\-]+(~[A-Za-z0-9_.\-]+)?)$")]
Hours = Annotated[float, Field(ge=0, le=24 * 365, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# Texts in the course's languages


class LocalText(_Model):
    """A text in several languages; English is required, others fall back to it."""

    en: str = Field(min_length=1, max_length=20_000)
    el: str | None = Field(default=None, max_length=20_000)
    de: str | None = Field(default=None, max_length=20_000)
    pt: str | None = Field(default=None, max_length=20_000)


Text = Annotated[str, Field(min_length=1, max_length=20_000)] | LocalText


def text_in(text: Text | None, lang: str = "en") -> str:
    """The text in ``lang``, falling back to English."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    return getattr(text, lang, None) or text.en


# --------------------------------------------------------------------------------------------
# Uncertain numbers


class Fixed(_Model):
    dist: Literal["fixed"]
    value: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)


class Uniform(_Model):
    dist: Literal["uniform"]
    low: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)
    high: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class Triangular(_Model):
    dist: Literal["triangular"]
    low: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)
    mode: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)
    high: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self


class Normal(_Model):
    dist: Literal["normal"]
    mean: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)
    sd: float = Field(allow_inf_nan=False, ge=0, le=1e9)
    min: float | None = Field(default=None, allow_inf_nan=False)
    max: float | None = Field(default=None, allow_inf_nan=False)


class LogNormal(_Model):
    dist: Literal["lognormal"]
    median: float = Field(allow_inf_nan=False, gt=0, le=1e9)
    beta: float = Field(allow_inf_nan=False, ge=0, le=5)


class Poisson(_Model):
    dist: Literal["poisson"]
    mean: float = Field(allow_inf_nan=False, ge=0, le=1000)


Dist = Annotated[
    float | Annotated[Fixed | Uniform | Triangular | Normal | LogNormal | Poisson, Field(discriminator="dist")],
    Field(union_mode="left_to_right"),
]


def sample(d: Any, rng: np.random.Generator) -> float:
    """One draw from a :data:`Dist` (a plain number is fixed)."""
    if isinstance(d, int | float):
        return float(d)
    if isinstance(d, Fixed):
        return d.value
    if isinstance(d, Uniform):
        return float(rng.uniform(d.low, d.high))
    if isinstance(d, Triangular):
        # numpy's inverse-CDF formula underflows for supports narrower than ~1e-150 and can land
        # a hair outside [low, high] (-1.4e-163 for low=mode=0, high=3e-162); keep draws in the support.
        return min(max(float(rng.triangular(d.low, d.mode, d.high)), d.low), d.high)
    if isinstance(d, Normal):
        x = float(rng.normal(d.mean, d.sd))
        lo = d.min if d.min is not None else -math.inf
        hi = d.max if d.max is not None else math.inf
        return min(max(x, lo), hi)
    if isinstance(d, LogNormal):
        return float(d.median * math.exp(d.beta * rng.standard_normal()))
    if isinstance(d, Poisson):
        return float(rng.poisson(d.mean))
    raise TypeError(f"not a distribution: {d!r}")


def dist_bounds(d: Any) -> tuple[float, float]:
    """Smallest and largest value a :data:`Dist` can give (for range checks)."""
    if isinstance(d, int | float):
        return float(d), float(d)
    if isinstance(d, Fixed):
        return d.value, d.value
    if isinstance(d, Uniform | Triangular):
        return d.low, d.high
    if isinstance(d, Normal):
        return (d.min if d.min is not None else -math.inf), (d.max if d.max is not None else math.inf)
    if isinstance(d, LogNormal):
        return 0.0, math.inf
    return 0.0, math.inf

