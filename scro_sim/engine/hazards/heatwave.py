"""heatwave: a heat dome with a daily cycle; power, telecom and pumping equipment overloads.

The effective load temperature (air temperature plus the extra demand it brings) is checked
against each asset's heat fragility every step; every district is reached once it passes 32 C.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ...hazards import heat_temperature
from .._common import _EPS, _finite_delay
from ._base import Draw, HazardKind, step_field

#: the equipment a heatwave overloads
_HEAT_TYPES = ("power_plant", "substation", "data_centre", "telecom_tower", "pumping_station")


class Heatwave(HazardKind):
    name = "heatwave"
    model_name = "HeatwaveHazard"
    fragile = True
    sheltered = True
    times = ("start_h",)
    durations = ("duration_h",)

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            "start_h": (t.Hours, 0.0),
            "duration_h": (t.DistHours, ...),
            "baseline_temp_c": (float, Field(default=25.0, ge=-60, le=60, allow_inf_nan=False)),
            "peak_temp_c": (t.bounded_dist(-60, 70, " C"), ...),
            # extra power demand per degree above 30 C, as a share of capacity (overload risk)
            "demand_per_degree": (float, Field(default=0.02, ge=0, le=1, allow_inf_nan=False)),
            "step_h": step_field(),
        }

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        return {"duration_h": draw(h.duration_h), "peak_temp_c": draw(h.peak_temp_c)}

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        t0 = yield from self.start(sim, h)
        c_by_type = {t: v.tolist() for t, v in sim.city.by_type.items()}
        idx = np.array(sorted(i for t in _HEAT_TYPES for i in c_by_type.get(t, [])), dtype=np.int64)
        start = sim.scenario.start
        clock0 = start.hour + start.minute / 60.0  # the daily cycle follows the clock, not the exercise
        t = t0 + h.start_h
        end = min(sim.duration, t0 + h.start_h + p["duration_h"])
        while t <= end + _EPS:
            yield sim.env.timeout(_finite_delay(t - sim.env.now, "heat step"))
            temp = heat_temperature(t - t0, h.start_h, p["duration_h"], h.baseline_temp_c, p["peak_temp_c"],
                                    clock_h=clock0 + t0)
            demand = 1.0 + h.demand_per_degree * max(0.0, temp - 30.0)
            sim.log.add(sim.env.now, "hazard", h.id, {"type": "heatwave", "temp_c": round(temp, 4),
                                                         "demand": round(demand, 6)})
            # overload: effective load temperature rises with demand on the equipment
            load = np.full(len(idx), temp + 10.0 * (demand - 1.0))
            if len(idx):
                sim._damage("heatwave", idx, load)
            if temp > 32.0 and not sim.rs.exposed.all():
                for d in range(sim.city.n_districts):
                    if not sim.rs.exposed[d]:
                        sim._expose(d, h)
            t = round(t + h.step_h, 9)
