"""evacuate: move a district's complying residents to a shelter, up to its free places."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field


def evacuees_for(sim: Any, a: Any) -> int:
    """People an evacuation order moves now: those who comply, up to the shelter's free places."""
    c = sim.city
    d = c.district_index[a.target]
    s = c.asset_index[a.shelter]
    want = round(float(sim.residents[d]) * sim.scenario.actions.get("evacuate").compliance)
    if c.asset_capacity[s] > 0:
        want = min(want, int(c.asset_capacity[s]) - int(sim.shelter_load[s]))
    return max(0, int(want))


class Evacuate(ActionKind):
    name = N_("evacuate")
    verb = "evacuate"
    bears_on = "people"
    help = N_("move residents to a shelter")
    fields = (Field("target", "district"), Field("shelter", "asset", types=("shelter",)))
    defaults = {"cost": 5000, "cost_per_person": 25, "lead_time_h": 3.0, "compliance": 0.8}

    def cost(self, sim: Any, a: Any) -> float:
        spec = sim.scenario.actions.get(self.name)
        return spec.cost + spec.cost_per_person * evacuees_for(sim, a)

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        if sim.residents[sim.city.district_index[a.target]] <= 0:
            return [Msg(N_("{target} has nobody left to evacuate"), target=a.target)]
        return []

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        c = sim.city
        d = c.district_index[a.target]
        s = c.asset_index[a.shelter]
        moved = evacuees_for(sim, a)
        sim.residents[d] -= moved
        sim.evacuees[d][s] = sim.evacuees[d].get(s, 0) + moved
        sim.shelter_load[s] += moved
        sim.log.add(sim.env.now, "population", a.target, {
            "moved": moved, "shelter": a.shelter, "residents": int(sim.residents[d]),
            "evacuees": int(sum(sim.evacuees[d].values())), "population": int(c.district_pop[d])})
        # the shelter's state now matters to this district's people
        if d not in sim.shelter_districts.setdefault(s, []):
            sim.shelter_districts[s].append(d)
        sim._recompute_districts([d])
        data.update(target=a.target, shelter=a.shelter, moved=moved)
