"""The kernel: the clock, decision points, checking and applying decisions, and whole runs.

How a run proceeds (read this first; everything else in ``engine/`` is called from here):

1. ``Simulation.__init__`` (``simulation.py``) builds the run's :class:`~.state.RunState` (every
   mutable per-run number, in plain arrays), draws the hazards' uncertain numbers, writes the
   ``run_start`` record and starts the hazard, crew and MSEL processes on the simpy clock.
   :meth:`Kernel._init_points` lists the decision points: the scenario's decision times, a
   replayed plan's extra hours and a policy's ``check_every_h`` ("check" points, which the
   learner never sees as decision points).
2. :meth:`Kernel.advance` runs the clock to the next point.  The stop is a *late* timeout,
   processed after every ordinary event due at that hour, so a replay stops at the same place
   in the event sequence.  An inject that pauses the game stops it early (``_request_stop``).
   The clock runs in slices of ``len(_SLICE)`` steps with the work budget looked at between
   slices (:meth:`Kernel._run_until`): a runaway scenario stops with ``WorkBudgetExceeded``.
3. At a point the player (or a policy, in :meth:`Kernel.run`) answers with a ``Decision``.
   :meth:`Kernel.check` lists what would stop it; :meth:`Kernel.apply` logs it and, per action,
   asks the action registry (``engine/actions/``) for its cost (spent now) and lead time, and
   puts its effect on the clock; the effect then writes into the state and the cascade
   re-evaluates what changed.
4. After the last point the clock runs to the scenario's duration, then fast-forwards
   (:meth:`Kernel._fast_forward`) hour by hour until the city has recovered or ``recovery_h``
   more hours have passed, so the recovery a learner's orders shaped is in the log.  Assets
   still on backup are charged, ``run_end`` is written, and the run is done.

The kernel reads the subsystems only through a few names: ``_recovered`` (is the city whole
again), ``_settle`` (charge backup fuel), ``_release`` (let go of the finished run's processes),
``_matches``/``_meet`` (the MSEL's expected actions), ``observe`` and ``_flush_districts``.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import URGENT

from ..errors import N_, Count, DecisionError, Msg, WorkBudgetExceeded, joined, word
from ..log import EventLog
from ..policy import Decision, Observation
from ..scenario import Action, action_problems
from ._common import _EPS, BACKUP, DOWN, _finite_delay, _LateTimeout
from .actions import REGISTRY as ACTIONS

_SLICE = range(512)  # simulation steps between two looks at the work budget


class Kernel:
    """The clock and the decision loop of a :class:`~.simulation.Simulation` (its first base)."""

    # ---- decision points ----------------------------------------------------------------

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
        self.points = sorted(times)  # (hour, "decision" | "check"), in time order
        self._point_i = 0  # the next entry of points
        self.point = -1  # decision points reached so far, less one
        self._stop: Any = None  # the event that ends the current advance
        self._stop_kind = "decision"
        self.done = False
        self._last_obs_seq = 0  # log records the last observation reported up to
        self._last_point_time = -1.0
        self._live: Any = None  # the last observation, while its lazy parts can still be built

    def _request_stop(self, kind: str) -> None:
        if self._stop is not None and not self._stop.triggered:
            self._stop_kind = kind
            self._stop.succeed(kind)

    def _stop_kind_set(self, stop: Any, kind: str) -> None:
        self._stop_kind = kind
        stop.succeed(kind)

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
                    self.rs.pending.questions.append({"id": q.id})
        return self.observe(kind)

    # ---- the clock, in slices under the work budget ---------------------------------------

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

    # ---- the end of the exercise and the recovery after it ---------------------------------

    def _finish(self) -> None:
        if self.done:
            return
        if self.env.now < self.duration:  # what env.run(until=duration) schedules: a stop before that hour's events
            end = simpy.Event(self.env)
            end._ok, end._value = True, None
            self.env.schedule(end, URGENT, self.duration - self.env.now)
            self._run_until(end)
        self._fast_forward()
        rs = self.rs
        for i in np.nonzero(rs.state == BACKUP)[0].tolist():
            self._settle(i)
        self.done = True
        self.log.add(self.env.now, "run_end", self.scenario.id, {
            "spent": round(rs.spent, 6), "budget": self.scenario.resources.budget,
            "assets_down": int((rs.state == DOWN).sum()), "damaged": int((rs.damage > 0).sum()),
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

    # ---- decisions ------------------------------------------------------------------------

    def check(self, decision: Decision | Sequence[Action]) -> list[str]:
        """Problems that would stop ``decision`` now (empty: it can be applied)."""
        if not isinstance(decision, Decision):
            decision = Decision(list(decision))
        c, sc = self.city, self.scenario
        out: list[str] = []
        if self.done or self.stopped is not None:
            return [Msg(N_("the exercise is over"))]
        cost = 0.0
        acts = decision.actions
        for k, a in enumerate(acts):
            # the action by its learner-facing label in the reader's language ("deploy_generator" in English text)
            where = Msg(N_("actions[{k}] ({action})"), k=k, action=word(a.action))
            for loc, msg in action_problems(a, sc, c):
                out.append(Msg("{where}: {field}: {problem}", where=where, field=".".join(str(x) for x in loc),
                               problem=msg))
            if out:
                continue
            kind = ACTIONS[a.action]
            cost += kind.cost(self, a)
            out.extend(Msg("{where}: {problem}", where=where, problem=msg) for msg in kind.check(self, a, acts[:k]))
        spent = self.rs.spent
        if spent + cost > sc.resources.budget + 1e-6:
            out.append(Msg(N_("not enough budget: this costs {cost} {currency}, {left} left"), cost=Count(cost),
                           currency=sc.resources.currency, left=Count(sc.resources.budget - spent)))
        return out

    def apply(self, decision: Decision | Sequence[Action]) -> None:
        """Check and schedule a decision; an invalid one raises :class:`DecisionError` and changes nothing."""
        if not isinstance(decision, Decision):
            decision = Decision(list(decision))
        problems = self.check(decision)
        if problems:
            raise DecisionError(joined(problems), field="actions", reasons=problems)
        if self._live is not None:  # the observation shows the state before this decision
            self._live._materialize()
            self._live = None
        now = self.env.now
        rec = {"point": self.point, "time_h": round(now, 9), **decision.to_dict()}
        self.decisions.append(rec)
        self.log.add(now, "decision", str(self.point), {k: v for k, v in rec.items() if k != "point"})
        rs = self.rs
        for a in decision.actions:
            self._schedule(a)
            rs.action_history.append((now, a))
            for exp in rs.expected:
                if not exp.met and self._matches(exp, a):
                    self._meet(exp, now)

    def _schedule(self, a: Action) -> None:
        """Spend what the action uses now, and put its effect on the clock after its lead time."""
        sc, rs = self.scenario, self.rs
        kind = ACTIONS[a.action]
        cost = kind.commit(self, a)
        if cost:
            rs.spent += cost
            self.log.add(self.env.now, "cost", a.action, {"amount": round(cost, 6), "spent": round(rs.spent, 6),
                                                             "budget_left": round(sc.resources.budget - rs.spent, 6)})
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

    # ---- whole runs -----------------------------------------------------------------------

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
