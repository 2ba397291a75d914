"""investigate: look into why an asset is down (logs, screens, the vendor's telemetry) to learn the cause.

Real exercises keep the cause ambiguous: a plant stops and nobody knows yet whether it is a
fault or an attack.  A cyber hazard's cause stays ``unknown`` to the player until its
``reveal`` says it shows; a hazard that lists ``reveal: {by_action: investigate}`` comes to
light once an investigation of one of its targets finishes (after the lead time).  The
``action`` record says what was found:

- ``cyber``: the asset is under an attack (revealed now, or known already);
- ``inconclusive``: it is under an attack that an investigation cannot show (its ``reveal`` does
  not list ``by_action: investigate``), so the cause stays unknown;
- ``no_attack``: no attack on it (a fault, damage or a lost supply; those the player sees).

An investigation does not by itself move the attack's detection or recovery.
"""

from __future__ import annotations

from typing import Any

from ._base import N_, ActionKind, Field

FINDINGS = (N_("finding:cyber"), N_("finding:inconclusive"), N_("finding:no_attack"))


class Investigate(ActionKind):
    name = N_("investigate")
    verb = "investigate"
    bears_on = "none"
    reveals = True
    help = N_("find out why an asset is down (fault or attack)")
    fields = (Field("target", "asset", prompt=N_("Asset to investigate")),)
    # Off unless a scenario enables it.  A first forensic triage (remote log review by the
    # IT security team or the vendor) takes a couple of hours and costs little next to a rebuild
    # (author's estimate, L).
    defaults = {"enabled": False, "cost": 2000, "lead_time_h": 2.0}

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        h = sim.attack_of.get(sim.city.asset_index[a.target])
        if h is None:
            finding = "no_attack"
        elif h.id in sim.revealed:
            finding = "cyber"
        elif h.reveal.by_action == self.name:  # the scenario lets an investigation show it
            sim._reveal(h, self.name)
            finding = "cyber"
        else:
            finding = "inconclusive"
        data.update(target=a.target, finding=finding)
