"""The Simulation: one run of a scenario on a city with a seed, whole or step by step.

A run is a pure function of (scenario, city, seed, decisions): every random stream is a
numpy Generator spawned from one SeedSequence in a fixed order, and every change is written to
the :class:`~scro_sim.log.EventLog`.  Nothing here scores, stores or draws; those read the log."""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import URGENT

from ..city import City
from ..errors import DecisionError, WorkBudgetExceeded
from ..log import EventLog
from ..policy import Decision, Observation, Policy
from ..scenario import (
    Action,
    Scenario,
    SurgeHazard,
    action_problems,
    sample,
)
from ._common import (
    _EPS,
    BACKUP,
    DOWN,
    ENGINE_VERSION,
    _finite_delay,
    _LateTimeout,
)
from .actions import REGISTRY as ACTIONS
from .budget import WorkBudget
from .cascade import CascadeMixin
from .crews import CrewMixin
from .hazard_processes import HazardMixin
from .msel import MselMixin
from .observation import ObservationMixin, _LiveObservation

_SLICE = range(512)  # simulation steps between two looks at the work budget


class _Stream:
    """A run's random stream ``k``: a Generator on child k of SeedSequence(seed), as spawn() makes it."""

    def __init__(self, k: int) -> None:
        self.k = k

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, sim: Any, owner: type | None = None) -> Any:
        if sim is None:
            return self
        rng = np.random.default_rng(np.random.SeedSequence(sim.seed, spawn_key=(self.k,)))
        sim.__dict__[self.name] = rng  # made once: later reads find it in the instance
        return rng


class Simulation(CascadeMixin, HazardMixin, CrewMixin, MselMixin, ObservationMixin):
    """One run of a scenario on a city with a seed.

    Drive it whole with :meth:`run` (a policy decides at each decision point), or step by
    step for play: :meth:`advance` runs to the next decision point and returns an
    :class:`Observation`; :meth:`apply` checks and schedules the player's decision.
    ``budget`` caps the run's work (default :meth:`WorkBudget.for_run`): a run that goes over
    raises :class:`~scro_sim.errors.WorkBudgetExceeded` and stays stopped (``stopped``).
    """

    def __init__(self, scenario: Scenario, city: City, seed: int = 0, policy: Policy | None = None,
                 *, budget: WorkBudget | None = None) -> None:
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.scenario = scenario
        self.city = city
        self.seed = int(seed)
        self.policy = policy
        self.env = simpy.Environment()
        self.log = EventLog()
        self.duration = float(scenario.duration_h)
        self.budget = budget if budget is not None else WorkBudget.for_run(scenario, city)
        self.stopped: WorkBudgetExceeded | None = None  # set when the run went over its budget
        self.recovering = False  # fast-forwarding after the last decision hour (see _fast_forward)
        self._steps = 0  # simulation steps taken (simpy events processed)
        self._generators: list[Generator[Any, Any, Any]] = []  # our simpy processes, closed by _release()
        self.decisions: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []
        self._init_state()
        self._no_assets = bytes(city.n_assets)
        self._any_overload = any(isinstance(h, SurgeHazard) for h in scenario.hazards)
        # no supply loops and no overloaded hospitals: a supplier serves exactly when it is not down
        self._plain_supply = not self.loop_unfed and not self._any_overload
        self._init_hazards()
        self._init_people()
        self._init_resources()
        self.surge_beds = np.zeros(city.n_assets)  # beds a hospital opened on top of its normal ones
        self.unstaffed_beds = np.zeros(city.n_assets)  # beds closed for want of staff (staff_absence)
        self.patient_shift = np.zeros(city.n_assets)  # patients moved into (+) or out of (-) a hospital
        # public information a district received: the share sheltering in place from heat and wind,
        # and the extra share that acts on warnings once rumours are answered (_expose reads both)
        self.info_shelter = np.zeros(city.n_districts)
        self.info_compliance = np.zeros(city.n_districts)
        self.occupancy: dict[int, float] = {}  # hospital -> occupancy at the last surge step
        self.action_state: dict[str, dict[Any, Any]] = {}  # an action's own bookkeeping (ActionKind.state)
        self._init_msel()
        self._init_points()
        about_city = city.memo.get("run_start")  # read-only, like every record's data: made once per city
        if about_city is None:
            about_city = city.memo["run_start"] = {
                "city": city.id, "city_sha256": city.content_hash(), "population": int(city.district_pop.sum()),
                "vulnerable": float(np.dot(city.district_pop, city.district_vuln)),
                "districts": {d: {"population": p, "vulnerable_share": v} for d, p, v in
                              zip(city.district_ids, city.district_pop.tolist(),
                                  city.district_vuln.astype(float).tolist(), strict=True)},
                "critical": [city.asset_ids[i] for i in self.critical],
            }
        start = {
            "scenario": scenario.id, "scenario_version": scenario.version,
            "scenario_sha256": scenario.source_sha256, "city": about_city["city"],
            "city_sha256": about_city["city_sha256"], "seed": self.seed, "engine": ENGINE_VERSION,
            "start": scenario.start.isoformat(), "duration_h": self.duration, "population": about_city["population"],
            "vulnerable": about_city["vulnerable"], "budget": scenario.resources.budget,
            "districts": about_city["districts"], "critical": about_city["critical"],
            "hazard_params": self.hazard_params,
        }
        if self.repair_cost is not None:  # damage records carry their repair cost (``loss``)
            start["damage_priced"] = True
        for kind in ACTIONS.values():  # terms scoring needs (a fund's deadline...), only for enabled actions
            start.update(kind.logged_at_start(scenario, city))
        self.log.append(0.0, "run_start", scenario.id, start)
        # Nothing is damaged at t=0 and every need has a supplier (the city loader checks it),
        # so everything works: the greatest fixpoint is "all up" and costs nothing to find.
        self._start_processes()

    # ------------------------------------------------------------------------------------
    # random streams, each made on first use (a run that never repairs never makes the repair
    # stream); 4 and 5 are reserved (people, misc), so new uses leave these streams' numbers alone
    rng_hazard = _Stream(0)
    rng_damage = _Stream(1)
    rng_repair = _Stream(2)
    rng_aid = _Stream(3)
    rng_cyber = _Stream(6)  # IT incident-response work (crews.py)

    # ------------------------------------------------------------------------------------
    # state

    # ------------------------------------------------------------------------------------
    # decision points and play

    def _init_points(self) -> None:
        sc = self.scenario
        times = [(t, "decision") for t in sc.decision_times()]
        every = getattr(self.policy, "check_every_h", None) if self.policy is not None else None
        decision_set = {round(x, 9) for x, _ in times}
        for t in getattr(self.policy, "extra_points", ()):  # a replayed plan's decision times
            if round(t, 9) not in decision_set and t < self.duration:
                times.append((round(t, 9), "check"))
        if every:
            t = 0.0
            decision_set = {round(x, 9) for x, _ in times}
            while t < self.duration - _EPS:
                if round(t, 9) not in decision_set:
                    times.append((round(t, 9), "check"))
                t = round(t + every, 9)
        self.points = sorted(times)
        self._point_i = 0
        self.point = -1
        self._stop: Any = None
        self._stop_kind = "decision"
        self.done = False
        self._last_obs_seq = 0
        self._last_point_time = -1.0
        self._live: _LiveObservation | None = None

    def _request_stop(self, kind: str) -> None:
        if self._stop is not None and not self._stop.triggered:
            self._stop_kind = kind
            self._stop.succeed(kind)

    def advance(self) -> Observation:
        """Run to the next decision point (or the end) and return what the player sees."""
        if self._live is not None:
            self._live._materialize()
            self._live = None
        if self.stopped is not None:
            raise self.stopped
        if self.done:
            return self.observe()
        while self._point_i < len(self.points) and self.points[self._point_i][0] <= self._last_point_time + _EPS:
            self._point_i += 1  # already stopped here (an inject paused at this time)
        nxt, kind = (self.points[self._point_i] if self._point_i < len(self.points) else (self.duration, "end"))
        self._stop = stop = self.env.event()
        # a late timeout: the clock stops only once everything due at that hour has happened
        timer = _LateTimeout(self.env, _finite_delay(max(0.0, nxt - self.env.now), "decision point"))
        timer.callbacks.append(lambda _e, stop=stop, kind=kind: (not stop.triggered) and self._stop_kind_set(stop, kind))
        self._run_until(stop)
        kind = self._stop_kind
        if kind != "inject" and self._point_i < len(self.points) and abs(self.points[self._point_i][0] - self.env.now) < _EPS:
            self._point_i += 1
        self._last_point_time = self.env.now
        if kind == "end" or self.env.now >= self.duration - _EPS:
            self._finish()
            return self.observe()
        if kind != "check":
            self.point += 1
            self.log.add(self.env.now, "decision_point", str(self.point), {"cause": kind})
            for q in self.scenario.questions:
                if q.at_h is not None and abs(q.at_h - self.env.now) < _EPS:
                    self.pending.questions.append({"id": q.id})
        obs = self.observe(kind)
        return obs

    def _run_until(self, until: simpy.Event) -> None:
        """``env.run(until=until)``, in slices of steps with the work budget looked at between slices.

        The same steps in the same order as simpy's own loop, and nothing added per step or per
        record: a runaway run stops within one slice of going over its budget.
        """
        if until.callbacks is None:  # processed already
            return
        until.callbacks.append(StopSimulation.callback)
        step, k = self.env.step, -1
        try:
            while True:
                for k in _SLICE:  # noqa: B007 - k is read once a StopSimulation ends the slice
                    step()
                self._steps += len(_SLICE)
                self._check_budget()
        except StopSimulation:
            self._steps += k + 1
        except EmptySchedule:
            raise RuntimeError(f"the clock ran out of events before {until} happened") from None
        self._check_budget()

    @property
    def steps(self) -> int:
        """Simulation steps (simpy events processed) so far: what the ``steps`` budget counts."""
        return self._steps

    def _check_budget(self) -> None:
        over = ("records" if len(self.log) > self.budget.records else
                "steps" if self._steps > self.budget.steps else None)
        if over is not None:
            self.stopped = self._budget_error(over)
            self._release()
            raise self.stopped

    def _budget_error(self, budget: str, detail: str = "") -> WorkBudgetExceeded:
        return WorkBudgetExceeded(budget, getattr(self.budget, budget), time_h=self.env.now, duration_h=self.duration,
                                  scenario=self.scenario.id, path=self.scenario.source_path, detail=detail)

    def _start(self, generator: Generator[Any, Any, Any]) -> None:
        """Start a hazard or crew process on the clock."""
        self._generators.append(generator)
        self.env.process(generator)

    def _release(self) -> None:
        """Let go of the clock's pending work once a whole run is over.

        The processes' frames and the callbacks still scheduled point back at this simulation:
        without them a finished run is freed as soon as its last reference goes, instead of by the
        cycle collector (collecting finished runs took about a tenth of a 5,000-asset run).  The
        state, the log and the clock's time stay readable.
        """
        for generator in self._generators:
            generator.close()
        self._generators.clear()
        queue = getattr(self.env, "_queue", None)  # simpy's heap of scheduled events
        if isinstance(queue, list):
            queue.clear()
        for crew in self.crews:
            crew.wake = None
        self._live = None
        self._stop = None
        self.__dict__.pop("_check_conditions", None)  # a bound method of its own: would keep a cycle
        self._repair_order = None  # its hours function reads this simulation's repair times: a cycle too

    def _stop_kind_set(self, stop: Any, kind: str) -> None:
        self._stop_kind = kind
        stop.succeed(kind)

    def _finish(self) -> None:
        if self.done:
            return
        if self.env.now < self.duration:  # what env.run(until=duration) schedules: a stop before that hour's events
            end = simpy.Event(self.env)
            end._ok, end._value = True, None
            self.env.schedule(end, URGENT, self.duration - self.env.now)
            self._run_until(end)
        self._fast_forward()
        for i in np.nonzero(self.state == BACKUP)[0].tolist():
            self._settle(i)
        self.done = True
        self.log.add(self.env.now, "run_end", self.scenario.id, {
            "spent": round(self.spent, 6), "budget": self.scenario.resources.budget,
            "assets_down": int((self.state == DOWN).sum()), "damaged": int((self.damage > 0).sum()),
            "decisions": len(self.decisions),
        })

    def _fast_forward(self) -> None:
        """After the last decision hour: run on, hour by hour, until the city has recovered
        (nobody unserved, nothing damaged, no boil-water notice) or ``recovery_h`` more hours passed.

        Each look is an urgent event whose callback schedules the next look, and only the last
        one stops the clock: a stop per hour looked at (simpy's exception, the stop event put back
        on the heap, a return from the run loop) cost more than many of those hours' events."""
        self._horizon = self.duration + self.scenario.recovery_h
        self.recovering = True  # no new injects or deadlines: the exercise itself is over
        if self._recovery_over():
            return
        self._look_again()
        self._run_until(self.env.event())  # stopped by the last look

    def _recovery_over(self) -> bool:
        return not (self.env.now < self._horizon - _EPS and not self._recovered())

    def _look_again(self, look: simpy.Event | None = None) -> None:
        # look again at the first whole hour at or after the next event (an hourly look that
        # skips the hours in which nothing happens); with nothing left to happen, at the cap.
        # The look just processed is scheduled again (simpy has taken its callbacks): no new event.
        now, horizon, nxt = self.env.now, self._horizon, self._next_event_time()
        at = horizon if math.isinf(nxt) else min(horizon, max(math.floor(now + _EPS) + 1.0, math.ceil(nxt - _EPS)))
        if look is None:
            look = simpy.Event(self.env)
            look._ok, look._value = True, None
        look.callbacks = [self._look]
        self.env.schedule(look, URGENT, at - now)

    def _look(self, look: simpy.Event) -> None:
        if self._recovery_over():
            raise StopSimulation(None)  # the clock stops here, before anything else due now
        self._look_again(look)

    def _next_event_time(self) -> float:
        """When the next event is due, not counting the stop just taken (simpy puts a stop event
        back on its heap at the current time, with priority -1, for its remaining callbacks)."""
        now, queue = self.env.now, self.env._queue
        if queue and not (queue[0][1] < 0 and queue[0][0] <= now):  # the heap's head is the earliest
            return queue[0][0]
        return min((t for t, prio, _eid, _ev in queue if not (prio < 0 and t <= now)), default=math.inf)

    def _recovered(self) -> bool:
        none = self._no_assets  # all zeros: byte comparisons, the damage (most often left) first
        return not (self._dm != none or self._cy != none or self.district_unserved.any()
                    or any(self._boiling) or any(self._refilling))

    # ------------------------------------------------------------------------------------
    # decisions

    def check(self, decision: Decision | Sequence[Action]) -> list[str]:
        """Problems that would stop ``decision`` now (empty: it can be applied)."""
        if not isinstance(decision, Decision):
            decision = Decision(list(decision))
        c, sc = self.city, self.scenario
        out: list[str] = []
        if self.done or self.stopped is not None:
            return ["the exercise is over"]
        cost = 0.0
        acts = decision.actions
        for k, a in enumerate(acts):
            where = f"actions[{k}] ({a.action})"
            for loc, msg in action_problems(a, sc, c):
                out.append(f"{where}: {'.'.join(str(x) for x in loc)}: {msg}")
            if out:
                continue
            kind = ACTIONS[a.action]
            cost += kind.cost(self, a)
            out.extend(f"{where}: {msg}" for msg in kind.check(self, a, acts[:k]))
        if self.spent + cost > sc.resources.budget + 1e-6:
            out.append(f"not enough budget: this costs {cost:,.0f} {sc.resources.currency}, "
                       f"{sc.resources.budget - self.spent:,.0f} left")
        return out

    def apply(self, decision: Decision | Sequence[Action]) -> None:
        """Check and schedule a decision; an invalid one raises :class:`DecisionError` and changes nothing."""
        if not isinstance(decision, Decision):
            decision = Decision(list(decision))
        problems = self.check(decision)
        if problems:
            raise DecisionError("; ".join(problems), field="actions")
        if self._live is not None:  # the observation shows the state before this decision
            self._live._materialize()
            self._live = None
        now = self.env.now
        rec = {"point": self.point, "time_h": round(now, 9), **decision.to_dict()}
        self.decisions.append(rec)
        self.log.add(now, "decision", str(self.point), {k: v for k, v in rec.items() if k != "point"})
        for a in decision.actions:
            self._schedule(a)
            self.action_history.append((now, a))
            for exp in self.expected:
                if not exp.met and self._matches(exp, a):
                    self._meet(exp, now)

    def sample(self, dist: Any, rng: np.random.Generator) -> float:
        """One draw of a scenario's uncertain number (an action's lead time, say) from stream ``rng``."""
        return sample(dist, rng)

    def _schedule(self, a: Action) -> None:
        """Spend what the action uses now, and put its effect on the clock after its lead time."""
        sc = self.scenario
        kind = ACTIONS[a.action]
        cost = kind.commit(self, a)
        if cost:
            self.spent += cost
            self.log.add(self.env.now, "cost", a.action, {"amount": round(cost, 6), "spent": round(self.spent, 6),
                                                             "budget_left": round(sc.resources.budget - self.spent, 6)})
        delay = kind.lead_time(self, a)
        if kind.immediate and delay <= 0:
            self._effect(a)  # an order with no lead time reaches the crews at once
            return
        ev = self.env.timeout(_finite_delay(delay, a.action))
        ev.callbacks.append(lambda _e, a=a: self._effect(a))

    def _effect(self, a: Action) -> None:
        data: dict[str, Any] = {"action": a.action}
        ACTIONS[a.action].effect(self, a, data)
        self.log.add(self.env.now, "action", a.target or a.action, data)
        self._flush_districts()

    # ------------------------------------------------------------------------------------
    # whole runs

    def run(self) -> EventLog:
        """Run to the end, letting the policy (if any) decide at every decision point."""
        while not self.done:
            obs = self.advance()
            if obs.done:
                break
            if self.policy is None:
                continue
            d = self.policy.decide(obs)
            obs._detach()  # nobody else reads it: skip building what the policy did not ask for
            self._live = None
            if d is None or not d.actions:
                continue
            # a plan rule that cannot act now (no budget, nothing to repair) is skipped, and logged
            kept: list[Action] = []
            skipped: list[dict[str, Any]] = []
            for a in d.actions:
                problems = self.check(Decision([*kept, a]))
                if problems:
                    skipped.append({"action": a.model_dump(mode="json", exclude_none=True), "problems": problems})
                else:
                    kept.append(a)
            if skipped:  # kept beside the log: a plan's unmet intentions are not events in the city
                self.skipped.append({"time_h": self.env.now, "skipped": skipped})
            if kept:
                self.apply(Decision(kept, d.rationale, d.answers))
        self._release()
        return self.log


def run(scenario: Scenario, city: City, seed: int = 0, policy: Policy | None = None, *,
        budget: WorkBudget | None = None) -> EventLog:
    """One whole run; returns the event log."""
    return Simulation(scenario, city, seed, policy, budget=budget).run()


def replay(scenario: Scenario, city: City, seed: int, decisions: Sequence[dict[str, Any]],
           *, until_point: int | None = None,
           budget: WorkBudget | None = None) -> tuple[Simulation, Observation]:
    """Rebuild a game from its recorded decisions (to resume play or verify a score).

    Without ``until_point`` it plays to the end; with it, it stops at that decision point,
    before anything is decided there, ready for the player's next move.  Returns the
    simulation and the last observation.
    """
    from ..policy import RecordedDecisions

    rec = RecordedDecisions(decisions)
    sim = Simulation(scenario, city, seed, rec, budget=budget)
    obs = sim.observe()
    while not sim.done:
        obs = sim.advance()
        if obs.done or (until_point is not None and obs.point >= until_point and obs.kind != "check"):
            break
        d = rec.decide(obs)
        if d is not None:
            sim.apply(d)
    if sim.done and rec.by_time:
        t = min(rec.by_time)
        raise DecisionError(f"the recorded decision at {t:g} h (decision point {rec.by_time[t][0]}) was never reached "
                            "on replay: the scenario, city or engine differs from the one it was played on",
                            field="decisions")
    return sim, obs
