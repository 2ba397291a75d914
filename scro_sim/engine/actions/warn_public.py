"""warn_public: warn one district or all; warned people act on it (compliance) before the hazard arrives."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ._base import N_, ActionKind, Field, Param


class WarnPublic(ActionKind):
    name = N_("warn_public")
    verb = "warn"
    bears_on = "people"
    help = N_("warn the public")
    fields = (Field("target", "district_or_all", required=False), Field("message", "text", required=False))
    defaults = {"cost": 500, "lead_time_h": 0.25, "compliance": 0.7, "warning_lead_h": 2.0}
    params = {"compliance": Param("share", 0.7, "warn_public: share of warned people who act on it; "
                                                "evacuate: share who leave"),
              "warning_lead_h": Param("hours", 2.0, "warn_public: warnings count as \"in time\" this many "
                                                    "hours before the hazard arrives")}

    def meets(self, a: Any, targets: Sequence[str]) -> bool:
        return not targets or a.target == "all" or a.target in targets  # a warning to all covers every district

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        c = sim.city
        targets = range(c.n_districts) if a.target in (None, "all") else [c.district_index[a.target]]
        for d in targets:
            if math.isnan(sim.warned_at[d]):
                sim.warned_at[d] = sim.env.now
        data["target"] = a.target or "all"
        data["message"] = a.message or ""
