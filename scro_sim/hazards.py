"""Hazard footprints over time and fragility: what a hazard does to an asset, never when.

Pure functions of time and place (numpy-vectorised) plus the default fragility curves and
repair times.  The engine decides when to ask.  Defaults are grounded in
``docs/reference_data.md`` (HAZUS restoration functions, post-event reports); the table
``DEFAULT_REPAIR_H`` says which source each row comes from.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from .city import SKILL_FOR_TYPE, FragilityCurve

__all__ = [
    "DAMAGE_STATES",
    "DEFAULT_DAMAGE_COST",
    "DEFAULT_FRAGILITY",
    "DEFAULT_REPAIR_H",
    "OTHER_DAMAGE_COST",
    "SKILL_FOR_TYPE",
    "damage_cost",
    "damage_state",
    "exceed_probability",
    "flood_stage",
    "fragility_for",
    "heat_temperature",
    "pga_g",
    "surge_patients",
    "wind_speed",
]

#: 0 = working, 1 = degraded (out of service, quick fix), 2 = failed (real repair).
DAMAGE_STATES: tuple[str, ...] = ("none", "degraded", "failed")


def _c(median: float, beta: float, state: str) -> FragilityCurve:
    return FragilityCurve(median=median, beta=beta, state=state)  # type: ignore[arg-type]


def _pair(deg: float, fail: float, beta: float) -> tuple[FragilityCurve, FragilityCurve]:
    return (_c(deg, beta, "degraded"), _c(fail, beta, "failed"))


_FLOOD = {  # intensity: water depth above the asset's floor/defence, metres (HAZUS flood-style)
    "power_plant": _pair(0.6, 1.8, 0.4), "substation": _pair(0.3, 1.0, 0.4),
    "water_treatment": _pair(0.5, 1.5, 0.4), "pumping_station": _pair(0.4, 1.2, 0.4),
    "water_tank": _pair(1.0, 2.5, 0.4), "telecom_tower": _pair(0.8, 2.0, 0.4),
    "data_centre": _pair(0.3, 1.0, 0.4), "hospital": _pair(0.4, 1.5, 0.4),
    "shelter": _pair(0.5, 1.5, 0.4), "fire_station": _pair(0.5, 1.5, 0.4),
    "depot": _pair(0.6, 1.8, 0.4), "eoc": _pair(0.4, 1.2, 0.4),
    "bridge": _pair(1.5, 3.5, 0.5), "traffic_control": _pair(0.3, 1.0, 0.4),
}
_QUAKE = {  # intensity: peak ground acceleration, g (HAZUS-MH earthquake medians, rounded)
    "power_plant": _pair(0.25, 0.9, 0.6), "substation": _pair(0.15, 0.7, 0.6),
    "water_treatment": _pair(0.25, 0.8, 0.6), "pumping_station": _pair(0.2, 0.75, 0.6),
    "water_tank": _pair(0.25, 0.9, 0.6), "telecom_tower": _pair(0.3, 1.0, 0.6),
    "data_centre": _pair(0.35, 1.1, 0.6), "hospital": _pair(0.3, 1.0, 0.6),
    "shelter": _pair(0.3, 1.0, 0.6), "fire_station": _pair(0.3, 1.0, 0.6),
    "depot": _pair(0.35, 1.2, 0.6), "eoc": _pair(0.35, 1.2, 0.6),
    "bridge": _pair(0.25, 0.8, 0.6), "traffic_control": _pair(0.3, 1.0, 0.6),
}
_HEAT = {  # intensity: effective load temperature, deg C (overload of equipment)
    "power_plant": _pair(44.0, 49.0, 0.05), "substation": _pair(41.0, 46.0, 0.05),
    "data_centre": _pair(42.0, 48.0, 0.05), "telecom_tower": _pair(45.0, 52.0, 0.05),
    "pumping_station": _pair(46.0, 53.0, 0.05),
}
_WIND = {  # intensity: gust speed, m/s
    "power_plant": _pair(50.0, 70.0, 0.2), "substation": _pair(40.0, 60.0, 0.2),
    "telecom_tower": _pair(35.0, 50.0, 0.2), "water_tank": _pair(45.0, 65.0, 0.2),
    "traffic_control": _pair(35.0, 55.0, 0.2), "bridge": _pair(55.0, 80.0, 0.2),
    "pumping_station": _pair(50.0, 70.0, 0.2), "data_centre": _pair(55.0, 75.0, 0.2),
    "hospital": _pair(55.0, 75.0, 0.2), "shelter": _pair(50.0, 70.0, 0.2),
}
DEFAULT_FRAGILITY: dict[str, dict[str, tuple[FragilityCurve, ...]]] = {
    "flood": _FLOOD, "earthquake": _QUAKE, "heatwave": _HEAT, "storm": _WIND,
}

#: Repair hours by asset type: (degraded mean, sd), (failed mean, sd).  Sources:
#: HAZUS restoration functions in docs/reference_data.md (substation slight 1 d +- 0.5, moderate
#: 3 d +- 1.5; pumping plant 0.9 d +- 0.3, moderate 3.1 d +- 2.7; water tank 1.2 d / 3.1 d);
#: "failed" uses the moderate state because flooded equipment is mostly cleaned and dried
#: (Ahr valley 2021), not rebuilt.  Telecom, hospital and others are L-confidence estimates.
DEFAULT_REPAIR_H: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "power_plant": ((48.0, 24.0), (168.0, 72.0)),
    "substation": ((24.0, 12.0), (72.0, 36.0)),
    "water_treatment": ((24.0, 12.0), (120.0, 60.0)),
    "pumping_station": ((21.6, 7.2), (74.4, 64.8)),
    "water_tank": ((28.8, 9.6), (74.4, 64.8)),
    "telecom_tower": ((8.0, 4.0), (48.0, 24.0)),
    "data_centre": ((24.0, 12.0), (96.0, 48.0)),
    "hospital": ((24.0, 12.0), (168.0, 72.0)),
    "shelter": ((12.0, 6.0), (72.0, 36.0)),
    "fire_station": ((12.0, 6.0), (72.0, 36.0)),
    "depot": ((12.0, 6.0), (72.0, 36.0)),
    "eoc": ((12.0, 6.0), (72.0, 36.0)),
    "bridge": ((72.0, 36.0), (720.0, 360.0)),
    "traffic_control": ((6.0, 3.0), (24.0, 12.0)),
}

#: Money to repair an asset by type: (degraded, failed), EUR.  The author's estimates (L) of a
#: replacement value times Hazus-style damage ratios of lifeline components (about 10 % of the
#: replacement value for a quick fix, 50 % for a real repair: docs/reference_data.md, "Storms,
#: retrofits and insurance").  Used only by scenarios that declare ``damage_costs``; the other
#: HAZUS states follow the repair-hours rule (slight = degraded, moderate halfway, extensive =
#: failed, complete twice failed).
DEFAULT_DAMAGE_COST: dict[str, tuple[float, float]] = {
    "power_plant": (500_000.0, 5_000_000.0),
    "substation": (100_000.0, 1_000_000.0),
    "water_treatment": (300_000.0, 3_000_000.0),
    "pumping_station": (30_000.0, 300_000.0),
    "water_tank": (50_000.0, 500_000.0),
    "telecom_tower": (20_000.0, 150_000.0),
    "data_centre": (100_000.0, 1_000_000.0),
    "hospital": (500_000.0, 5_000_000.0),
    "shelter": (50_000.0, 500_000.0),
    "fire_station": (50_000.0, 500_000.0),
    "depot": (30_000.0, 300_000.0),
    "eoc": (50_000.0, 500_000.0),
    "bridge": (200_000.0, 5_000_000.0),
    "traffic_control": (20_000.0, 200_000.0),
}
#: a type the table does not know (a city's own asset types)
OTHER_DAMAGE_COST: tuple[float, float] = (50_000.0, 500_000.0)


def damage_cost(state: str, degraded: float, failed: float) -> float:
    """Money to repair damage state ``state`` from a type's degraded and failed costs (the HAZUS
    states as repair hours derive them).

    >>> damage_cost("moderate", 100.0, 1000.0)
    550.0
    """
    if state in ("degraded", "slight"):
        return degraded
    if state in ("failed", "extensive"):
        return failed
    if state == "moderate":
        return (degraded + failed) / 2
    if state == "complete":
        return 2 * failed
    return 0.0


def fragility_for(hazard: str, asset_type: str, scenario_override: dict | None = None,
                  asset_override: dict | None = None) -> tuple[FragilityCurve, ...]:
    """Curves for one asset: the asset's own override, else the scenario's, else the default."""
    if asset_override and hazard in asset_override:
        c = asset_override[hazard]
        return c if isinstance(c, tuple) else (c,)
    if scenario_override and hazard in scenario_override and asset_type in scenario_override[hazard]:
        return tuple(scenario_override[hazard][asset_type])
    return DEFAULT_FRAGILITY.get(hazard, {}).get(asset_type, ())


def exceed_probability(x: np.ndarray | float, median: float, beta: float) -> np.ndarray:
    """P(damage state reached | intensity x) = Phi(ln(x/median)/beta); 0 where x <= 0.

    >>> round(float(exceed_probability(1.0, 1.0, 0.5)), 3)
    0.5
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore"):
        z = np.where(x > 0, np.log(np.maximum(x, 1e-300) / median) / beta, -np.inf)
    return ndtr(z)


def damage_state(x: float, z: float, curves: tuple[FragilityCurve, ...]) -> int:
    """Damage state of an asset whose capacity quantile is ``z`` (standard normal) at intensity ``x``.

    One ``z`` per asset makes damage monotone in intensity and gives each curve's
    probability exactly: x exceeds median*exp(beta*z) with probability Phi(ln(x/m)/beta).
    """
    if x <= 0:
        return 0
    state = 0
    for c in curves:
        if x >= c.median * math.exp(c.beta * z):
            state = max(state, 2 if c.state == "failed" else 1)
    return state


def flood_stage(t: float, base: float, peak: float, rise_start: float, time_to_peak: float,
                recession: float) -> float:
    """River gauge stage (m) at hour ``t``: flat, a smooth rise to the peak, a smooth recession."""
    if t <= rise_start:
        return base
    if t <= rise_start + time_to_peak:
        f = (t - rise_start) / max(time_to_peak, 1e-9)
        return base + (peak - base) * math.sin(math.pi / 2 * f) ** 2
    f = (t - rise_start - time_to_peak) / max(recession, 1e-9)
    if f >= 1:
        return base
    return base + (peak - base) * math.cos(math.pi / 2 * f) ** 2


def pga_g(magnitude: float, dist_km: np.ndarray, depth_km: float) -> np.ndarray:
    """Peak ground acceleration (g) with distance, Campbell (1981) style attenuation."""
    r = np.sqrt(np.asarray(dist_km, dtype=float) ** 2 + depth_km**2)
    ln = -4.141 + 0.868 * magnitude - 1.09 * np.log(r + 0.0606 * math.exp(0.7 * magnitude))
    return np.exp(ln)


def heat_temperature(t: float, start: float, duration: float, baseline: float, peak: float, *,
                     clock_h: float = 0.0) -> float:
    """Air temperature (deg C): a heat dome rising and falling over the event, with a daily cycle.

    ``t`` is hours since the exercise began at ``clock_h`` o'clock; the daily cycle peaks at 15:00
    and bottoms out at 03:00 by the clock.
    """
    if t < start or t > start + duration:
        return baseline
    f = (t - start) / max(duration, 1e-9)
    daily = 3.0 * math.sin(2 * math.pi * (((t + clock_h) % 24.0) - 9.0) / 24.0)
    return baseline + (peak - baseline) * math.sin(math.pi * f) + daily


def wind_speed(t: float, start: float, duration: float, peak: float, dist_km: np.ndarray,
               radius_km: float) -> np.ndarray:
    """Gust speed (m/s) at distance from the storm centre."""
    if t < start or t > start + duration:
        return np.zeros_like(np.asarray(dist_km, dtype=float))
    f = math.sin(math.pi * (t - start) / max(duration, 1e-9))
    return peak * f * np.exp(-((np.asarray(dist_km, dtype=float) / radius_km) ** 2))


def surge_patients(t: float, start: float, peak_t: float, end: float, peak_extra: float) -> float:
    """Extra patients over the baseline at hour ``t``: a triangle from start to peak to end."""
    if t <= start or t >= end:
        return 0.0
    if t <= peak_t:
        return peak_extra * (t - start) / max(peak_t - start, 1e-9)
    return peak_extra * (end - t) / max(end - peak_t, 1e-9)
