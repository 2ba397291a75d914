"""emergency_procurement: spare parts for one kind of equipment bought now, by direct award, at a premium.

Normal procurement (``contract_spares``) is cheaper but needs its lead time; in an emergency the
procurement rules let a buyer award a contract directly, without a call for tenders (the EU
directive's negotiated procedure without prior publication for extreme urgency, art. 32(2)(c) of
Directive 2014/24/EU), for as long as the urgency lasts (``direct_award_until_h``) and at
whatever price the market asks then.  The learner names an asset; the parts cover every asset
of its type, as with ``contract_spares``: once delivered (the lead time, hours) every repair of
that type that starts takes ``spares_factor`` of its time.  Its cost counts as an eligible,
documented cost of a reimbursement claim (``file_claim``).  Teaching values (L),
docs/reference_data.md ("Paying for the recovery").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg, word
from ._base import N_, ActionKind, Field, Param


class EmergencyProcurement(ActionKind):
    name = N_("emergency_procurement")
    verb = "procure"
    bears_on = "recovery"
    help = N_("buy spare parts for one kind of equipment (the target's type) now, by direct award at a premium: "
              "shorter repairs within hours")
    fields = (Field("target", "asset"),)
    # Off unless a scenario enables it.  Two and a half times the price of parts on contract, in
    # six hours instead of two days (L).  spares_factor is contract_spares' parameter.
    defaults = {"enabled": False, "cost": 200000, "lead_time_h": 6.0, "spares_factor": 0.6,
                "direct_award_until_h": 8760.0}
    params = {"direct_award_until_h": Param("hours", 8760.0, "emergency_procurement: the last hour the procurement "
                                                             "rules allow a direct award (the urgency)")}

    def _type(self, sim: Any, target: str) -> str:
        return str(sim.city.type_names[sim.city.asset_index[target]])

    def available(self, sim: Any) -> bool:
        return sim.env.now < sim.scenario.actions.get(self.name).direct_award_until_h

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        until = sim.scenario.actions.get(self.name).direct_award_until_h
        if sim.env.now >= until:
            return [Msg(N_("the urgency no longer justifies a direct award (since hour {until:g}): "
                           "buy through normal procurement"), until=until)]
        typ = self._type(sim, a.target)
        contracted = sim.action_state.get("contract_spares", {})
        if (typ in self.state(sim).get("types", {}) or typ in contracted
                or any(b.action in (self.name, "contract_spares") and self._type(sim, b.target) == typ
                       for b in earlier)):
            return [Msg(N_("spare parts for every {type} are already bought or on order"), type=word(str(typ)))]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        st = self.state(sim)
        cost = self.cost(sim, a)
        st.setdefault("types", {})[self._type(sim, a.target)] = None  # on order
        st["spent"] = float(st.get("spent", 0.0)) + cost
        return cost

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        typ = self._type(sim, a.target)
        factor = float(sim.scenario.actions.get(self.name).spares_factor)
        if sim.spares is None:
            sim.spares = {}
        sim.spares[typ] = min(factor, sim.spares.get(typ, 1.0))
        self.state(sim)["types"][typ] = sim.env.now
        data.update(effective=True, asset_type=typ, factor=factor)
