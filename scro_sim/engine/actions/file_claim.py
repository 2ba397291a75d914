"""file_claim: claim a share of the documented recovery costs back from a recovery fund, before its deadline.

National disaster funds, the EU Solidarity Fund and FEMA's Public Assistance pay back a share
of the eligible costs of restoring public infrastructure, on two conditions: the application
reaches them by their deadline (12 weeks after the first damage for the EU fund, 30 days after
the declaration for FEMA's request for assistance), and every euro claimed is documented.  Here
the eligible costs are the repair costs a damage assessment (``assess_damage``) has documented
and what emergency purchases (``emergency_procurement``) cost, their invoices being their
documentation.  A claim takes what is on file and not yet claimed; the fund pays
``claim_share`` of it once it has checked the file (the lead time).  Claims after
``claim_deadline_h`` are refused.  The run_start record carries the fund's terms, so that
scoring knows the run has a fund (the ``reimbursed`` and ``net_cost`` metrics).  Needs the
scenario's ``damage_costs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Param
from .assess_damage import documented_total


def eligible_total(sim: Any) -> float:
    """What is on file for a claim: documented repair costs and emergency purchases."""
    bought = float(sim.action_state.get("emergency_procurement", {}).get("spent", 0.0))
    return documented_total(sim) + bought


class FileClaim(ActionKind):
    name = N_("file_claim")
    verb = "claim"
    bears_on = "none"
    help = N_("claim a share of the documented recovery costs back from the recovery fund, before its deadline")
    # Off unless a scenario enables it.  Half of the eligible costs, paid a day after the claim:
    # teaching values (L); FEMA pays at least 75 %, national schemes often less.
    defaults = {"enabled": False, "cost": 0, "lead_time_h": 24.0, "claim_share": 0.5, "claim_deadline_h": 8760.0}
    params = {
        "claim_share": Param("share", 0.5, "file_claim: the share of the documented eligible costs the fund pays back"),
        "claim_deadline_h": Param("hours", 8760.0, "file_claim: the last hour the fund accepts a claim"),
    }

    def logged_at_start(self, scenario: Any, city: Any) -> dict[str, Any]:
        spec = scenario.actions.get(self.name)
        if not spec.enabled:
            return {}
        return {"claims": {"share": float(spec.claim_share), "deadline_h": float(spec.claim_deadline_h)}}

    def available(self, sim: Any) -> bool:
        return sim.env.now < sim.scenario.actions.get(self.name).claim_deadline_h

    def never_possible(self, scenario: Any) -> str | None:
        if scenario.damage_costs is None:
            return "nothing is priced (the scenario declares no damage_costs), so no cost can be claimed"
        return None

    def claimable(self, sim: Any) -> float:
        """What a claim filed now would take: the eligible costs on file not claimed yet."""
        return max(0.0, eligible_total(sim) - float(self.state(sim).get("claimed", 0.0)))

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        until = sim.scenario.actions.get(self.name).claim_deadline_h
        if sim.env.now >= until:
            return [Msg(N_("the fund's deadline for claims passed at hour {until:g}"), until=until)]
        if any(b.action == self.name for b in earlier):
            return [Msg(N_("one claim per decision: it takes everything on file"))]
        if self.claimable(sim) <= 0:
            return [Msg(N_("nothing documented is left to claim: a damage assessment (assess_damage) must document "
                       "the costs first"))]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        st = self.state(sim)
        amount = self.claimable(sim)
        st["claimed"] = float(st.get("claimed", 0.0)) + amount
        st.setdefault("filed", []).append(amount)
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        st = self.state(sim)
        amount = st["filed"].pop(0)
        share = float(sim.scenario.actions.get(self.name).claim_share)
        data.update(effective=True, claimed=round(amount, 6), reimbursed=round(share * amount, 6))
