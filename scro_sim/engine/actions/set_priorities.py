"""set_priorities: the restoration order every crew follows (first = most urgent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field


class SetPriorities(ActionKind):
    name = N_("set_priorities")
    verb = "priorities"
    bears_on = "order"
    help = N_("restoration order for all crews")
    fields = (Field("order", "assets", missing=Msg(N_("set_priorities needs an order (a list of asset ids)"))),)
    defaults = {"cost": 0, "lead_time_h": 0.0}
    immediate = True

    def meets(self, a: Any, targets: Sequence[str]) -> bool:
        if targets and a.order:
            return a.order[0] in targets  # the order's first asset is the one it is about
        return super().meets(a, targets)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        sim.priorities = [sim.city.asset_index[x] for x in a.order or ()]
        sim._wake_crews()
