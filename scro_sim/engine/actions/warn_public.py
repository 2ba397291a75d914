"""warn_public: warn one district or all; warned people act on it (compliance) before the hazard arrives.

Channels.  A warning goes out ``broadcast`` (the default: cell broadcast, SMS, apps, social
media, radio and television together) or ``door_to_door`` (fire crews, police and volunteers
with loudspeaker vans and knocks on doors).  Of the people a broadcast addresses, the share
``phone_share`` can be reached only through the mobile network: where a district has lost its
telecom service when the warning goes out, they are not reached (:func:`reach`).  Door to door
reaches everyone, whatever the network does, but takes ``door_to_door_h`` longer and costs
``door_to_door_cost`` more per district.  With ``phone_share`` 0 (the default) every warning
reaches everyone, as before channels existed.

A warning counts for a hazard that reaches the district within ``warning_valid_h`` of it
(0, the default: for any later hazard); an older one has been forgotten or overtaken.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ._base import N_, ActionKind, Field, Param

CHANNELS = (N_("broadcast"), N_("door_to_door"))


def reach(sim: Any, d: int) -> float:
    """The share of district ``d``'s people a broadcast message reaches now: all but those only the
    mobile network reaches (``phone_share``) in the part of the district without telecom."""
    share = float(sim.scenario.actions.warn_public.phone_share)
    if share <= 0.0:
        return 1.0
    residents = int(sim.residents[d])
    if residents <= 0:
        return 1.0
    k = sim._SERVICES.index("telecom")
    served = 1.0 - float(sim.district_unserved[d, k]) / residents
    return 1.0 - share * (1.0 - min(1.0, max(0.0, served)))


class WarnPublic(ActionKind):
    name = N_("warn_public")
    verb = "warn"
    bears_on = "people"
    help = N_("warn the public")
    fields = (Field("target", "district_or_all", required=False),
              Field("channel", "choice", required=False, choices=CHANNELS, prompt=N_("Channel")),
              Field("message", "text", required=False))
    defaults = {"cost": 500, "lead_time_h": 0.25, "compliance": 0.7, "warning_lead_h": 2.0,
                "phone_share": 0.0, "door_to_door_h": 3.0, "door_to_door_cost": 2000.0, "warning_valid_h": 0.0}
    params = {"compliance": Param("share", 0.7, "warn_public: share of warned people who act on it; "
                                                "evacuate: share who leave"),
              "warning_lead_h": Param("hours", 2.0, "warn_public: warnings count as \"in time\" this many "
                                                    "hours before the hazard arrives"),
              "phone_share": Param("share", 0.0, "warn_public, public_information: share of the people a broadcast "
                                                 "reaches only through the mobile network (not reached where the "
                                                 "district has no telecom)"),
              "door_to_door_h": Param("hours", 3.0, "warn_public: extra hours a door-to-door warning takes"),
              "door_to_door_cost": Param("money", 2000.0, "warn_public: extra money per district warned door "
                                                          "to door"),
              "warning_valid_h": Param("hours", 0.0, "warn_public: a warning counts for a hazard arriving within "
                                                     "this many hours of it (0: any later hazard)")}

    def meets(self, a: Any, targets: Sequence[str]) -> bool:
        return not targets or a.target == "all" or a.target in targets  # a warning to all covers every district

    def _districts(self, sim: Any, a: Any) -> list[int]:
        c = sim.city
        return list(range(c.n_districts)) if a.target in (None, "all") else [c.district_index[a.target]]

    def cost(self, sim: Any, a: Any) -> float:
        spec = sim.scenario.actions.get(self.name)
        if a.channel == "door_to_door":
            return float(spec.cost) + float(spec.door_to_door_cost) * len(self._districts(sim, a))
        return float(spec.cost)

    def lead_time(self, sim: Any, a: Any) -> float:
        spec = sim.scenario.actions.get(self.name)
        return float(spec.lead_time_h) + (float(spec.door_to_door_h) if a.channel == "door_to_door" else 0.0)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        spec = sim.scenario.actions.get(self.name)
        reached: dict[str, float] = {}
        for d in self._districts(sim, a):
            r = 1.0 if a.channel == "door_to_door" else reach(sim, d)
            if r > 0.0:
                sim.warnings.setdefault(d, []).append((sim.env.now, r))
                if math.isnan(sim.warned_at[d]):
                    sim.warned_at[d] = sim.env.now
            reached[sim.city.district_ids[d]] = round(r, 6)
        data["target"] = a.target or "all"
        data["message"] = a.message or ""
        if a.channel is not None or spec.phone_share > 0.0:  # channels in play: say whom it reached
            data["channel"] = a.channel or "broadcast"
            data["reach"] = reached


def protected_share(sim: Any, d: int, now: float, compliance: float) -> tuple[float, float]:
    """The share of district ``d``'s exposed people the warnings protect when a hazard arrives at
    ``now``, and the lead of the earliest warning that still counts (-1: none).

    Each warning reaches a share of the people (:func:`reach`); those it reaches first act on it
    with ``compliance``, scaled down if it came less than ``warning_lead_h`` ahead.
    """
    spec = sim.scenario.actions.warn_public
    valid = float(spec.warning_valid_h)
    wl = max(spec.warning_lead_h, 1e-9)  # as _EPS in engine/_common.py
    covered = protected = 0.0
    first = -1.0
    for t, r in sim.warnings.get(d, ()):
        lead = now - t
        if lead < 0 or (valid > 0.0 and lead > valid + 1e-9):
            continue
        if first < 0:
            first = lead
        new = r * (1.0 - covered)
        protected += new * min(1.0, lead / wl)
        covered += new
    return compliance * protected, first
