"""The learner's orders that have not happened yet, why each waits, and when it is expected.

A crew sent to a flooded substation shows "idle" for hours: the order is in the team's queue
and waits for the water to go down.  This module tells the learner so.  It reads only the
event log so far and the observation, never the engine: an order is a ``decision`` record's
action; it takes effect with an ``action`` record (after its lead time); a crew order then
waits in its team's queue until a ``crew`` record sends a crew, which travels, may be
stopped by closed roads or water on the site, and repairs (``repair`` records).  An order
is done when its effect or its repair is over.

Each open order has a :data:`STATUS` key and an expected hour (None when nobody can know:
when the water recedes or a road reopens).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .log import EventRecord
from .vocabulary import N_

__all__ = ["STATUS", "Order", "open_orders"]

#: why an open order has not happened yet, as the learner reads it (message ids)
STATUS: dict[str, str] = {
    "lead_time": N_("order:lead_time"),  # ordered; it takes effect after the action's lead time
    "site_flooded": N_("order:site_flooded"),  # the site is under water: no crew goes before it is dry
    "crew_busy": N_("order:crew_busy"),  # every crew of the team is on another job
    "queued": N_("order:queued"),  # waiting for the team's next free crew
    "road_closed": N_("order:road_closed"),  # the crew cannot get there: the roads are closed
    "travelling": N_("order:travelling"),  # the crew is on its way
    "waiting_on_site": N_("order:waiting_on_site"),  # the crew is there and waits for the water to go
    "repairing": N_("order:repairing"),  # the crew is at work
    "standby": N_("order:standby"),  # nothing to repair there (yet): the crew stands by
}


@dataclass
class Order:
    """One open order: the action as decided, when, and where it stands now."""

    action: dict[str, Any]
    ordered_h: float
    status: str
    expected_h: float | None = None
    team: str | None = None
    crew: str | None = None

    @property
    def target(self) -> str | None:
        t = self.action.get("target")
        return str(t) if t is not None else None


def _lead(scenario: Any, kind: str) -> float:
    spec = getattr(getattr(scenario, "actions", None), kind, None) if scenario is not None else None
    lead = getattr(spec, "lead_time_h", 0.0) if spec is not None else 0.0
    try:
        return float(lead)
    except (TypeError, ValueError):
        return 0.0


def open_orders(records: Iterable[EventRecord], *, scenario: Any = None, crews: Sequence[Mapping[str, Any]] = (),
                assets_down: Sequence[Mapping[str, Any]] = (), now: float | None = None) -> list[Order]:
    """The orders of the log so far that are not done, each with why it waits and the hour it is expected.

    ``records``: the run's event log up to now; ``crews`` and ``assets_down``: the
    observation's lists (which crews are busy until when, which sites are under water);
    ``scenario``: for the actions' lead times.  Orders come in the order they were given.
    """
    waiting: list[Order] = []  # decided, not in effect yet
    crew_orders: list[Order] = []  # dispatch orders in effect: in a team's queue or being worked on
    last = 0.0
    for r in records:
        last = r.time
        if r.kind == "decision":
            for a in r.data.get("actions", []):
                kind = str(a.get("action", ""))
                waiting.append(Order(dict(a), r.time, "lead_time", r.time + _lead(scenario, kind)))
        elif r.kind == "action" and "action" in r.data and "finding" not in r.data and "incident" not in r.data:
            kind = str(r.data["action"])
            target = r.subject if r.subject != kind else None
            hit = next((o for o in waiting if o.action.get("action") == kind
                        and (target is None or o.target in (None, target))), None)
            if hit is None:
                continue
            waiting.remove(hit)
            if _sends_crew(kind) and hit.target is not None:
                hit.status, hit.expected_h, hit.team = "queued", None, r.data.get("team")
                crew_orders.append(hit)
        elif r.kind in ("crew", "repair"):
            asset = r.data.get("asset") if r.kind == "crew" else r.subject
            crew = r.subject if r.kind == "crew" else r.data.get("crew")
            o = next((o for o in crew_orders if o.target == asset), None)
            if o is None:
                continue
            state = r.data.get("state")
            o.crew = str(crew) if crew else o.crew
            if r.kind == "crew":
                if state == "dispatched":
                    o.status, o.expected_h = "travelling", r.time + float(r.data.get("travel_h", 0.0))
                elif state == "blocked":
                    o.status, o.expected_h = "road_closed", None
                elif state == "arrived":
                    o.status, o.expected_h = "waiting_on_site", None
                elif state == "standby":
                    o.status, o.expected_h = "standby", None
            elif state == "started":
                o.status, o.expected_h = "repairing", r.time + float(r.data.get("hours", 0.0))
            elif state == "finished":
                crew_orders.remove(o)
    now = last if now is None else now
    flooded = {str(a["id"]) for a in assets_down if a.get("flooded")}
    for o in crew_orders:
        if o.status == "queued":
            if o.target in flooded:
                o.status = "site_flooded"
            else:
                team = [c for c in crews if c.get("team") == o.team]
                if team and all(c.get("state") != "idle" for c in team):
                    ends = [float(c["busy_until_h"]) for c in team if c.get("busy_until_h") is not None]
                    o.status, o.expected_h = "crew_busy", min(ends) if ends else None
        elif o.status == "waiting_on_site" and o.target not in flooded:
            o.status = "queued"  # arrived and the site is dry: the work starts at the next step
    for o in waiting:  # an effect already due (same hour as the decision point): it happens now
        if o.expected_h is not None and o.expected_h < now:
            o.expected_h = now
    return sorted(waiting + crew_orders, key=lambda o: o.ordered_h)


def _sends_crew(kind: str) -> bool:
    """Whether the action ``kind`` sends a crew (the action registry says; an unknown kind does not)."""
    from .engine.actions import REGISTRY

    spec = REGISTRY.get(kind)
    return bool(spec is not None and spec.sends_crew)
