"""contract_spares: spare parts on contract for one kind of equipment: shorter repairs once they are in.

The learner names an asset; the contract covers every asset of its type (transformers, poles and
conductors for substations and feeders, antennas and radios for masts...).  Once the parts are
delivered (the lead time) every repair of that type that starts takes ``spares_factor`` of its
time: no waiting for parts.  The factor and the cost are teaching values (L),
docs/reference_data.md ("Storms, retrofits and insurance").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg, word
from ._base import N_, ActionKind, Field, Param


class ContractSpares(ActionKind):
    name = N_("contract_spares")
    verb = "spares"
    bears_on = "recovery"
    help = N_("spare parts on contract for one kind of equipment (the target's type): shorter repairs")
    fields = (Field("target", "asset"),)
    # Off unless a scenario enables it.
    defaults = {"enabled": False, "cost": 80000, "lead_time_h": 48.0, "spares_factor": 0.6}
    params = {"spares_factor": Param("share", 0.6, "contract_spares: the share of its time a repair takes "
                                                   "once the parts are in stock")}

    def _type(self, sim: Any, target: str) -> str:
        return str(sim.city.type_names[sim.city.asset_index[target]])

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        typ = self._type(sim, a.target)
        if typ in self.state(sim) or any(b.action == self.name and self._type(sim, b.target) == typ for b in earlier):
            return [Msg(N_("spare parts for every {type} are already on contract"), type=word(str(typ)))]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)[self._type(sim, a.target)] = None  # on order
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        typ = self._type(sim, a.target)
        factor = float(sim.scenario.actions.get(self.name).spares_factor)
        if sim.spares is None:
            sim.spares = {}
        sim.spares[typ] = factor
        self.state(sim)[typ] = sim.env.now
        data.update(effective=True, asset_type=typ, factor=factor)
