"""scro_sim: a disaster-response tabletop simulation engine for Smart City Resilience Officers.

The engine turns (scenario, city, seed, decisions) into an event log; scoring, storage,
reports and the app read that log.  See ``docs/design.md`` and the README.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
