"""public_information: a message to the public of one kind, to one district or all, before a hazard reaches it.

Two kinds, each with one simple effect on the people counted at risk when a hazard reaches a
district (the ``exposure`` record, engine/hazard_processes.py):

- ``shelter_in_place``: against heat and wind (a heatwave or a storm, not a flood, where people
  must leave), ``shelter_share`` of the district's exposed people stay indoors and count as
  protected, as if warned in time;
- ``rumour_control``: answering rumours and repeating the official line makes ``rumour_gain``
  more of the warned people act on a warning (warn_public's compliance, up to 1).

A message counts only if it arrives before the hazard reaches the district, and reaches the
people a broadcast warning would (warn_public's ``phone_share``: not those only the mobile
network reaches where the district has lost telecom).  What is not
modelled: call-centre load and self-evacuation; a pre-emptive boil-water notice (the engine
issues boil-water notices itself when the taps refill: engine/cascade.py).
"""

from __future__ import annotations

from typing import Any

from ._base import N_, ActionKind, Field, Param
from .warn_public import reach

KINDS = (N_("shelter_in_place"), N_("rumour_control"))


class PublicInformation(ActionKind):
    name = N_("public_information")
    verb = "inform"
    bears_on = "people"
    help = N_("tell the public to shelter in place, or answer rumours")
    fields = (Field("notice", "choice", choices=KINDS, prompt=N_("Message")),
              Field("target", "district_or_all", required=False))
    # Off unless a scenario enables it.  Shelter-in-place advice reaches about half the people
    # it addresses; answering rumours moves a tenth more to act on warnings (L).
    defaults = {"enabled": False, "cost": 300, "lead_time_h": 0.25, "shelter_share": 0.5, "rumour_gain": 0.1}
    params = {"shelter_share": Param("share", 0.5, "public_information: share of people who shelter in place "
                                                   "from heat or wind when told to"),
              "rumour_gain": Param("share", 0.1, "public_information: extra share of warned people who act on "
                                                 "a warning once rumours are answered")}

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        c = sim.city
        spec = sim.scenario.actions.get(self.name)
        targets = range(c.n_districts) if a.target in (None, "all") else [c.district_index[a.target]]
        arr, value = ((sim.info_shelter, spec.shelter_share) if a.notice == "shelter_in_place"
                      else (sim.info_compliance, spec.rumour_gain))
        for d in targets:
            if not sim.exposed[d]:  # too late once the hazard is there; only those the message reaches act on it
                arr[d] = max(arr[d], value * reach(sim, d))
        data.update(target=a.target or "all", notice=a.notice)

    def meets(self, a: Any, targets: Any) -> bool:
        return not targets or a.target in (None, "all") or a.target in targets
