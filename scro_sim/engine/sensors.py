"""What the operations centre's dashboards show, against the truth: the river gauge and the data platform.

The engine's state (``sim.gauge``, ``sim.district_unserved``) is the truth; conditions, damage
and the event log use it.  A learner sees the city through sensors and a data platform, and a
scenario may make them fail:

- a ``sensor_fault`` effect (engine/hazards/sensor_fault.py) makes the river gauge report a
  stuck, drifting or missing reading;
- a ``data_platform`` effect (engine/hazards/data_platform.py) carries the gauge and the
  networks' telemetry to the operations centre; while it is down (its host asset down, or its own
  failure) the learner sees the last reading it took, marked with its hour; a utility that keeps
  its data ``private`` shows its network only as it was at the start;
- ``verify_reading`` posts an observer at the gauge, who radios the true stage for a while;
  ``share_data`` brings a utility's own feed to the centre, past the platform (engine/actions/).

Only the observation reads :func:`shown_gauge`, :func:`shown_unserved` and :func:`stale`; a run
without these effects has no sensor state and shows the truth, exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._common import DOWN


@dataclass
class GaugeFault:
    """A fault of the river gauge: ``stuck`` (the reading stays at ``value``), ``drift`` (it falls
    behind the truth by ``rate`` m an hour from ``since``) or ``missing`` (no reading)."""

    mode: str
    since: float
    value: float | None
    rate: float = 0.0


@dataclass
class Platform:
    """The city's data platform: what it carries and the last reading it took of each."""

    host: int | None  # the asset it runs on (down with it), or None
    carries: tuple[int, ...]  # service columns whose dashboards come through it
    private: tuple[int, ...]  # service columns the utility does not share until ``share_data``
    gauge: bool  # the river gauge reaches the centre through it
    failed: bool = False  # its own failure (software, storage, an attack), apart from its host
    down: bool = False  # down at its last look
    snap_t: np.ndarray = field(default_factory=lambda: np.zeros(0))  # hour of each column's last reading
    snap: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # district_unserved as last read
    gauge_t: float = 0.0
    gauge_m: float | None = None


@dataclass
class SensorState:
    """One run's sensors: the gauge's fault, the platform, the observer at the gauge, shared feeds."""

    fault: GaugeFault | None = None
    platform: Platform | None = None
    observer_until: float = -1.0  # an observer radios the true stage until this hour
    shared: list[int] = field(default_factory=list)  # service columns a utility now feeds directly


def state(sim: Any) -> SensorState:
    """The run's sensor state (``RunState.sensors``), made on first use (a run without sensor effects never makes it)."""
    rs = sim.rs
    if rs.sensors is None:
        rs.sensors = SensorState()
    return rs.sensors


def _state(sim: Any) -> SensorState | None:
    return sim.rs.sensors


def reading(sim: Any) -> float | None:
    """What the gauge transmits now: the true stage, or what its fault makes of it."""
    st, truth = _state(sim), sim.gauge
    f = st.fault if st is not None else None
    if f is None or truth is None:
        return truth
    if f.mode == "stuck":
        return f.value
    if f.mode == "drift":
        return max(0.0, truth - f.rate * (sim.env.now - f.since))
    return None


def observed(sim: Any) -> bool:
    """Whether an observer at the gauge radios the true stage now (``verify_reading``)."""
    st = _state(sim)
    return st is not None and sim.env.now <= st.observer_until + 1e-9


def live_columns(sim: Any) -> list[bool]:
    """For each district service: whether the centre sees it live now."""
    st = _state(sim)
    n = len(sim._SERVICES)
    if st is None or st.platform is None:
        return [True] * n
    pl = st.platform
    out = []
    for k in range(n):
        if k in st.shared:
            out.append(True)
        elif k in pl.private:
            out.append(False)
        else:
            out.append(k not in pl.carries or not pl.down)
    return out


def platform_up(sim: Any) -> bool:
    """Whether the platform runs now: its host is not down and it has not failed by itself."""
    pl = state(sim).platform
    assert pl is not None
    return not pl.failed and (pl.host is None or int(sim.rs.state[pl.host]) != DOWN)


def take_reading(sim: Any) -> None:
    """The platform's refresh: it reads the gauge and every network it sees live."""
    st = state(sim)
    pl = st.platform
    assert pl is not None
    now = sim.env.now
    if not pl.snap.size:
        pl.snap = sim.district_unserved.copy()
        pl.snap_t = np.full(len(sim._SERVICES), float(now))
    for k, live in enumerate(live_columns(sim)):
        if live:
            pl.snap[:, k] = sim.district_unserved[:, k]
            pl.snap_t[k] = now
    if not pl.down or not pl.gauge:
        pl.gauge_m, pl.gauge_t = reading(sim), now


def shown_gauge(sim: Any) -> float | None:
    """The gauge reading the learner sees: the observer's, the platform's last one, or the gauge's own."""
    st = _state(sim)
    if st is None or observed(sim):
        return sim.gauge
    pl = st.platform
    if pl is not None and pl.gauge and pl.down:
        return pl.gauge_m
    return reading(sim)


def shown_unserved(sim: Any) -> np.ndarray:
    """People unserved by district and service as the learner sees them (the truth where live)."""
    st = _state(sim)
    if st is None or st.platform is None or not st.platform.snap.size:
        return sim.district_unserved
    live = live_columns(sim)
    if all(live):
        return sim.district_unserved
    out = sim.district_unserved.copy()
    for k, ok in enumerate(live):
        if not ok:
            out[:, k] = st.platform.snap[:, k]
    return out


def stale(sim: Any) -> dict[str, float]:
    """What the learner sees out of date, and the hour of its last reading: ``gauge`` and services."""
    st = _state(sim)
    if st is None or st.platform is None or not st.platform.snap.size:
        return {}
    pl = st.platform
    out = {}
    if pl.gauge and pl.down and not observed(sim):
        out["gauge"] = round(pl.gauge_t, 6)
    for k, ok in enumerate(live_columns(sim)):
        if not ok:
            out[sim._SERVICES[k]] = round(float(pl.snap_t[k]), 6)
    return out
