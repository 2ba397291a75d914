"""The MSEL at run time: injects on time or condition, expected actions, deadlines, contingencies."""

from __future__ import annotations

import heapq
from typing import Any

from ..policy import trigger_met
from ..scenario import Action
from ._common import (
    _Expected,
    _finite_delay,
)
from .actions import REGISTRY as ACTIONS
from .observation import _SimView


class MselMixin:
    """Injects and expected actions (part of Simulation; fired injects and expected actions in ``self.rs``)."""

    def _fire_inject(self, inj: Any) -> None:
        if self._deliver(inj):
            self._check_conditions()

    def _deliver(self, inj: Any) -> bool:
        """Deliver one inject (log it, make its expected actions due); False if it fired already or too late.

        The conditions it may now meet are checked by the caller: firing an inject never calls
        back into :meth:`_check_conditions`, so a chain of injects is not a chain of Python frames.
        """
        rs = self.rs
        if inj.id in rs.fired or self.env.now >= self.duration:
            return False
        now = self.env.now
        rs.fired[inj.id] = now
        # the log names the inject; its words are looked up in the reader's language when shown
        rec = {"channel": inj.channel, "pause": inj.pause, "contingency": inj.contingency}
        self.log.add(now, "inject", inj.id, rec)
        rs.pending.injects.append({"time_h": now, "id": inj.id, **rec, "asks": [self._ask(ea) for ea in inj.expected_actions]})
        for q in self.scenario.questions:
            if q.at_inject == inj.id:
                rs.pending.questions.append({"id": q.id})
        for ea in inj.expected_actions:
            exp = _Expected(ea.id, ea.action, ea.targets, now + ea.deadline_h, inj.id, ea.contingency,
                            ea.only_after_inject)
            rs.expected.append(exp)
            self.log.add(now, "expected", ea.id, {"status": "due", "action": ea.action, "targets": list(ea.targets),
                                                     "due_h": round(exp.due, 9), "inject": inj.id})
            for t, a in ([] if exp.only_after else rs.action_history):  # done before it was asked for: early
                if self._matches(exp, a):
                    self._meet(exp, t)
                    break
            if not exp.met:
                ev = self.env.timeout(_finite_delay(ea.deadline_h, "deadline"))
                ev.callbacks.append(lambda _e, exp=exp: self._deadline(exp))
        if inj.pause and self.scenario.decision_points.at_injects:
            self._request_stop("inject")
        return True

    def _ask(self, ea: Any) -> dict[str, Any]:
        """What an inject asks of the player, as a policy reads it: the expected action's kind, its
        targets as the MSEL lists them (for a repair order, the order asked for), the criticality of
        the named assets, and its deadline."""
        c = self.city
        crit = {t: int(c.asset_crit[c.asset_index[t]]) for t in ea.targets if t in c.asset_index}
        return {"id": ea.id, "action": ea.action, "targets": list(ea.targets), "criticality": crit,
                "deadline_h": float(ea.deadline_h)}

    def _matches(self, exp: _Expected, a: Action) -> bool:
        return a.action == exp.action and ACTIONS[a.action].meets(a, exp.targets)

    def _crew_sent(self, asset_id: str) -> None:
        """A crew set off for ``asset_id`` because of the learner's priority list: an expected
        dispatch of a crew there is done (the list did what a dispatch order would have)."""
        for exp in self.rs.expected:
            if not exp.met and ACTIONS[exp.action].met_by_crew_sent(asset_id, exp.targets):
                self._meet(exp, self.env.now)

    def _meet(self, exp: _Expected, t: float) -> None:
        exp.met = True
        self.log.add(self.env.now, "expected", exp.id, {"status": "met", "action_time_h": round(t, 9),
                                                           "due_h": round(exp.due, 9),
                                                           "late_h": round(t - exp.due, 9)})

    def _deadline(self, exp: _Expected) -> None:
        if exp.met or self.recovering:  # a deadline past the exercise's end is not a miss
            return
        self.log.add(self.env.now, "expected", exp.id, {"status": "missed", "due_h": round(exp.due, 9)})
        if exp.contingency:
            inj = self.scenario.inject(exp.contingency)
            if inj is not None:
                self._fire_inject(inj)

    # the condition language reads the engine through the same questions an Observation answers
    def _check_conditions(self) -> None:
        """Fire every waiting inject whose condition holds, and those that these make hold.

        Firing an inject changes nothing a condition reads except which injects have fired, so
        within one check the other triggers keep the value they had when it began, and an
        ``inject`` trigger turns true exactly when its inject fires.  The injects fire in the
        order the logs pin: again and again, the first one in file order whose condition holds.
        A heap of ready positions gives that order without re-reading the list per inject or
        nesting a call per inject (thousands of chained injects cost a few milliseconds).
        """
        rs = self.rs
        if rs._reveal_waiting:
            self._check_reveals()
        waiting = rs.cond_injects
        if not waiting or self.env.now >= self.duration:
            return
        view = _SimView(self)
        ready = [k for k, (_inj, trigger, value) in enumerate(waiting) if trigger_met(trigger, value, view)[0]]
        if not ready:
            return
        after: dict[str, list[int]] | None = None  # inject id -> positions waiting for it, made on the first firing
        while ready:
            inj = waiting[heapq.heappop(ready)][0]
            if inj.id in rs.fired:
                continue
            self._deliver(inj)
            if after is None:
                after = {}
                for k, (_inj, trigger, value) in enumerate(waiting):
                    if trigger == "inject":
                        after.setdefault(value, []).append(k)
            for k in after.get(inj.id, ()):
                heapq.heappush(ready, k)
        rs.cond_injects = [c for c in waiting if c[0].id not in rs.fired]
