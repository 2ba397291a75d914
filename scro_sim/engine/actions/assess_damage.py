"""assess_damage: survey and document the damage to the city's assets, as recovery funds require.

A reimbursement claim (``file_claim``) pays back only costs on file: an inspection, photos and a
priced estimate for each damaged site, made before the repair hides the damage (FEMA's Public
Assistance and the EU Solidarity Fund both ask for such a damage assessment; docs/reference_data.md,
"Paying for the recovery").  Once the survey is done (the lead time) the repair cost of every asset
damaged at that moment is documented; an asset repaired before the surveyors came leaves nothing
to document.  A later survey adds what has broken since.  Needs the scenario's ``damage_costs``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import N_, OneAtATime


def documented_total(sim: Any) -> float:
    """The repair costs the damage assessments have documented so far (0 before any)."""
    doc = sim.action_state.get("assess_damage", {}).get("documented", {})
    return math.fsum(doc[k] for k in sorted(doc))


class AssessDamage(OneAtATime):
    name = N_("assess_damage")
    verb = "assess"
    bears_on = "none"
    help = N_("survey and document the damage to the city's assets (what a reimbursement claim needs)")
    busy = N_("a damage assessment is already under way")
    # Off unless a scenario enables it.  A team of surveyors for a town's public assets for half a
    # day (author's estimate, L).
    defaults = {"enabled": False, "cost": 25000, "lead_time_h": 12.0}

    def never_possible(self, scenario: Any) -> str | None:
        if scenario.damage_costs is None:
            return "nothing is priced (the scenario declares no damage_costs), so there is no cost to document"
        return None

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        st = self.finished(sim)
        doc: dict[str, float] = st.setdefault("documented", {})
        found: list[str] = []
        rc = sim.repair_cost
        if rc is not None:
            for i in np.flatnonzero(sim.damage != 0).tolist():
                code = int(sim.damage[i])
                if code >= rc.shape[0]:
                    continue  # not physical damage (nothing to price)
                aid = sim.city.asset_ids[i]
                cost = float(rc[code, i])
                if cost > doc.get(aid, 0.0):
                    doc[aid] = cost
                    found.append(aid)
        data.update(effective=True, assets=sorted(found), documented=round(documented_total(sim), 6))
