"""recall_staff: cancel leave and call back retired staff, for a crew team or a hospital, for a limited time.

Named a crew team (``crew``), the team gets ``recall_crews`` extra crews at its depot once the
lead time is over (staff called back from leave, retired line workers on short contracts); named
a hospital (``target``), it staffs ``recall_share`` of the hospital's beds more (bank and
retired nurses), which first reopens the beds a ``staff_absence`` closed.  Either way the extra
staff last ``recall_h`` hours: people called back from leave must rest, and short contracts end.
Then the recalled crews finish the repair they are on and stand down (``off_duty``, cause
``stand_down``), and the hospital's extra beds close.  Each team and each hospital can be
recalled once in a run.  The cost is the overtime and the contracts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from .._common import Crew
from ._base import N_, ActionKind, Field, Param


class RecallStaff(ActionKind):
    name = N_("recall_staff")
    verb = "recall"
    bears_on = "recovery"
    help = N_("call staff back from leave (a crew team or a hospital) for a limited time")
    fields = (Field("crew", "crew", required=False, prompt=N_("Crew team (or a hospital)")),
              Field("target", "asset", types=("hospital",), required=False, prompt=N_("Hospital (or a crew team)")))
    # Off unless a scenario enables it.  Figures are teaching values (L), docs/reference_data.md
    # ("Pandemic staff absence").
    defaults = {"enabled": False, "cost": 30000, "lead_time_h": 12.0, "recall_crews": 1, "recall_share": 0.1,
                "recall_h": 72.0}
    params = {"recall_crews": Param("count", 1, "recall_staff: extra crews a team gets from staff called back"),
              "recall_share": Param("share", 0.1, "recall_staff: beds a hospital staffs more, as a share of its "
                                                  "normal beds"),
              "recall_h": Param("hours", 72.0, "recall_staff: hours the recalled staff can work before they stand "
                                               "down")}

    def problems(self, a: Any, sc: Any, city: Any, *, in_rule: bool = False) -> list[tuple[tuple[Any, ...], str]]:
        out = super().problems(a, sc, city, in_rule=in_rule)
        if (a.crew is None) == (a.target is None):
            out.append((("crew",), Msg(N_("recall_staff needs either a crew team (crew) or a hospital (target), "
                                          "not both"))))
        return out

    def usage(self) -> str:
        """The terminal's syntax: a team or a hospital, said which (``recall crew power_crews``, ``recall hospital H1``)."""
        return f"{self.verb} crew TEAM | {self.verb} hospital HOSPITAL"

    def parse(self, words: Sequence[str]) -> dict[str, Any]:
        """The Action's fields from ``crew TEAM`` or ``hospital HOSPITAL``; other words fill the fields in order
        (a team, then a hospital), as for any action."""
        if len(words) == 2 and words[0].lower() in ("crew", "hospital"):
            return {"action": self.name, ("crew" if words[0].lower() == "crew" else "target"): words[1]}
        return super().parse(words)

    def _key(self, a: Any) -> str:
        return f"crew:{a.crew}" if a.crew is not None else f"hospital:{a.target}"

    def meets(self, a: Any, targets: Sequence[str]) -> bool:
        return not targets or a.target in targets or a.crew in targets

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        key = self._key(a)
        if key in self.state(sim) or any(b.action == self.name and self._key(b) == key for b in earlier):
            who = a.crew if a.crew is not None else a.target
            return [Msg(N_("staff for {who} have already been recalled in this exercise"), who=who)]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)[self._key(a)] = None  # on the way
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        spec = sim.scenario.actions.get(self.name)
        hold = float(spec.recall_h)
        self.state(sim)[self._key(a)] = sim.env.now
        data["until_h"] = round(sim.env.now + hold, 9)
        if a.crew is not None:
            c = sim.city
            team = next(t for t in sim.scenario.resources.crews if t.id == a.crew)
            node = int(c.asset_road[c.asset_index[team.depot]])
            new = [Crew(f"{team.id}+recalled#{j + 1}", team.id, team.skills, node) for j in range(spec.recall_crews)]
            sim.crews.extend(new)  # crews are only ever added at the end
            data.update(crew=team.id, crews=len(new))
            for crew in new:
                sim._start(sim._crew_proc(crew))
            sim._wake_crews()
            ev = sim.env.timeout(hold)
            ev.callbacks.append(lambda _e: self._stand_down(sim, new))
            return
        i = sim.city.asset_index[a.target]
        beds = round(float(sim.city.asset_capacity[i]) * float(spec.recall_share))
        sim.unstaffed_beds[i] -= beds  # the surge process counts them from its next step
        data.update(target=a.target, beds=beds)
        ev = sim.env.timeout(hold)
        ev.callbacks.append(lambda _e: self._beds_close(sim, i, beds))

    def _stand_down(self, sim: Any, crews: list[Crew]) -> None:
        """The recalled crews have worked their hours: each finishes what it is on, then stops."""
        for crew in crews:
            sim.off_duty[crew.id] = "stand_down"
            if crew.state == "idle":
                crew.state = "off_duty"
            sim.log.append(sim.env.now, "crew", crew.id, {"state": "off_duty", "cause": "stand_down"})

    def _beds_close(self, sim: Any, i: int, beds: int) -> None:
        """The recalled hospital staff have worked their hours: the beds they staffed close."""
        sim.unstaffed_beds[i] += beds
        sim.log.append(sim.env.now, "surge_beds", sim.city.asset_ids[i], {"state": "closed", "beds": beds,
                                                                          "cause": "stand_down"})
