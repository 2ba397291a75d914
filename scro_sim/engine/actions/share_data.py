"""share_data: a data-sharing agreement with a utility, activated: its control room feeds the city.

The city's operations centre sees a utility's network through the city's data platform (the
``data_platform`` effect), or not at all while the utility keeps its data ``private``.  Once the
agreement is active (the lead time: the sign-off and the utility's engineers opening the feed) the
utility's own control room feeds the centre directly: its network (``service``: power, water,
telecom or health) is live in the observation from then on, even while the platform is down.
Deciding to share is a governance choice (who may sign, what the utility may keep back); the
``action`` record names the service.  Information sharing between critical entities and the
authorities is what EU Directive 2022/2557 (critical entities' resilience) asks for; the lead
time and cost are teaching values (L).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...city import DISTRICT_SERVICES
from ...errors import Msg, word
from .. import sensors
from ._base import N_, ActionKind, Field


class ShareData(ActionKind):
    name = N_("share_data")
    verb = "share"
    bears_on = "none"
    help = N_("activate a data-sharing agreement: a utility feeds its network's state to the operations centre")
    fields = (Field("service", "choice", choices=DISTRICT_SERVICES, prompt=N_("Whose data (which network)")),)
    # Off unless a scenario enables it.  The agreement exists; activating it takes a signature and
    # the utility's engineers a few hours to open the feed (L).
    defaults = {"enabled": False, "cost": 2000, "lead_time_h": 3.0}

    def never_possible(self, scenario: Any) -> str | None:
        if not any(h.type == "data_platform" for h in scenario.hazards):
            return "the scenario has no data platform, so every network is in view already"
        return None

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        service = a.service or DISTRICT_SERVICES[0]
        if service in self.state(sim) or any(b.action == self.name and (b.service or DISTRICT_SERVICES[0]) == service
                                             for b in earlier):
            return [Msg(N_("the {service} data is already shared or its agreement is being activated"), service=word(service))]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)[a.service or DISTRICT_SERVICES[0]] = None  # under way
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        service = a.service or DISTRICT_SERVICES[0]
        k = list(sim._SERVICES).index(service)
        st = sensors.state(sim)
        if k not in st.shared:
            st.shared.append(k)
        self.state(sim)[service] = sim.env.now
        data.update(service=service)
