"""reopen_road: reopen a road the learner closed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field, edge_index
from .close_road import set_closed


class ReopenRoad(ActionKind):
    name = N_("reopen_road")
    verb = "reopen"
    help = N_("reopen a road you closed")
    fields = (Field("target", "road"),)
    defaults = {"cost": 200, "lead_time_h": 0.5}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        e = edge_index(a.target, sim.city)
        if e is not None and not sim.edge_closed_manual[e]:
            return [Msg(N_("road {target} was not closed by you"), target=a.target)]
        return []

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        set_closed(sim, a.target, False)
