"""earthquake: a main shock at a time, and aftershocks drawn within a window after it.

Peak ground acceleration falls with distance from the epicentre (``hazards.pga_g``); every asset
is checked against its fragility at each shock, and every district is reached at the first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from ...hazards import pga_g
from .._common import _finite_delay
from ._base import Draw, HazardKind


class Earthquake(HazardKind):
    name = "earthquake"
    model_name = "EarthquakeHazard"
    fragile = True
    times = ("time_h",)

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            "time_h": (t.Hours, 0.0),
            "epicentre": (t.Point, Field(description="x, y in metres")),
            "magnitude": (t.bounded_dist(0, 10), ...),
            "depth_km": (float, Field(default=10.0, gt=0, le=700, allow_inf_nan=False)),
            "aftershock_count": (t.bounded_dist(0, t.MAX_AFTERSHOCKS), 0.0),
            "aftershock_within_h": (t.Hours, 48.0),
            "aftershock_magnitude_drop": (float, Field(default=1.2, ge=0, le=5, allow_inf_nan=False)),
        }

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        rng = sim.rng_hazard
        p = {"magnitude": draw(h.magnitude), "aftershocks": max(0.0, round(draw(h.aftershock_count)))}
        if p["aftershocks"] > sim.budget.records:  # each is a record: refuse before drawing them
            raise sim._budget_error("records", f"earthquake {h.id} draws {p['aftershocks']:,.0f} aftershocks")
        for k in range(int(p["aftershocks"])):
            p[f"aftershock{k}_h"] = h.time_h + float(rng.uniform(0.1, h.aftershock_within_h))
            p[f"aftershock{k}_m"] = p["magnitude"] - h.aftershock_magnitude_drop - float(rng.exponential(0.4))
        return p

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        t0 = yield from self.start(sim, h)
        c = sim.city
        idx = np.arange(c.n_assets)
        dist_km = np.hypot(c.asset_xy[:, 0] - h.epicentre[0], c.asset_xy[:, 1] - h.epicentre[1]) / 1000.0
        after = sorted((t0 + p[f"aftershock{k}_h"], p[f"aftershock{k}_m"]) for k in range(int(p["aftershocks"])))
        shocks = [(t0 + h.time_h, p["magnitude"]), *after]
        for t, m in shocks:
            if t >= sim.duration:
                break
            yield sim.env.timeout(_finite_delay(t - sim.env.now, "earthquake"))
            pga = pga_g(m, dist_km, h.depth_km)
            sim.log.add(sim.env.now, "hazard", h.id, {"type": "earthquake", "magnitude": round(m, 4),
                                                         "max_pga_g": round(float(pga.max()), 6)})
            sim._damage("earthquake", idx, pga)
            for d in range(c.n_districts):
                if not sim.rs.exposed[d]:
                    sim._expose(d, h)
