"""storm: a windstorm centred on a point; gusts fall off with distance from its centre.

Every asset is checked against its wind fragility each step; a district is reached when the
gusts there pass 25 m/s.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ...hazards import wind_speed
from .._common import _EPS, _finite_delay
from ._base import Draw, HazardKind, step_field


class Storm(HazardKind):
    name = "storm"
    model_name = "StormHazard"
    fragile = True
    sheltered = True
    times = ("start_h",)
    durations = ("duration_h",)

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            "start_h": (t.Hours, 0.0),
            "duration_h": (t.DistHours, ...),
            "centre": (t.Point, ...),
            "radius_km": (float, Field(gt=0, le=2000, allow_inf_nan=False)),
            "peak_wind_ms": (t.bounded_dist(0, 150, " m/s"), ...),
            "step_h": step_field(),
        }

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        return {"duration_h": draw(h.duration_h), "peak_wind_ms": draw(h.peak_wind_ms)}

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        t0 = yield from self.start(sim, h)
        c = sim.city
        idx = np.arange(c.n_assets)
        dist_km = np.hypot(c.asset_xy[:, 0] - h.centre[0], c.asset_xy[:, 1] - h.centre[1]) / 1000.0
        d_km = np.hypot(c.district_xy[:, 0] - h.centre[0], c.district_xy[:, 1] - h.centre[1]) / 1000.0
        t = t0 + h.start_h
        end = min(sim.duration, t0 + h.start_h + p["duration_h"])
        while t <= end + _EPS:
            yield sim.env.timeout(_finite_delay(t - sim.env.now, "storm step"))
            wind = wind_speed(t - t0, h.start_h, p["duration_h"], p["peak_wind_ms"], dist_km, h.radius_km)
            sim.log.add(sim.env.now, "hazard", h.id, {"type": "storm", "max_wind_ms": round(float(wind.max()), 4)})
            sim._damage("storm", idx, wind)
            dw = wind_speed(t - t0, h.start_h, p["duration_h"], p["peak_wind_ms"], d_km, h.radius_km)
            for d in np.nonzero((dw > 25.0) & ~sim.rs.exposed)[0].tolist():
                sim._expose(d, h)
            t = round(t + h.step_h, 9)
