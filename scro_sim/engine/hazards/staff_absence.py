"""staff_absence: a share of the staff off sick (or caring for family) over a time profile, as in a pandemic.

The share absent rises in a straight line from ``start_h`` to ``peak_share`` at ``peak_h`` and
falls back to nothing at ``end_h`` (a triangle, like the patient surge: an epidemic wave).  At
every step the engine takes that share of each named crew team out of service (rounded to whole
crews, the team's last crews first: a crew busy on a repair finishes it, then goes off duty) and
closes that share, times ``beds_per_staff``, of each named hospital's beds for want of staff
(hospitals move staff from elsewhere, so a bed closes for less than every nurse off sick).  A
crew sent home is logged as a ``crew`` record ``off_duty``, its return ``on_duty``.

``peak_share`` is drawn like any hazard's numbers; the crews and beds that follow from it are
worked out from the profile with no draw of their own.  Planning figures: the UK planned for
15-20 % of staff off at the peak of an influenza pandemic, the US for up to 40 % at the peak of
a severe one (docs/reference_data.md, "Pandemic staff absence").
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...errors import N_, Msg
from ...hazards import surge_patients
from .._common import _EPS, _finite_delay
from ._base import Draw, HazardKind, Loc, hospital_problems, step_field


def absent_share(t: float, start: float, peak_t: float, end: float, peak_share: float) -> float:
    """The share of staff absent at hour ``t``: a triangle from ``start`` to ``peak_t`` to ``end``."""
    return surge_patients(t, start, peak_t, end, peak_share)


def crews_off(share: float, count: int) -> int:
    """Whole crews of a team of ``count`` out of service when ``share`` of its staff are absent
    (half a crew rounds up: a crew short of one of its two or three members does not go out)."""
    return min(count, int(share * count + 0.5))


class StaffAbsence(HazardKind):
    name = "staff_absence"
    model_name = "StaffAbsenceEffect"
    doc = "A share of the crews and hospital staff off sick over a time profile (a pandemic wave)."
    effect = True
    # the wave may last beyond the run: only its start and peak must lie inside it
    times = ("start_h", "peak_h")

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            "start_h": (t.Hours, 0.0),
            "peak_h": (t.Hours, ...),
            "end_h": (float, Field(gt=0, le=100000, allow_inf_nan=False)),
            # the share of staff absent at the peak
            "peak_share": (t.bounded_dist(0, 1), ...),
            # crew team ids (the scenario's resources.crews); empty: every team
            "teams": (tuple[t.Id, ...], Field(default=(), max_length=t.MAX_IDS)),
            "hospitals": (tuple[t.Id, ...], Field(default=(), max_length=t.MAX_IDS)),
            # the share of a hospital's beds that close for each share of its staff absent
            "beds_per_staff": (t.Share, 0.5),
            "step_h": step_field(),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if not h.start_h <= h.peak_h <= h.end_h:
            out.append((loc, Msg(N_("need start_h <= peak_h <= end_h"))))
        teams = [c.id for c in sc.resources.crews]
        for k, team in enumerate(h.teams):
            if team not in teams:
                out.append(((*loc, "teams", k), Msg(N_("unknown crew team {id!r}"), id=team)))
        out.extend(hospital_problems(loc, h.hospitals, city))
        return out

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        return {"peak_share": min(1.0, max(0.0, draw(h.peak_share)))}

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        t0 = yield from self.start(sim, h)
        c = sim.city
        names = list(h.teams) or [team.id for team in sim.scenario.resources.crews]
        teams = {team.id: team.count for team in sim.scenario.resources.crews}
        hosp = [c.asset_index[a] for a in h.hospitals]
        off: dict[str, int] = {name: 0 for name in names}  # crews of each team off duty now
        beds_off = {i: 0 for i in hosp}
        t = t0 + h.start_h
        last = min(sim.duration, t0 + h.end_h)
        while t <= last + _EPS:
            yield sim.env.timeout(_finite_delay(t - sim.env.now, "staff absence step"))
            share = absent_share(t - t0, h.start_h, h.peak_h, h.end_h, p["peak_share"])
            now = sim.env.now
            back = False
            for name in names:
                want = crews_off(share, teams[name])
                if want != off[name]:
                    back = back or want < off[name]
                    self._set_off(sim, name, teams[name], want)
                    off[name] = want
            for i in hosp:
                beds = round(float(c.asset_capacity[i]) * share * h.beds_per_staff)
                sim.unstaffed_beds[i] += beds - beds_off[i]  # the surge process counts them from its next step
                beds_off[i] = beds
            sim.log.add(now, "hazard", h.id, {"type": "staff_absence", "share": round(share, 6),
                                                 "crews_off": dict(off),
                                                 "beds_closed": {c.asset_ids[i]: beds_off[i] for i in hosp}})
            if back:
                sim._wake_crews()
            t = round(t + h.step_h, 9)

    @staticmethod
    def _set_off(sim: Any, team: str, count: int, want: int) -> None:
        """Take the team's last ``want`` crews out of service and bring the others back."""
        now = sim.env.now
        by_id = {cr.id: cr for cr in sim.crews}
        for k in range(count, 0, -1):
            cid = f"{team}#{k}"
            goes = k > count - want
            if goes and cid not in sim.off_duty:
                sim.off_duty[cid] = "staff_absence"
                if by_id[cid].state == "idle":
                    by_id[cid].state = "off_duty"
                sim.log.add(now, "crew", cid, {"state": "off_duty", "cause": "staff_absence"})
            elif not goes and sim.off_duty.get(cid) == "staff_absence":
                del sim.off_duty[cid]
                if by_id[cid].state == "off_duty":
                    by_id[cid].state = "idle"
                sim.log.add(now, "crew", cid, {"state": "on_duty"})
