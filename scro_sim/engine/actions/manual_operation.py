"""manual_operation: run a water plant by hand while its control system is down (cyber attack, SCADA outage).

A crew posted at a pumping station or treatment plant that a cyber attack shut down runs it by
hand: once the crew arrives (the lead time) the plant serves again for one shift
(``shift_h``); when the shift ends and the control system is still down, the plant stops again.
Running a plant by hand with staff on site is the usual fallback while its control system is
down; the shift and its cost are teaching values (L).  A crew's hours cost money
(``cost_per_hour`` for the shift).  The engine has no partial service, so a manned plant
serves fully; a shift may be ordered again while the control system stays down.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg, word
from ._base import N_, ActionKind, Field, Param

_EPS = 1e-9


def _control_down(sim: Any, i: int) -> bool:
    """Whether asset ``i``'s control system is still down: a cyber attack on it has not ended."""
    aid = sim.city.asset_ids[i]
    for h in sim.scenario.hazards:
        if getattr(h, "type", None) != "cyber" or aid not in h.targets:
            continue
        p = sim.hazard_params[h.id]
        detected = sim.detected_at.get(h.id, p["start_h"] + p["detection_delay_h"])  # earlier if its reveal did it
        if not p["start_h"] - _EPS <= sim.env.now < detected + p["recovery_h"] - _EPS:
            continue
        if h.incident_response_h is None or sim.cyber_open.get(i) is h:
            return True
    return False


class ManualOperation(ActionKind):
    name = N_("manual_operation")
    verb = "manual"
    bears_on = "asset"
    help = N_("run a plant by hand while its control system is down")
    fields = (Field("target", "asset", types=("pumping_station", "water_treatment")),
              Field("crew", "crew", required=False))
    # Off unless a scenario enables it.  One shift of 12 h with a crew's hours at 150 a hour.
    defaults = {"enabled": False, "cost": 1000, "lead_time_h": 1.0, "shift_h": 12.0, "cost_per_hour": 150}
    params = {"shift_h": Param("hours", 12.0, "manual_operation: hours a posted crew runs the plant by hand"),
              "cost_per_hour": Param("money", 0.0, "manual_operation: money per hour of a posted crew")}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        c = sim.city
        i = c.asset_index[a.target]
        out = []
        skill = c.type_skill.get(str(c.asset_type[i]), "general")
        if not any(a.crew in (None, t.id) and (skill in t.skills or "general" in t.skills)
                   for t in sim.scenario.resources.crews):
            out.append(Msg(N_("no crew team can run a {type} by hand"), type=word(str(c.asset_type[i]))))
        if not sim.cyber[i]:
            out.append(Msg(N_("{target} is not shut down by a cyber attack"), target=a.target))
        if i in self.state(sim) or any(b.action == self.name and b.target == a.target for b in earlier):
            out.append(Msg(N_("a crew already runs {target} by hand or is on the way"), target=a.target))
        return out

    def cost(self, sim: Any, a: Any) -> float:
        spec = sim.scenario.actions.get(self.name)
        return spec.cost + spec.cost_per_hour * spec.shift_h

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)[sim.city.asset_index[a.target]] = None  # on the way
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        i = sim.city.asset_index[a.target]
        if not sim.cyber[i]:  # back before the crew arrived
            del self.state(sim)[i]
            data["effective"] = False
            return
        shift = sim.scenario.actions.get(self.name).shift_h
        sim.cyber[i] = False
        self.state(sim)[i] = sim.env.now + shift
        sim._propagate([i])
        data.update(effective=True, shift_h=shift)
        ev = sim.env.timeout(shift)
        ev.callbacks.append(lambda _e: self._end(sim, i))

    def _end(self, sim: Any, i: int) -> None:
        del self.state(sim)[i]
        down = _control_down(sim, i)
        sim.log.add(sim.env.now, "manual_operation", sim.city.asset_ids[i], {"state": "ended", "stopped": down})
        if down:
            sim.cyber[i] = True
            sim._propagate([i])
        sim._flush_districts()
