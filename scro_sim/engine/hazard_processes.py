"""Hazard processes on the simpy clock: floods, earthquakes, heat, storms, cyber attacks, surges.

What a hazard does to an asset comes from :mod:`scro_sim.hazards` (intensities, fragility);
here is only when it happens and what changes in the city then."""

from __future__ import annotations

import bisect
import math
from typing import Any

import numpy as np

from ..hazards import (
    flood_stage,
    fragility_for,
    heat_temperature,
    pga_g,
    surge_patients,
    wind_speed,
)
from ..policy import trigger_met
from ..scenario import (
    CyberHazard,
    EarthquakeHazard,
    FloodHazard,
    HeatwaveHazard,
    StormHazard,
    SurgeHazard,
    sample,
)
from ._common import (
    _EPS,
    DOWN,
    _finite_delay,
    rounded,
)
from .observation import _SimView

_DAMAGE_NAME = ("none", "degraded", "failed")



#: plant that is cleaned, dried and tested after standing in flood water, however shallow [RD]
_CLEANED_AFTER_FLOOD = ("substation", "power_plant", "pumping_station", "water_treatment")

class HazardMixin:
    """Hazard sampling, damage and the hazard processes (part of Simulation)."""

    def _init_hazards(self) -> None:
        """Sample every uncertain hazard parameter now, in file order, from the hazard stream."""
        sc, rng = self.scenario, self.rng_hazard
        self._tables: dict[str, np.ndarray] = {}  # fragility curves by asset, per hazard (see _curves)
        self.hazard_params: dict[str, dict[str, float]] = {}
        for h in sc.hazards:
            p: dict[str, float] = {}
            if isinstance(h, FloodHazard):
                p = {k: sample(getattr(h, k), rng) for k in
                     ("base_stage_m", "peak_stage_m", "rise_start_h", "time_to_peak_h", "recession_h")}
                p["peak_stage_m"] = max(p["peak_stage_m"], p["base_stage_m"])
            elif isinstance(h, EarthquakeHazard):
                p = {"magnitude": sample(h.magnitude, rng), "aftershocks": max(0.0, round(sample(h.aftershock_count, rng)))}
                if p["aftershocks"] > self.budget.records:  # each is a record: refuse before drawing them
                    raise self._budget_error("records", f"earthquake {h.id} draws {p['aftershocks']:,.0f} aftershocks")
                for k in range(int(p["aftershocks"])):
                    p[f"aftershock{k}_h"] = h.time_h + float(rng.uniform(0.1, h.aftershock_within_h))
                    p[f"aftershock{k}_m"] = p["magnitude"] - h.aftershock_magnitude_drop - float(rng.exponential(0.4))
            elif isinstance(h, HeatwaveHazard):
                p = {"duration_h": sample(h.duration_h, rng), "peak_temp_c": sample(h.peak_temp_c, rng)}
            elif isinstance(h, StormHazard):
                p = {"duration_h": sample(h.duration_h, rng), "peak_wind_ms": sample(h.peak_wind_ms, rng)}
            elif isinstance(h, CyberHazard):
                p = {"start_h": sample(h.start_h, rng), "detection_delay_h": sample(h.detection_delay_h, rng),
                     "recovery_h": sample(h.recovery_h, rng)}
            elif isinstance(h, SurgeHazard):
                p = {"peak_extra_patients": max(0.0, sample(h.peak_extra_patients, rng))}
            for k, v in p.items():
                if not math.isfinite(v):
                    raise ValueError(f"hazard {h.id}: sampled {k} is not finite")
                if k.endswith("_h") and v < 0:
                    p[k] = 0.0
            self.hazard_params[h.id] = {k: round(v, 9) for k, v in p.items()}
        # hidden truth: which attack has each asset under it, and when each attack's cause came to light
        self.attack_of: dict[int, CyberHazard] = {}
        self.revealed: dict[str, float] = {}
        self._reveal_waiting: list[CyberHazard] = []  # attacks under way whose reveal waits for a condition

    def _curves(self, hazard: str) -> np.ndarray:
        """Rows (deg median, deg beta, fail median, fail beta) by asset (nan = immune), made once per city and curves."""
        table = self._tables.get(hazard)
        if table is not None:
            return table
        c, sc = self.city, self.scenario
        key = ("fragility", hazard, sc.fragility_text(hazard))
        table = c.memo.get(key)
        if table is None:  # once per city and scenario fragility: by type, then per-asset overrides
            table = np.full((4, c.n_assets), np.nan)
            for typ, members in c.by_type.items():
                for cur in fragility_for(hazard, typ, sc.fragility, None):
                    col = 0 if cur.state == "degraded" else 2
                    table[col, members], table[col + 1, members] = cur.median, cur.beta
            for i, (typ, own) in c.fragility_overrides.items():
                if hazard in own:
                    table[:, i] = np.nan
                    for cur in fragility_for(hazard, typ, sc.fragility, own):
                        col = 0 if cur.state == "degraded" else 2
                        table[col, i], table[col + 1, i] = cur.median, cur.beta
            c.memo[key] = table
        self._tables[hazard] = table
        return table

    def _damage(self, hazard: str, idx: np.ndarray, intensity: np.ndarray) -> None:
        """Apply damage where intensity passed each asset's sampled capacity; log and cascade."""
        mx = self.max_intensity.get(hazard)
        if mx is None:
            mx = self.max_intensity[hazard] = np.zeros(self.city.n_assets)
        deeper = intensity > mx[idx] + _EPS
        if not deeper.any():
            return
        sel = deeper.nonzero()[0]
        ai = idx[sel]
        x = intensity[sel]
        mx[ai] = x
        cap = self._capacities(hazard, ai)
        # a nan capacity (immune to this hazard) compares false, silently
        new_state = np.where(x >= cap[1], 2, x >= cap[0]).astype(np.int8)
        worse = new_state > self.damage[ai]
        hit = ai[worse]
        if not len(hit):
            return
        states = new_state[worse]
        xs = x[worse]
        self.damage[hit] = states
        ids, types, hit_list = self.city.asset_ids, self.city.type_names, hit.tolist()
        self.log.extend(self.env.now, "damage", [ids[i] for i in hit_list], [
            {"hazard": hazard, "intensity": xi, "state": _DAMAGE_NAME[st], "type": types[i]}
            for i, st, xi in zip(hit_list, states.tolist(), rounded(xs, 6), strict=True)])
        # An asset already down only changes its cause (damage comes first); the rest cascade.
        down = self.state[hit] == DOWN
        for i in hit[down].tolist():
            self.cause[i] = "damage"
        self._propagate(hit[~down].tolist())
        self._bridges_changed(hit)
        self._wake_crews()

    def _wet_plant_needs_cleaning(self, idx: np.ndarray, depth: np.ndarray) -> None:
        """Power and water plant that stood in the water is cleaned, dried and tested before it is
        switched on again (Ahr valley 2021, Sandy 2012 [RD]): at least degraded, repaired by a crew."""
        mask = self._wet_cleaned[idx] & (self.damage[idx] == 0)
        if not mask.any():
            return
        hit = idx[mask]
        self.damage[hit] = 1
        ids, types, hit_list = self.city.asset_ids, self.city.type_names, hit.tolist()
        self.log.extend(self.env.now, "damage", [ids[i] for i in hit_list], [
            {"hazard": "flood", "intensity": xi, "state": "degraded", "type": types[i], "cleaning": True}
            for i, xi in zip(hit_list, rounded(depth[mask], 6), strict=True)])
        for i in hit_list:
            self.cause[i] = "damage"  # wet, so down already: only the cause changes
        self._wake_crews()

    def _capacities(self, hazard: str, ai: np.ndarray) -> np.ndarray:
        """(degraded, failed) capacities of assets ``ai``, kept from their draw to repair."""
        cap = self._capacity.get(hazard)
        if cap is None:
            cap = self._capacity[hazard] = np.full((2, self.city.n_assets), np.nan)
        z = self.capacity_z.get(hazard)
        new = np.ones(len(ai), bool) if z is None else np.isnan(z[ai])
        if new.any():
            zn = self._z(hazard, ai)[new]  # draws the missing quantiles, in asset order
            dm, db, fm, fb = self._curves(hazard)[:, ai[new]]
            cap[0, ai[new]] = dm * np.exp(db * zn)  # nan curves (immune) give nan, silently
            cap[1, ai[new]] = fm * np.exp(fb * zn)
        return cap[:, ai]

    def _bridges_changed(self, assets: np.ndarray) -> None:
        if self._on_road[assets].any():
            self.closure_version += 1

    def _start_processes(self) -> None:
        for h in self.scenario.hazards:
            p = self.hazard_params[h.id]
            if isinstance(h, FloodHazard):
                self._start(self._flood_proc(h, p))
            elif isinstance(h, EarthquakeHazard):
                self._start(self._quake_proc(h, p))
            elif isinstance(h, HeatwaveHazard):
                self._start(self._heat_proc(h, p))
            elif isinstance(h, StormHazard):
                self._start(self._storm_proc(h, p))
            elif isinstance(h, CyberHazard):
                self._start(self._cyber_proc(h, p))
            elif isinstance(h, SurgeHazard):
                self._start(self._surge_proc(h, p))
        for crew in self.crews:
            self._start(self._crew_proc(crew))
        for inj in self.scenario.msel:
            if inj.at_h is not None:
                ev = self.env.timeout(_finite_delay(inj.at_h, f"inject {inj.id}"))
                ev.callbacks.append(lambda _e, inj=inj: self._fire_inject(inj))

    # flood ------------------------------------------------------------------------------
    def _flood_setup(self, h: FloodHazard) -> None:
        self._wet_cleaned = np.isin(np.array(self.city.type_names, dtype=object), _CLEANED_AFTER_FLOOD)
        self._f_version = -1  # protection version the sorted thresholds were made for
        self._fd_done = 0
        self._fe_closed = 0
        key = self._f_key = ("flood_setup", h.zones, h.road_closure_depth_m)
        plain = self.city.memo.get(key)  # read-only: made once per city, zones and closure depth
        if plain is None:
            plain = self.city.memo[key] = self._flood_plain(h)
        self.f_idx, self.f_base, self.fd_sorted, self.fd_sorted_off, self.fe_sorted, self.fe_sorted_off = plain

    def _flood_plain(self, h: FloodHazard) -> tuple[Any, ...]:
        """Floodplain assets, districts and roads with the stage that reaches each (city data only)."""
        c = self.city
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

    def _sort_flood_thresholds(self) -> None:
        """Floodplain assets by the stage that wets them (made again when a protection changes)."""
        key = ("flood_sorted", self._f_key)  # with the city's own protection: the same in every run
        made = self.city.memo.get(key) if self.protection_version == 0 else None
        if made is None:
            off = self.f_base + self.protection[self.f_idx]
            order = np.argsort(off, kind="stable")
            made = self.f_idx[order].tolist(), off[order].tolist()
            if self.protection_version == 0:
                self.city.memo[key] = made
        self.f_sorted, self.f_sorted_off = made
        self._f_version = self.protection_version

    def _wetting(self, stage: float) -> tuple[list[int], list[int]]:
        """Assets that go under water and that come out of it at ``stage`` (sorted), flags updated."""
        fl = self._fl
        if self._f_version != self.protection_version:
            self._sort_flood_thresholds()
            n_wet = bisect.bisect_left(self.f_sorted_off, stage)  # offset < stage: wet
            newly_wet = sorted(i for i in self.f_sorted[:n_wet] if not fl[i])
            newly_dry = sorted(i for i in self.f_sorted[n_wet:] if fl[i])
        else:
            # the flags are the first _f_wet of the sorted assets: only those between the two stages change
            n_wet = bisect.bisect_left(self.f_sorted_off, stage)
            newly_wet = sorted(self.f_sorted[self._f_wet:n_wet])
            newly_dry = sorted(self.f_sorted[n_wet:self._f_wet])
        self._f_wet = n_wet
        for i in newly_wet:
            fl[i] = 1
        for i in newly_dry:
            fl[i] = 0
        return newly_wet, newly_dry

    def _flood_proc(self, h: FloodHazard, p: dict[str, float]) -> Any:
        self._flood_setup(h)
        step = h.step_h
        times = [0.0]  # the steps' hours
        dry_at = p["rise_start_h"] + p["time_to_peak_h"] + p["recession_h"]  # the stage is back to base
        while True:
            t = round(times[-1] + step, 9)
            if t > self.duration + _EPS and (t > self.duration + self.scenario.recovery_h + _EPS
                                              or times[-1] >= dry_at):  # receding in the fast-forward, until gone
                break
            times.append(t)
        stages = [flood_stage(t, p["base_stage_m"], p["peak_stage_m"], p["rise_start_h"], p["time_to_peak_h"],
                              p["recession_h"]) for t in times]
        # Damage is assessed once, at the crest: the deepest water each asset sees (depth-damage
        # curves take the maximum depth), known when the river stops rising.  A wet asset is down
        # and waits for the water to go either way.
        self._f_crest_t = times[max(range(len(stages)), key=stages.__getitem__)]
        self._f_assessed = False
        last = None
        for t, stage in zip(times, stages, strict=True):
            if t > 0.0:
                yield self.env.timeout(_finite_delay(t - self.env.now, "flood step"))
            self.gauge = stage
            if last is None or abs(stage - last) >= 0.01:
                self.log.append(self.env.now, "hazard", h.id, {"type": "flood", "stage_m": round(stage, 4)})
                last = stage
            self._flood_step(h, stage)

    def _flood_step(self, h: FloodHazard, stage: float) -> None:
        # assets
        newly_wet, newly_dry = self._wetting(stage)
        if newly_wet or newly_dry:
            changed = sorted(newly_wet + newly_dry) if newly_wet and newly_dry else newly_wet or newly_dry
            self._propagate(changed)
            self._bridges_changed(np.array(changed))  # a bridge under water is closed
        if not self._f_assessed and self.env.now >= self._f_crest_t - _EPS:
            self._f_assessed = True
            if self._f_wet:
                wet = self.flooded[self.f_idx]
                idx = self.f_idx[wet]
                depth = stage - (self.f_base[wet] + self.protection[idx])
                self._damage("flood", idx, depth)
                self._wet_plant_needs_cleaning(idx, depth)
        if newly_dry:
            self._wake_crews()
        # roads: closed while the stage is above the threshold
        n_closed = bisect.bisect_left(self.fe_sorted_off, stage)
        if n_closed != self._fe_closed:
            lo, hi = sorted((n_closed, self._fe_closed))
            changed = sorted(self.fe_sorted[lo:hi])
            shut = n_closed > self._fe_closed
            self._fe_closed = n_closed
            self.edge_closed_flood[changed] = shut
            self.closure_version += 1
            now, names = self.env.now, self.city.edge_names
            for e in changed:
                self.log.append(now, "road", names[e], {"closed": shut, "cause": "flood"})
        # people: a district is reached once
        n_reached = bisect.bisect_left(self.fd_sorted_off, stage)
        if n_reached > self._fd_done:
            reached = sorted(self.fd_sorted[self._fd_done:n_reached])
            self._fd_done = n_reached
            for d in reached:
                if not self.exposed[d]:
                    self._expose(d, h)
        self._check_conditions()

    def _expose(self, d: int, h: Any) -> None:
        """The hazard reached district ``d``: count who was warned or evacuated in time."""
        c = self.city
        self.exposed[d] = True
        now = self.env.now
        spec = self.scenario.actions.warn_public
        # a flood reaches the district's share on the flood plain; shaking, heat and wind reach everyone in it
        share = float(c.district_exposed_share[d]) if isinstance(h, FloodHazard) else 1.0
        exposed = float(self.residents[d]) * share
        lead = float(now - self.warned_at[d]) if not math.isnan(self.warned_at[d]) else -1.0
        if lead < 0:
            protected_share = 0.0
        else:  # rumour control (public_information) makes more people act on the warning
            compliance = min(1.0, spec.compliance + float(self.info_compliance[d]))
            protected_share = compliance * min(1.0, lead / max(spec.warning_lead_h, _EPS))
        if isinstance(h, HeatwaveHazard | StormHazard):  # told to shelter in place (public_information)
            protected_share = max(protected_share, float(self.info_shelter[d]))
        at_risk = exposed * (1.0 - protected_share)
        evacuated = sum(self.evacuees[d].values()) if d in self.evacuees else 0
        self.log.append(now, "exposure", c.district_ids[d], {
            "hazard": h.id, "exposed": round(exposed, 3), "evacuated": int(evacuated),
            "warned": bool(lead >= 0), "warning_lead_h": round(lead, 6) if lead >= 0 else None,
            "at_risk": round(at_risk, 3), "at_risk_vulnerable": round(at_risk * float(c.district_vuln[d]), 3),
        })

    # earthquake ---------------------------------------------------------------------------
    def _quake_proc(self, h: EarthquakeHazard, p: dict[str, float]) -> Any:
        c = self.city
        idx = np.arange(c.n_assets)
        dist_km = np.hypot(c.asset_xy[:, 0] - h.epicentre[0], c.asset_xy[:, 1] - h.epicentre[1]) / 1000.0
        after = sorted((p[f"aftershock{k}_h"], p[f"aftershock{k}_m"]) for k in range(int(p["aftershocks"])))
        shocks = [(h.time_h, p["magnitude"]), *after]
        for t, m in shocks:
            if t >= self.duration:
                break
            yield self.env.timeout(_finite_delay(t - self.env.now, "earthquake"))
            pga = pga_g(m, dist_km, h.depth_km)
            self.log.append(self.env.now, "hazard", h.id, {"type": "earthquake", "magnitude": round(m, 4),
                                                           "max_pga_g": round(float(pga.max()), 6)})
            self._damage("earthquake", idx, pga)
            for d in range(c.n_districts):
                if not self.exposed[d]:
                    self._expose(d, h)

    # heat and storm -----------------------------------------------------------------------
    def _heat_proc(self, h: HeatwaveHazard, p: dict[str, float]) -> Any:
        c_by_type = {t: v.tolist() for t, v in self.city.by_type.items()}
        idx = np.array(sorted(i for t in ("power_plant", "substation", "data_centre", "telecom_tower",
                                          "pumping_station") for i in c_by_type.get(t, [])), dtype=np.int64)
        start = self.scenario.start
        clock0 = start.hour + start.minute / 60.0  # the daily cycle follows the clock, not the exercise
        t = h.start_h
        end = min(self.duration, h.start_h + p["duration_h"])
        while t <= end + _EPS:
            yield self.env.timeout(_finite_delay(t - self.env.now, "heat step"))
            temp = heat_temperature(t, h.start_h, p["duration_h"], h.baseline_temp_c, p["peak_temp_c"],
                                    clock_h=clock0)
            demand = 1.0 + h.demand_per_degree * max(0.0, temp - 30.0)
            self.log.append(self.env.now, "hazard", h.id, {"type": "heatwave", "temp_c": round(temp, 4),
                                                           "demand": round(demand, 6)})
            # overload: effective load temperature rises with demand on the equipment
            load = np.full(len(idx), temp + 10.0 * (demand - 1.0))
            if len(idx):
                self._damage("heatwave", idx, load)
            if temp > 32.0 and not self.exposed.all():
                for d in range(self.city.n_districts):
                    if not self.exposed[d]:
                        self._expose(d, h)
            t = round(t + h.step_h, 9)

    def _storm_proc(self, h: StormHazard, p: dict[str, float]) -> Any:
        c = self.city
        idx = np.arange(c.n_assets)
        dist_km = np.hypot(c.asset_xy[:, 0] - h.centre[0], c.asset_xy[:, 1] - h.centre[1]) / 1000.0
        d_km = np.hypot(c.district_xy[:, 0] - h.centre[0], c.district_xy[:, 1] - h.centre[1]) / 1000.0
        t = h.start_h
        end = min(self.duration, h.start_h + p["duration_h"])
        while t <= end + _EPS:
            yield self.env.timeout(_finite_delay(t - self.env.now, "storm step"))
            wind = wind_speed(t, h.start_h, p["duration_h"], p["peak_wind_ms"], dist_km, h.radius_km)
            self.log.append(self.env.now, "hazard", h.id, {"type": "storm", "max_wind_ms": round(float(wind.max()), 4)})
            self._damage("storm", idx, wind)
            dw = wind_speed(t, h.start_h, p["duration_h"], p["peak_wind_ms"], d_km, h.radius_km)
            for d in np.nonzero((dw > 25.0) & ~self.exposed)[0].tolist():
                self._expose(d, h)
            t = round(t + h.step_h, 9)

    # cyber ---------------------------------------------------------------------------------
    def _cyber_proc(self, h: CyberHazard, p: dict[str, float]) -> Any:
        c = self.city
        targets = [c.asset_index[a] for a in h.targets]
        yield self.env.timeout(_finite_delay(p["start_h"], "cyber start"))
        for i in targets:
            self.attack_of[i] = h
        if isinstance(h.reveal.at, float):  # at an hour: at once if that hour has passed
            ev = self.env.timeout(_finite_delay(max(0.0, h.reveal.at - self.env.now), "reveal"))
            ev.callbacks.append(lambda _e, h=h: self._reveal(h, "time"))
        if h.reveal.on is not None:
            self._reveal_waiting.append(h)
            self._check_reveals()
        if h.effect == "shutdown":
            for i in targets:
                self.cyber[i] = True
                self.log.append(self.env.now, "damage", c.asset_ids[i], {"hazard": h.id, "state": "cyber",
                                                                         "type": str(c.asset_type[i])})
            self._bridges_changed(np.array(targets))  # a bridge shut by its control system closes its road
            self._propagate(targets)
        yield self.env.timeout(_finite_delay(p["detection_delay_h"], "cyber detection"))
        self.log.append(self.env.now, "hazard", h.id, {"type": "cyber", "detected": True,
                                                       "targets": list(h.targets)})
        if h.reveal.at == "detection":
            self._reveal(h, "detection")
        if h.effect == "tamper":  # operators shut the plant down as a precaution once they see it
            for i in targets:
                self.cyber[i] = True
            self._bridges_changed(np.array(targets))
            self._propagate(targets)
        if h.incident_response_h is not None:  # detected: IT crews may now restore the targets (crews.py)
            for i in targets:
                if self.cyber[i]:
                    self.cyber_open[i] = h
            self._wake_crews()
        yield self.env.timeout(_finite_delay(p["recovery_h"], "cyber recovery"))
        for i in targets:  # the attack is over (an IT crew may have ended it on a site already)
            if self.attack_of.get(i) is h:
                del self.attack_of[i]
        if h.incident_response_h is None:
            for i in targets:
                self.cyber[i] = False
            self.log.append(self.env.now, "hazard", h.id, {"type": "cyber", "recovered": True})
            self._bridges_changed(np.array(targets))
            self._propagate(targets)
            return
        # the unassisted recovery brings back what the IT crews have not restored yet
        left = [i for i in targets if self.cyber_open.get(i) is h]
        for i in left:
            del self.cyber_open[i]
            self.cyber[i] = False
        self.log.append(self.env.now, "hazard", h.id, {"type": "cyber", "recovered": True,
                                                       "unassisted": [c.asset_ids[i] for i in left]})
        if left:
            self._bridges_changed(np.array(left))
        self._propagate(left)

    # surge ---------------------------------------------------------------------------------
    def _surge_proc(self, h: SurgeHazard, p: dict[str, float]) -> Any:
        c = self.city
        hosp = [c.asset_index[a] for a in h.hospitals]
        base = np.array([max(c.asset_capacity[i], 1.0) for i in hosp])
        t = h.start_h
        while t <= min(self.duration, h.end_h) + _EPS:
            yield self.env.timeout(_finite_delay(t - self.env.now, "surge step"))
            extra = surge_patients(t, h.start_h, h.peak_h, h.end_h, p["peak_extra_patients"])
            open_ = np.array([self.state[i] != DOWN for i in hosp])
            cap = base + self.surge_beds[hosp]  # surge beds opened by the player (open_surge_beds)
            patients = base * h.baseline_occupancy + self.patient_shift[hosp]  # transfer_patients moves some
            if open_.any():  # patients go to the hospitals that are open, by size
                share = np.where(open_, cap, 0.0) / cap[open_].sum()
                patients = patients + extra * share
            occ = patients / cap
            for k, i in enumerate(hosp):
                self.occupancy[i] = float(occ[k])
            over = occ > 1.0
            changed = []
            for k, i in enumerate(hosp):
                if bool(over[k]) != bool(self.overloaded[i]):
                    self.overloaded[i] = bool(over[k])
                    changed.append(i)
            self.log.append(self.env.now, "hazard", h.id, {"type": "surge", "extra_patients": round(extra, 3),
                                                           "occupancy": {c.asset_ids[i]: round(float(occ[k]), 4)
                                                                         for k, i in enumerate(hosp)}})
            for i in changed:
                self.log.append(self.env.now, "asset_down" if self.overloaded[i] else "asset_up", c.asset_ids[i],
                                {"cause": "overloaded" if self.overloaded[i] else "", "service": "health",
                                 "type": "hospital", "overload": True})
                for d in c.district_dependents[i]:
                    self._mark_district(d)
            self._flush_districts()
            t = round(t + h.step_h, 9)

    # hidden truth ----------------------------------------------------------------------------
    def _reveal(self, h: CyberHazard, how: str) -> None:
        """The attack's cause comes to light (once): from now on the player sees ``cyber``, not ``unknown``."""
        if h.id in self.revealed:
            return
        self.revealed[h.id] = self.env.now
        self.log.append(self.env.now, "cause_revealed", h.id, {"cause": "cyber", "by": how,
                                                               "targets": list(h.targets)})

    def _check_reveals(self) -> None:
        """Reveal the attacks under way whose ``reveal: {on: ...}`` condition now holds."""
        view = None
        for h in list(self._reveal_waiting):
            if h.id in self.revealed:
                self._reveal_waiting.remove(h)
                continue
            if view is None:
                view = _SimView(self)
            if trigger_met(h.reveal.on.key, h.reveal.on.value, view)[0]:
                self._reveal_waiting.remove(h)
                self._reveal(h, "condition")

    def cause_shown(self, i: int, cause: str) -> str:
        """What the player is told of why asset ``i`` is down: ``cause``, or ``unknown`` while an
        attack on it has not come to light."""
        if cause == "cyber":
            h = self.attack_of.get(i)
            if h is not None and h.id not in self.revealed:
                return "unknown"
        return cause
