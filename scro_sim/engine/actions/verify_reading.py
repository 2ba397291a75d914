"""verify_reading: send someone to read the river gauge by eye (the staff gauge on the bridge pier).

An automatic gauge can stick, drift or go silent in a flood (the ``sensor_fault`` effect), and a
data platform that is down shows old readings (``data_platform``).  After the lead time (the drive
there) an observer reads the true stage and stays ``observer_h`` hours, radioing it to the
operations centre: the learner sees the true stage for that time, whatever the gauge or the
platform do.  The ``action`` record holds the true stage, what the dashboard showed, and the
``finding``: the gauge's fault (``stuck``, ``drift``, ``missing``) or ``ok``.  Reading the staff
gauge by eye is the usual check of an automatic gauge (WMO, Manual on Stream Gauging, WMO-No. 1044);
the lead time, cost and hours are teaching values (L).
"""

from __future__ import annotations

from typing import Any

from .. import sensors
from ._base import N_, OneAtATime, Param

FINDINGS = (N_("finding:stuck"), N_("finding:drift"), N_("finding:missing"), N_("finding:ok"))


class VerifyReading(OneAtATime):
    name = N_("verify_reading")
    verb = "verify"
    bears_on = "none"
    help = N_("send someone to read the river gauge by eye and report the true stage")
    busy = N_("an observer is already on the way to the gauge")
    # Off unless a scenario enables it.  A council officer or flood warden drives to the bridge:
    # about an hour in the rain, a few hundred euros of overtime a shift (L).
    defaults = {"enabled": False, "cost": 500, "lead_time_h": 1.0, "observer_h": 12.0}
    params = {"observer_h": Param("hours", 12.0, "verify_reading: hours the observer stays at the gauge "
                                                 "and radios the true stage")}

    def never_possible(self, scenario: Any) -> str | None:
        if not any(h.type == "flood" for h in scenario.hazards):
            return "there is no river gauge to read (the scenario has no flood)"
        return None

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        self.finished(sim)
        st = sensors.state(sim)
        shown = sensors.shown_gauge(sim)
        truth = sim.gauge
        st.observer_until = sim.env.now + float(sim.scenario.actions.get(self.name).observer_h)
        data.update(sensor="gauge", true_m=None if truth is None else round(truth, 4),
                    shown_m=None if shown is None else round(shown, 4),
                    finding=st.fault.mode if st.fault is not None else "ok")
