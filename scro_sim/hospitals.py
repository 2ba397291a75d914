"""Hospital beds and occupancy as the learner reads them, from the observation and the log.

A patient surge is about beds: how many each hospital has, how many surge beds are open,
how full it is and how many beds are left.  The observation gives the state at a decision
point (``Observation.hospitals``); a surge hazard's ``hazard`` records give the occupancy
over time.  Nothing here reads the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .log import EventRecord

__all__ = ["HospitalState", "hospital_states", "occupancy_curves"]


@dataclass(frozen=True)
class HospitalState:
    """One hospital at a decision point: beds (normal and surge), patients, free beds, occupancy."""

    id: str
    beds: int
    surge_beds: int
    occupancy: float  # patients per bed open (normal + surge); above 1: more patients than beds
    overloaded: bool

    @property
    def open_beds(self) -> int:
        return self.beds + self.surge_beds

    @property
    def patients(self) -> int:
        return round(self.occupancy * self.open_beds)

    @property
    def free_beds(self) -> int:
        """Beds left (negative: patients without a bed, on trolleys and in corridors)."""
        return self.open_beds - self.patients


def hospital_states(hospitals: Mapping[str, Mapping[str, Any]]) -> list[HospitalState]:
    """``Observation.hospitals`` as a list, fullest first (ties by id)."""
    out = [HospitalState(str(h), int(v.get("beds", 0)), int(v.get("surge_beds", 0)), float(v.get("occupancy", 0.0)),
                         bool(v.get("overloaded", False))) for h, v in hospitals.items()]
    return sorted(out, key=lambda s: (-s.occupancy, s.id))


def occupancy_curves(records: Iterable[EventRecord]) -> dict[str, list[tuple[float, float]]]:
    """Per hospital, ``(hour, occupancy)`` at every step of a patient surge in the log (empty without one)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        if r.kind != "hazard":
            continue
        occ = r.data.get("occupancy")
        if isinstance(occ, Mapping):
            for h, v in occ.items():
                out.setdefault(str(h), []).append((r.time, float(v)))
    return out
