"""Who decides: the ``Policy`` protocol, recorded learner decisions, response plans, baselines.

A policy sees an :class:`Observation` at each decision point (and, for plans, at each rule
check) and answers with a :class:`Decision`.  Policies never touch the engine: what they
may do is exactly what a learner may do through :meth:`Simulation.apply`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .scenario import Action, Condition, Plan

__all__ = [
    "Decision",
    "DoNothing",
    "Greedy",
    "Observation",
    "PlanPolicy",
    "Policy",
    "RandomLegal",
    "RecordedDecisions",
    "TargetCatalog",
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
    # injects that arrived: time_h, id, channel, pause, contingency and asks, what the inject asks
    # of the player (its expected actions: id, action, targets, criticality of the named assets,
    # deadline_h), which the scripted greedy responder answers; the words are in the scenario
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
    # shelters (and cooling centres): places, people in them now, state
    shelters: dict[str, dict[str, Any]] = field(default_factory=dict)
    # what is shown out of date (the data platform is down, or a utility keeps its data private):
    # ``gauge`` or a service -> the hour of its last reading; empty when everything is live
    stale: dict[str, float] = field(default_factory=dict)

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
    """A naive but sensible responder: the middle of the scale a rubric must tell apart.

    Its rules, in this order, at every decision point:

    1. at the first message, warn everyone (a flood warning where there is a river gauge);
    2. do what a message asks (the ``asks`` of the injects that just arrived: the MSEL's
       expected actions), each once, with the first target the ask names that the observation
       does not rule out, most critical first: a warning to ``all``, mutual aid, the repair order
       asked for (then the other assets down, by criticality), a crew, every generator it has
       (to the named assets running on their backup first), fuel, barriers, a road closure,
       surge beds, an evacuation (the named district's people to the working shelter with the
       most free places).  It never evacuates unasked, and does nothing else nobody asked for
       beyond rules 3-6;
    3. once assets are down, order repairs by criticality;
    4. generators to the most critical assets running on backup for want of power, or down
       only for want of it (a pump with no backup of its own), one each;
    5. surge beds (where the scenario allows them) at a hospital once it overflows;
    6. mutual aid once five or more assets are down.

    It reads only the observation, so it is the same player in every scenario.
    """

    name = "greedy"
    check_every_h: float | None = None
    _ANSWERS = frozenset({"warn_public", "request_mutual_aid", "set_priorities", "dispatch_crew", "deploy_generator",
                          "refuel", "protect_asset", "close_road", "open_surge_beds", "evacuate"})

    def __init__(self) -> None:
        self._warned = False
        self._prioritised = False
        self._aid = False
        self._beds: set[str] = set()
        self._answered: set[str] = set()
        self._gens: set[str] = set()  # where it sent a generator (one each)

    def decide(self, obs: Observation) -> Decision | None:
        acts: list[Action] = []
        gens = obs.generators_available
        if not self._warned and obs.injects and "warn_public" in obs.allowed:
            acts.append(Action(action="warn_public", target="all", message=self._message(obs)))
            self._warned = True
        for inj in obs.injects:
            for ask in inj.get("asks", ()):
                if ask["id"] in self._answered or ask["action"] not in self._ANSWERS or ask["action"] not in obs.allowed:
                    continue
                self._answered.add(ask["id"])
                for a in self._answer(ask, obs, gens, acts):
                    acts.append(a)
                    if a.action == "deploy_generator":
                        gens -= 1
                        self._gens.add(str(a.target))
        if not self._prioritised and "set_priorities" in obs.allowed and obs.assets_down:
            order = [a["id"] for a in sorted(obs.assets_down, key=lambda a: (-a["criticality"], a["id"]))]
            acts.append(Action(action="set_priorities", order=tuple(order)))
            self._prioritised = True
        # generators: to what runs on its backup for want of power, or is down only for want of power
        wanting = [(-a["criticality"], a["backup_left_h"], a["id"]) for a in obs.assets_on_backup
                   if "power" in a.get("missing", ()) and not a.get("generator")]
        wanting += [(-a["criticality"], 0.0, a["id"]) for a in obs.assets_down if a.get("cause") == "no power"]
        for _crit, _left, aid in sorted(wanting):
            if gens <= 0 or "deploy_generator" not in obs.allowed:
                break
            if aid not in self._gens:
                acts.append(Action(action="deploy_generator", target=aid))
                self._gens.add(aid)
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

    @staticmethod
    def _message(obs: Observation) -> str:
        return _FLOOD_WARNING if obs.gauge_m is not None else (  # a river gauge: a flood
            "Emergency warning: follow the authorities' instructions and check on vulnerable neighbours.")

    def _answer(self, ask: dict[str, Any], obs: Observation, gens: int, acts: list[Action]) -> list[Action]:
        """The actions answering one ask: none when it is answered already or nothing named is possible."""
        kind, targets = ask["action"], list(ask.get("targets") or ())
        if any(a.action == kind and kind in ("warn_public", "request_mutual_aid") for a in acts):
            return []  # one warning to everyone, one request, answers every such ask of this moment
        if kind == "warn_public":
            self._warned = True
            return [Action(action=kind, target="all", message=self._message(obs))]
        if kind == "request_mutual_aid":
            if obs.mutual_aid_left <= 0:
                return []
            self._aid = True
            return [Action(action=kind)]
        if not targets:
            return []  # "any target": nothing tells a naive responder which
        if kind == "set_priorities":
            rest = [a["id"] for a in sorted(obs.assets_down, key=lambda a: (-a["criticality"], a["id"]))
                    if a["id"] not in targets]
            for i, a in enumerate(acts):  # one order per decision: the asked one replaces the usual one
                if a.action == kind:
                    del acts[i]
                    break
            self._prioritised = True
            return [Action(action=kind, order=tuple(targets + rest))]
        if kind == "evacuate":
            free = sorted((info["people"] - info["places"], h) for h, info in obs.shelters.items()
                          if info["state"] == "up" and info["people"] < info["places"])
            district = next((d for d in targets if d != "all"), None)
            if not free or district is None:
                return []
            return [Action(action=kind, target=district, shelter=free[0][1])]
        crit = ask.get("criticality") or {}
        pool = sorted(targets, key=lambda t: -crit.get(t, 0))  # most critical first, stable on the MSEL's order
        if kind == "deploy_generator":  # every generator it has, to the named assets: those on backup first
            on_backup = {a["id"] for a in obs.assets_on_backup if not a.get("generator")}
            pool = [t for t in pool if t in on_backup] + [t for t in pool if t not in on_backup]
            return [Action(action=kind, target=t) for t in pool if t not in self._gens][:max(gens, 0)]
        if kind == "dispatch_crew":
            down = {a["id"] for a in obs.assets_down}
            pool = [t for t in pool if t in down] or pool
        elif kind == "protect_asset":
            flooded = {a["id"] for a in obs.assets_down if a.get("flooded")}
            pool = [t for t in pool if t not in flooded]
        elif kind == "open_surge_beds":
            pool = [t for t in pool if t not in self._beds and not obs.hospitals.get(t, {}).get("surge_beds")]
        if not pool:
            return []
        if kind == "open_surge_beds":
            self._beds.add(pool[0])
        return [Action(action=kind, target=pool[0])]


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


@dataclass(frozen=True)
class TargetCatalog:
    """The targets a player's decision form offers (the city's public map), for :class:`RandomLegal`.

    Built from a city by :meth:`from_city`; static for a run, so the policy needs nothing
    of the engine beyond the :class:`Observation`.
    """

    assets: tuple[str, ...]
    hospitals: tuple[str, ...]
    shelters: tuple[str, ...]
    districts: tuple[str, ...]
    population: dict[str, int]
    roads: tuple[str, ...]
    grid_powered: frozenset[str]  # assets that take power from the grid (a generator can feed them)
    own_power: frozenset[str]  # assets with their own power backup (they can be refuelled)

    @classmethod
    def from_city(cls, city: Any) -> TargetCatalog:
        """The catalog of a loaded :class:`~scro_sim.city.City` (what the app's decision form lists)."""
        ids = list(city.asset_ids)
        types = [str(t) for t in city.asset_type]
        return cls(
            assets=tuple(ids),
            hospitals=tuple(a for a, t in zip(ids, types, strict=True) if t == "hospital"),
            shelters=tuple(a for a, t in zip(ids, types, strict=True) if t == "shelter"),
            districts=tuple(city.district_ids),
            population={d: int(p) for d, p in zip(city.district_ids, city.district_pop.tolist(), strict=True)},
            roads=tuple(sorted({f"{city.road_ids[int(a)]}~{city.road_ids[int(b)]}"
                                for a, b in zip(city.edge_u, city.edge_v, strict=True)})),
            grid_powered=frozenset(a for a, needs in zip(ids, city.asset_needs, strict=True)
                                   if any(s == "power" for s, _ in needs)),
            own_power=frozenset(a for a, b in zip(ids, city.backup_services, strict=True) if "power" in b),
        )


class RandomLegal:
    """A player who takes random legal decisions: the floor a rubric must tell apart from skill.

    At each decision point it picks a random number (0 to ``max_actions``) of distinct action
    kinds among those the observation allows, each with a target drawn uniformly from what the
    decision form offers (:class:`TargetCatalog`; a patient transfer: two hospitals and a number
    of patients up to what the one has and the other can take), skipping targets the observation shows to be
    illegal (an evacuated district, a flooded asset, a generator already used up...) and keeping
    a running cost within the budget left.  ``check`` (the simulation's own
    :meth:`~scro_sim.engine.Simulation.check`, bound after the simulation is made) vets each
    action with those already chosen, so a decision is never refused.  Its numbers come from a
    ``numpy`` Generator on ``SeedSequence(seed)``: the same seed gives the same decisions.
    """

    name = "random"
    check_every_h: float | None = None
    _MESSAGE = "Public warning: follow the authorities' instructions."

    def __init__(self, catalog: TargetCatalog, seed: int, *, max_actions: int = 3,
                 check: Any | None = None, mutual_aid_cost: float = 0.0) -> None:
        self.catalog = catalog
        self.rng = np.random.default_rng(np.random.SeedSequence(int(seed)))
        self.max_actions = int(max_actions)
        self.check = check  # callable(Decision) -> list[str] of problems, or None
        self.mutual_aid_cost = float(mutual_aid_cost)
        self._closed: dict[str, float] = {}  # road -> hour its closure takes effect (only those can be reopened)
        self._generators: set[str] = set()  # assets this player put a generator on
        self._beds: set[str] = set()

    @classmethod
    def for_run(cls, scenario: Any, city: Any, seed: int, **kw: Any) -> RandomLegal:
        """The random player of one run of ``scenario`` on ``city`` with ``seed``."""
        return cls(TargetCatalog.from_city(city), seed, mutual_aid_cost=float(scenario.resources.mutual_aid.cost), **kw)

    def decide(self, obs: Observation) -> Decision | None:
        kinds = list(obs.allowed)
        k = int(self.rng.integers(0, min(self.max_actions, len(kinds)) + 1)) if kinds else 0
        if k == 0:
            return None
        budget = obs.budget_left
        gens = obs.generators_available
        acts: list[Action] = []
        for j in self.rng.choice(len(kinds), size=k, replace=False).tolist():
            kind = kinds[j]
            a = self._draw(kind, obs, gens)
            if a is None:
                continue
            cost = self._cost_bound(a, obs)
            if cost > budget + 1e-6:
                continue
            if self.check is not None and self.check(Decision([*acts, a])):
                continue
            acts.append(a)
            budget -= cost
            if kind == "deploy_generator":
                gens -= 1
                self._generators.add(str(a.target))
            elif kind == "close_road":
                self._closed[str(a.target)] = obs.time_h + float(obs.allowed[kind].get("lead_time_h", 0.0))
            elif kind == "reopen_road":
                del self._closed[str(a.target)]
            elif kind == "open_surge_beds":
                self._beds.add(str(a.target))
        return Decision(acts, rationale="random legal decisions") if acts else None

    def _pick(self, pool: Sequence[str]) -> str | None:
        return pool[int(self.rng.integers(len(pool)))] if pool else None

    def _draw(self, kind: str, obs: Observation, gens: int) -> Action | None:
        """One action of ``kind`` with a random target the observation does not rule out, or None."""
        cat = self.catalog
        if kind == "warn_public":
            return Action(action=kind, target=self._pick(("all", *cat.districts)), message=self._MESSAGE)
        if kind == "request_mutual_aid":
            return Action(action=kind) if obs.mutual_aid_left > 0 else None
        if kind == "set_priorities":
            if not cat.assets:
                return None
            size = int(self.rng.integers(1, min(5, len(cat.assets)) + 1))
            order = self.rng.choice(len(cat.assets), size=size, replace=False).tolist()
            return Action(action=kind, order=tuple(cat.assets[i] for i in order))
        if kind == "evacuate":
            left = [d for d in cat.districts if cat.population.get(d, 0) - obs.evacuated.get(d, 0) > 0]
            target, shelter = self._pick(left), self._pick(cat.shelters)
            return Action(action=kind, target=target, shelter=shelter) if target and shelter else None
        if kind == "open_surge_beds":
            opened = {h for h, info in obs.hospitals.items() if info.get("surge_beds")} | self._beds
            target = self._pick([h for h in cat.hospitals if h not in opened])
            return Action(action=kind, target=target) if target else None
        if kind == "transfer_patients":  # a random number of the patients the sender has and the receiver can take
            src = self._pick(list(obs.hospitals))
            dst = self._pick([h for h in obs.hospitals if h != src])
            if src is None or dst is None:
                return None
            here, there = obs.hospitals[src], obs.hospitals[dst]
            patients = round(here["occupancy"] * (here["beds"] + here["surge_beds"]))
            free = math.floor((there["beds"] + there["surge_beds"]) * (1.0 - there["occupancy"]))
            most = min(patients, free)
            if most < 1:
                return None
            return Action(action=kind, target=src, to=dst, patients=int(self.rng.integers(1, most + 1)))
        if kind == "close_road":
            target = self._pick([r for r in cat.roads if r not in self._closed])
            return Action(action=kind, target=target) if target else None
        if kind == "reopen_road":  # a closure still on its way cannot be lifted yet
            target = self._pick([r for r, t in self._closed.items() if t < obs.time_h - 1e-9])
            return Action(action=kind, target=target) if target else None
        if kind == "deploy_generator":
            target = self._pick(sorted(cat.grid_powered)) if gens > 0 else None
            return Action(action=kind, target=target) if target else None
        if kind == "refuel":
            target = self._pick(sorted(cat.own_power | self._generators))
            return Action(action=kind, target=target) if target else None
        if kind == "protect_asset":
            flooded = {a["id"] for a in obs.assets_down if a.get("flooded")}
            target = self._pick([a for a in cat.assets if a not in flooded])
            return Action(action=kind, target=target) if target else None
        if kind == "dispatch_crew":
            target = self._pick(cat.assets)
            return Action(action=kind, target=target) if target else None
        return None

    def _cost_bound(self, a: Action, obs: Observation) -> float:
        """What ``a`` can cost at most (an evacuation: as if every resident left)."""
        spec = obs.allowed.get(a.action, {})
        cost = float(spec.get("cost", 0.0))
        if a.action == "evacuate" and a.target is not None:
            left = self.catalog.population.get(a.target, 0) - obs.evacuated.get(a.target, 0)
            cost += float(spec.get("cost_per_person", 0.0)) * max(0, left)
        if a.action == "request_mutual_aid":
            cost += self.mutual_aid_cost
        if a.action == "transfer_patients" and a.patients is not None:
            cost += float(spec.get("cost_per_person", 0.0)) * a.patients
        return cost


def baseline_policy(name: str) -> Policy:
    """A baseline by name: ``do_nothing`` or ``greedy``."""
    if name == "do_nothing":
        return DoNothing()
    if name == "greedy":
        return Greedy()
    raise ValueError(f"unknown baseline {name!r}; choose do_nothing or greedy")
