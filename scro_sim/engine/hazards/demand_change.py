"""demand_change: more (or fewer) people need a service in some districts for a time.

``factor`` multiplies the districts' demand for ``service`` (visitors, evacuees from elsewhere,
a cold snap's heating load); the supply carries ``headroom`` above normal demand, so a factor
beyond ``1 + headroom`` leaves the share ``(1 + headroom) / factor`` of the demand served while
the suppliers run (load shedding, low pressure), logged as ``service`` records.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...errors import N_, Msg
from .._common import _finite_delay
from ._base import Loc
from ._effects import Effect


class DemandChange(Effect):
    name = "demand_change"
    model_name = "DemandChangeEffect"
    doc = "More (or fewer) people need a service in some districts for a time."

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            **self.common_fields(t),
            "service": (Literal["power", "water", "telecom", "health"], ...),
            # district ids, or empty for every district
            "districts": (tuple[t.Id, ...], Field(default=(), max_length=t.MAX_IDS)),
            "factor": (float, Field(gt=0, le=100, allow_inf_nan=False)),
            "headroom": (float, Field(default=0.1, ge=0, le=10, allow_inf_nan=False)),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if city is not None:
            for k, d in enumerate(h.districts):
                if d not in city.district_index:
                    out.append(((*loc, "districts", k), Msg(N_("unknown district {id!r}"), id=d)))
        return out

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        yield from self.wait_start(sim, h, p)
        c = sim.city
        ds = [c.district_index[d] for d in h.districts] if h.districts else list(range(c.n_districts))
        k = sim._SERVICES.index(h.service)
        ratio = min(1.0, (1.0 + h.headroom) / h.factor)
        sim.log.add(sim.env.now, "hazard", h.id, {"type": "demand_change", "service": h.service,
                                                     "factor": h.factor, "served_share": round(ratio, 6),
                                                     "districts": [c.district_ids[d] for d in ds]})
        sim._set_demand(ds, k, ratio)
        if "duration_h" not in p:
            return
        yield sim.env.timeout(_finite_delay(p["duration_h"], "demand change"))
        sim.log.add(sim.env.now, "hazard", h.id, {"type": "demand_change", "ended": True})
        sim._set_demand(ds, k, 1.0)
