"""The scenario and plan languages as frozen pydantic models: hazards, actions, resources, MSEL, rubric."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from ..city import ASSET_TYPES, FragilityCurve
from .basics import (
    PLAN_FORMAT,
    SCENARIO_FORMAT,
    Dist,
    Hours,
    Id,
    Money,
    Share,
    Target,
    Text,
    _Model,
)

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
    #: hours from detection until the targets come back without help from the player (the
    #: utility's own or the vendor's recovery).
    recovery_h: Dist
    #: the attack's effect: the target stops (shutdown) or keeps running but unsafe (tamper).
    effect: Literal["shutdown", "tamper"] = "shutdown"
    #: IT incident response (optional): hours a crew with the ``it`` skill needs on site to restore
    #: one target once the attack is detected (drawn per job).  Given, the player's IT crews can end
    #: the outage before ``recovery_h``; left out, the targets stay down for ``recovery_h`` whatever
    #: the player does.
    incident_response_h: Dist | None = None


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
    "request_mutual_aid", "close_road", "reopen_road", "set_priorities", "open_surge_beds",
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
    #: open_surge_beds: beds added, as a share of the hospital's normal beds.
    surge_share: Share = 0.2


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
        # Off unless a scenario enables it (older scenarios keep their action menus).  Surge
        # capacity of ~20 % of staffed beds within hours (cancel elective admissions, early
        # discharge, staff called in) is the usual hospital surge-plan target (L); France
        # nearly doubled its ICU beds (+95 %), but over weeks [RD].
        "open_surge_beds": ActionSpec(enabled=False, cost=40000, lead_time_h=4.0, surge_share=0.2),
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
    open_surge_beds: ActionSpec = _default_actions()["open_surge_beds"]

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
    #: crews without orders follow the utility's own restoration order (critical facilities
    #: first, then the repair that brings back the most people per repair hour), as utilities
    #: do; false: crews wait for orders (an exercise about crews).
    utility_restoration: bool = True


class WaterSystem(_Model):
    """What happens to a district's taps after its water supply was lost (defaults from the reference data)."""

    #: hours for water to reach the taps again once supply returns to a district whose taps ran
    #: dry; a shorter dry spell refills sooner (the wait is the shorter of the two).  Treated
    #: water takes 24 h or more to reach the taps [RD: water system].
    refill_h: Hours = 24.0
    #: hours of a boil-water notice once water is back after the mains ran dry: the pipes are
    #: flushed before tap water is safe again [RD: ~72 h of flushing].  0: no notice.
    boil_water_h: Hours = 72.0


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
    "boil_water": "person-hours under boil-water notices (after taps ran dry)",
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
    #: after the last decision hour (duration_h) the run fast-forwards, with the crews at work and
    #: no more decisions, until every service is back (or this many hours more): the recovery a
    #: learner's restoration choices set in motion counts in the score.  0: the run ends at duration_h.
    recovery_h: float = Field(default=21 * 24, ge=0, le=24 * 60, allow_inf_nan=False)
    decision_points: DecisionPoints = DecisionPoints()
    hazards: tuple[HazardSpec, ...] = Field(min_length=1)
    fragility: dict[Literal[HAZARD_TYPES], dict[Literal[ASSET_TYPES], tuple[FragilityCurve, ...]]] = Field(  # type: ignore[valid-type]
        default_factory=dict
    )
    repair_times: dict[Literal[ASSET_TYPES], RepairTime] = Field(default_factory=dict)  # type: ignore[valid-type]
    resources: Resources = Resources()
    water: WaterSystem = WaterSystem()
    actions: Actions = Actions()
    msel: tuple[Inject, ...] = ()
    questions: tuple[Question, ...] = ()
    rubric: Rubric
    reference_plans: ReferencePlans = ReferencePlans()

    _source_path: str = PrivateAttr(default="<scenario>")
    _source_sha256: str = PrivateAttr(default="")
    _source_text: str = PrivateAttr(default="")
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)
    _memo: dict[Any, Any] = PrivateAttr(default_factory=dict)  # derived texts; the model is frozen

    @property
    def source_path(self) -> str:
        return self._source_path

    @property
    def source_sha256(self) -> str:
        """SHA-256 of the scenario file's text (or of its canonical JSON if built in code)."""
        if not self._source_sha256:
            memo = self._derived()
            digest = memo.get("sha256")
            if digest is None:
                text = json.dumps(self.model_dump(mode="json"), sort_keys=True)
                digest = memo["sha256"] = hashlib.sha256(text.encode()).hexdigest()
            return digest
        return self._source_sha256

    def _derived(self) -> dict[Any, Any]:
        """Texts derived from this frozen model, made once.  A copy (``model_copy(update=...)``) shares the
        private dict it came with, so the dict names its owner and a copy starts its own."""
        if self._memo.get("owner") is not self:
            self._memo = {"owner": self}
        return self._memo

    def fragility_text(self, hazard: str) -> str:
        """Canonical JSON of this scenario's fragility curves for ``hazard``: the key of tables made from them."""
        memo = self._derived()
        text = memo.get(("fragility", hazard))
        if text is None:
            text = memo[("fragility", hazard)] = json.dumps(
                self.model_dump(mode="json", include={"fragility"})["fragility"].get(hazard), sort_keys=True)
        return text

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
