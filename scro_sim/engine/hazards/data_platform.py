"""data_platform: the city's data platform, which carries the gauge and the networks' telemetry to the
operations centre, and can go down and leave the centre looking at old readings.

It runs on a ``host`` asset (a data centre: down when the host is down, so it needs the host's
power and backup) and may fail by itself (``failure_h`` hours after the start, or after its
``when``, for ``failure_duration_h`` hours or to the end: a failed update, a full disk, an attack
on its servers).  Every ``step_h`` it reads the gauge and the networks it ``carries``; while it is
down the learner sees those readings as they were at its last refresh, each marked with its hour
(the observation's ``stale``).  The field reports (assets down, crews) come by radio and stay live.
A utility listed in ``private`` shares nothing until a ``share_data`` agreement: its network shows
as it was at the start.  A shared utility feeds the centre directly, past the platform.

The ``hazard`` records say when it went down and came back (``up``) and the hour of the readings
shown (``as_of_h``); the truth is in the log as always.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ...city import DISTRICT_SERVICES
from ...errors import N_, Msg
from .. import sensors
from .._common import _EPS, _finite_delay
from ._base import Draw, HazardKind, Loc


class DataPlatform(HazardKind):
    name = "data_platform"
    model_name = "DataPlatformEffect"
    doc = "The city's data platform: when it is down the operations centre sees old readings."
    effect = True
    times = ("failure_h",)
    durations = ("failure_duration_h",)

    def fields(self, t: Any) -> dict[str, Any]:
        services = tuple[Literal[DISTRICT_SERVICES], ...]  # type: ignore[valid-type]
        return {
            "host": (t.Id | None, None),
            "carries": (services, Field(default=DISTRICT_SERVICES, max_length=len(DISTRICT_SERVICES))),
            "private": (services, Field(default=(), max_length=len(DISTRICT_SERVICES))),
            "gauge": (bool, True),
            "failure_h": (t.DistHours | None, None),
            "failure_duration_h": (t.DistHours | None, None),
            "step_h": (float, Field(default=0.25, ge=0.05, le=24, allow_inf_nan=False)),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if city is not None and h.host is not None and h.host not in city.asset_index:
            out.append(((*loc, "host"), Msg(N_("unknown asset {id!r}"), id=h.host)))
        if h.failure_duration_h is not None and h.failure_h is None and h.when is None:
            out.append(((*loc, "failure_duration_h"), Msg(N_("a failure_duration_h needs a failure_h or a when"))))
        return out

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        p = {}
        if h.failure_h is not None or h.when is not None:
            p["failure_h"] = draw(h.failure_h) if h.failure_h is not None else 0.0
            if h.failure_duration_h is not None:
                p["failure_duration_h"] = draw(h.failure_duration_h)
        return p

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        cols = list(DISTRICT_SERVICES)
        st = sensors.state(sim)
        pl = st.platform = sensors.Platform(
            host=None if h.host is None else sim.city.asset_index[h.host],
            carries=tuple(cols.index(s) for s in h.carries), private=tuple(cols.index(s) for s in h.private),
            gauge=h.gauge)
        if "failure_h" in p:
            sim._start(self._failure(sim, h, p, pl))
        while not sim.recovering:
            up = sensors.platform_up(sim)
            if up == pl.down:  # it went down or came back since its last look
                pl.down = not up
                sim.log.add(sim.env.now, "hazard", h.id, {"type": "data_platform", "up": up,
                                                             "as_of_h": round(pl.gauge_t, 6)})
            sensors.take_reading(sim)
            yield sim.env.timeout(_finite_delay(h.step_h, "data_platform step"))

    def _failure(self, sim: Any, h: Any, p: dict[str, float], pl: Any) -> Any:
        yield from self.start(sim, h)
        yield sim.env.timeout(_finite_delay(p["failure_h"], "data_platform failure"))
        pl.failed = True
        if "failure_duration_h" not in p:
            return
        yield sim.env.timeout(max(_EPS, _finite_delay(p["failure_duration_h"], "data_platform failure")))
        pl.failed = False
