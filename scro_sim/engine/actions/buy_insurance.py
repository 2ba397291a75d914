"""buy_insurance: insure the city's assets against damage: a premium now, a payout later.

The policy covers the repair cost of damage done after it begins (the lead time: underwriting),
less a ``deductible``, up to ``cover_limit``; scoring adds the claims up from the log (the
``insurance_payout`` and ``retained_loss`` metrics).  It changes the city's net financial loss,
never the physical damage.  Insurers stop selling cover once a storm is named and close
(``sold_until_h``: a binding restriction).  One policy per run.  Needs the scenario's
``damage_costs``: without prices there is nothing to claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Param


class BuyInsurance(ActionKind):
    name = N_("buy_insurance")
    verb = "insure"
    bears_on = "none"
    help = N_("insure the city's assets: a premium now, repair costs paid above a deductible")
    # Off unless a scenario enables it.  A premium of 50,000 for 3 million of cover above 250,000
    # retained: teaching values (L), docs/reference_data.md ("Storms, retrofits and insurance").
    defaults = {"enabled": False, "cost": 50000, "lead_time_h": 24.0, "deductible": 250000,
                "cover_limit": 3000000, "sold_until_h": 8760.0}
    params = {
        "deductible": Param("money", 0.0, "buy_insurance: the part of the repair costs the city pays itself"),
        "cover_limit": Param("money", 0.0, "buy_insurance: the most the insurer pays"),
        "sold_until_h": Param("hours", 8760.0, "buy_insurance: the last hour cover can be bought "
                                               "(insurers stop once a storm is named)"),
    }

    def available(self, sim: Any) -> bool:
        return not self.state(sim) and sim.env.now < sim.scenario.actions.get(self.name).sold_until_h

    def never_possible(self, scenario: Any) -> str | None:
        if scenario.damage_costs is None:
            return "nothing is priced (the scenario declares no damage_costs), so no claim can be paid"
        return None

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        until = sim.scenario.actions.get(self.name).sold_until_h
        if self.state(sim) or any(b.action == self.name for b in earlier):
            return [Msg(N_("the city is already insured (one policy per exercise)"))]
        if sim.env.now >= until:
            return [Msg(N_("insurers no longer sell cover (since hour {until:g})"), until=until)]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)["bought_h"] = sim.env.now
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        spec = sim.scenario.actions.get(self.name)
        self.state(sim)["cover_from_h"] = sim.env.now
        data.update(effective=True, deductible=float(spec.deductible), cover_limit=float(spec.cover_limit))
