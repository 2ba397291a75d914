"""The simulation engine, the only user of simpy: hazards, cascades, backups, crews, decisions.

:class:`Simulation` runs (scenario, city, seed, decisions) into an event log.  Its parts:
``cascade`` (state and cascades), ``hazard_processes``, ``crews``, ``msel`` (injects and
expected actions), ``observation`` (what a player sees) and ``simulation`` (the clock,
decisions and whole runs).
"""

from __future__ import annotations

from ._common import ENGINE_VERSION, Crew, _finite_delay
from .simulation import Simulation, replay, run

__all__ = ["ENGINE_VERSION", "Simulation", "replay", "run"]
_ = (Crew, _finite_delay)  # re-exported for tests and tools that build crews or check delays
