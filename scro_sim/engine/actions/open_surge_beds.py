"""open_surge_beds: open extra beds at a hospital (a share of its normal beds) against a patient surge.

Surge beds are staffed by double shifts, cancelled leave and staff called in; a hospital can keep
that up only so long.  With ``staff_h`` set, the beds close again that many hours after they
opened (logged as a ``surge_beds`` record), and cannot be opened again in the run: the staff must
rest.  ``staff_h: 0`` (the default) keeps them open to the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field, Param


class OpenSurgeBeds(ActionKind):
    name = N_("open_surge_beds")
    verb = "surge"
    bears_on = "health"
    help = N_("open surge beds at a hospital")
    fields = (Field("target", "asset", types=("hospital",)),)
    # Off unless a scenario enables it (older scenarios keep their action menus).  Surge
    # capacity of ~20 % of staffed beds within hours (cancel elective admissions, early
    # discharge, staff called in) is the usual hospital surge-plan target (L); France
    # nearly doubled its ICU beds (+95 %), but over weeks [RD].
    defaults = {"enabled": False, "cost": 40000, "lead_time_h": 4.0, "surge_share": 0.2}
    params = {"surge_share": Param("share", 0.2, "open_surge_beds: beds added, as a share of the hospital's normal beds"),
              "staff_h": Param("hours", 0.0, "open_surge_beds: hours the staff can keep the surge beds open "
                                             "(0: to the end of the run)")}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        i = sim.city.asset_index[a.target]
        if sim.surge_beds[i] > 0 or any(b.action == self.name and b.target == a.target for b in earlier) or any(
                b.action == self.name and b.target == a.target for _, b in sim.action_history):
            return [Msg(N_("surge beds at {target} are already opened or on the way"), target=a.target)]
        return []

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        c = sim.city
        i = c.asset_index[a.target]
        beds = round(float(c.asset_capacity[i]) * sim.scenario.actions.get(self.name).surge_share)
        sim.surge_beds[i] += beds  # the surge process counts them from its next step
        data.update(beds=beds, capacity=round(float(c.asset_capacity[i]) + float(sim.surge_beds[i]), 6))
        hold = float(sim.scenario.actions.get(self.name).staff_h)
        if hold > 0:
            data["until_h"] = round(sim.env.now + hold, 9)
            ev = sim.env.timeout(hold)
            ev.callbacks.append(lambda _e: self._close(sim, i, beds))

    def _close(self, sim: Any, i: int, beds: int) -> None:
        """The staff can hold the surge beds no longer: the surge process counts without them from its next step."""
        sim.surge_beds[i] -= beds
        sim.log.append(sim.env.now, "surge_beds", sim.city.asset_ids[i], {
            "state": "closed", "beds": beds, "capacity": round(float(sim.city.asset_capacity[i]) + float(sim.surge_beds[i]), 6)})
