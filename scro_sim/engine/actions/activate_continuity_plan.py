"""activate_continuity_plan: an organisation moves its critical work to its alternate site.

A utility's control room, a telephone operator's switching and billing, the town hall's
payments: each has a business continuity plan (ISO 22301) that names an alternate site and a
recovery time objective.  Once the plan is in force (the lead time: staff relocate, systems
fail over) the organisation's business goes on while its own site is down; the physical site is
still down, and its services are still lost to the people it serves.  The ``business_interruption``
metric prices the hours each business site (``SITE_TYPES``) stood still without a plan in force
at ``interruption_cost_h`` an hour; the run_start record lists the sites and the price.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field, Param

#: the asset types that house an organisation's business (a control room, billing, payments)
SITE_TYPES: tuple[str, ...] = ("power_plant", "water_treatment", "data_centre", "eoc", "depot")


class ActivateContinuityPlan(ActionKind):
    name = N_("activate_continuity_plan")
    verb = "continuity"
    bears_on = "none"
    help = N_("move an organisation's critical work to its alternate site: its business goes on while the site is down")
    fields = (Field("target", "asset", types=SITE_TYPES, prompt=N_("Site whose organisation moves out")),)
    # Off unless a scenario enables it.  A few hours to relocate (the plan's recovery time
    # objective); 5,000 an hour for a site's business standing still (the engine's value of a
    # critical facility's hour, docs/reference_data.md): teaching values (L).
    defaults = {"enabled": False, "cost": 20000, "lead_time_h": 4.0, "interruption_cost_h": 5000.0}
    params = {"interruption_cost_h": Param("money", 5000.0, "activate_continuity_plan: what an hour of a business "
                                                            "site standing still costs (business_interruption)")}

    def logged_at_start(self, scenario: Any, city: Any) -> dict[str, Any]:
        spec = scenario.actions.get(self.name)
        if not spec.enabled:
            return {}
        sites = [a for a, t in zip(city.asset_ids, city.type_names, strict=True) if str(t) in SITE_TYPES]
        return {"continuity": {"sites": sites, "cost_h": float(spec.interruption_cost_h)}}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        if a.target in self.state(sim) or any(b.action == self.name and b.target == a.target for b in earlier):
            return [Msg(N_("the continuity plan of {target} is already in force or under way"), target=a.target)]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)[a.target] = None  # relocating
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        self.state(sim)[a.target] = sim.env.now
        data.update(effective=True, continuity=True)
