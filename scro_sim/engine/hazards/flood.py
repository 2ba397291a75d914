"""flood: a river flood.  The city's gauge rises, peaks and recedes; water spreads by elevation.

Assets on the named zones go under water as the stage passes their threshold (down while wet),
damage is assessed once at the crest from the depth (fragility), roads close above a depth, and
the people on the flood plain are reached once.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from ...errors import N_, Msg
from ...hazards import flood_stage
from .._common import _EPS, _finite_delay, rounded
from ._base import Draw, HazardKind, Loc, step_field

#: plant that is cleaned, dried and tested after standing in flood water, however shallow [RD]
_CLEANED_AFTER_FLOOD = ("substation", "power_plant", "pumping_station", "water_treatment")


@dataclass(slots=True, eq=False)
class FloodRun:
    """One flood's progress in a run (kept in ``sim.rs.hazard_state[hazard id]``)."""

    wet_cleaned: np.ndarray  # per asset: plant cleaned after standing in water (city table, read-only)
    key: tuple[Any, ...]  # the city memo key of this flood's floodplain tables
    f_idx: np.ndarray  # floodplain assets (city table, read-only)
    f_base: np.ndarray  # per floodplain asset: the stage (m) that reaches its ground (city table, read-only)
    fd_sorted: list[int]  # floodplain districts by the stage that reaches them (city table, read-only)
    fd_sorted_off: list[float]  # ... and those stages (m)
    fe_sorted: list[int]  # floodplain roads by the stage that closes them (city table, read-only)
    fe_sorted_off: list[float]  # ... and those stages (m)
    f_sorted: list[int] | None = None  # floodplain assets by the stage that wets them, with today's protection
    f_sorted_off: list[float] | None = None  # ... and those stages (m)
    f_version: int = -1  # the protection version f_sorted was made for
    f_wet: int = 0  # how many of f_sorted are wet now (the first ones)
    fd_done: int = 0  # how many of fd_sorted the water has reached
    fe_closed: int = 0  # how many of fe_sorted are closed now
    crest_t: float = 0.0  # the hour of the crest, when damage is assessed
    assessed: bool = False  # damage assessed already


class Flood(HazardKind):
    name = "flood"
    model_name = "FloodHazard"
    doc = "A riverine flood: the city's river gauge rises, peaks and recedes; water spreads by elevation."
    fragile = True
    exposes = "flood_plain"
    times = ("rise_start_h",)
    durations = ("time_to_peak_h", "recession_h")

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            "base_stage_m": (t.bounded_dist(-100, 100, " m"), 1.0),
            "peak_stage_m": (t.bounded_dist(-100, 100, " m"), ...),
            "rise_start_h": (t.DistHours, 0.0),
            "time_to_peak_h": (t.DistHours, ...),
            "recession_h": (t.DistHours, ...),
            "zones": (tuple[t.Id, ...], Field(min_length=1, max_length=t.MAX_IDS)),
            # depth (m) at which a road is closed to crews
            "road_closure_depth_m": (float, Field(default=0.3, gt=0, le=5, allow_inf_nan=False)),
            "step_h": step_field(),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if city is not None:
            if city.river is None:
                out.append((loc, Msg(N_("a flood needs the city to have a river (with its gauge)"))))
            for k, z in enumerate(h.zones):
                if z not in city.zone_ids:
                    out.append(((*loc, "zones", k), Msg(N_("unknown zone {id!r}"), id=z)))
        if t.dist_bounds(h.peak_stage_m)[0] < 0:
            out.append(((*loc, "peak_stage_m"), Msg(N_("stage cannot be negative"))))
        return out

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        p = {k: draw(getattr(h, k)) for k in
             ("base_stage_m", "peak_stage_m", "rise_start_h", "time_to_peak_h", "recession_h")}
        p["peak_stage_m"] = max(p["peak_stage_m"], p["base_stage_m"])
        return p

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        t0 = yield from self.start(sim, h)
        fs = sim.rs.hazard_state[h.id] = _flood_setup(sim, h)
        step = h.step_h
        times = [t0]  # the steps' hours
        dry_at = t0 + p["rise_start_h"] + p["time_to_peak_h"] + p["recession_h"]  # the stage is back to base
        while True:
            t = round(times[-1] + step, 9)
            if t > sim.duration + _EPS and (t > sim.duration + sim.scenario.recovery_h + _EPS
                                              or times[-1] >= dry_at):  # receding in the fast-forward, until gone
                break
            times.append(t)
        stages = [flood_stage(t - t0, p["base_stage_m"], p["peak_stage_m"], p["rise_start_h"], p["time_to_peak_h"],
                              p["recession_h"]) for t in times]
        # Damage is assessed once, at the crest: the deepest water each asset sees (depth-damage
        # curves take the maximum depth), known when the river stops rising.  A wet asset is down
        # and waits for the water to go either way.
        fs.crest_t = times[max(range(len(stages)), key=stages.__getitem__)]
        last = None
        for t, stage in zip(times, stages, strict=True):
            if t > t0:
                yield sim.env.timeout(_finite_delay(t - sim.env.now, "flood step"))
            sim.rs.gauge = stage
            if last is None or abs(stage - last) >= 0.01:
                sim.log.add(sim.env.now, "hazard", h.id, {"type": "flood", "stage_m": round(stage, 4)})
                last = stage
            _flood_step(sim, h, fs, stage)



def _wet_plant_needs_cleaning(sim: Any, fs: FloodRun, idx: np.ndarray, depth: np.ndarray) -> None:
    """Power and water plant that stood in the water is cleaned, dried and tested before it is
    switched on again (Ahr valley 2021, Sandy 2012 [RD]): at least degraded, repaired by a crew."""
    mask = fs.wet_cleaned[idx] & (sim.rs.damage[idx] == 0)
    if not mask.any():
        return
    hit = idx[mask]
    sim.rs.damage[hit] = 1
    sim.rs._dn_view[hit] = 1  # cleaned before it runs again, whatever a degraded state otherwise allows
    ids, types, hit_list = sim.city.asset_ids, sim.city.type_names, hit.tolist()
    sim.log.extend(sim.env.now, "damage", [ids[i] for i in hit_list], [
        {"hazard": "flood", "intensity": xi, "state": "degraded", "type": types[i], "cleaning": True}
        for i, xi in zip(hit_list, rounded(depth[mask], 6), strict=True)])
    for i in hit_list:
        sim.rs.cause[i] = "damage"  # wet, so down already: only the cause changes
    sim._wake_crews()




def _flood_setup(sim: Any, h: Any) -> FloodRun:
    cleaned = sim.city.memo.get("wet_cleaned")  # read-only: made once per city
    if cleaned is None:
        cleaned = sim.city.memo["wet_cleaned"] = np.isin(np.array(sim.city.type_names, dtype=object),
                                                          _CLEANED_AFTER_FLOOD)
    key = ("flood_setup", h.zones, h.road_closure_depth_m)
    plain = sim.city.memo.get(key)  # read-only: made once per city, zones and closure depth
    if plain is None:
        plain = sim.city.memo[key] = _flood_plain(sim, h)
    return FloodRun(cleaned, key, *plain)


def _flood_plain(sim: Any, h: Any) -> tuple[Any, ...]:
    """Floodplain assets, districts and roads with the stage that reaches each (city data only)."""
    c = sim.city
    river = c.river
    assert river is not None
    in_zone = np.zeros(c.n_assets, bool)
    d_zone = np.zeros(c.n_districts, bool)
    e_zone = np.zeros(len(c.edge_u), bool)
    for z in h.zones:
        in_zone |= c.asset_zones[z]
        d_zone |= c.district_zones[z]
        e_zone |= c.edge_zones[z]
    axis = {"x": (0, 1.0), "-x": (0, -1.0), "y": (1, 1.0), "-y": (1, -1.0)}[river.flow_axis]

    def drop(xy: np.ndarray) -> np.ndarray:
        if not len(xy):
            return np.zeros(0)
        down_km = (xy[:, axis[0]] - c.gauge_xy[axis[0]]) * axis[1] / 1000.0
        return river.slope_m_per_km * down_km

    f_idx = np.nonzero(in_zone)[0]
    f_base = c.asset_elev[f_idx] + drop(c.asset_xy[f_idx]) - river.datum
    fd_idx = np.nonzero(d_zone)[0]
    fd_off = c.district_elev[fd_idx] + drop(c.district_xy[fd_idx]) - river.datum
    # Districts and roads go under as the stage passes their threshold: sorted by threshold,
    # a step looks only at the thresholds between the last stage and this one.
    # Python lists: a step's binary search and slice are cheaper on them than numpy calls.
    d_order = np.argsort(fd_off, kind="stable")
    fe_idx = np.nonzero(e_zone)[0]
    fe_off = c.edge_elev[fe_idx] + drop(c.edge_xy[fe_idx]) - river.datum + h.road_closure_depth_m
    e_order = np.argsort(fe_off, kind="stable")
    return (f_idx, f_base, fd_idx[d_order].tolist(), fd_off[d_order].tolist(),
            fe_idx[e_order].tolist(), fe_off[e_order].tolist())

def _sort_flood_thresholds(sim: Any, fs: FloodRun) -> None:
    """Floodplain assets by the stage that wets them (made again when a protection changes)."""
    key = ("flood_sorted", fs.key)  # with the city's own protection: the same in every run
    made = sim.city.memo.get(key) if sim.rs.protection_version == 0 else None
    if made is None:
        off = fs.f_base + sim.rs.protection[fs.f_idx]
        order = np.argsort(off, kind="stable")
        made = fs.f_idx[order].tolist(), off[order].tolist()
        if sim.rs.protection_version == 0:
            sim.city.memo[key] = made
    fs.f_sorted, fs.f_sorted_off = made
    fs.f_version = sim.rs.protection_version

def _wetting(sim: Any, fs: FloodRun, stage: float) -> tuple[list[int], list[int]]:
    """Assets that go under water and that come out of it at ``stage`` (sorted), flags updated."""
    fl = sim.rs._fl
    if fs.f_version != sim.rs.protection_version:
        _sort_flood_thresholds(sim, fs)
        n_wet = bisect.bisect_left(fs.f_sorted_off, stage)  # offset < stage: wet
        newly_wet = sorted(i for i in fs.f_sorted[:n_wet] if not fl[i])
        newly_dry = sorted(i for i in fs.f_sorted[n_wet:] if fl[i])
    else:
        # the flags are the first f_wet of the sorted assets: only those between the two stages change
        n_wet = bisect.bisect_left(fs.f_sorted_off, stage)
        newly_wet = sorted(fs.f_sorted[fs.f_wet:n_wet])
        newly_dry = sorted(fs.f_sorted[n_wet:fs.f_wet])
    fs.f_wet = n_wet
    for i in newly_wet:
        fl[i] = 1
    for i in newly_dry:
        fl[i] = 0
    return newly_wet, newly_dry



def _flood_step(sim: Any, h: Any, fs: FloodRun, stage: float) -> None:
    # assets
    newly_wet, newly_dry = _wetting(sim, fs, stage)
    if newly_wet or newly_dry:
        changed = sorted(newly_wet + newly_dry) if newly_wet and newly_dry else newly_wet or newly_dry
        sim._propagate(changed)
        sim._bridges_changed(changed)  # a bridge under water is closed
    if not fs.assessed and sim.env.now >= fs.crest_t - _EPS:
        fs.assessed = True
        if fs.f_wet:
            wet = sim.rs.flooded[fs.f_idx]
            idx = fs.f_idx[wet]
            depth = stage - (fs.f_base[wet] + sim.rs.protection[idx])
            sim._damage("flood", idx, depth)
            _wet_plant_needs_cleaning(sim, fs, idx, depth)
    if newly_dry:
        sim._wake_crews()
    # roads: closed while the stage is above the threshold
    n_closed = bisect.bisect_left(fs.fe_sorted_off, stage)
    if n_closed != fs.fe_closed:
        lo, hi = sorted((n_closed, fs.fe_closed))
        changed = sorted(fs.fe_sorted[lo:hi])
        shut = n_closed > fs.fe_closed
        fs.fe_closed = n_closed
        sim.rs.edge_closed_flood[changed] = shut
        sim.rs.closure_version += 1
        now, names = sim.env.now, sim.city.edge_names
        out = sim.log.at(now)
        for e in changed:
            out += (now, "road", names[e], {"closed": shut, "cause": "flood"})
    # people: a district is reached once
    n_reached = bisect.bisect_left(fs.fd_sorted_off, stage)
    if n_reached > fs.fd_done:
        reached = sorted(fs.fd_sorted[fs.fd_done:n_reached])
        fs.fd_done = n_reached
        for d in reached:
            if not sim.rs.exposed[d]:
                sim._expose(d, h)
    sim._check_conditions()
