"""declare_incident: the learner states what they believe is happening, for the record.

A declaration changes nothing in the city; it is what the assessor and the metrics read
(scro_sim/scoring/metrics.py: how long after the cause could be known the right one was
declared, and whether a wrong one was).  Kinds:

- ``cyber``, ``fault``, ``sabotage``: the cause of an outage (name the asset as ``target``, or
  none for the incident as a whole);
- ``boil_water``: the learner calls for a boil-water notice: the tap water is not safe to drink
  (the engine's own notices after a dry spell are ``boil_water`` records of their own).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field

#: what a learner may declare; the first three are causes
INCIDENTS = (N_("cyber"), N_("fault"), N_("sabotage"), N_("boil_water"))
CAUSES = INCIDENTS[:3]


class DeclareIncident(ActionKind):
    name = N_("declare_incident")
    verb = "declare"
    bears_on = "none"
    immediate = True
    help = N_("state what you believe: a cyber incident, a fault, sabotage, or a boil-water call")
    fields = (Field("incident", "choice", choices=INCIDENTS, prompt=N_("What you declare"),
                    missing=Msg(N_("declare_incident needs an incident: cyber, fault, sabotage or boil_water"))),
              Field("target", "asset", required=False))
    # Off unless a scenario enables it; a declaration is a statement, with no cost or delay.
    defaults = {"enabled": False, "cost": 0, "lead_time_h": 0.0}

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        data["incident"] = a.incident
        if a.target:
            data["target"] = a.target

    def meets(self, a: Any, targets: Sequence[str]) -> bool:
        """An expected declaration naming assets is met by a declaration about one of them, or about all."""
        return not targets or a.target is None or a.target in targets
