"""What every hazard kind declares: its scenario fields, their checks, its draws and its process.

A hazard kind is one subclass of :class:`HazardKind` in its own module, registered by name in
:mod:`scro_sim.engine.hazards`.  Its declarative half (``name``, ``fields``, ``problems``,
``fragile``) builds the scenario schema and the city's fragility keys; its behavioural half
(``draw``, ``process``) runs on the :class:`~scro_sim.engine.Simulation` handed to it.

Like the action registry, this package imports only the city and hazard layers: the scenario
package builds its hazard models from it, handing the field types in (``fields(t)`` receives
:mod:`scro_sim.scenario.basics`), so nothing here imports the scenario package.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, ClassVar

#: a draw of one uncertain number from the hazard stream (``scenario.sample`` bound to it)
Draw = Callable[[Any], float]
Loc = tuple[Any, ...]


def hospital_problems(loc: Loc, hospitals: Any, city: Any) -> list[tuple[Loc, Any]]:
    """Each of a hazard's ``hospitals`` is an asset of the city and a hospital (no city: nothing to check)."""
    from ...errors import N_, Msg

    out: list[tuple[Loc, Any]] = []
    if city is None:
        return out
    for k, a in enumerate(hospitals):
        if a not in city.asset_index:
            out.append(((*loc, "hospitals", k), Msg(N_("unknown asset {id!r}"), id=a)))
        elif city.asset_type[city.asset_index[a]] != "hospital":
            out.append(((*loc, "hospitals", k), Msg(N_("{id!r} is not a hospital"), id=a)))
    return out


def step_field() -> Any:
    """``step_h``: hours between a hazard's updates."""
    from pydantic import Field

    return (float, Field(default=1.0, ge=0.05, le=24, allow_inf_nan=False))


class HazardKind:
    """One hazard (or generic effect) kind.  Subclasses set the class attributes and override what differs."""

    #: the ``type`` a scenario writes, and the key of fragility tables and ``damage`` records
    name: ClassVar[str]
    #: the pydantic model's class name (kept stable: the JSON schema and callers use it)
    model_name: ClassVar[str]
    #: the model's docstring
    doc: ClassVar[str] = ""
    #: whether it damages assets through fragility curves (a city and a scenario may give curves for it)
    fragile: ClassVar[bool] = False
    #: a generic effect (outage, degradation, road_closure, demand_change), listed apart in the guide
    effect: ClassVar[bool] = False
    #: the share of a district's people a hazard reaching it exposes: ``all`` or ``flood_plain``
    exposes: ClassVar[str] = "all"
    #: whether public information telling people to shelter in place protects them from it
    sheltered: ClassVar[bool] = False
    #: fields that are times (checked to lie inside the run) and durations (checked not negative)
    times: ClassVar[tuple[str, ...]] = ()
    durations: ClassVar[tuple[str, ...]] = ()

    def fields(self, t: Any) -> dict[str, Any]:
        """The model's own fields as ``name: (annotation, default or Field)``; ``t`` is ``scenario.basics``."""
        return {}

    def validate(self, h: Any) -> str | None:
        """A problem with the model alone (raised by its validator), or None."""
        return None

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        """Problems against the rest of the scenario and the city (``city`` may be None; ``t`` as in ``fields``)."""
        return []

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        """Sample the hazard's uncertain numbers now, in a fixed order, from the hazard stream."""
        return {}

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Generator[Any, Any, Any]:
        """The hazard on the clock: when it acts and what changes then."""
        yield from ()

    def start(self, sim: Any, h: Any) -> Generator[Any, Any, float]:
        """Wait for the hazard's condition (``when``), if it has one; return the hour its own times
        count from: 0, or the hour the condition first held."""
        if h.when is None:
            return 0.0
        yield sim._condition_event(h.when)
        return float(sim.env.now)
