"""Who decides: the ``Policy`` protocol, recorded learner decisions, response plans, baselines.

A policy sees an :class:`Observation` at each decision point (and, for plans, at each rule
check) and answers with a :class:`Decision`.  Policies never touch the engine: what they
may do is exactly what a learner may do through :meth:`Simulation.apply`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .scenario import Action, Condition, Plan

__all__ = [
    "Decision",
    "DoNothing",
    "Greedy",
    "Observation",
    "PlanPolicy",
    "Policy",
    "RecordedDecisions",
    "baseline_policy",
    "condition_met",
    "trigger_met",
]


@dataclass
class Observation:
    """What a player sees at a decision point (built by the engine, read by policies and the app)."""

    time_h: float
    clock: str
    point: int
    kind: str  # "decision" (a scenario decision point) or "check" (a plan's rule check)
    done: bool
    gauge_m: float | None
    injects: list[dict[str, Any]]
    questions: list[dict[str, Any]]
    assets_down: list[dict[str, Any]]
    assets_on_backup: list[dict[str, Any]]
    asset_counts: dict[str, int]
    services: dict[str, dict[str, float]]  # district -> service -> served share
    service_totals: dict[str, float]  # service -> served share of the whole population
    crews: list[dict[str, Any]]
    generators_available: int
    mutual_aid_left: int
    budget_left: float
    spent: float
    allowed: dict[str, dict[str, Any]]
    changes: list[dict[str, Any]] = field(default_factory=list)
    warned: list[str] = field(default_factory=list)
    evacuated: dict[str, int] = field(default_factory=dict)
    repairs_waiting: list[str] = field(default_factory=list)
    # states the condition language needs, by id
    asset_state: dict[str, str] = field(default_factory=dict)
    type_of: dict[str, str] = field(default_factory=dict)
    # hospitals a patient surge reaches: beds, surge beds opened, occupancy (share of beds), overloaded
    hospitals: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- the questions the condition language asks (see condition_met) ----------------------
    def state_of(self, asset: str) -> str:
        """``up``, ``backup``, ``down`` or ``overloaded``."""
        return self.asset_state.get(asset, "up")

    def first_with(self, asset_type: str, state: str) -> str | None:
        """The first asset (in city-file order) of this type in this state, or None."""
        return next((a for a, st in self.asset_state.items() if st == state and self.type_of.get(a) == asset_type), None)

    def served_share(self, district: str, service: str) -> float:
        return self.services.get(district, {}).get(service, 1.0)

    def total_served(self, service: str) -> float:
        return self.service_totals.get(service, 1.0)

    def has_inject(self, inject: str) -> bool:
        return any(i["id"] == inject for i in self.injects) or any(
            c.get("kind") == "inject" and c.get("id") == inject for c in self.changes)


@dataclass
class Decision:
    """Actions taken at one decision point, with the reasons and answers that go into the log."""

    actions: list[Action] = field(default_factory=list)
    rationale: str = ""
    answers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "actions": [a.model_dump(mode="json", exclude_none=True) for a in self.actions],
            "rationale": self.rationale,
            "answers": dict(sorted(self.answers.items())),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Decision:
        return cls(
            actions=[Action.model_validate(a) for a in d.get("actions", [])],
            rationale=str(d.get("rationale", "")),
            answers={str(k): str(v) for k, v in (d.get("answers") or {}).items()},
        )


@runtime_checkable
class Policy(Protocol):
    """Anything with ``decide(observation) -> Decision | None``.

    ``check_every_h`` (optional attribute): also call ``decide`` between decision points.
    """

    def decide(self, obs: Observation) -> Decision | None: ...


class DoNothing:
    """The do-nothing baseline: the city is left to the hazard."""

    name = "do_nothing"
    check_every_h: float | None = None

    def decide(self, obs: Observation) -> Decision | None:
        return None


_FLOOD_WARNING = "Flood warning: move to higher ground."


class Greedy:
    """A simple greedy responder: warn everyone, repair by criticality, generators to backups,
    surge beds (where the scenario allows them) at a hospital once it overflows."""

    name = "greedy"
    check_every_h: float | None = None

    def __init__(self) -> None:
        self._warned = False
        self._prioritised = False
        self._aid = False
        self._beds: set[str] = set()

    def decide(self, obs: Observation) -> Decision | None:
        acts: list[Action] = []
        if not self._warned and obs.injects and "warn_public" in obs.allowed:
            message = (_FLOOD_WARNING if obs.gauge_m is not None  # a river gauge: a flood
                       else "Emergency warning: follow the authorities' instructions and check on vulnerable neighbours.")
            acts.append(Action(action="warn_public", target="all", message=message))
            self._warned = True
        if not self._prioritised and "set_priorities" in obs.allowed and obs.assets_down:
            order = [a["id"] for a in sorted(obs.assets_down, key=lambda a: (-a["criticality"], a["id"]))]
            acts.append(Action(action="set_priorities", order=tuple(order)))
            self._prioritised = True
        gens = obs.generators_available
        for a in sorted(obs.assets_on_backup, key=lambda a: (-a["criticality"], a["backup_left_h"], a["id"])):
            if gens <= 0 or "deploy_generator" not in obs.allowed:
                break
            if "power" in a.get("missing", ()) and not a.get("generator"):
                acts.append(Action(action="deploy_generator", target=a["id"]))
                gens -= 1
        if "open_surge_beds" in obs.allowed:
            for h, info in obs.hospitals.items():
                if info["overloaded"] and not info["surge_beds"] and h not in self._beds:
                    acts.append(Action(action="open_surge_beds", target=h))
                    self._beds.add(h)
        if not self._aid and obs.mutual_aid_left > 0 and obs.asset_counts.get("down", 0) >= 5:
            acts.append(Action(action="request_mutual_aid"))
            self._aid = True
        acts = [a for a in acts if _affordable(a, obs)]
        return Decision(acts, rationale="greedy baseline") if acts else None


def _affordable(a: Action, obs: Observation) -> bool:
    spec = obs.allowed.get(a.action)
    return spec is not None and spec.get("cost", 0.0) <= obs.budget_left


class RecordedDecisions:
    """Replays recorded decisions, each at the hour it was taken.

    This is how a game resumes after a refresh and how a stored score is verified.  A
    plan's decisions can fall between the scenario's decision points; ``extra_points``
    tells the engine to stop there too.
    """

    name = "recorded"
    check_every_h: float | None = None

    def __init__(self, decisions: Sequence[dict[str, Any] | Decision]) -> None:
        self.by_time: dict[float, tuple[int | None, Decision]] = {}
        for d in decisions:
            if isinstance(d, Decision):
                raise TypeError("recorded decisions need their time: pass the dicts Simulation.decisions holds")
            t = round(float(d["time_h"]), 9)
            if t in self.by_time:
                raise ValueError(f"two recorded decisions at {t} h")
            point = d.get("point")
            self.by_time[t] = (None if point is None else int(point), Decision.from_dict(d))
        self.extra_points = sorted(self.by_time)

    def decide(self, obs: Observation) -> Decision | None:
        """The decision recorded at this hour and decision point, if any.

        Times are stored rounded to 1e-9 h, so the replay's extra stop at the rounded hour can
        come a hair before an inject that paused the original game at the exact hour; the
        decision point number tells the two stops apart, and the decision waits for the inject.
        """
        t = round(obs.time_h, 9)
        found = self.by_time.get(t)
        if found is None or (found[0] is not None and found[0] != obs.point):
            return None
        del self.by_time[t]
        return found[1]


def condition_met(c: Condition, obs: Any) -> tuple[bool, str | None]:
    """Whether condition ``c`` holds; also the asset/district that made it true.

    ``obs`` is an :class:`Observation` or anything answering the same questions
    (``state_of``, ``first_with``, ``served_share``, ``total_served``, ``has_inject``).
    """
    return trigger_met(c.key, c.value, obs)


def trigger_met(k: str, v: Any, obs: Any) -> tuple[bool, str | None]:
    """:func:`condition_met` for a condition already split into its trigger ``k`` and value ``v``.

    Engines and plans check their conditions at every state change; they split them once.
    """
    if k == "after_h":
        return obs.time_h >= v - 1e-9, None
    if k == "gauge_above":
        return (obs.gauge_m is not None and obs.gauge_m > v), None
    if k == "asset_down":
        return obs.state_of(v) == "down", v
    if k == "asset_on_backup":
        return obs.state_of(v) == "backup", v
    if k in ("any_down", "any_on_backup"):
        hit = obs.first_with(v, "down" if k == "any_down" else "backup")
        return hit is not None, hit
    if k == "district_unserved":
        d, s = v
        return obs.served_share(d, s) < 1.0 - 1e-9, d
    if k == "unserved_share_above":
        s, share = v
        return 1.0 - obs.total_served(s) > share, None
    if k == "inject":
        return obs.has_inject(v), None
    return False, None


class PlanPolicy:
    """Carries out a learner's (or the expert's) written response plan.

    Pre-positioning happens at the first call; priorities are set then too; each rule fires
    when its condition first holds (or every time, with ``once: false``, for new triggers).
    """

    def __init__(self, plan: Plan, name: str = "plan") -> None:
        self.plan = plan
        self.name = name
        self.check_every_h: float | None = plan.check_every_h
        self._started = False
        self._fired: dict[int, set[str | None]] = {}
        self._inject_seen: set[str] = set()
        self._triggers = [(rule.when.key, rule.when.value) for rule in plan.rules]

    def decide(self, obs: Observation) -> Decision | None:
        acts: list[Action] = []
        for i in obs.injects:
            self._inject_seen.add(i["id"])
        if not self._started:
            self._started = True
            acts.extend(self.plan.prepositioning)
            if self.plan.priorities:
                acts.append(Action(action="set_priorities", order=self.plan.priorities))
        for k, (rule, (trigger, value)) in enumerate(zip(self.plan.rules, self._triggers, strict=True)):
            if trigger == "inject":
                ok, subject = value in self._inject_seen, None
            else:
                ok, subject = trigger_met(trigger, value, obs)
            fired = self._fired.setdefault(k, set())
            if not ok or (rule.once and fired) or subject in fired:
                continue
            fired.add(subject)
            for a in rule.do:
                acts.append(_bind(a, subject))
        acts = [a for a in acts if a.action in obs.allowed]
        if not acts:
            return None
        return Decision(acts, rationale=self.plan.rationale or f"{self.name}: rules")


def _bind(a: Action, subject: str | None) -> Action:
    if a.target in ("$asset", "$district") and subject is not None:
        return a.model_copy(update={"target": subject})
    return a


def baseline_policy(name: str) -> Policy:
    """A baseline by name: ``do_nothing`` or ``greedy``."""
    if name == "do_nothing":
        return DoNothing()
    if name == "greedy":
        return Greedy()
    raise ValueError(f"unknown baseline {name!r}; choose do_nothing or greedy")
