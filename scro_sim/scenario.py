"""The lecturer's language: scenarios and response plans as validated, frozen pydantic models.

Loading follows Ciw's order: read safely (:mod:`scro_sim.yamlio`), validate types, fill
defaults, cross-check against the city, and only then hand a model to anyone.  Every
problem comes back as ``path:line: field: message``.  ``scenarios/README.md`` is the
authoring guide for every field here.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)

from .city import ASSET_TYPES, City, FragilityCurve, load_city
from .errors import CityModelError, PlanError, Problem, ScenarioError, YamlError
from .yamlio import Loaded, field_path, load_yaml, problems_from_pydantic

__all__ = [
    "ACTION_KINDS",
    "LANGUAGES",
    "METRICS",
    "ActionSpec",
    "Condition",
    "Dist",
    "Inject",
    "Plan",
    "Scenario",
    "Text",
    "check_plan",
    "check_scenario_city",
    "load_plan",
    "load_scenario",
    "parse_plan",
    "parse_scenario",
    "plan_schema",
    "sample",
    "scenario_schema",
    "text_in",
]

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
        return float(rng.triangular(d.low, d.mode, d.high))
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


def dist_mean(d: Any) -> float:
    if isinstance(d, int | float):
        return float(d)
    if isinstance(d, Fixed):
        return d.value
    if isinstance(d, Uniform):
        return (d.low + d.high) / 2
    if isinstance(d, Triangular):
        return (d.low + d.mode + d.high) / 3
    if isinstance(d, Normal):
        return d.mean
    if isinstance(d, LogNormal):
        return d.median * math.exp(d.beta**2 / 2)
    return d.mean


# --------------------------------------------------------------------------------------------
# Hazards


class _Hazard(_Model):
    id: Id
    name: Text | None = None


class FloodHazard(_Hazard):
    """A riverine flood: the city's river gauge rises, peaks and recedes; water spreads by elevation."""

    type: Literal["flood"]
    base_stage_m: Dist = 1.0
    peak_stage_m: Dist
    rise_start_h: Dist = 0.0
    time_to_peak_h: Dist
    recession_h: Dist
    zones: tuple[Id, ...] = Field(min_length=1)
    #: depth (m) at which a road is closed to crews.
    road_closure_depth_m: float = Field(default=0.3, gt=0, le=5, allow_inf_nan=False)
    #: hours between hazard updates (water level steps).
    step_h: float = Field(default=1.0, ge=0.05, le=24, allow_inf_nan=False)


class EarthquakeHazard(_Hazard):
    type: Literal["earthquake"]
    time_h: Hours = 0.0
    epicentre: Annotated[tuple[float, float], Field(description="x, y in metres")]
    magnitude: Dist
    depth_km: float = Field(default=10.0, gt=0, le=700, allow_inf_nan=False)
    aftershock_count: Dist = 0.0
    aftershock_within_h: Hours = 48.0
    aftershock_magnitude_drop: float = Field(default=1.2, ge=0, le=5, allow_inf_nan=False)


class HeatwaveHazard(_Hazard):
    type: Literal["heatwave"]
    start_h: Hours = 0.0
    duration_h: Dist
    baseline_temp_c: float = Field(default=25.0, ge=-60, le=60, allow_inf_nan=False)
    peak_temp_c: Dist
    #: extra power demand per degree above 30 C, as a share of capacity (overload risk).
    demand_per_degree: float = Field(default=0.02, ge=0, le=1, allow_inf_nan=False)
    step_h: float = Field(default=1.0, ge=0.05, le=24, allow_inf_nan=False)


class StormHazard(_Hazard):
    type: Literal["storm"]
    start_h: Hours = 0.0
    duration_h: Dist
    centre: tuple[float, float]
    radius_km: float = Field(gt=0, le=2000, allow_inf_nan=False)
    peak_wind_ms: Dist
    step_h: float = Field(default=1.0, ge=0.05, le=24, allow_inf_nan=False)


class CyberHazard(_Hazard):
    type: Literal["cyber"]
    start_h: Dist
    targets: tuple[Id, ...] = Field(min_length=1)
    detection_delay_h: Dist = 0.5
    #: hours of IT crew work to restore each target once detected.
    recovery_h: Dist
    #: the attack's effect: the target stops (shutdown) or keeps running but unsafe (tamper).
    effect: Literal["shutdown", "tamper"] = "shutdown"


class SurgeHazard(_Hazard):
    type: Literal["surge"]
    hospitals: tuple[Id, ...] = Field(min_length=1)
    start_h: Hours = 0.0
    peak_h: Hours
    end_h: Hours
    baseline_occupancy: Share = 0.85
    peak_extra_patients: Dist
    step_h: float = Field(default=1.0, ge=0.05, le=24, allow_inf_nan=False)


HazardSpec = Annotated[
    FloodHazard | EarthquakeHazard | HeatwaveHazard | StormHazard | CyberHazard | SurgeHazard,
    Field(discriminator="type"),
]
HAZARD_TYPES = ("flood", "earthquake", "heatwave", "storm", "cyber", "surge")


# --------------------------------------------------------------------------------------------
# Conditions (inject triggers and plan rules)


class Condition(_Model):
    """Exactly one trigger: e.g. ``{gauge_above: 4.0}`` or ``{asset_on_backup: H1}``."""

    after_h: Hours | None = None
    gauge_above: float | None = Field(default=None, ge=-50, le=100, allow_inf_nan=False)
    asset_down: Id | None = None
    asset_on_backup: Id | None = None
    any_down: Literal[ASSET_TYPES] | None = None  # type: ignore[valid-type]
    any_on_backup: Literal[ASSET_TYPES] | None = None  # type: ignore[valid-type]
    district_unserved: tuple[Id, Literal["power", "water", "telecom", "health"]] | None = None
    unserved_share_above: tuple[Literal["power", "water", "telecom", "health"], Share] | None = None
    inject: Id | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        set_ = [k for k, v in self.__dict__.items() if v is not None]
        if len(set_) != 1:
            raise ValueError("a condition names exactly one trigger "
                             "(after_h, gauge_above, asset_down, asset_on_backup, any_down, any_on_backup, "
                             "district_unserved, unserved_share_above, inject)")
        return self

    @property
    def key(self) -> str:
        return next(k for k, v in self.__dict__.items() if v is not None)

    @property
    def value(self) -> Any:
        return getattr(self, self.key)


# --------------------------------------------------------------------------------------------
# Actions


ACTION_KINDS: tuple[str, ...] = (
    "dispatch_crew", "deploy_generator", "refuel", "evacuate", "warn_public", "protect_asset",
    "request_mutual_aid", "close_road", "reopen_road", "set_priorities",
)


class ActionSpec(_Model):
    """What an action costs, how long it takes to take effect, and its parameters."""

    enabled: StrictBool = True
    cost: Money = 0.0
    #: money per person for evacuations (added to ``cost``).
    cost_per_person: Money = 0.0
    lead_time_h: Hours = 0.0
    label: Text | None = None
    #: warn_public: share of warned people who act on it; evacuate: share who leave.
    compliance: Share = 0.7
    #: protect_asset: metres of temporary flood defence.
    raise_m: float = Field(default=1.0, ge=0, le=10, allow_inf_nan=False)
    #: deploy_generator / refuel: hours of fuel a delivery gives.
    fuel_hours: Hours = 24.0
    #: warn_public: warnings count as "in time" this many hours before the hazard arrives.
    warning_lead_h: Hours = 2.0


def _default_actions() -> dict[str, ActionSpec]:
    return {
        "dispatch_crew": ActionSpec(cost=1500, lead_time_h=0.25),
        "deploy_generator": ActionSpec(cost=4000, lead_time_h=2.0, fuel_hours=24),
        "refuel": ActionSpec(cost=800, lead_time_h=1.5, fuel_hours=24),
        "evacuate": ActionSpec(cost=5000, cost_per_person=25, lead_time_h=3.0, compliance=0.8),
        "warn_public": ActionSpec(cost=500, lead_time_h=0.25, compliance=0.7, warning_lead_h=2.0),
        "protect_asset": ActionSpec(cost=25000, lead_time_h=6.0, raise_m=1.0),
        "request_mutual_aid": ActionSpec(cost=0, lead_time_h=0.0),
        "close_road": ActionSpec(cost=200, lead_time_h=0.5),
        "reopen_road": ActionSpec(cost=200, lead_time_h=0.5),
        "set_priorities": ActionSpec(cost=0, lead_time_h=0.0),
    }


class Actions(_Model):
    dispatch_crew: ActionSpec = _default_actions()["dispatch_crew"]
    deploy_generator: ActionSpec = _default_actions()["deploy_generator"]
    refuel: ActionSpec = _default_actions()["refuel"]
    evacuate: ActionSpec = _default_actions()["evacuate"]
    warn_public: ActionSpec = _default_actions()["warn_public"]
    protect_asset: ActionSpec = _default_actions()["protect_asset"]
    request_mutual_aid: ActionSpec = _default_actions()["request_mutual_aid"]
    close_road: ActionSpec = _default_actions()["close_road"]
    reopen_road: ActionSpec = _default_actions()["reopen_road"]
    set_priorities: ActionSpec = _default_actions()["set_priorities"]

    @model_validator(mode="before")
    @classmethod
    def _keep_defaults(cls, data: Any) -> Any:
        """``evacuate: {cost: 10}`` changes the cost only; the other fields keep their defaults."""
        if not isinstance(data, dict):
            return data
        defaults = _default_actions()
        out: dict[str, Any] = {}
        for k, v in data.items():
            if isinstance(v, dict) and k in defaults:
                out[k] = {**defaults[k].model_dump(exclude_unset=True), **v}
            else:
                out[k] = v
        return out

    def get(self, kind: str) -> ActionSpec:
        return getattr(self, kind)


class Action(_Model):
    """One decision: ``{action: evacuate, target: D3, shelter: S1}``."""

    action: Literal[ACTION_KINDS]  # type: ignore[valid-type]
    target: Target | None = None
    #: dispatch_crew: which crew team; evacuate: the shelter; set_priorities: the order.
    crew: Id | None = None
    shelter: Id | None = None
    order: tuple[Id, ...] | None = None
    #: warn_public: the warning the learner wrote (an assessor judges it).
    message: str | None = Field(default=None, max_length=5000)


# --------------------------------------------------------------------------------------------
# Resources


class CrewTeam(_Model):
    id: Id
    count: int = Field(ge=0, le=10_000)
    depot: Id
    skills: tuple[Literal["power", "water", "telecom", "transport", "health", "it", "general"], ...] = Field(
        min_length=1
    )


class Generators(_Model):
    count: int = Field(default=0, ge=0, le=10_000)
    depot: Id | None = None
    fuel_hours: Hours = 24.0


class MutualAid(_Model):
    crews: int = Field(default=0, ge=0, le=10_000)
    skills: tuple[Literal["power", "water", "telecom", "transport", "health", "it", "general"], ...] = ("power",)
    #: hours from request to arrival (Sandy: crews on the road within 24 h).
    delay_h: Dist = 24.0
    cost: Money = 0.0
    depot: Id | None = None
    max_requests: int = Field(default=1, ge=0, le=100)


class Resources(_Model):
    budget: Money = 0.0
    currency: str = Field(default="EUR", max_length=8)
    crews: tuple[CrewTeam, ...] = ()
    generators: Generators = Generators()
    mutual_aid: MutualAid = MutualAid()


class RepairTime(_Model):
    """Repair duration by damage state, hours, normally distributed (HAZUS style)."""

    degraded: tuple[float, float] = Field(description="mean, sd in hours")
    failed: tuple[float, float] = Field(description="mean, sd in hours")

    @field_validator("degraded", "failed")
    @classmethod
    def _positive(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not (math.isfinite(v[0]) and math.isfinite(v[1]) and v[0] > 0 and v[1] >= 0 and v[0] < 1e5):
            raise ValueError("give [mean, sd] in hours with mean > 0 and sd >= 0")
        return v


# --------------------------------------------------------------------------------------------
# MSEL, discussion, rubric


class ExpectedAction(_Model):
    id: Id
    action: Literal[ACTION_KINDS]  # type: ignore[valid-type]
    #: any of these targets satisfies it (empty: any target); roads are named FROM~TO.
    targets: tuple[Target, ...] = ()
    #: hours after the inject by which it should be done.
    deadline_h: Hours
    description: Text | None = None
    #: inject id fired if the action was not taken by the deadline.
    contingency: Id | None = None
    #: count only actions taken after the inject arrived (default: a step taken earlier counts, early).
    only_after_inject: bool = False


class Inject(_Model):
    id: Id
    #: hours after start; or a condition; contingency injects have neither.
    at_h: Hours | None = None
    when: Condition | None = None
    contingency: StrictBool = False
    sender: Text
    channel: Literal["phone", "radio", "email", "sms", "social_media", "news", "sensor", "briefing", "in_person"]
    text: Text
    pause: StrictBool = False
    expected_actions: tuple[ExpectedAction, ...] = ()

    @model_validator(mode="after")
    def _one_trigger(self) -> Inject:
        n = (self.at_h is not None) + (self.when is not None) + self.contingency
        if n != 1:
            raise ValueError("an inject has exactly one trigger: at_h, when, or contingency: true")
        return self


class Question(_Model):
    id: Id
    #: asked at the decision point at this hour, or when this inject arrives.
    at_h: Hours | None = None
    at_inject: Id | None = None
    text: Text
    guidance: Text | None = None

    @model_validator(mode="after")
    def _one(self) -> Question:
        if (self.at_h is None) == (self.at_inject is None):
            raise ValueError("give at_h or at_inject (one of them)")
        return self


Rating = Literal["P", "S", "M", "U"]
RATINGS: tuple[str, ...] = ("P", "S", "M", "U")

#: Metric names a computed criterion may use; ``<X>`` parts are ids from the city/scenario.
METRICS: dict[str, str] = {
    "resilience_loss.<service>": "person-hours without the service (power, water, telecom, health)",
    "resilience_loss_vulnerable.<service>": "vulnerable-weighted person-hours without the service",
    "resilience_loss.total": "person-hours summed over services",
    "downtime.<asset>": "hours the asset was not working",
    "critical_downtime": "hours summed over critical facilities",
    "recovery_95.<service>": "hours until 95 % of people have the service back",
    "people_at_risk": "people in the hazard footprint without warning or evacuation in time",
    "people_at_risk_vulnerable": "vulnerable people at risk",
    "cost": "money spent",
    "cost_share": "money spent / budget",
    "timeliness.<expected>": "hours late against the deadline (negative = early; missing = not done)",
    "expected_done_share": "share of MSEL expected actions done by their deadline",
    "relative.<metric>": "0 = as bad as the baseline plan, 1 = as good as the expert plan",
}


class RatingTexts(_Model):
    P: Text
    S: Text
    M: Text
    U: Text


class Thresholds(_Model):
    """Boundaries between ratings: with ``lower_is_better``, value <= P is P, <= S is S..."""

    P: float = Field(allow_inf_nan=False)
    S: float = Field(allow_inf_nan=False)
    M: float = Field(allow_inf_nan=False)


class Criterion(_Model):
    id: Id
    title: Text
    kind: Literal["computed", "judged"]
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False)
    outcome: Id
    metric: str | None = Field(default=None, max_length=200)
    thresholds: Thresholds | None = None
    lower_is_better: StrictBool = True
    #: judged: what the assessor reads: warnings, rationales, or an answer (``answer:Q1``).
    evidence: str | None = Field(default=None, max_length=200)
    guidance: RatingTexts | None = None
    feedback: RatingTexts

    @model_validator(mode="after")
    def _kind_fields(self) -> Criterion:
        if self.kind == "computed":
            if self.metric is None or self.thresholds is None:
                raise ValueError("a computed criterion needs metric and thresholds")
            t = self.thresholds
            ok = (t.P <= t.S <= t.M) if self.lower_is_better else (t.P >= t.S >= t.M)
            if not ok:
                raise ValueError("thresholds must be ordered P, S, M "
                                 + ("ascending (lower is better)" if self.lower_is_better else "descending"))
        else:
            if self.evidence is None or self.guidance is None:
                raise ValueError("a judged criterion needs evidence and guidance for the assessor")
            if not (self.evidence in ("warnings", "rationales") or self.evidence.startswith("answer:")):
                raise ValueError("evidence is 'warnings', 'rationales' or 'answer:<question id>'")
        return self


class Rubric(_Model):
    pass_mark: float = Field(default=60, ge=0, le=100, allow_inf_nan=False)
    points: dict[Rating, float] = Field(default_factory=lambda: {"P": 1.0, "S": 0.75, "M": 0.4, "U": 0.0})
    criteria: tuple[Criterion, ...] = Field(min_length=1)


class LearningOutcome(_Model):
    id: Id
    module: Id
    text: Text


class DecisionPoints(_Model):
    times_h: tuple[Hours, ...] = ()
    every_h: float | None = Field(default=None, ge=0.05, le=24 * 30, allow_inf_nan=False)
    at_injects: StrictBool = True


# --------------------------------------------------------------------------------------------
# Plans


class Rule(_Model):
    id: Id | None = None
    when: Condition
    do: tuple[Action, ...] = Field(min_length=1)
    once: StrictBool = True


class Plan(_Model):
    """A response plan: what to do at the start, restoration priorities, and trigger rules."""

    format: Literal["scro-plan/1"] = PLAN_FORMAT
    scenario: Id | None = None
    title: Text = "Response plan"
    prepositioning: tuple[Action, ...] = ()
    priorities: tuple[Id, ...] = ()
    rules: tuple[Rule, ...] = ()
    #: hours between rule checks (rules also run at every decision point).
    check_every_h: float = Field(default=1.0, ge=0.1, le=24, allow_inf_nan=False)
    rationale: str = Field(default="", max_length=5000)


class ReferencePlans(_Model):
    baseline: Literal["do_nothing", "greedy"] | Plan = "do_nothing"
    expert: Plan | None = None


# --------------------------------------------------------------------------------------------
# The scenario


class Scenario(_Model):
    """One exercise, as the lecturer wrote it (validated; cross-checked with its city)."""

    format: Literal["scro-scenario/1"] = SCENARIO_FORMAT
    id: Id
    version: str = Field(min_length=1, max_length=32)
    title: Text
    summary: Text
    briefing: Text | None = None
    level: Literal["beginner", "intermediate", "advanced"]
    expected_minutes: StrictInt = Field(ge=1, le=24 * 60)
    modules: tuple[Id, ...] = Field(min_length=1)
    learning_outcomes: tuple[LearningOutcome, ...] = Field(min_length=1)
    city: str = Field(min_length=1, max_length=500)
    start: datetime
    duration_h: float = Field(gt=0, le=24 * 60, allow_inf_nan=False)
    decision_points: DecisionPoints = DecisionPoints()
    hazards: tuple[HazardSpec, ...] = Field(min_length=1)
    fragility: dict[Literal[HAZARD_TYPES], dict[Literal[ASSET_TYPES], tuple[FragilityCurve, ...]]] = Field(  # type: ignore[valid-type]
        default_factory=dict
    )
    repair_times: dict[Literal[ASSET_TYPES], RepairTime] = Field(default_factory=dict)  # type: ignore[valid-type]
    resources: Resources = Resources()
    actions: Actions = Actions()
    msel: tuple[Inject, ...] = ()
    questions: tuple[Question, ...] = ()
    rubric: Rubric
    reference_plans: ReferencePlans = ReferencePlans()

    _source_path: str = PrivateAttr(default="<scenario>")
    _source_sha256: str = PrivateAttr(default="")
    _source_text: str = PrivateAttr(default="")
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)

    @property
    def source_path(self) -> str:
        return self._source_path

    @property
    def source_sha256(self) -> str:
        """SHA-256 of the scenario file's text (or of its canonical JSON if built in code)."""
        if not self._source_sha256:
            text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
            return hashlib.sha256(text.encode()).hexdigest()
        return self._source_sha256

    @property
    def source_text(self) -> str:
        return self._source_text

    def decision_times(self) -> list[float]:
        """Scheduled decision points (hours), sorted, within the run; injects may add more."""
        times = {0.0, *self.decision_points.times_h}
        if self.decision_points.every_h:
            t = 0.0
            while t < self.duration_h - 1e-9:
                times.add(round(t, 9))
                t += self.decision_points.every_h
        return sorted(x for x in times if x < self.duration_h)

    def inject(self, inject_id: str) -> Inject | None:
        return next((i for i in self.msel if i.id == inject_id), None)


# --------------------------------------------------------------------------------------------
# Cross-checks


def _scenario_problems(sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    dur = sc.duration_h

    def dupes(items: Iterable[Any], key: tuple[Any, ...], kind: str) -> None:
        seen: set[str] = set()
        for i, it in enumerate(items):
            if it.id in seen:
                out.append(((*key, i, "id"), f"duplicate {kind} id {it.id!r}"))
            seen.add(it.id)

    dupes(sc.hazards, ("hazards",), "hazard")
    floods = [i for i, h in enumerate(sc.hazards) if isinstance(h, FloodHazard)]
    for i in floods[1:]:
        out.append((("hazards", i, "type"), "only one flood per scenario: the city has one river gauge "
                    "(model a bigger flood with a higher peak_stage_m)"))
    dupes(sc.msel, ("msel",), "inject")
    dupes(sc.questions, ("questions",), "question")
    dupes(sc.rubric.criteria, ("rubric", "criteria"), "criterion")
    dupes(sc.learning_outcomes, ("learning_outcomes",), "learning outcome")
    dupes(sc.resources.crews, ("resources", "crews"), "crew team")
    expected_ids = [e for inj in sc.msel for e in inj.expected_actions]
    dupes(expected_ids, ("msel",), "expected action")
    for i, lo in enumerate(sc.learning_outcomes):
        if lo.module not in sc.modules:
            out.append((("learning_outcomes", i, "module"), f"module {lo.module!r} is not in modules"))
    for i, t in enumerate(sc.decision_points.times_h):
        if t >= dur:
            out.append((("decision_points", "times_h", i), f"{t} h is not inside the {dur} h scenario"))
    inject_ids = {i.id: i for i in sc.msel}
    for i, inj in enumerate(sc.msel):
        if inj.at_h is not None and inj.at_h >= dur:
            out.append((("msel", i, "at_h"), f"{inj.at_h} h is not inside the {dur} h scenario"))
        if inj.when is not None:
            out.extend((("msel", i, "when", *loc[1:]), m) for loc, m in _condition_problems(inj.when, sc, city))
            if inj.when.inject is not None and inj.when.inject == inj.id:
                out.append((("msel", i, "when", "inject"), "an inject cannot trigger itself"))
        for j, ea in enumerate(inj.expected_actions):
            if not sc.actions.get(ea.action).enabled:
                out.append((("msel", i, "expected_actions", j, "action"), f"action {ea.action!r} is disabled"))
            if ea.contingency is not None and ea.contingency == inj.id:
                out.append((("msel", i, "expected_actions", j, "contingency"),
                            "a contingency cannot be its own inject: it would fire again and again (a loop)"))
            elif ea.contingency is not None:
                target = inject_ids.get(ea.contingency)
                if target is None:
                    out.append((("msel", i, "expected_actions", j, "contingency"),
                                f"unknown inject {ea.contingency!r}"))
                elif not target.contingency:
                    out.append((("msel", i, "expected_actions", j, "contingency"),
                                f"inject {ea.contingency!r} must say contingency: true"))
            for k, tg in enumerate(ea.targets):
                if city is not None and not _target_exists(tg, city):
                    out.append((("msel", i, "expected_actions", j, "targets", k), f"unknown target {tg!r}"))
    # inject trigger chains (when: {inject: X}) and contingency chains must not loop
    out.extend(_inject_cycles(sc))
    for i, q in enumerate(sc.questions):
        if q.at_inject is not None and q.at_inject not in inject_ids:
            out.append((("questions", i, "at_inject"), f"unknown inject {q.at_inject!r}"))
        if q.at_h is not None and q.at_h >= dur:
            out.append((("questions", i, "at_h"), f"{q.at_h} h is not inside the {dur} h scenario"))
        if q.at_h is not None and q.at_h not in sc.decision_times():
            out.append((("questions", i, "at_h"), f"no decision point at {q.at_h} h "
                        f"(decision points: {', '.join(f'{t:g}' for t in sc.decision_times())})"))
    outcomes = {lo.id for lo in sc.learning_outcomes}
    question_ids = {q.id for q in sc.questions}
    expected = {e.id for e in expected_ids}
    for i, c in enumerate(sc.rubric.criteria):
        if c.outcome not in outcomes:
            out.append((("rubric", "criteria", i, "outcome"), f"unknown learning outcome {c.outcome!r}"))
        if c.kind == "computed" and c.metric is not None:
            msg = metric_problem(c.metric, city, expected)
            if msg:
                out.append((("rubric", "criteria", i, "metric"), msg))
        if (c.kind == "judged" and c.evidence and c.evidence.startswith("answer:")
                and c.evidence[len("answer:"):] not in question_ids):
            out.append((("rubric", "criteria", i, "evidence"), f"unknown question {c.evidence[7:]!r}"))
    for i, h in enumerate(sc.hazards):
        out.extend(_hazard_problems(("hazards", i), h, sc, city))
    if city is not None:
        for i, team in enumerate(sc.resources.crews):
            out.extend(_depot_problem(("resources", "crews", i, "depot"), team.depot, city))
        if sc.resources.generators.depot is not None:
            out.extend(_depot_problem(("resources", "generators", "depot"), sc.resources.generators.depot, city))
        if sc.resources.mutual_aid.depot is not None:
            out.extend(_depot_problem(("resources", "mutual_aid", "depot"), sc.resources.mutual_aid.depot, city))
    if sc.resources.mutual_aid.crews and not sc.resources.crews and sc.resources.mutual_aid.depot is None:
        out.append((("resources", "mutual_aid", "depot"), "mutual aid needs a depot when there are no crew teams"))
    for name, plan in (("baseline", sc.reference_plans.baseline), ("expert", sc.reference_plans.expert)):
        if isinstance(plan, Plan):
            out.extend((("reference_plans", name, *loc), m) for loc, m in _plan_problems(plan, sc, city))
    return out


def _target_exists(tg: str, city: City) -> bool:
    return tg in city.asset_index or tg in city.district_index or tg == "all" or _edge_index(tg, city) is not None


def _depot_problem(loc: tuple[Any, ...], depot: str, city: City) -> list[tuple[tuple[Any, ...], str]]:
    i = city.asset_index.get(depot)
    if i is None:
        return [(loc, f"unknown depot asset {depot!r}")]
    if city.asset_type[i] not in ("depot", "fire_station", "eoc"):
        return [(loc, f"{depot!r} is a {city.asset_type[i]}, not a depot")]
    return []


def _hazard_problems(loc: tuple[Any, ...], h: Any, sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    dur = sc.duration_h
    for name in ("time_h", "start_h", "rise_start_h", "peak_h", "end_h"):
        v = getattr(h, name, None)
        if v is not None:
            lo, _hi = dist_bounds(v)
            if lo < 0:
                out.append(((*loc, name), "time cannot be negative"))
            elif lo >= dur:
                out.append(((*loc, name), f"{lo:g} h is not inside the {dur:g} h scenario"))
    for name in ("time_to_peak_h", "recession_h", "duration_h", "recovery_h", "detection_delay_h"):
        v = getattr(h, name, None)
        if v is not None and dist_bounds(v)[0] < 0:
            out.append(((*loc, name), "duration cannot be negative"))
    if isinstance(h, FloodHazard):
        if city is not None:
            if city.river is None:
                out.append((loc, "a flood needs the city to have a river (with its gauge)"))
            for k, z in enumerate(h.zones):
                if z not in city.zone_ids:
                    out.append(((*loc, "zones", k), f"unknown zone {z!r}"))
        if dist_bounds(h.peak_stage_m)[0] < 0:
            out.append(((*loc, "peak_stage_m"), "stage cannot be negative"))
    if isinstance(h, SurgeHazard):
        if not h.start_h <= h.peak_h <= h.end_h:
            out.append((loc, "need start_h <= peak_h <= end_h"))
        if city is not None:
            for k, a in enumerate(h.hospitals):
                if a not in city.asset_index:
                    out.append(((*loc, "hospitals", k), f"unknown asset {a!r}"))
                elif city.asset_type[city.asset_index[a]] != "hospital":
                    out.append(((*loc, "hospitals", k), f"{a!r} is not a hospital"))
    if isinstance(h, CyberHazard) and city is not None:
        for k, a in enumerate(h.targets):
            if a not in city.asset_index:
                out.append(((*loc, "targets", k), f"unknown asset {a!r}"))
    return out


def _condition_problems(c: Condition, sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    k = c.key
    if k in ("asset_down", "asset_on_backup") and city is not None and c.value not in city.asset_index:
        out.append(((None, k), f"unknown asset {c.value!r}"))
    if k == "district_unserved" and city is not None and c.value[0] not in city.district_index:
        out.append(((None, k), f"unknown district {c.value[0]!r}"))
    if k == "inject" and sc.inject(c.value) is None:
        out.append(((None, k), f"unknown inject {c.value!r}"))
    if k == "after_h" and c.value >= sc.duration_h:
        out.append(((None, k), f"{c.value:g} h is not inside the {sc.duration_h:g} h scenario"))
    if k == "gauge_above" and not any(isinstance(h, FloodHazard) for h in sc.hazards):
        out.append(((None, k), "gauge_above needs a flood hazard"))
    return out


def _inject_cycles(sc: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    import networkx as nx

    g = nx.DiGraph()
    index = {inj.id: i for i, inj in enumerate(sc.msel)}
    for inj in sc.msel:
        g.add_node(inj.id)
        if inj.when is not None and inj.when.inject is not None and inj.when.inject in index:
            g.add_edge(inj.when.inject, inj.id)
        for ea in inj.expected_actions:
            if ea.contingency in index:
                g.add_edge(inj.id, ea.contingency)
    out = []
    for comp in sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1):
        out.append((("msel", index[comp[0]]),
                    f"injects trigger each other in a loop: {' -> '.join([*comp, comp[0]])}"))
    return out


def metric_problem(metric: str, city: City | None, expected: set[str]) -> str | None:
    """Why ``metric`` is not a metric name scoring knows, or None if it is."""
    from .city import DISTRICT_SERVICES

    name = metric[len("relative."):] if metric.startswith("relative.") else metric
    head, _, arg = name.partition(".")
    if head in ("resilience_loss", "resilience_loss_vulnerable", "recovery_95"):
        allowed = (*DISTRICT_SERVICES, "total") if head == "resilience_loss" else DISTRICT_SERVICES
        if arg not in allowed:
            return f"{head} takes a service: {', '.join(allowed)}"
        return None
    if head == "downtime":
        if city is not None and arg not in city.asset_index:
            return f"unknown asset {arg!r}"
        return None if arg else "downtime takes an asset id: downtime.H1"
    if head == "timeliness":
        return None if arg in expected else f"unknown expected action {arg!r}"
    if name in ("critical_downtime", "people_at_risk", "people_at_risk_vulnerable", "cost", "cost_share",
                "expected_done_share"):
        return None
    return f"unknown metric {metric!r}; known: " + ", ".join(METRICS)


def _plan_problems(plan: Plan, sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    if plan.scenario is not None and plan.scenario != sc.id:
        out.append((("scenario",), f"plan is for scenario {plan.scenario!r}, not {sc.id!r}"))
    for i, a in enumerate(plan.prepositioning):
        out.extend((("prepositioning", i, *loc), m) for loc, m in action_problems(a, sc, city))
    for i, r in enumerate(plan.rules):
        out.extend((("rules", i, "when", *loc[1:]), m) for loc, m in _condition_problems(r.when, sc, city))
        for j, a in enumerate(r.do):
            out.extend((("rules", i, "do", j, *loc), m) for loc, m in action_problems(a, sc, city, in_rule=True))
    if city is not None:
        for i, p in enumerate(plan.priorities):
            if p not in city.asset_index:
                out.append((("priorities", i), f"unknown asset {p!r}"))
    return out


def action_problems(a: Action, sc: Scenario, city: City | None, *, in_rule: bool = False
                    ) -> list[tuple[tuple[Any, ...], str]]:
    """Static problems with one action (exists, enabled, targets the right kind of thing).

    ``$asset``/``$district`` targets are allowed in plan rules: the asset or district that
    triggered the rule.
    """
    out: list[tuple[tuple[Any, ...], str]] = []
    spec = sc.actions.get(a.action)
    if not spec.enabled:
        out.append((("action",), f"action {a.action!r} is not enabled in this scenario"))
    needs_asset = a.action in ("dispatch_crew", "deploy_generator", "refuel", "protect_asset")
    needs_district = a.action == "evacuate"
    t = a.target
    if (needs_asset or needs_district or a.action in ("close_road", "reopen_road")) and t is None:
        out.append((("target",), f"{a.action} needs a target"))
    if city is not None and t is not None and not (in_rule and t in ("$asset", "$district")):
        if needs_asset and t not in city.asset_index:
            out.append((("target",), f"unknown asset {t!r}"))
        if needs_district and t not in city.district_index:
            out.append((("target",), f"unknown district {t!r}"))
        if a.action == "warn_public" and t != "all" and t not in city.district_index:
            out.append((("target",), f"unknown district {t!r} (or 'all')"))
        if a.action in ("close_road", "reopen_road") and _edge_index(t, city) is None:
            out.append((("target",), f"unknown road {t!r}; name a road as FROM~TO (e.g. N1~N2)"))
    if a.action == "evacuate":
        if a.shelter is None:
            out.append((("shelter",), "evacuate needs a shelter"))
        elif city is not None:
            i = city.asset_index.get(a.shelter)
            if i is None or city.asset_type[i] != "shelter":
                out.append((("shelter",), f"{a.shelter!r} is not a shelter"))
    if a.action == "set_priorities":
        if not a.order:
            out.append((("order",), "set_priorities needs an order (a list of asset ids)"))
        elif city is not None:
            for k, x in enumerate(a.order):
                if x not in city.asset_index:
                    out.append((("order", k), f"unknown asset {x!r}"))
    if a.crew is not None and a.crew not in {c.id for c in sc.resources.crews}:
        out.append((("crew",), f"unknown crew team {a.crew!r}"))
    return out


def _edge_index(name: str, city: City) -> int | None:
    a, sep, b = name.partition("~")
    if not sep or a not in city.road_index or b not in city.road_index:
        return None
    ia, ib = city.road_index[a], city.road_index[b]
    hits = np.nonzero(((city.edge_u == ia) & (city.edge_v == ib)) | ((city.edge_u == ib) & (city.edge_v == ia)))[0]
    return int(hits[0]) if len(hits) else None


def edge_index(name: str, city: City) -> int | None:
    """Index of road ``FROM~TO`` in the city's edge arrays, or None."""
    return _edge_index(name, city)


# --------------------------------------------------------------------------------------------
# Loading


def _locate(problems: list[tuple[tuple[Any, ...], str]], loaded: Loaded, prefix: tuple[Any, ...] = ()
            ) -> list[Problem]:
    out = []
    for loc, msg in problems:
        loc = tuple(x for x in prefix + loc if x is not None)
        out.append(Problem(loaded.path, loaded.line_of(loc), field_path(loc), msg))
    return sorted(set(out), key=lambda p: (p.line or 0, p.field, p.message))


def resolve_city_path(sc: Scenario, base: Path | None) -> Path:
    """Where the scenario's city file is: a path relative to the scenario, or an id in city_models/."""
    p = Path(sc.city)
    candidates = []
    if base is not None and not p.is_absolute():
        candidates.append(base / p)
    candidates.append(p)
    # then by name in the city folders: $SCRO_SIM_CITY_PATH (os.pathsep-separated), bundled city_models/
    import os

    folders = [Path(x) for x in os.environ.get("SCRO_SIM_CITY_PATH", "").split(os.pathsep) if x]
    folders.append(Path(__file__).resolve().parent.parent / "city_models")
    for here in folders:
        candidates += [here / p.name, here / f"{sc.city}.yaml", here / f"{sc.city}.json"]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


def parse_scenario(data: Any, loaded: Loaded, city: City | None = None) -> Scenario:
    """Validate plain data as a scenario and cross-check it (with ``city`` if given)."""
    if not isinstance(data, dict):
        raise ScenarioError("a scenario file must be a mapping of fields (id, title, city, ...)",
                            path=loaded.path, line=1)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems=problems_from_pydantic(exc, loaded)) from None
    problems = _locate(_scenario_problems(sc, city), loaded)
    if problems:
        raise ScenarioError(problems=problems)
    sc._source_path = loaded.path
    sc._lines = loaded.lines
    return sc


def load_scenario(path: str | Path, *, city: City | None = None, text: str | None = None,
                  base_dir: Path | None = None) -> tuple[Scenario, City]:
    """Load a scenario file and its city; every problem is reported as ``path:line: field: msg``.

    ``text`` loads an in-memory upload (``path`` then only names it, and the city path is
    resolved against ``base_dir``).
    """
    label = str(path)
    try:
        loaded = load_yaml(path if text is None else None, path=label, text=text)
    except YamlError as exc:
        raise ScenarioError(problems=exc.problems) from None
    raw_text = text if text is not None else Path(path).read_text(encoding="utf-8-sig")
    # first pass without the city, so type errors come out even if the city is broken
    sc = parse_scenario(loaded.data, loaded, city)
    if city is None:
        base = Path(path).parent if text is None else base_dir
        city_path = resolve_city_path(sc, base)
        if not city_path.is_file():
            raise ScenarioError(f"city file {sc.city!r} not found (looked for {city_path})", path=label,
                                line=loaded.line_of(("city",)), field="city")
        try:
            city = load_city(city_path)
        except CityModelError as exc:
            raise ScenarioError(problems=[Problem(loaded.path, loaded.line_of(("city",)), "city",
                                                  f"the city file has problems: {p}") for p in exc.problems]) from None
    sc = parse_scenario(loaded.data, loaded, city)
    sc._source_text = raw_text
    sc._source_sha256 = hashlib.sha256(raw_text.encode("utf-8")).hexdigest()
    return sc, city


def parse_plan(data: Any, loaded: Loaded, scenario: Scenario | None = None, city: City | None = None) -> Plan:
    if not isinstance(data, dict):
        raise PlanError("a plan file must be a mapping of fields (prepositioning, priorities, rules)",
                        path=loaded.path, line=1)
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(problems=problems_from_pydantic(exc, loaded)) from None
    if scenario is not None:
        problems = _locate(_plan_problems(plan, scenario, city), loaded)
        if problems:
            raise PlanError(problems=problems)
    return plan


def load_plan(path: str | Path, scenario: Scenario | None = None, city: City | None = None, *,
              text: str | None = None) -> Plan:
    """Load a response plan and check it against its scenario and city."""
    try:
        loaded = load_yaml(path if text is None else None, path=str(path), text=text)
    except YamlError as exc:
        raise PlanError(problems=exc.problems) from None
    return parse_plan(loaded.data, loaded, scenario, city)


def check_plan(plan: Plan, scenario: Scenario, city: City | None) -> list[str]:
    """Problems with a plan built in code, as ``field: message`` strings."""
    return [f"{field_path(tuple(x for x in loc if x is not None))}: {m}" for loc, m in _plan_problems(plan, scenario, city)]


def check_scenario_city(sc: Scenario, city: City) -> list[str]:
    """Problems with a scenario built in code against ``city``."""
    return [f"{field_path(tuple(x for x in loc if x is not None))}: {m}" for loc, m in _scenario_problems(sc, city)]


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of the scenario language, for editors (yaml-language-server)."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "scro_sim scenario (scro-scenario/1)"
    return schema


def plan_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "scro_sim response plan (scro-plan/1)"
    return schema
