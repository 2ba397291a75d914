"""open_surge_beds: open extra beds at a hospital (a share of its normal beds) against a patient surge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
    params = {"surge_share": Param("share", 0.2, "open_surge_beds: beds added, as a share of the hospital's normal beds")}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        i = sim.city.asset_index[a.target]
        if sim.surge_beds[i] > 0 or any(b.action == self.name and b.target == a.target for b in earlier) or any(
                b.action == self.name and b.target == a.target for _, b in sim.action_history):
            return [f"surge beds at {a.target} are already opened or on the way"]
        return []

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        c = sim.city
        i = c.asset_index[a.target]
        beds = round(float(c.asset_capacity[i]) * sim.scenario.actions.get(self.name).surge_share)
        sim.surge_beds[i] += beds  # the surge process counts them from its next step
        data.update(beds=beds, capacity=round(float(c.asset_capacity[i]) + float(sim.surge_beds[i]), 6))
