"""The scenario and plan languages as frozen pydantic models: hazards, actions, resources, MSEL, rubric."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime
from types import SimpleNamespace
from typing import Annotated, Any, Literal, Union

from pydantic import (
    Field,
    PrivateAttr,
    StrictBool,
    StrictInt,
    create_model,
    field_validator,
    model_validator,
)

import scro_sim.engine.actions as _actions  # the registry sits below this package (see engine/actions)
import scro_sim.engine.hazards as _hazards  # so does the hazard registry (see engine/hazards)

from ..city import FragilityCurve
from ..errors import N_, Msg
from . import basics as _basics
from .basics import (
    MAX_CREW_TEAMS,
    MAX_CREWS,
    MAX_CRITERIA,
    MAX_CURVES,
    MAX_DECISION_TIMES,
    MAX_EXPECTED,
    MAX_GENERATORS,
    MAX_GUIDE_STEPS,
    MAX_HAZARDS,
    MAX_IDS,
    MAX_INJECTS,
    MAX_OUTCOMES,
    MAX_PREPOSITIONING,
    MAX_PRIORITIES,
    MAX_QUESTIONS,
    MAX_RULE_ACTIONS,
    MAX_RULES,
    PLAN_FORMAT,
    SCENARIO_FORMAT,
    DistHours,
    Hours,
    Id,
    Money,
    Share,
    Target,
    Text,
    _Model,
    text_in,
)

#: a point in the city's x/y metres (the city format's range).
Point = tuple[Annotated[float, Field(ge=-1e8, le=1e8, allow_inf_nan=False)],
              Annotated[float, Field(ge=-1e8, le=1e8, allow_inf_nan=False)]]

# --------------------------------------------------------------------------------------------
# Conditions (inject triggers and plan rules)


class Condition(_Model):
    """Exactly one trigger: e.g. ``{gauge_above: 4.0}`` or ``{asset_on_backup: H1}``."""

    after_h: Hours | None = None
    gauge_above: float | None = Field(default=None, ge=-50, le=100, allow_inf_nan=False)
    asset_down: Id | None = None
    asset_on_backup: Id | None = None
    any_down: Id | None = None  # an asset type the city knows (checked against it)
    any_on_backup: Id | None = None
    district_unserved: tuple[Id, Literal["power", "water", "telecom", "health"]] | None = None
    unserved_share_above: tuple[Literal["power", "water", "telecom", "health"], Share] | None = None
    inject: Id | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        set_ = [k for k, v in self.__dict__.items() if v is not None]
        if len(set_) != 1:
            raise ValueError(Msg(N_("a condition names exactly one trigger (after_h, gauge_above, asset_down, "
                                    "asset_on_backup, any_down, any_on_backup, district_unserved, "
                                    "unserved_share_above, inject)")))
        return self

    @property
    def key(self) -> str:
        return next(k for k, v in self.__dict__.items() if v is not None)

    @property
    def value(self) -> Any:
        return getattr(self, self.key)


#: the actions by which a hidden cause can come to light (``Reveal.by_action``): those the registry marks
REVEAL_BY_ACTIONS: tuple[str, ...] = tuple(n for n, k in _actions.REGISTRY.items() if k.reveals)


class Reveal(_Model):
    """When a hazard's cause shows in what the player sees (until then: ``unknown``).

    Any of: ``at`` (``detection``: when the hazard is detected, or hours since the start),
    ``on`` (a condition, as injects use), ``by_action`` (an investigating action on one of its
    targets, engine/actions/investigate.py).  The first that happens reveals it.
    """

    at: Literal["detection"] | float | None = None
    on: Condition | None = None
    by_action: Literal[REVEAL_BY_ACTIONS] | None = None  # type: ignore[valid-type]

    @field_validator("at", mode="before")
    @classmethod
    def _at_word_or_hours(cls, v: Any) -> Any:
        if v is None or v == "detection":
            return v
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 24 * 365:
            raise ValueError(Msg(N_("at is 'detection' or a number of hours from 0 to {max}, got {value!r}"),
                                 max=24 * 365, value=v))
        return float(v)

    @model_validator(mode="after")
    def _some_trigger(self) -> Reveal:
        if self.at is None and self.on is None and self.by_action is None:
            raise ValueError(Msg(N_("reveal names at least one of at (detection or hours), on (a condition) or "
                                    "by_action ({actions})"), actions=", ".join(REVEAL_BY_ACTIONS)))
        return self



# --------------------------------------------------------------------------------------------
# Hazards


class _Hazard(_Model):
    id: Id
    name: Text | None = None


# --------------------------------------------------------------------------------------------
# Hazards, built from the registry (they may start on a Condition)


def _hazard_model(kind: Any) -> Any:
    """One hazard kind's model, from its declaration in the registry (engine/hazards)."""

    def check(self: Any) -> Any:
        msg = kind.validate(self)
        if msg:
            raise ValueError(msg)
        return self

    return create_model(
        kind.model_name, __base__=_Hazard, __doc__=kind.doc or None,
        __validators__={"_kind_checks": model_validator(mode="after")(check)},
        type=(Literal[kind.name], ...), **kind.fields(_FIELD_TYPES),
        # start when a condition first holds (the inject condition language); the hazard's own hours
        # then count from that moment
        when=(Condition | None, None))


#: the field types a hazard kind declares its fields with (``HazardKind.fields``)
_FIELD_TYPES = SimpleNamespace(**{k: v for k, v in vars(_basics).items() if not k.startswith("__")}, Point=Point,
                               Condition=Condition, Reveal=Reveal)
#: hazard type -> its model, in the registry's order
HAZARD_MODELS: dict[str, Any] = {name: _hazard_model(k) for name, k in _hazards.REGISTRY.items()}
# each model is a module attribute under its class name, as pickle looks it up: a scenario goes to
# worker processes (calibrate, batch) whatever hazards it uses, the generic effects included
globals().update({m.__name__: m for m in HAZARD_MODELS.values()})
FloodHazard = HAZARD_MODELS["flood"]
EarthquakeHazard = HAZARD_MODELS["earthquake"]
HeatwaveHazard = HAZARD_MODELS["heatwave"]
StormHazard = HAZARD_MODELS["storm"]
CyberHazard = HAZARD_MODELS["cyber"]
SurgeHazard = HAZARD_MODELS["surge"]
# every model, the generic effects' too (OutageEffect...), by its class name here, so that a scenario
# pickles into a process pool (calibrate and batch workers)
globals().update({m.__name__: m for m in HAZARD_MODELS.values()})

HazardSpec = Annotated[Union[tuple(HAZARD_MODELS.values())], Field(discriminator="type")]  # noqa: UP007
#: every hazard type's name, in the registry's order (scro_sim/engine/hazards)
HAZARD_TYPES: tuple[str, ...] = _hazards.NAMES


# --------------------------------------------------------------------------------------------
# Actions


#: every learner action's name, in the registry's order (scro_sim/engine/actions)
ACTION_KINDS: tuple[str, ...] = _actions.NAMES

_PARAM_TYPES: dict[str, Any] = {
    "hours": Hours,
    "share": Share,
    "money": Money,
    "metres": Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)],
    "count": Annotated[int, Field(ge=0, le=1_000_000)],
    "factor": Annotated[float, Field(ge=1, le=100, allow_inf_nan=False)],
}


class _ActionSpecBase(_Model):
    """What an action costs, how long it takes to take effect, and its parameters."""

    enabled: StrictBool = True
    cost: Money = 0.0
    #: money per person for evacuations (added to ``cost``).
    cost_per_person: Money = 0.0
    lead_time_h: Hours = 0.0
    label: Text | None = None


#: the base fields plus every parameter a registered action reads (``fuel_hours``, ``surge_share``...)
ActionSpec = create_model(  # type: ignore[call-overload]
    "ActionSpec", __base__=_ActionSpecBase, __module__=__name__, __doc__=_ActionSpecBase.__doc__,
    **{name: (_PARAM_TYPES[p.kind], Field(default=p.default, description=p.doc or None))
       for name, p in _actions.params().items()},
)


def _default_actions() -> dict[str, Any]:
    """Each registered action's ActionSpec defaults, as its module declares them."""
    return {name: ActionSpec(**kind.defaults) for name, kind in _actions.REGISTRY.items()}


class _ActionsBase(_Model):
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

    def get(self, kind: str) -> Any:
        """The ActionSpec of action ``kind``."""
        return getattr(self, kind)


#: one ActionSpec per registered action, with the defaults its module declares
Actions = create_model(  # type: ignore[call-overload]
    "Actions", __base__=_ActionsBase, __module__=__name__,
    **{name: (ActionSpec, spec) for name, spec in _default_actions().items()},
)

_ATTRIBUTE_TYPES: dict[str, Any] = {
    "asset": Id, "district": Id, "crew": Id, "district_or_all": Id, "road": Target,
    "assets": tuple[Id, ...], "text": Annotated[str, Field(max_length=5000)],
    "count": Annotated[int, Field(ge=1, le=1_000_000)],
}


def _attribute_type(f: _actions.Field) -> Any:
    if f.kind == "choice":
        return Literal[f.choices]  # type: ignore[valid-type]
    return _ATTRIBUTE_TYPES[f.kind]


class _ActionBase(_Model):
    """One decision: ``{action: evacuate, target: D3, shelter: S1}``."""

    action: Literal[ACTION_KINDS]  # type: ignore[valid-type]
    target: Target | None = None
    #: a crew team (dispatch_crew), a shelter (evacuate), an order of asset ids (set_priorities).
    crew: Id | None = None
    shelter: Id | None = None
    order: tuple[Id, ...] | None = Field(default=None, max_length=MAX_PRIORITIES)
    #: warn_public: the warning the learner wrote (an assessor judges it).
    message: str | None = Field(default=None, max_length=5000)


#: the base attributes plus those a registered action adds (each field's kind gives its type)
Action = create_model(  # type: ignore[call-overload]
    "Action", __base__=_ActionBase, __module__=__name__, __doc__=_ActionBase.__doc__,
    **{name: (_attribute_type(f) | None, None) for name, f in _actions.extra_fields().items()},
)


# --------------------------------------------------------------------------------------------
# Resources


class CrewTeam(_Model):
    id: Id
    #: what the learner reads for the team ("Power line crews"); default: the catalogs' word for its id
    name: Text | None = None
    count: int = Field(ge=0, le=MAX_CREWS)
    depot: Id
    #: crew skills: power, water, telecom, transport, health, it, general, or a skill the city's own
    #: asset types name (``asset_types: {gas_network: {skill: gas}}``)
    skills: tuple[Id, ...] = Field(min_length=1, max_length=20)


class Generators(_Model):
    count: int = Field(default=0, ge=0, le=MAX_GENERATORS)
    depot: Id | None = None
    fuel_hours: Hours = 24.0


class MutualAid(_Model):
    crews: int = Field(default=0, ge=0, le=MAX_CREWS)
    skills: tuple[Id, ...] = Field(default=("power",), max_length=20)
    #: hours from request to arrival (Sandy: crews on the road within 24 h).
    delay_h: DistHours = 24.0  # type: ignore[valid-type]
    cost: Money = 0.0
    depot: Id | None = None
    max_requests: int = Field(default=1, ge=0, le=100)
    #: mobile generators that come with each request (a telecom operator's mast generators, say)
    generators: int = Field(default=0, ge=0, le=10_000)


class Resources(_Model):
    budget: Money = 0.0
    currency: str = Field(default="EUR", max_length=8)
    crews: tuple[CrewTeam, ...] = Field(default=(), max_length=MAX_CREW_TEAMS)
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
    """Repair duration by damage state, hours, normally distributed (HAZUS style).

    ``degraded`` and ``failed`` are the two-state scale's; the four HAZUS states are optional and
    default to degraded's hours (slight), halfway between (moderate), failed's (extensive) and
    twice failed's (complete)."""

    degraded: tuple[float, float] = Field(description="mean, sd in hours")
    failed: tuple[float, float] = Field(description="mean, sd in hours")
    slight: tuple[float, float] | None = Field(default=None, description="mean, sd in hours")
    moderate: tuple[float, float] | None = Field(default=None, description="mean, sd in hours")
    extensive: tuple[float, float] | None = Field(default=None, description="mean, sd in hours")
    complete: tuple[float, float] | None = Field(default=None, description="mean, sd in hours")

    @field_validator("degraded", "failed", "slight", "moderate", "extensive", "complete")
    @classmethod
    def _positive(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is None:
            return v
        if not (math.isfinite(v[0]) and math.isfinite(v[1]) and 0 < v[0] <= 24 * 365 and 0 <= v[1] <= 24 * 365):
            raise ValueError(Msg(N_("give [mean, sd] in hours with 0 < mean <= 8760 and 0 <= sd <= 8760")))
        return v


class DamageState(_Model):
    """What one damage state does to an asset until a crew repairs it."""

    #: the share of its normal capacity it keeps, in service: 0 takes it out of service (the
    #: default for every state); above 0 it runs derated (its districts' shares, a hospital's beds)
    capacity: float = Field(default=0.0, ge=0, lt=1, allow_inf_nan=False)


# --------------------------------------------------------------------------------------------
# MSEL, discussion, rubric


class ExpectedAction(_Model):
    id: Id
    action: Literal[ACTION_KINDS]  # type: ignore[valid-type]
    #: any of these targets satisfies it (empty: any target); roads are named FROM~TO.
    targets: tuple[Target, ...] = Field(default=(), max_length=MAX_IDS)
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
    expected_actions: tuple[ExpectedAction, ...] = Field(default=(), max_length=MAX_EXPECTED)

    @model_validator(mode="after")
    def _one_trigger(self) -> Inject:
        n = (self.at_h is not None) + (self.when is not None) + self.contingency
        if n != 1:
            raise ValueError(Msg(N_("an inject has exactly one trigger: at_h, when, or contingency: true")))
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
            raise ValueError(Msg(N_("give at_h or at_inject (one of them)")))
        return self


#: the parts of the Play page a guided exercise's step can point at
GUIDE_FOCUS: tuple[str, ...] = ("clock", "messages", "map", "services", "crews", "orders", "decision", "score")


class GuideStep(_Model):
    """One step of a guided exercise: a short coach text the Play page shows next to one part of the screen.

    Shown at the decision point at ``at_h``, where inject ``at_inject`` arrives, or (``at_end``)
    with the score once the exercise is over; ``focus`` names the part of the page it points at.
    """

    id: Id
    at_h: Hours | None = None
    at_inject: Id | None = None
    at_end: StrictBool = False
    focus: Literal[GUIDE_FOCUS]  # type: ignore[valid-type]
    text: Text

    @model_validator(mode="after")
    def _one(self) -> GuideStep:
        if (self.at_h is not None) + (self.at_inject is not None) + self.at_end != 1:
            raise ValueError("give exactly one of at_h, at_inject or at_end: true")
        if self.at_end != (self.focus == "score"):
            raise ValueError("the score is on the page only once the exercise is over: a step with focus: score "
                             "needs at_end: true, and a step at_end has focus: score")
        return self


Rating = Literal["P", "S", "M", "U"]
RATINGS: tuple[str, ...] = ("P", "S", "M", "U")

class RatingTexts(_Model):
    P: Text
    S: Text
    M: Text
    U: Text


#: variants in one rating's feedback, and conditions in one ``any``/``all`` list
MAX_VARIANTS = 20


class ActionDone(_Model):
    """An action the learner decided, as the run's log shows it: ``{action: protect_asset, target: WT1}``.

    ``target`` (optional) is what the action names: an asset, a district (a warning to ``all``
    counts for every district), a road ``FROM~TO``, or for ``set_priorities`` the asset an order
    puts first, as an expected action's ``targets`` are matched.  ``before_h``: decided before
    this hour (a decision at that very hour does not count).  ``took_effect``: the log also shows
    the action's effect (its lead time passed, and it was not too late to work, e.g. barriers put
    up before the water came).
    """

    action: Literal[ACTION_KINDS]  # type: ignore[valid-type]
    target: Target | None = None
    before_h: Hours | None = None
    took_effect: StrictBool = False

    def matches(self, a: Any, time_h: float) -> bool:
        """Whether ``a`` (one action of a decision record, a dict) decided at ``time_h`` is this one."""
        if a.get("action") != self.action or (self.before_h is not None and not time_h < self.before_h):
            return False
        if self.target is None:
            return True
        order = a.get("order")
        probe = _Probe(a.get("target"), tuple(order) if isinstance(order, list | tuple) else None)
        return bool(_actions.get(self.action).meets(probe, (self.target,)))


class _Probe:
    """The attributes an action's ``meets`` reads, taken from a decision record's dict."""

    __slots__ = ("order", "target")

    def __init__(self, target: Any, order: tuple[Any, ...] | None) -> None:
        self.target, self.order = target, order


class FeedbackCondition(_Model):
    """Exactly one test of the run's event log, for a feedback variant's ``when``.

    ``did``: the log shows the learner decided this action; ``did_not``: it does not;
    ``any`` / ``all``: a list of conditions, one or every one of which holds.
    """

    did: ActionDone | None = None
    did_not: ActionDone | None = None
    any: tuple[FeedbackCondition, ...] | None = Field(default=None, min_length=1, max_length=MAX_VARIANTS)
    all: tuple[FeedbackCondition, ...] | None = Field(default=None, min_length=1, max_length=MAX_VARIANTS)

    @model_validator(mode="after")
    def _exactly_one(self) -> FeedbackCondition:
        if sum(v is not None for v in (self.did, self.did_not, self.any, self.all)) != 1:
            raise ValueError(Msg(N_("a feedback condition is exactly one of did, did_not, any, all")))
        return self


class FeedbackVariant(_Model):
    """One text of a rating's feedback, shown when its condition holds on the run's log (no ``when``:
    the fallback, last in the list)."""

    when: FeedbackCondition | None = None
    text: Text


#: a rating's feedback: one text, or variants of which the first whose ``when`` holds is shown
Feedback = Text | Annotated[tuple[FeedbackVariant, ...], Field(min_length=1, max_length=MAX_VARIANTS)]


class FeedbackTexts(_Model):
    """What the learner reads for each rating; a rating may list variants conditioned on the log."""

    P: Feedback
    S: Feedback
    M: Feedback
    U: Feedback


class Thresholds(_Model):
    """Boundaries between ratings: with ``lower_is_better``, value <= P is P, <= S is S..."""

    P: float = Field(allow_inf_nan=False, ge=-1e15, le=1e15)
    S: float = Field(allow_inf_nan=False, ge=-1e15, le=1e15)
    M: float = Field(allow_inf_nan=False, ge=-1e15, le=1e15)


class LossValues(_Model):
    """Money per unit of loss, for ``value_for_money`` (see ``scro-sim metrics``)."""

    power: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    water: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    telecom: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    health: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    people_at_risk: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    critical_downtime: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)
    #: per euro of damage the city bears itself (repairs less insurance payouts; needs ``damage_costs``)
    damage: float | None = Field(default=None, ge=0, le=1e9, allow_inf_nan=False)

    def given(self) -> dict[str, float]:
        """The values the author set (the rest keep their defaults)."""
        return {k: float(v) for k, v in self.model_dump().items() if v is not None}


class Criterion(_Model):
    id: Id
    title: Text
    kind: Literal["computed", "judged"]
    weight: float = Field(gt=0, le=1000, allow_inf_nan=False)
    #: a module outcome of the course map (``C3.1``), or one of the scenario's learning_outcomes
    outcome: Id
    #: a name from the metric catalogue (``scro-sim metrics``), checked when the scenario loads
    metric: str | None = Field(default=None, max_length=200)
    thresholds: Thresholds | None = None
    lower_is_better: StrictBool = True
    #: ``relative.*`` and ``value_for_money``: how much better than the baseline the expert must do
    #: on the seed for the criterion to apply (in the metric's unit; default 5 % of the baseline)
    min_gain: float | None = Field(default=None, ge=0, le=1e15, allow_inf_nan=False)
    #: ``value_for_money``: what a loss is worth in money (keys: the services, ``people_at_risk``,
    #: ``critical_downtime``); the keys not given keep the catalogue's defaults
    loss_values: LossValues | None = None
    #: judged: what the assessor reads: warnings, rationales, or an answer (``answer:Q1``).
    evidence: str | None = Field(default=None, max_length=200)
    guidance: RatingTexts | None = None
    feedback: FeedbackTexts

    @model_validator(mode="before")
    @classmethod
    def _relative_is_higher_better(cls, data: Any) -> Any:
        """A criterion against the expert (0 = baseline, 1 = expert) rates higher values better."""
        if isinstance(data, dict) and "lower_is_better" not in data:
            metric = data.get("metric")
            if isinstance(metric, str) and (metric.startswith("relative.") or metric == "value_for_money"):
                return {**data, "lower_is_better": False}
        return data

    @model_validator(mode="after")
    def _kind_fields(self) -> Criterion:
        if self.kind == "computed":
            if self.metric is None or self.thresholds is None:
                raise ValueError(Msg(N_("a computed criterion needs metric and thresholds")))
            t = self.thresholds
            ok = (t.P <= t.S <= t.M) if self.lower_is_better else (t.P >= t.S >= t.M)
            if not ok:
                raise ValueError(Msg(N_("thresholds must be ordered P, S, M ascending (lower is better)"))
                                 if self.lower_is_better else Msg(N_("thresholds must be ordered P, S, M descending")))
            relative = self.metric.startswith("relative.") or self.metric == "value_for_money"
            if self.min_gain is not None and not relative:
                raise ValueError(Msg(N_("min_gain is for criteria measured against the expert (relative.<metric>, "
                                        "value_for_money)")))
            if relative and self.lower_is_better:
                raise ValueError(Msg(N_("{metric} is higher-is-better (0 = baseline, 1 = expert): leave out "
                                        "lower_is_better or set it to false"), metric=self.metric))
            if self.loss_values is not None and self.metric != "value_for_money":
                raise ValueError(Msg(N_("loss_values is for the value_for_money metric")))
        else:
            if self.evidence is None or self.guidance is None:
                raise ValueError(Msg(N_("a judged criterion needs evidence and guidance for the assessor")))
            if not (self.evidence in ("warnings", "rationales") or self.evidence.startswith("answer:")):
                raise ValueError(Msg(N_("evidence is 'warnings', 'rationales' or 'answer:<question id>'")))
        return self


class Rubric(_Model):
    pass_mark: float = Field(default=60, ge=0, le=100, allow_inf_nan=False)
    points: dict[Rating, Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]] = Field(
        default_factory=lambda: {"P": 1.0, "S": 0.75, "M": 0.4, "U": 0.0})
    criteria: tuple[Criterion, ...] = Field(min_length=1, max_length=MAX_CRITERIA)


#: How a learner's repeated attempts at one scenario make their grade, as learning platforms do.
GRADING_METHODS: tuple[str, ...] = ("highest", "average", "first", "last")


class Grading(_Model):
    """How repeated attempts are graded: the ``highest`` score (default), their ``average``,
    the ``first`` attempt or the ``last`` one.  Practice games and reference or baseline runs
    are never attempts."""

    method: Literal["highest", "average", "first", "last"] = "highest"


class LearningOutcome(_Model):
    id: Id
    module: Id
    text: Text


class DecisionPoints(_Model):
    times_h: tuple[Hours, ...] = Field(default=(), max_length=MAX_DECISION_TIMES)
    every_h: float | None = Field(default=None, ge=0.05, le=24 * 30, allow_inf_nan=False)
    at_injects: StrictBool = True


def decision_hours(duration_h: float, dp: DecisionPoints) -> tuple[float, ...]:
    """The decision hours of a run: 0, the listed hours and every ``every_h``, sorted, inside the run."""
    times = {0.0, *dp.times_h}
    if dp.every_h:
        t = 0.0
        while t < duration_h - 1e-9:
            times.add(round(t, 9))
            t += dp.every_h
    return tuple(sorted(x for x in times if x < duration_h))


# --------------------------------------------------------------------------------------------
# Plans


class Rule(_Model):
    id: Id | None = None
    when: Condition
    do: tuple[Action, ...] = Field(min_length=1, max_length=MAX_RULE_ACTIONS)
    once: StrictBool = True


class Plan(_Model):
    """A response plan: what to do at the start, restoration priorities, and trigger rules."""

    format: Literal["scro-plan/1"] = PLAN_FORMAT
    scenario: Id | None = None
    title: Text = "Response plan"
    prepositioning: tuple[Action, ...] = Field(default=(), max_length=MAX_PREPOSITIONING)
    priorities: tuple[Id, ...] = Field(default=(), max_length=MAX_PRIORITIES)
    rules: tuple[Rule, ...] = Field(default=(), max_length=MAX_RULES)
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
    #: the course modules the exercise practises (ids of the course map, scro_sim/course.py)
    modules: tuple[Id, ...] = Field(min_length=1, max_length=MAX_OUTCOMES)
    #: the course map's module group the exercise is written for (``a`` .. ``d`` in the bundled map),
    #: or a list of them when the story and the rubric's weight serve several alike: where the story
    #: and the rubric's weight lie (lint warns for a group under 30 %); lists and the course summary
    #: count exercises by it.  Left out: the exercise belongs to no group.
    group: Id | tuple[Id, ...] | None = None
    #: the exercise's own wording of what it teaches, each under a module; criteria cite the course
    #: map's outcomes (``outcome: C3.1``) or, in scenarios from before the map, these (``outcome: LO1``)
    learning_outcomes: tuple[LearningOutcome, ...] = Field(default=(), max_length=MAX_OUTCOMES)
    city: str = Field(min_length=1, max_length=500)
    start: datetime
    duration_h: float = Field(gt=0, le=24 * 60, allow_inf_nan=False)
    #: after the last decision hour (duration_h) the run fast-forwards, with the crews at work and
    #: no more decisions, until every service is back (or this many hours more): the recovery a
    #: learner's restoration choices set in motion counts in the score.  0: the run ends at duration_h.
    recovery_h: float = Field(default=21 * 24, ge=0, le=24 * 60, allow_inf_nan=False)
    decision_points: DecisionPoints = DecisionPoints()
    hazards: tuple[HazardSpec, ...] = Field(min_length=1, max_length=MAX_HAZARDS)
    #: hazard -> asset type (the city's) -> curves
    fragility: dict[Literal[HAZARD_TYPES], dict[Id,  # type: ignore[valid-type]
                                                 Annotated[tuple[FragilityCurve, ...], Field(max_length=MAX_CURVES)]]] = Field(
        default_factory=dict
    )
    #: asset type (the city's) -> repair hours
    repair_times: dict[Id, RepairTime] = Field(default_factory=dict)
    #: what a damage state does (default: out of service until repaired); e.g. ``degraded: {capacity: 0.5}``
    damage_states: dict[Literal["degraded", "failed", "slight", "moderate", "extensive", "complete"],
                        DamageState] = Field(default_factory=dict)
    #: what repairing each damage state costs, by asset type or asset id (the id wins); given (even
    #: ``{}``), every damage is priced (the rest from the engine's defaults) for the ``damage_cost``
    #: metrics and insurance; left out, nothing is priced
    damage_costs: dict[Id, dict[Literal["degraded", "failed", "slight", "moderate", "extensive", "complete"],
                                Money]] | None = None
    resources: Resources = Resources()
    water: WaterSystem = WaterSystem()
    actions: Actions = Actions()
    msel: tuple[Inject, ...] = Field(default=(), max_length=MAX_INJECTS)
    questions: tuple[Question, ...] = Field(default=(), max_length=MAX_QUESTIONS)
    #: a guided exercise's coach texts, step by step (scenarios/README.md, "A guided exercise")
    guide: tuple[GuideStep, ...] = Field(default=(), max_length=MAX_GUIDE_STEPS)
    rubric: Rubric
    #: how repeated attempts make the grade that exports send to the learning platform
    grading: Grading = Grading()
    reference_plans: ReferencePlans = ReferencePlans()

    _source_path: str = PrivateAttr(default="<scenario>")
    _source_sha256: str = PrivateAttr(default="")
    _source_text: str = PrivateAttr(default="")
    _lines: dict[tuple[Any, ...], int] = PrivateAttr(default_factory=dict)
    _memo: dict[Any, Any] = PrivateAttr(default_factory=dict)  # derived texts; the model is frozen

    @field_validator("group")
    @classmethod
    def _groups_once(cls, v: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        if isinstance(v, tuple):
            if not v:
                raise ValueError("give at least one group, or leave group out")
            if len(set(v)) != len(v):
                raise ValueError(f"a group is named twice: {', '.join(v)}")
        return v

    @property
    def groups(self) -> tuple[str, ...]:
        """The module groups the exercise is written for, in the file's order (none: empty)."""
        if self.group is None:
            return ()
        return (self.group,) if isinstance(self.group, str) else tuple(self.group)

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
                data = self.model_dump(mode="json")
                for key in ("damage_states", "guide"):  # left out when empty: older scenarios keep their hash
                    if not data.get(key):
                        data.pop(key, None)
                if data.get("damage_costs", 0) is None:
                    data.pop("damage_costs")
                for h in data.get("hazards", ()):
                    if h.get("when", 0) is None:
                        h.pop("when")
                for rt in data.get("repair_times", {}).values():
                    for k in ("slight", "moderate", "extensive", "complete"):
                        if rt.get(k) is None:
                            rt.pop(k, None)
                text = json.dumps(data, sort_keys=True)
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
        """Scheduled decision points (hours), sorted, within the run; injects may add more.

        Made once per scenario (the model is frozen) and handed out as a fresh list.
        """
        memo = self._derived()
        cached = memo.get("decision_times")
        if cached is None:
            cached = memo["decision_times"] = decision_hours(self.duration_h, self.decision_points)
        return list(cached)

    def inject(self, inject_id: str) -> Inject | None:
        """The MSEL inject with this id, or None (an index made once)."""
        memo = self._derived()
        index = memo.get("injects")
        if index is None:
            index = memo["injects"] = {}
            for i in self.msel:
                index.setdefault(i.id, i)
        return index.get(inject_id)

    def inject_words(self, lang: str = "en") -> InjectWords:
        """``inject id -> {"sender", "text"}`` in ``lang``: the words of an event log's ``inject`` records.

        The log names an inject by its id only (the same run logs the same bytes in every
        language); whoever shows it to a reader looks its words up here in the reader's language.
        """
        return InjectWords(self, lang)

    def action_label(self, kind: str, lang: str = "en") -> str | None:
        """This scenario's own wording of action ``kind`` in ``lang`` (``actions.<kind>.label``);
        ``None`` when it has none, so the catalogue's name of the action applies."""
        label = getattr(getattr(self.actions, kind, None), "label", None)
        return text_in(label, lang) if label is not None else None

    def question_text(self, question_id: str, lang: str = "en") -> str:
        """A discussion question's text in ``lang`` (an observation names the question by its id)."""
        q = next((q for q in self.questions if q.id == question_id), None)
        return text_in(q.text, lang) if q is not None else question_id


class InjectWords:
    """An inject's sender and text in one language, looked up by id (see :meth:`Scenario.inject_words`)."""

    def __init__(self, scenario: Scenario, lang: str) -> None:
        self.scenario, self.lang = scenario, lang

    def __call__(self, inject_id: str) -> dict[str, str]:
        inj = self.scenario.inject(inject_id)
        if inj is None:
            return {}
        return {"sender": text_in(inj.sender, self.lang), "text": text_in(inj.text, self.lang)}
