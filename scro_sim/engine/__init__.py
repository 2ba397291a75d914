"""The simulation engine, the only user of simpy: hazards, cascades, backups, crews, decisions.

:class:`Simulation` runs (scenario, city, seed, decisions) into an event log.  Its parts:
``kernel`` (the clock, decision points, decisions and whole runs: start reading here),
``state`` (``RunState``, every number of a run that changes), ``simulation`` (the two put
together with the subsystems), the subsystems ``cascade`` (asset state and cascades),
``crews``, ``hazard_processes`` (what every hazard shares), ``msel`` (injects and expected
actions) and ``observation`` (what a player sees), and the registries ``actions`` (one module
per learner action) and ``hazards`` (one module per hazard and generic effect).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ._common import ENGINE_VERSION, Crew, _finite_delay

__all__ = ["ENGINE_VERSION", "Simulation", "replay", "run"]
_ = (Crew, _finite_delay)  # re-exported for tests and tools that build crews or check delays


def __getattr__(name: str) -> Any:
    # the Simulation is loaded on first use: the scenario package reads the action registry
    # (engine/actions) while it loads, before the Simulation (which needs the scenario) can be
    if name in ("Simulation", "replay", "run"):
        return getattr(import_module(".simulation", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
