"""sensor_fault: the river gauge reports falsely: stuck at one reading, drifting below the truth, or silent.

Gauges fail in floods: debris jams the float, silt covers the pressure sensor, the logger's
battery or link dies.  From ``start_h`` (or its ``when``) the gauge transmits, until
``duration_h`` is over (or to the end without it):

- ``stuck``: the reading it had when the fault began;
- ``drift``: the true stage less ``drift_m_per_h`` for every hour since the fault began;
- ``missing``: no reading at all.

The truth goes on (the flood, its damage, the injects' ``gauge_above`` conditions: the national
service reads its own gauges); only what the learner sees changes (engine/sensors.py).  A
``verify_reading`` finds the fault.  The ``hazard`` records say what the gauge showed and the true
stage at the start, and when the fault ended.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...errors import N_, Msg
from .. import sensors
from .._common import _finite_delay
from ._base import Loc
from ._effects import Effect


class SensorFault(Effect):
    name = "sensor_fault"
    model_name = "SensorFaultEffect"
    doc = "The river gauge reports falsely: stuck, drifting below the truth, or silent."

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            **self.common_fields(t),
            # the sensor at fault: the river gauge (the only one the engine reads today)
            "sensor": (Literal["gauge"], "gauge"),
            "mode": (Literal["stuck", "drift", "missing"], "stuck"),
            # drift: metres an hour the reading falls behind the true stage
            "drift_m_per_h": (float, Field(default=0.1, gt=0, le=5, allow_inf_nan=False)),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        if not any(x.type == "flood" for x in sc.hazards):
            return [((*loc, "sensor"), Msg(N_("a gauge fault needs a flood in the scenario (the gauge it reads)")))]
        return []

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        yield from self.wait_start(sim, h, p)
        st = sensors.state(sim)
        truth = sim.gauge
        value = None if h.mode == "missing" else truth
        st.fault = sensors.GaugeFault(h.mode, sim.env.now, value, float(h.drift_m_per_h))
        sim.log.add(sim.env.now, "hazard", h.id, {
            "type": "sensor_fault", "sensor": h.sensor, "mode": h.mode,
            "true_m": None if truth is None else round(truth, 4),
            "shown_m": None if value is None else round(value, 4)})
        if "duration_h" not in p:
            return
        fault = st.fault
        yield sim.env.timeout(_finite_delay(p["duration_h"], "sensor_fault"))
        if st.fault is fault:
            st.fault = None
        sim.log.add(sim.env.now, "hazard", h.id, {"type": "sensor_fault", "ended": True})
