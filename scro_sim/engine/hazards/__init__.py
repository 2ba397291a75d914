"""The one registry of hazards and generic effects: one module per kind, registered here by name.

Everything that lists hazards reads :data:`REGISTRY`: the scenario schema (``scenario.models``
builds each hazard's model from its kind's ``fields``), the scenario checks, the city's
fragility keys (:data:`FRAGILE`, handed to the city loader), and the Simulation, which draws each
hazard's numbers and starts its process through its kind (``engine/hazard_processes.py``).  To
add a hazard, write one module with a :class:`HazardKind` subclass and add it to ``_KINDS``.
"""

from __future__ import annotations

from ._base import Draw, HazardKind
from .cyber import Cyber
from .data_platform import DataPlatform
from .degradation import Degradation
from .demand_change import DemandChange
from .earthquake import Earthquake
from .flood import Flood
from .heatwave import Heatwave
from .outage import Outage
from .road_closure import RoadClosure
from .sensor_fault import SensorFault
from .staff_absence import StaffAbsence
from .storm import Storm
from .surge import Surge

# the order is the schema's order: new kinds go at the end
_KINDS: tuple[type[HazardKind], ...] = (
    Flood, Earthquake, Heatwave, Storm, Cyber, Surge,
    # generic effects, usable for anything
    Outage, Degradation, RoadClosure, DemandChange,
    # what the operations centre sees (engine/sensors.py)
    SensorFault, DataPlatform,
    # who is at work (crews off sick; engine/crews.py)
    StaffAbsence,
)

#: name -> the kind
REGISTRY: dict[str, HazardKind] = {k.name: k() for k in _KINDS}
#: the registered names, in order
NAMES: tuple[str, ...] = tuple(REGISTRY)
#: the kinds that damage assets through fragility curves: the keys a city or scenario may give curves for
FRAGILE: tuple[str, ...] = tuple(n for n, k in REGISTRY.items() if k.fragile)


def get(name: str) -> HazardKind:
    """The registered kind called ``name`` (KeyError names the known ones)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown hazard {name!r}; known: {', '.join(NAMES)}") from None


__all__ = ["FRAGILE", "NAMES", "REGISTRY", "Draw", "HazardKind", "get"]
