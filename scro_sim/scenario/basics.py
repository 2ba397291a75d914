"""Field types every part of the language uses, texts in the course's languages, uncertain numbers."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    model_validator,
)

from ..errors import N_, Msg

LANGUAGES: tuple[str, ...] = ("en", "el", "de", "pt")
SCENARIO_FORMAT = "scro-scenario/1"
PLAN_FORMAT = "scro-plan/1"

# --------------------------------------------------------------------------------------------
# Upper bounds on every count and size (scenarios/README.md, "Limits").  Far above any real
# exercise, and low enough that a scenario and plan at every bound at once validate in about a
# second and run to the end in seconds on a small city: what a lecturer publishes or a learner
# submits is bounded work, or it is refused with ``file:line: field: message``.

MAX_HAZARDS = 20
#: injects in the MSEL (the MSEL fires chained injects in a loop, not by recursion: a chain of
#: 5,000 plays in about half a second; 2,000 keep a file at every bound under its 50,000 values)
MAX_INJECTS = 2_000
MAX_QUESTIONS = 1_000
MAX_GUIDE_STEPS = 200  # steps of a guided exercise's coach texts
MAX_CRITERIA = 200
MAX_OUTCOMES = 200  # learning outcomes, and modules
MAX_EXPECTED = 50  # expected actions per inject
MAX_IDS = 1_000  # ids listed in one field: targets, zones, hospitals
MAX_PRIORITIES = 2_000  # assets in a priority order (plan priorities, set_priorities)
MAX_DECISION_TIMES = 1_000  # hours listed in decision_points.times_h
MAX_DECISION_POINTS = 2_000  # decision points in one run (listed and every_h together)
MAX_HAZARD_STEPS = 20_000  # hazard updates in one run: duration_h / step_h, summed over the hazards
MAX_CREW_TEAMS = 50
MAX_CREWS = 500  # crews in one run: every team's count plus mutual aid's crews x max_requests
MAX_GENERATORS = 10_000
MAX_AFTERSHOCKS = 100
MAX_RULES = 100
MAX_PLAN_CHECKS = 5_000  # a plan's own checks in one run: duration_h / check_every_h
#: rule conditions tested in one run: rules x (decision points + the plan's checks).
MAX_RULE_CHECKS = 100_000
MAX_RULE_ACTIONS = 20  # actions in one rule's do
MAX_PREPOSITIONING = 200
MAX_CURVES = 4  # fragility curves for one hazard and asset type: one per damage state of the four-state scale
MAX_TEXT = 20_000  # characters in one text (the YAML reader's cap on one value, too)

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

    en: str = Field(min_length=1, max_length=MAX_TEXT)
    el: str | None = Field(default=None, max_length=MAX_TEXT)
    de: str | None = Field(default=None, max_length=MAX_TEXT)
    pt: str | None = Field(default=None, max_length=MAX_TEXT)


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)] | LocalText


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
            raise ValueError(Msg(N_("high must be at least low")))
        return self


class Triangular(_Model):
    dist: Literal["triangular"]
    low: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)
    mode: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)
    high: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError(Msg(N_("need low <= mode <= high and low < high")))
        return self


class Normal(_Model):
    dist: Literal["normal"]
    mean: float = Field(allow_inf_nan=False, ge=-1e9, le=1e9)
    sd: float = Field(allow_inf_nan=False, ge=0, le=1e9)
    min: float | None = Field(default=None, allow_inf_nan=False, ge=-1e9, le=1e9)
    max: float | None = Field(default=None, allow_inf_nan=False, ge=-1e9, le=1e9)


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



def dist_reach(d: Any) -> tuple[float, float]:
    """The values a :data:`Dist` can give in practice, for the bounds on uncertain fields.

    Exact for a number, fixed, uniform and triangular, and a normal's ``min``/``max``; an
    unbounded tail is taken to 10 standard deviations (normal: mean +- 10 sd; lognormal:
    median * e^(+-10 beta); poisson: mean + 10 sqrt(mean) + 10), which a draw passes with a
    probability below 1e-20.
    """
    if isinstance(d, Normal):
        lo = d.min if d.min is not None else d.mean - 10 * d.sd
        hi = d.max if d.max is not None else d.mean + 10 * d.sd
        return lo, max(lo, hi)
    if isinstance(d, LogNormal):
        return d.median * math.exp(-10 * d.beta), d.median * math.exp(10 * d.beta)
    if isinstance(d, Poisson):
        return 0.0, d.mean + 10 * math.sqrt(d.mean) + 10
    return dist_bounds(d)


def _within(lo: float, hi: float, unit: str) -> Any:
    def check(d: Any) -> Any:
        a, b = dist_reach(d)
        if a < lo or b > hi:
            what = "" if isinstance(d, int | float) else Msg(N_(" (its range: see scenarios/README.md, Limits)"))
            raise ValueError(Msg(N_("must lie between {lo} and {hi}{unit}{what}"), lo=f"{lo:g}", hi=f"{hi:g}",
                                 unit=unit, what=what))
        return d
    return AfterValidator(check)


def bounded_dist(lo: float, hi: float, unit: str = "") -> Any:
    """A :data:`Dist` whose every practical value (:func:`dist_reach`) lies in ``[lo, hi]``.

    The range is also written into the JSON Schema (``x-scro-range``), for editors and for the
    file formats' contract test: a number or a distribution has no single ``minimum`` to carry it.
    """
    extra = {"x-scro-range": {"min": lo, "max": hi, "unit": unit.strip()}}
    return Annotated[Dist, _within(lo, hi, unit), Field(json_schema_extra=extra)]


#: an uncertain number of hours (a time or a duration): at most a year, and not far below zero
#: (negative times and durations are refused by the cross-checks with a clearer message).
DistHours = bounded_dist(-24 * 365, 24 * 365, " h")
