"""surge: extra patients over a triangle in time, shared among the open hospitals by size.

A hospital over its beds (surge beds and transfers counted) is overloaded: it stops giving the
health service to its districts until its occupancy falls again.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ...errors import N_, Msg
from ...hazards import surge_patients
from .._common import _EPS, DOWN, _finite_delay
from ._base import Draw, HazardKind, Loc, hospital_problems, step_field


class Surge(HazardKind):
    name = "surge"
    model_name = "SurgeHazard"
    times = ("start_h", "peak_h", "end_h")

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            "hospitals": (tuple[t.Id, ...], Field(min_length=1, max_length=t.MAX_IDS)),
            "start_h": (t.Hours, 0.0),
            "peak_h": (t.Hours, ...),
            "end_h": (t.Hours, ...),
            "baseline_occupancy": (t.Share, 0.85),
            "peak_extra_patients": (t.bounded_dist(-1e6, 1e6), ...),
            "step_h": step_field(),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if not h.start_h <= h.peak_h <= h.end_h:
            out.append((loc, Msg(N_("need start_h <= peak_h <= end_h"))))
        out.extend(hospital_problems(loc, h.hospitals, city))
        return out

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        return {"peak_extra_patients": max(0.0, draw(h.peak_extra_patients))}

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        t0 = yield from self.start(sim, h)
        c = sim.city
        hosp = [c.asset_index[a] for a in h.hospitals]
        base = np.array([max(c.asset_capacity[i], 1.0) for i in hosp])
        t = t0 + h.start_h
        while t <= min(sim.duration, t0 + h.end_h) + _EPS:
            yield sim.env.timeout(_finite_delay(t - sim.env.now, "surge step"))
            extra = surge_patients(t - t0, h.start_h, h.peak_h, h.end_h, p["peak_extra_patients"])
            open_ = np.array([sim.rs.state[i] != DOWN for i in hosp])
            # surge beds opened by the player (open_surge_beds); a hospital running derated has fewer beds
            # beds closed for want of staff (staff_absence) come off
            cap = base * (1.0 - sim.rs.derate[hosp]) + sim.rs.surge_beds[hosp] - sim.rs.unstaffed_beds[hosp]
            patients = base * h.baseline_occupancy + sim.rs.patient_shift[hosp]  # transfer_patients moves some
            if open_.any():  # patients go to the hospitals that are open, by size
                share = np.where(open_, cap, 0.0) / cap[open_].sum()
                patients = patients + extra * share
            occ = patients / cap
            for k, i in enumerate(hosp):
                sim.rs.occupancy[i] = float(occ[k])
            over = occ > 1.0
            changed = []
            for k, i in enumerate(hosp):
                if bool(over[k]) != bool(sim.rs.overloaded[i]):
                    sim.rs.overloaded[i] = bool(over[k])
                    changed.append(i)
            sim.log.add(sim.env.now, "hazard", h.id, {"type": "surge", "extra_patients": round(extra, 3),
                                                           "occupancy": {c.asset_ids[i]: round(float(occ[k]), 4)
                                                                         for k, i in enumerate(hosp)}})
            for i in changed:
                sim.log.add(sim.env.now, "asset_down" if sim.rs.overloaded[i] else "asset_up", c.asset_ids[i],
                                {"cause": "overloaded" if sim.rs.overloaded[i] else "", "service": "health",
                                 "type": "hospital", "overload": True})
                for d in c.district_dependents[i]:
                    sim._mark_district(d)
            sim._flush_districts()
            t = round(t + h.step_h, 9)
