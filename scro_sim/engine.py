"""The simulation engine, the only user of simpy: hazards, cascades, backups, crews, decisions.

A run is a pure function of (scenario, city, seed, decisions): every random stream is a
numpy Generator spawned from one SeedSequence in a fixed order, state lives in flat arrays
indexed like the city, cascades are propagated incrementally from what changed, and every
change is written to the :class:`~scro_sim.log.EventLog`.  Nothing here scores, stores or
draws; those read the log.
"""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import simpy

from .city import City
from .errors import DecisionError
from .hazards import (
    DEFAULT_REPAIR_H,
    SKILL_FOR_TYPE,
    flood_stage,
    fragility_for,
    heat_temperature,
    pga_g,
    surge_patients,
    wind_speed,
)
from .log import EventLog
from .policy import Decision, Observation, Policy, condition_met
from .scenario import (
    Action,
    CyberHazard,
    EarthquakeHazard,
    FloodHazard,
    HeatwaveHazard,
    Scenario,
    StormHazard,
    SurgeHazard,
    action_problems,
    edge_index,
    sample,
    text_in,
)

__all__ = ["ENGINE_VERSION", "Simulation", "replay", "run"]

ENGINE_VERSION = "0.1.0"

UP, BACKUP, DOWN = 0, 1, 2
_BLOCKING = ("damage", "flooded", "cyber")  # causes an asset has itself, not through its suppliers
_STATE_NAME = ("up", "backup", "down")
_EPS = 1e-9


def _finite_delay(d: float, what: str) -> float:
    # simpy accepts a NaN delay and its clock then runs backwards: refuse before it gets there.
    if not math.isfinite(d) or d < 0:
        raise ValueError(f"{what}: delay must be a finite, non-negative number of hours, got {d!r}")
    return float(d)


class _LateTimeout(simpy.events.Event):
    """A timeout processed after every ordinary event due at the same time.

    Decision points use it so that a stop at hour t sees everything that happens at t,
    and a replay stops at exactly the same place in the event sequence as the original.
    """

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority=2, delay=delay)


_LAZY: Any = object()


class _LiveObservation(Observation):
    """An :class:`Observation` whose damage-sized parts are built on first access.

    A policy that only needs the clock and the injects never pays for listing a thousand
    flooded assets; whoever reads a part gets exactly what a full observation would hold.
    """

    _LAZY_FIELDS = ("assets_down", "assets_on_backup", "services", "changes", "repairs_waiting", "asset_state",
                    "type_of")
    _sim: Any = None
    _window: tuple[int, int] = (0, 0)

    def _get(self, name: str) -> Any:
        v = self.__dict__.get("_v_" + name, _LAZY)
        if v is _LAZY:
            if self._sim is None:
                raise RuntimeError(f"observation at t={self.time_h} h is out of date: read {name} before advancing")
            v = self._sim._obs_part(name, self._window)
            self.__dict__["_v_" + name] = v
        return v

    def _materialize(self) -> None:
        if self._sim is not None:
            for name in self._LAZY_FIELDS:
                self._get(name)
            self._sim = None

    def _detach(self) -> None:
        self._sim = None

    def state_of(self, asset: str) -> str:
        return _SimView(self._sim).state_of(asset) if self._sim is not None else super().state_of(asset)

    def first_with(self, asset_type: str, state: str) -> str | None:
        if self._sim is not None:
            return _SimView(self._sim).first_with(asset_type, state)
        return super().first_with(asset_type, state)

    def served_share(self, district: str, service: str) -> float:
        if self._sim is not None:
            return _SimView(self._sim).served_share(district, service)
        return super().served_share(district, service)


def _lazy_property(name: str) -> property:
    def get(self: _LiveObservation) -> Any:
        return self._get(name)

    def put(self: _LiveObservation, value: Any) -> None:
        self.__dict__["_v_" + name] = value

    return property(get, put)


for _name in _LiveObservation._LAZY_FIELDS:
    setattr(_LiveObservation, _name, _lazy_property(_name))


@dataclass
class Crew:
    """One repair crew: where it is and what it does."""

    id: str
    team: str
    skills: tuple[str, ...]
    node: int
    state: str = "idle"
    task: int | None = None
    wake: Any = None
    busy_until: float = 0.0


@dataclass
class _Expected:
    id: str
    action: str
    targets: tuple[str, ...]
    due: float
    inject: str
    contingency: str | None
    only_after: bool = False
    met: bool = False


@dataclass
class _Pending:
    """Things the next observation reports."""

    injects: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)


class Simulation:
    """One run of a scenario on a city with a seed.

    Drive it whole with :meth:`run` (a policy decides at each decision point), or step by
    step for play: :meth:`advance` runs to the next decision point and returns an
    :class:`Observation`; :meth:`apply` checks and schedules the player's decision.
    """

    def __init__(self, scenario: Scenario, city: City, seed: int = 0, policy: Policy | None = None,
                 *, lang: str = "en") -> None:
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.scenario = scenario
        self.city = city
        self.seed = int(seed)
        self.policy = policy
        self.lang = lang
        self.env = simpy.Environment()
        self.log = EventLog()
        streams = np.random.SeedSequence(self.seed).spawn(6)
        (self.rng_hazard, self.rng_damage, self.rng_repair, self.rng_aid, self.rng_people,
         self.rng_misc) = (np.random.default_rng(s) for s in streams)
        self.duration = float(scenario.duration_h)
        self.decisions: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []
        self._init_state()
        self._any_overload = any(isinstance(h, SurgeHazard) for h in scenario.hazards)
        self._init_hazards()
        self._init_people()
        self._init_resources()
        self._init_msel()
        self._init_points()
        self.log.append(0.0, "run_start", scenario.id, {
            "scenario": scenario.id, "scenario_version": scenario.version,
            "scenario_sha256": scenario.source_sha256, "city": city.id, "city_sha256": city.content_hash(),
            "seed": self.seed, "engine": ENGINE_VERSION, "start": scenario.start.isoformat(),
            "duration_h": self.duration, "population": int(city.district_pop.sum()),
            "vulnerable": float(np.dot(city.district_pop, city.district_vuln)),
            "budget": scenario.resources.budget,
            "districts": {d: {"population": int(city.district_pop[j]), "vulnerable_share": float(city.district_vuln[j])}
                          for j, d in enumerate(city.district_ids)},
            "critical": [city.asset_ids[i] for i in self.critical],
            "hazard_params": self.hazard_params,
        })
        # Nothing is damaged at t=0 and every need has a supplier (the city loader checks it),
        # so everything works: the greatest fixpoint is "all up" and costs nothing to find.
        self._start_processes()

    # ------------------------------------------------------------------------------------
    # state

    def _init_state(self) -> None:
        c, n = self.city, self.city.n_assets
        # Per-asset flags live in bytearrays: the cascade reads and writes single entries
        # (fast on a bytearray, slow on a numpy scalar), while numpy views of the same memory
        # serve the vectorised hazard steps and observations.
        self._st = bytearray(n)  # UP / BACKUP / DOWN
        self._dm = bytearray(n)  # damage state 0 / 1 / 2
        self._fl = bytearray(n)  # under water now
        self._cy = bytearray(n)  # taken down by a cyber attack
        self._ov = bytearray(n)  # hospital overloaded by a patient surge
        self.state = np.frombuffer(self._st, dtype=np.int8)
        self.damage = np.frombuffer(self._dm, dtype=np.int8)
        self.flooded = np.frombuffer(self._fl, dtype=np.bool_)
        self.cyber = np.frombuffer(self._cy, dtype=np.bool_)
        self.overloaded = np.frombuffer(self._ov, dtype=np.bool_)
        self.cause: list[str] = [""] * n
        self.own_left: list[float] = c.backup_hours.astype(float).tolist()
        self.own_services = c.backup_services
        self.gen_left: list[float] = [0.0] * n
        self.has_gen: list[bool] = [False] * n
        self.bk_since: list[float] = [0.0] * n
        self.bk_using: list[tuple[str, ...]] = [()] * n
        self.bk_token: list[int] = [0] * n
        self.protection = c.asset_protection.copy()
        self.assigned = np.full(n, -1, np.int64)
        self.repairing = np.zeros(n, bool)
        self._queued = bytearray(n)
        self.loop_unfed: dict[str, np.ndarray] = {svc: np.zeros(n, bool) for svc, _ in c.supply_loops}
        self.critical = c.critical
        self.max_intensity: dict[str, np.ndarray] = {}
        self.capacity_z: dict[str, np.ndarray] = {}
        self.edge_closed_flood = np.zeros(len(c.edge_u), bool)
        self.edge_closed_manual = np.zeros(len(c.edge_u), bool)
        self.closure_version = 0
        self._matrix_cache: tuple[int, Any] | None = None
        self._dist_cache: dict[tuple[int, int], np.ndarray] = {}
        self.gauge: float | None = None
        self.spent = 0.0
        self._changed_since_obs = 0
        self.district_unserved = np.zeros((c.n_districts, 4), np.int64)
        self._dirty_db = bytearray(c.n_districts)
        self._dirty_d = np.frombuffer(self._dirty_db, dtype=np.bool_)

    def _z(self, hazard: str, idx: np.ndarray) -> np.ndarray:
        """Capacity quantiles (standard normal) for assets ``idx``, drawn on first need in index order."""
        z = self.capacity_z.get(hazard)
        if z is None:
            z = np.full(self.city.n_assets, np.nan)
            self.capacity_z[hazard] = z
        need = idx[np.isnan(z[idx])]
        if len(need):
            z[np.sort(need)] = self.rng_damage.standard_normal(len(need))
        return z[idx]

    # ------------------------------------------------------------------------------------
    # cascades

    def _ok(self, x: int, service: str) -> bool:
        if self._st[x] == DOWN:
            return False
        unfed = self.loop_unfed.get(service)
        if unfed is not None and unfed[x]:
            return False
        return not (service == "health" and self._ov[x])

    def _loop_unfed(self, lid: int) -> list[int]:
        """Members of same-service loop ``lid`` that no outside supply (or backup) reaches."""
        c = self.city
        service, members = c.supply_loops[lid]
        mset = set(members)
        unfed = self.loop_unfed[service]

        def capable(m: int) -> bool:
            if self.damage[m] or self.flooded[m] or self.cyber[m]:
                return False
            return self.state[m] != DOWN or self.cause[m] == f"no {service}"

        reached: list[int] = []
        seen: set[int] = set()
        for m in members:
            if not capable(m):
                continue
            sup = next((x for s, x in c.asset_needs[m] if s == service), ())
            outside = any(x not in mset and self.state[x] != DOWN and not unfed[x] for x in sup)
            backup = (service in self.own_services[m] and self.own_left[m] > _EPS) or (
                service == "power" and self.has_gen[m] and self.gen_left[m] > _EPS)
            if outside or backup:
                reached.append(m)
                seen.add(m)
        k = 0
        while k < len(reached):
            m = reached[k]
            k += 1
            for d in c.asset_dependents[m]:
                if d in mset and d not in seen and capable(d):
                    seen.add(d)
                    reached.append(d)
        return [m for m in members if m not in seen]

    def _target(self, i: int) -> tuple[int, str, tuple[str, ...], tuple[str, ...]]:
        """(state, cause, backup sources to use, missing services) that asset ``i`` should be in now."""
        if self._dm[i]:
            return DOWN, "damage", (), ()
        if self._fl[i]:
            return DOWN, "flooded", (), ()
        if self._cy[i]:
            return DOWN, "cyber", (), ()
        st = self._st
        missing: tuple[str, ...] = ()
        plain = not self.loop_unfed and not self._any_overload
        for s, sup in self.city.asset_needs[i]:
            if plain:
                for x in sup:
                    if st[x] != DOWN:
                        break
                else:
                    missing += (s,)
            elif not any(self._ok(x, s) for x in sup):
                missing += (s,)
        if not missing:
            return UP, "", (), ()
        own = self.own_left[i] > _EPS
        own_cov = self.own_services[i]
        gen = self.has_gen[i] and self.gen_left[i] > _EPS
        if own and all(s in own_cov for s in missing):
            return BACKUP, "", ("own",), missing
        if gen and missing == ("power",):
            return BACKUP, "", ("gen",), missing
        if own and gen and all(s in own_cov or s == "power" for s in missing):
            return BACKUP, "", ("own", "gen"), missing
        return DOWN, "no " + missing[0], (), missing

    def _settle(self, i: int) -> None:
        """Charge the backup fuel used since the last settlement."""
        if self._st[i] != BACKUP:
            return
        used = self.env.now - self.bk_since[i]
        if used > 0:
            if "own" in self.bk_using[i]:
                self.own_left[i] = max(0.0, self.own_left[i] - used)
            if "gen" in self.bk_using[i]:
                self.gen_left[i] = max(0.0, self.gen_left[i] - used)
        self.bk_since[i] = self.env.now

    def _transition(self, i: int, new: int, cause: str, sources: tuple[str, ...], missing: tuple[str, ...],
                    *, initial: bool = False) -> bool:
        """Move asset ``i`` to ``new``; log it; schedule backup exhaustion. True if working changed."""
        old = self._st[i]
        aid = self.city.asset_ids[i]
        now = self.env.now
        if new == old and (new != BACKUP or sources == self.bk_using[i]):
            if new == DOWN:
                self.cause[i] = cause
            return False
        if old == BACKUP and new != BACKUP:
            self.bk_token[i] += 1
            if new == UP:
                self.log.append(now, "backup_stop", aid, {"own_left_h": round(float(self.own_left[i]), 6),
                                                          "generator_left_h": round(float(self.gen_left[i]), 6)})
        self._st[i] = new
        self.cause[i] = cause
        if new == BACKUP:
            self.bk_using[i] = sources
            self.bk_since[i] = now
            self.bk_token[i] += 1
            left = min((self.own_left[i] if s == "own" else self.gen_left[i]) for s in sources)
            if old != BACKUP:
                self.log.append(now, "backup_start", aid, {"sources": list(sources), "missing": list(missing),
                                                           "hours_left": round(float(left), 6)})
            token = self.bk_token[i]
            ev = self.env.timeout(_finite_delay(left, "backup"))
            ev.callbacks.append(lambda _e, i=i, token=token: self._exhausted(i, token))
        else:
            self.bk_using[i] = ()
        working_changed = (old == DOWN) != (new == DOWN)
        if working_changed:
            self._changed_since_obs += 1
            if new == DOWN:
                self.log.append(now, "asset_down", aid, {"cause": cause, "type": self.city.type_names[i]})
            elif not initial or old == DOWN:
                self.log.append(now, "asset_up", aid, {"on_backup": new == BACKUP, "type": self.city.type_names[i]})
        return working_changed

    def _rearm(self, i: int) -> None:
        """After fuel arrived for an asset already on backup: one new exhaustion time, no new start."""
        if self._st[i] != BACKUP:
            return
        self._settle(i)
        self.bk_token[i] += 1
        token = self.bk_token[i]
        left = min((self.own_left[i] if s == "own" else self.gen_left[i]) for s in self.bk_using[i])
        ev = self.env.timeout(_finite_delay(left, "backup"))
        ev.callbacks.append(lambda _e, i=i, token=token: self._exhausted(i, token))

    def _exhausted(self, i: int, token: int) -> None:
        if self.bk_token[i] != token or self._st[i] != BACKUP:
            return
        self._settle(i)
        self.log.append(self.env.now, "backup_exhausted", self.city.asset_ids[i], {"sources": list(self.bk_using[i])})
        self._propagate([i])

    def _propagate(self, seeds: Iterable[int], *, initial: bool = False) -> None:
        """Re-evaluate ``seeds`` and everything downstream of what changes (incremental cascade)."""
        c = self.city
        queued, dirty, st = self._queued, self._dirty_db, self._st
        q: deque[int] = deque()
        for i in seeds:
            if not queued[i]:
                queued[i] = 1
                q.append(i)
        came_up: list[int] = []
        cleared: list[int] = []
        touched_loops: set[int] = set()
        while True:
            while q:
                i = q.popleft()
                queued[i] = 0
                if st[i] == BACKUP:
                    self._settle(i)
                new, cause, src, missing = self._target(i)
                was_down = st[i] == DOWN
                if was_down and new == DOWN and self.cause[i] in _BLOCKING and cause not in _BLOCKING:
                    cleared.append(i)  # its own problem is gone; it may be held down only by a cycle
                if self._transition(i, new, cause, src, missing, initial=initial):
                    if was_down:
                        came_up.append(i)
                    for d in c.asset_dependents[i]:
                        if not queued[d]:
                            queued[d] = 1
                            q.append(d)
                    for d in c.district_dependents[i]:
                        dirty[d] = 1
                    for d in self.shelter_districts.get(i, ()):
                        dirty[d] = 1
                    if c.loops_touching:
                        touched_loops.update(c.loops_touching.get(i, ()))
            if touched_loops:
                for lid in sorted(touched_loops):
                    service, members = c.supply_loops[lid]
                    flags = self.loop_unfed[service]
                    now_unfed = set(self._loop_unfed(lid))
                    for m in members:
                        if (m in now_unfed) != bool(flags[m]):
                            flags[m] = m in now_unfed
                            for d in (m, *c.asset_dependents[m]):
                                if not queued[d]:
                                    queued[d] = 1
                                    q.append(d)
                            for d in c.district_dependents[m]:
                                self._dirty_d[d] = True
                touched_loops.clear()
                if q:
                    continue
            if not came_up and not cleared:
                break
            # Interdependency cycles: assets held down only by each other restart together
            # (greatest fixpoint over the down, undamaged assets reachable from what came up).
            survivors = self._restart_cycles(came_up, cleared)
            came_up, cleared = [], []
            for i in survivors:
                if not queued[i]:
                    queued[i] = 1
                    q.append(i)
            if not q:
                break
        if not initial:
            self._flush_districts()

    def _restart_cycles(self, came_up: list[int], cleared: list[int]) -> list[int]:
        c = self.city
        region: list[int] = [i for i in cleared if self.state[i] == DOWN and self.cause[i] not in _BLOCKING]
        seen: set[int] = set(region)
        stack = list(came_up) + region
        while stack:
            i = stack.pop()
            for d in c.asset_dependents[i]:
                if d in seen:
                    continue
                seen.add(d)
                if self.state[d] == DOWN and not (self.damage[d] or self.flooded[d] or self.cyber[d]):
                    region.append(d)
                    stack.append(d)
        if not region:
            return []
        region.sort()
        saved = {i: int(self.state[i]) for i in region}
        for i in region:
            self.state[i] = UP
        changed = True
        while changed:
            changed = False
            for i in region:
                if self.state[i] != DOWN and self._target(i)[0] == DOWN:
                    self.state[i] = DOWN
                    changed = True
        survivors = [i for i in region if self.state[i] != DOWN]
        for i, s in saved.items():
            self.state[i] = s
        # let the survivors find their state through normal evaluation, with the others assumed up
        for i in survivors:
            self.state[i] = UP  # provisional: evaluated again by the caller's queue
            self.log.append(self.env.now, "asset_up", c.asset_ids[i], {"on_backup": False, "restart": True,
                                                                    "type": str(c.asset_type[i])})
            for d in c.district_dependents[i]:
                self._dirty_d[d] = True
        out: list[int] = []
        for i in survivors:
            out.extend(c.asset_dependents[i])
            out.append(i)
        return out

    # ------------------------------------------------------------------------------------
    # people

    def _init_people(self) -> None:
        c = self.city
        self.residents = c.district_pop.astype(np.int64).copy()
        self.evacuees: list[dict[int, int]] = [{} for _ in range(c.n_districts)]
        self.shelter_load = np.zeros(c.n_assets, np.int64)
        self.shelter_districts: dict[int, list[int]] = {}
        self.warned_at = np.full(c.n_districts, np.nan)
        self.exposed = np.zeros(c.n_districts, bool)
        self.district_needs = [dict(n) for n in c.district_needs]

    def _district_served(self, d: int, service: str) -> bool:
        sup = self.district_needs[d].get(service)
        if sup is None:
            return True
        return any(self._ok(x, service) for x in sup)

    _SERVICES = ("power", "water", "telecom", "health")

    def _recompute_districts(self, districts: Iterable[int], *, initial: bool = False) -> None:
        c = self.city
        for d in districts:
            for k, s in enumerate(self._SERVICES):
                unserved = 0 if self._district_served(d, s) else int(self.residents[d])
                for shelter, n in self.evacuees[d].items():
                    if s == "health":
                        ok = self._district_served(d, s)
                    else:
                        ok = self.state[shelter] != DOWN
                    if not ok:
                        unserved += n
                if unserved != self.district_unserved[d, k]:
                    self.district_unserved[d, k] = unserved
                    self.log.append(self.env.now, "service", c.district_ids[d], {
                        "service": s, "unserved": unserved,
                        "unserved_vulnerable": round(unserved * float(c.district_vuln[d]), 3),
                        "population": int(c.district_pop[d]),
                    })

    def _flush_districts(self) -> None:
        idx = np.nonzero(self._dirty_d)[0]
        if len(idx):
            self._dirty_d[idx] = False
            self._recompute_districts(idx.tolist())
        self._check_conditions()

    # ------------------------------------------------------------------------------------
    # hazards

    def _init_hazards(self) -> None:
        """Sample every uncertain hazard parameter now, in file order, from the hazard stream."""
        sc, rng = self.scenario, self.rng_hazard
        self.hazard_params: dict[str, dict[str, float]] = {}
        for h in sc.hazards:
            p: dict[str, float] = {}
            if isinstance(h, FloodHazard):
                p = {k: sample(getattr(h, k), rng) for k in
                     ("base_stage_m", "peak_stage_m", "rise_start_h", "time_to_peak_h", "recession_h")}
                p["peak_stage_m"] = max(p["peak_stage_m"], p["base_stage_m"])
            elif isinstance(h, EarthquakeHazard):
                p = {"magnitude": sample(h.magnitude, rng), "aftershocks": max(0.0, round(sample(h.aftershock_count, rng)))}
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

    def _curves(self, hazard: str, idx: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Arrays (deg median, deg beta, fail median, fail beta) for assets ``idx`` (nan = immune)."""
        c, sc = self.city, self.scenario
        key = ("fragility", hazard, json.dumps(sc.model_dump(mode="json")["fragility"].get(hazard), sort_keys=True))
        table = c.memo.get(key)
        if table is None:  # once per city and scenario fragility: by type, then per-asset overrides
            table = np.full((4, c.n_assets), np.nan)
            for typ, members in c.by_type.items():
                for cur in fragility_for(hazard, typ, sc.fragility, None):
                    col = 0 if cur.state == "degraded" else 2
                    table[col, members], table[col + 1, members] = cur.median, cur.beta
            for i, a in enumerate(c.model.assets):
                if a.fragility and hazard in a.fragility:
                    table[:, i] = np.nan
                    for cur in fragility_for(hazard, a.type, sc.fragility, a.fragility):
                        col = 0 if cur.state == "degraded" else 2
                        table[col, i], table[col + 1, i] = cur.median, cur.beta
            c.memo[key] = table
        sel = table[:, np.asarray(idx, dtype=np.int64)]
        return sel[0], sel[1], sel[2], sel[3]

    def _damage(self, hazard: str, idx: np.ndarray, intensity: np.ndarray, curves: tuple[np.ndarray, ...]) -> None:
        """Apply damage where intensity passed each asset's sampled capacity; log and cascade."""
        mx = self.max_intensity.setdefault(hazard, np.zeros(self.city.n_assets))
        deeper = intensity > mx[idx] + _EPS
        if not deeper.any():
            return
        sel = np.nonzero(deeper)[0]
        ai = idx[sel]
        x = intensity[sel]
        mx[ai] = x
        z = self._z(hazard, ai)
        dm, db, fm, fb = (a[sel] for a in curves)
        with np.errstate(invalid="ignore"):
            fail = x >= fm * np.exp(fb * z)
            deg = x >= dm * np.exp(db * z)
        new_state = np.where(fail, 2, np.where(deg, 1, 0)).astype(np.int8)
        worse = new_state > self.damage[ai]
        hit = ai[worse]
        if not len(hit):
            return
        states = new_state[worse]
        xs = x[worse]
        for i, st, xi in zip(hit.tolist(), states.tolist(), xs.tolist(), strict=True):
            self.damage[i] = st
            self.log.append(self.env.now, "damage", self.city.asset_ids[i], {
                "hazard": hazard, "intensity": round(xi, 6), "state": "failed" if st == 2 else "degraded",
                "type": str(self.city.asset_type[i])})
        self._propagate(hit.tolist())
        self._bridges_changed(hit)
        self._wake_crews()

    def _bridges_changed(self, assets: np.ndarray) -> None:
        if self._on_road[assets].any():
            self.closure_version += 1

    def _start_processes(self) -> None:
        for h in self.scenario.hazards:
            p = self.hazard_params[h.id]
            if isinstance(h, FloodHazard):
                self.env.process(self._flood_proc(h, p))
            elif isinstance(h, EarthquakeHazard):
                self.env.process(self._quake_proc(h, p))
            elif isinstance(h, HeatwaveHazard):
                self.env.process(self._heat_proc(h, p))
            elif isinstance(h, StormHazard):
                self.env.process(self._storm_proc(h, p))
            elif isinstance(h, CyberHazard):
                self.env.process(self._cyber_proc(h, p))
            elif isinstance(h, SurgeHazard):
                self.env.process(self._surge_proc(h, p))
        for crew in self.crews:
            self.env.process(self._crew_proc(crew))
        for inj in self.scenario.msel:
            if inj.at_h is not None:
                ev = self.env.timeout(_finite_delay(inj.at_h, f"inject {inj.id}"))
                ev.callbacks.append(lambda _e, inj=inj: self._fire_inject(inj))

    # flood ------------------------------------------------------------------------------
    def _flood_setup(self, h: FloodHazard) -> None:
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

        self._flood_prev_stage = -math.inf
        self.f_idx = np.nonzero(in_zone)[0]
        self.f_base = c.asset_elev[self.f_idx] + drop(c.asset_xy[self.f_idx]) - river.datum
        self.f_curves = self._curves("flood", self.f_idx.tolist())
        self.fd_idx = np.nonzero(d_zone)[0]
        self.fd_off = c.district_elev[self.fd_idx] + drop(c.district_xy[self.fd_idx]) - river.datum
        self.fe_idx = np.nonzero(e_zone)[0]
        self.fe_off = (c.edge_elev[self.fe_idx] + drop(c.edge_xy[self.fe_idx]) - river.datum
                       + h.road_closure_depth_m)

    def _flood_proc(self, h: FloodHazard, p: dict[str, float]) -> Any:
        self._flood_setup(h)
        step = h.step_h
        t = 0.0
        last = None
        while t < self.duration + _EPS:
            stage = flood_stage(t, p["base_stage_m"], p["peak_stage_m"], p["rise_start_h"], p["time_to_peak_h"],
                                p["recession_h"])
            self.gauge = stage
            if last is None or abs(stage - last) >= 0.01:
                self.log.append(self.env.now, "hazard", h.id, {"type": "flood", "stage_m": round(stage, 4)})
                last = stage
            self._flood_step(h, stage)
            t = round(t + step, 9)
            if t > self.duration + _EPS:
                break
            yield self.env.timeout(_finite_delay(t - self.env.now, "flood step"))

    def _flood_step(self, h: FloodHazard, stage: float) -> None:
        # assets
        off = self.f_base + self.protection[self.f_idx]
        depth = stage - off
        wet = depth > 0
        was = self.flooded[self.f_idx]
        newly_wet = self.f_idx[wet & ~was]
        newly_dry = self.f_idx[~wet & was]
        if len(newly_wet):
            self.flooded[newly_wet] = True
        if len(newly_dry):
            self.flooded[newly_dry] = False
        touched = np.concatenate([newly_wet, newly_dry])
        if len(touched):
            self._propagate(np.sort(touched).tolist())
        # Water deepens only while the river rises; on a falling river nothing new is damaged
        # (a repaired asset is dry, since repairs wait for the water to go).
        if stage > self._flood_prev_stage + _EPS and wet.any():
            self._damage("flood", self.f_idx[wet], depth[wet], tuple(a[wet] for a in self.f_curves))
        self._flood_prev_stage = stage
        if len(newly_dry):
            self._wake_crews()
        # roads
        if len(self.fe_idx):
            closed = stage > self.fe_off
            prev = self.edge_closed_flood[self.fe_idx]
            ch = np.nonzero(closed != prev)[0]
            if len(ch):
                self.edge_closed_flood[self.fe_idx] = closed
                self.closure_version += 1
                for k in ch.tolist():
                    e = int(self.fe_idx[k])
                    self.log.append(self.env.now, "road", self._edge_name(e),
                                    {"closed": bool(closed[k]), "cause": "flood"})
        # people
        if len(self.fd_idx):
            reached = (stage > self.fd_off) & ~self.exposed[self.fd_idx]
            for d in self.fd_idx[reached].tolist():
                self._expose(d, h)
        self._check_conditions()

    def _edge_name(self, e: int) -> str:
        c = self.city
        return f"{c.road_ids[c.edge_u[e]]}~{c.road_ids[c.edge_v[e]]}"

    def _expose(self, d: int, h: Any) -> None:
        """The hazard reached district ``d``: count who was warned or evacuated in time."""
        c = self.city
        self.exposed[d] = True
        now = self.env.now
        spec = self.scenario.actions.warn_public
        exposed = float(self.residents[d]) * float(c.district_exposed_share[d])
        lead = float(now - self.warned_at[d]) if not math.isnan(self.warned_at[d]) else -1.0
        if lead < 0:
            protected_share = 0.0
        else:
            protected_share = spec.compliance * min(1.0, lead / max(spec.warning_lead_h, _EPS))
        at_risk = exposed * (1.0 - protected_share)
        evacuated = sum(self.evacuees[d].values())
        self.log.append(now, "exposure", c.district_ids[d], {
            "hazard": h.id, "exposed": round(exposed, 3), "evacuated": int(evacuated),
            "warned": bool(lead >= 0), "warning_lead_h": round(lead, 6) if lead >= 0 else None,
            "at_risk": round(at_risk, 3), "at_risk_vulnerable": round(at_risk * float(c.district_vuln[d]), 3),
        })

    # earthquake ---------------------------------------------------------------------------
    def _quake_proc(self, h: EarthquakeHazard, p: dict[str, float]) -> Any:
        c = self.city
        idx = np.arange(c.n_assets)
        curves = self._curves("earthquake", idx.tolist())
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
            self._damage("earthquake", idx, pga, curves)
            for d in range(c.n_districts):
                if not self.exposed[d]:
                    self._expose(d, h)

    # heat and storm -----------------------------------------------------------------------
    def _heat_proc(self, h: HeatwaveHazard, p: dict[str, float]) -> Any:
        c_by_type = {t: v.tolist() for t, v in self.city.by_type.items()}
        idx = np.array(sorted(i for t in ("power_plant", "substation", "data_centre", "telecom_tower",
                                          "pumping_station") for i in c_by_type.get(t, [])), dtype=np.int64)
        curves = self._curves("heatwave", idx.tolist())
        t = h.start_h
        end = min(self.duration, h.start_h + p["duration_h"])
        while t <= end + _EPS:
            yield self.env.timeout(_finite_delay(t - self.env.now, "heat step"))
            temp = heat_temperature(t, h.start_h, p["duration_h"], h.baseline_temp_c, p["peak_temp_c"])
            demand = 1.0 + h.demand_per_degree * max(0.0, temp - 30.0)
            self.log.append(self.env.now, "hazard", h.id, {"type": "heatwave", "temp_c": round(temp, 4),
                                                           "demand": round(demand, 6)})
            # overload: effective load temperature rises with demand on the equipment
            load = np.full(len(idx), temp + 10.0 * (demand - 1.0))
            if len(idx):
                self._damage("heatwave", idx, load, curves)
            if temp > 32.0 and not self.exposed.all():
                for d in range(self.city.n_districts):
                    if not self.exposed[d]:
                        self._expose(d, h)
            t = round(t + h.step_h, 9)

    def _storm_proc(self, h: StormHazard, p: dict[str, float]) -> Any:
        c = self.city
        idx = np.arange(c.n_assets)
        curves = self._curves("storm", idx.tolist())
        dist_km = np.hypot(c.asset_xy[:, 0] - h.centre[0], c.asset_xy[:, 1] - h.centre[1]) / 1000.0
        d_km = np.hypot(c.district_xy[:, 0] - h.centre[0], c.district_xy[:, 1] - h.centre[1]) / 1000.0
        t = h.start_h
        end = min(self.duration, h.start_h + p["duration_h"])
        while t <= end + _EPS:
            yield self.env.timeout(_finite_delay(t - self.env.now, "storm step"))
            wind = wind_speed(t, h.start_h, p["duration_h"], p["peak_wind_ms"], dist_km, h.radius_km)
            self.log.append(self.env.now, "hazard", h.id, {"type": "storm", "max_wind_ms": round(float(wind.max()), 4)})
            self._damage("storm", idx, wind, curves)
            dw = wind_speed(t, h.start_h, p["duration_h"], p["peak_wind_ms"], d_km, h.radius_km)
            for d in np.nonzero((dw > 25.0) & ~self.exposed)[0].tolist():
                self._expose(d, h)
            t = round(t + h.step_h, 9)

    # cyber ---------------------------------------------------------------------------------
    def _cyber_proc(self, h: CyberHazard, p: dict[str, float]) -> Any:
        c = self.city
        targets = [c.asset_index[a] for a in h.targets]
        yield self.env.timeout(_finite_delay(p["start_h"], "cyber start"))
        if h.effect == "shutdown":
            for i in targets:
                self.cyber[i] = True
                self.log.append(self.env.now, "damage", c.asset_ids[i], {"hazard": h.id, "state": "cyber",
                                                                         "type": str(c.asset_type[i])})
            self._propagate(targets)
        yield self.env.timeout(_finite_delay(p["detection_delay_h"], "cyber detection"))
        self.log.append(self.env.now, "hazard", h.id, {"type": "cyber", "detected": True,
                                                       "targets": list(h.targets)})
        if h.effect == "tamper":  # operators shut the plant down as a precaution once they see it
            for i in targets:
                self.cyber[i] = True
            self._propagate(targets)
        yield self.env.timeout(_finite_delay(p["recovery_h"], "cyber recovery"))
        for i in targets:
            self.cyber[i] = False
        self.log.append(self.env.now, "hazard", h.id, {"type": "cyber", "recovered": True})
        self._propagate(targets)

    # surge ---------------------------------------------------------------------------------
    def _surge_proc(self, h: SurgeHazard, p: dict[str, float]) -> Any:
        c = self.city
        hosp = [c.asset_index[a] for a in h.hospitals]
        cap = np.array([max(c.asset_capacity[i], 1.0) for i in hosp])
        t = h.start_h
        while t <= min(self.duration, h.end_h) + _EPS:
            yield self.env.timeout(_finite_delay(t - self.env.now, "surge step"))
            extra = surge_patients(t, h.start_h, h.peak_h, h.end_h, p["peak_extra_patients"])
            open_ = np.array([self.state[i] != DOWN for i in hosp])
            patients = cap * h.baseline_occupancy
            if open_.any():  # patients go to the hospitals that are open, by size
                share = np.where(open_, cap, 0.0) / cap[open_].sum()
                patients = patients + extra * share
            occ = patients / cap
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
                    self._dirty_d[d] = True
            self._flush_districts()
            t = round(t + h.step_h, 9)

    # ------------------------------------------------------------------------------------
    # crews and repair

    def _init_resources(self) -> None:
        c, r = self.city, self.scenario.resources
        self.crews: list[Crew] = []
        for team in r.crews:
            for k in range(team.count):
                self.crews.append(Crew(f"{team.id}#{k + 1}", team.id, team.skills, int(c.asset_road[c.asset_index[team.depot]])))
        self.generators_left = r.generators.count
        self.aid_left = r.mutual_aid.max_requests if r.mutual_aid.crews > 0 else 0
        self.priorities: list[int] | None = None
        self._skill_of = np.array([SKILL_FOR_TYPE.get(t, "general") for t in c.type_names], dtype=object)
        self._skill_masks: dict[tuple[str, ...], np.ndarray] = {}
        self._on_road = np.zeros(c.n_assets, bool)  # assets that carry a road (bridges)
        self._on_road[c.edge_bridge[c.edge_bridge >= 0]] = True
        self.orders: dict[str, deque[int]] = {}
        self.repair_spec = self.scenario.repair_times

    def _skill_mask(self, skills: tuple[str, ...]) -> np.ndarray:
        """Assets a crew with ``skills`` can repair (one mask per set of skills, made once)."""
        m = self._skill_masks.get(skills)
        if m is None:
            m = np.zeros(self.city.n_assets, bool)
            for sk in skills:
                m |= self._skill_of == sk
            self._skill_masks[skills] = m
        return m

    def _skill_ok(self, crew: Crew, i: int) -> bool:
        need = SKILL_FOR_TYPE.get(str(self.city.asset_type[i]), "general")
        return need in crew.skills or "general" in crew.skills

    def _next_task(self, crew: Crew) -> int | None:
        q = self.orders.get(crew.team)
        if q:
            for i in list(q):  # orders in the order given; a flooded site waits until it is dry
                if not self.damage[i] or self.assigned[i] >= 0:
                    q.remove(i)
                elif not self.flooded[i]:
                    q.remove(i)
                    return i
        if self.priorities is None:
            return None
        dm, fl = self._dm, self._fl
        for i in self.priorities:
            if dm[i] and self.assigned[i] < 0 and not fl[i] and self._skill_ok(crew, i):
                return i
        # then the most critical of the rest (lowest index first among equals)
        free = (self.damage > 0) & (self.assigned < 0) & ~self.flooded
        if "general" not in crew.skills:
            free &= self._skill_mask(crew.skills)
        cand = np.nonzero(free)[0]
        if not len(cand):
            return None
        return int(cand[np.argmax(self.city.asset_crit[cand])])  # argmax takes the first of the highest

    def _closed_mask(self) -> np.ndarray:
        c = self.city
        closed = self.edge_closed_flood | self.edge_closed_manual
        b = c.edge_bridge
        has = b >= 0
        if has.any():
            bad = np.zeros(len(b), bool)
            bad[has] = self.damage[b[has]] > 0
            closed = closed | bad
        return closed

    def _travel_hours(self, src: int, dst: int) -> float:
        """Road hours from ``src`` to ``dst`` with today's closures (one cached search per source)."""
        if src == dst:
            return 0.0
        key = (self.closure_version, src)
        dist = self._dist_cache.get(key)
        if dist is None:
            from scipy.sparse.csgraph import dijkstra

            if self._matrix_cache is None or self._matrix_cache[0] != self.closure_version:
                self._matrix_cache = (self.closure_version, self.city.road_matrix(self._closed_mask()))
                self._dist_cache = {}
            dist = dijkstra(self._matrix_cache[1], directed=False, indices=src)
            self._dist_cache[key] = dist
        return float(dist[dst])

    def _repair_hours(self, i: int, crew: Crew) -> float:
        typ = str(self.city.asset_type[i])
        spec = self.repair_spec.get(typ)
        deg, fail = (spec.degraded, spec.failed) if spec is not None else DEFAULT_REPAIR_H.get(typ, ((12.0, 6.0), (72.0, 36.0)))
        mean, sd = fail if self.damage[i] >= 2 else deg
        h = float(self.rng_repair.normal(mean, sd))
        h = max(h, 0.2 * mean)
        if SKILL_FOR_TYPE.get(typ, "general") not in crew.skills:
            h *= 1.5  # a general crew on specialist equipment
        return h

    def _crew_proc(self, crew: Crew) -> Any:
        c = self.city
        while True:
            task = self._next_task(crew)
            if task is None:
                crew.state, crew.task = "idle", None
                crew.wake = self.env.event()
                yield crew.wake
                continue
            crew.task = task
            self.assigned[task] = self.crews.index(crew)
            aid = c.asset_ids[task]
            dst = int(c.asset_road[task])
            hours = self._travel_hours(crew.node, dst)
            if not math.isfinite(hours):
                crew.state = "blocked"
                self.log.append(self.env.now, "crew", crew.id, {"state": "blocked", "asset": aid})
                while not math.isfinite(hours):  # wait for a route to open (water recedes, bridge fixed)
                    yield self.env.timeout(1.0)
                    hours = self._travel_hours(crew.node, dst)
            crew.state = "travelling"
            self.log.append(self.env.now, "crew", crew.id, {"state": "dispatched", "asset": aid,
                                                            "travel_h": round(hours, 6)})
            yield self.env.timeout(_finite_delay(hours, "travel"))
            crew.node = dst
            self.log.append(self.env.now, "crew", crew.id, {"state": "arrived", "asset": aid})
            while self.flooded[task]:
                crew.state = "waiting"
                yield self.env.timeout(1.0)
            if not self.damage[task]:
                self.assigned[task] = -1
                continue
            crew.state = "repairing"
            dur = self._repair_hours(task, crew)
            crew.busy_until = self.env.now + dur
            self.log.append(self.env.now, "repair", aid, {"state": "started", "crew": crew.id,
                                                          "hours": round(dur, 6),
                                                          "damage": "failed" if self.damage[task] >= 2 else "degraded"})
            yield self.env.timeout(_finite_delay(dur, "repair"))
            self.damage[task] = 0
            for hz, mx in self.max_intensity.items():  # a repaired asset has a new capacity
                mx[task] = 0.0
                z = self.capacity_z.get(hz)
                if z is not None:
                    z[task] = np.nan
            self.assigned[task] = -1
            self.log.append(self.env.now, "repair", aid, {"state": "finished", "crew": crew.id})
            self._bridges_changed(np.array([task]))
            self._propagate([task])

    def _wake_crews(self) -> None:
        if self.priorities is None and not any(self.orders.values()):
            return  # no orders: idle crews stay put
        for crew in self.crews:
            if crew.state == "idle" and crew.wake is not None and not crew.wake.triggered:
                crew.wake.succeed()

    def _aid_arrives(self, k: int) -> None:
        c, ma = self.city, self.scenario.resources.mutual_aid
        depot = ma.depot or self.scenario.resources.crews[0].depot
        node = int(c.asset_road[c.asset_index[depot]])
        new = [Crew(f"mutual_aid{k}#{j + 1}", "mutual_aid", ma.skills, node) for j in range(ma.crews)]
        self.crews.extend(new)
        self.log.append(self.env.now, "crew", f"mutual_aid{k}", {"state": "arrived", "crews": ma.crews})
        for crew in new:
            self.env.process(self._crew_proc(crew))

    # ------------------------------------------------------------------------------------
    # MSEL: injects, expected actions, contingencies

    def _init_msel(self) -> None:
        self.fired: dict[str, float] = {}
        self.expected: list[_Expected] = []
        self.action_history: list[tuple[float, Action]] = []
        self.pending = _Pending()
        self.cond_injects = [i for i in self.scenario.msel if i.when is not None]

    def _fire_inject(self, inj: Any) -> None:
        if inj.id in self.fired or self.env.now >= self.duration:
            return
        now = self.env.now
        self.fired[inj.id] = now
        rec = {"id": inj.id, "sender": text_in(inj.sender, self.lang), "channel": inj.channel,
               "text": text_in(inj.text, self.lang), "pause": inj.pause, "contingency": inj.contingency}
        self.log.append(now, "inject", inj.id, {k: v for k, v in rec.items() if k != "id"})
        self.pending.injects.append({"time_h": now, **rec})
        for q in self.scenario.questions:
            if q.at_inject == inj.id:
                self.pending.questions.append({"id": q.id, "text": text_in(q.text, self.lang)})
        for ea in inj.expected_actions:
            exp = _Expected(ea.id, ea.action, ea.targets, now + ea.deadline_h, inj.id, ea.contingency,
                            ea.only_after_inject)
            self.expected.append(exp)
            self.log.append(now, "expected", ea.id, {"status": "due", "action": ea.action, "targets": list(ea.targets),
                                                     "due_h": round(exp.due, 9), "inject": inj.id})
            for t, a in ([] if exp.only_after else self.action_history):  # done before it was asked for: early
                if self._matches(exp, a):
                    self._meet(exp, t)
                    break
            if not exp.met:
                ev = self.env.timeout(_finite_delay(ea.deadline_h, "deadline"))
                ev.callbacks.append(lambda _e, exp=exp: self._deadline(exp))
        if inj.pause and self.scenario.decision_points.at_injects:
            self._request_stop("inject")
        self._check_conditions()

    def _matches(self, exp: _Expected, a: Action) -> bool:
        if a.action != exp.action:
            return False
        if not exp.targets:
            return True
        if a.action == "warn_public" and a.target == "all":
            return True
        if a.action == "set_priorities" and a.order:
            return a.order[0] in exp.targets
        return a.target in exp.targets

    def _meet(self, exp: _Expected, t: float) -> None:
        exp.met = True
        self.log.append(self.env.now, "expected", exp.id, {"status": "met", "action_time_h": round(t, 9),
                                                           "due_h": round(exp.due, 9),
                                                           "late_h": round(t - exp.due, 9)})

    def _deadline(self, exp: _Expected) -> None:
        if exp.met:
            return
        self.log.append(self.env.now, "expected", exp.id, {"status": "missed", "due_h": round(exp.due, 9)})
        if exp.contingency:
            inj = self.scenario.inject(exp.contingency)
            if inj is not None:
                self._fire_inject(inj)

    # the condition language reads the engine through the same questions an Observation answers
    def _check_conditions(self) -> None:
        if not self.cond_injects:
            return
        view = _SimView(self)
        for inj in self.cond_injects:
            if inj.id not in self.fired and condition_met(inj.when, view)[0]:  # type: ignore[arg-type]
                self._fire_inject(inj)

    # ------------------------------------------------------------------------------------
    # decision points and play

    def _init_points(self) -> None:
        sc = self.scenario
        times = [(t, "decision") for t in sc.decision_times()]
        every = getattr(self.policy, "check_every_h", None) if self.policy is not None else None
        decision_set = {round(x, 9) for x, _ in times}
        for t in getattr(self.policy, "extra_points", ()):  # a replayed plan's decision times
            if round(t, 9) not in decision_set and t < self.duration:
                times.append((round(t, 9), "check"))
        if every:
            t = 0.0
            decision_set = {round(x, 9) for x, _ in times}
            while t < self.duration - _EPS:
                if round(t, 9) not in decision_set:
                    times.append((round(t, 9), "check"))
                t = round(t + every, 9)
        self.points = sorted(times)
        self._point_i = 0
        self.point = -1
        self._stop: Any = None
        self._stop_kind = "decision"
        self.done = False
        self._last_obs_seq = 0
        self._last_point_time = -1.0
        self._live: _LiveObservation | None = None

    def _request_stop(self, kind: str) -> None:
        if self._stop is not None and not self._stop.triggered:
            self._stop_kind = kind
            self._stop.succeed(kind)

    def advance(self) -> Observation:
        """Run to the next decision point (or the end) and return what the player sees."""
        if self._live is not None:
            self._live._materialize()
            self._live = None
        if self.done:
            return self.observe()
        while self._point_i < len(self.points) and self.points[self._point_i][0] <= self._last_point_time + _EPS:
            self._point_i += 1  # already stopped here (an inject paused at this time)
        nxt, kind = (self.points[self._point_i] if self._point_i < len(self.points) else (self.duration, "end"))
        self._stop = stop = self.env.event()
        # a late timeout: the clock stops only once everything due at that hour has happened
        timer = _LateTimeout(self.env, _finite_delay(max(0.0, nxt - self.env.now), "decision point"))
        timer.callbacks.append(lambda _e, stop=stop, kind=kind: (not stop.triggered) and self._stop_kind_set(stop, kind))
        self.env.run(until=stop)
        kind = self._stop_kind
        if kind != "inject" and self._point_i < len(self.points) and abs(self.points[self._point_i][0] - self.env.now) < _EPS:
            self._point_i += 1
        self._last_point_time = self.env.now
        if kind == "end" or self.env.now >= self.duration - _EPS:
            self._finish()
            return self.observe()
        if kind != "check":
            self.point += 1
            self.log.append(self.env.now, "decision_point", str(self.point), {"cause": kind})
            for q in self.scenario.questions:
                if q.at_h is not None and abs(q.at_h - self.env.now) < _EPS:
                    self.pending.questions.append({"id": q.id, "text": text_in(q.text, self.lang)})
        obs = self.observe(kind)
        return obs

    def _stop_kind_set(self, stop: Any, kind: str) -> None:
        self._stop_kind = kind
        stop.succeed(kind)

    def _finish(self) -> None:
        if self.done:
            return
        if self.env.now < self.duration:
            self.env.run(until=self.duration)
        for i in np.nonzero(self.state == BACKUP)[0].tolist():
            self._settle(i)
        self.done = True
        self.log.append(self.duration, "run_end", self.scenario.id, {
            "spent": round(self.spent, 6), "budget": self.scenario.resources.budget,
            "assets_down": int((self.state == DOWN).sum()), "damaged": int((self.damage > 0).sum()),
            "decisions": len(self.decisions),
        })

    def observe(self, kind: str = "decision") -> Observation:
        """The current state as a player sees it.

        Cheap parts are filled now; the lists that grow with the damage (assets down, on
        backup, per-district services...) are built on first access, which must happen
        before the simulation moves on (:meth:`advance` fills in whatever is left of the
        previous observation first).
        """
        c, sc = self.city, self.scenario
        now = self.env.now
        if self._live is not None:
            self._live._materialize()
        total = max(float(c.district_pop.sum()), 1.0)
        totals = {s: 1.0 - float(self.district_unserved[:, k].sum()) / total for k, s in enumerate(self._SERVICES)}
        allowed = {}
        for k in ("dispatch_crew", "deploy_generator", "refuel", "evacuate", "warn_public", "protect_asset",
                  "request_mutual_aid", "close_road", "reopen_road", "set_priorities"):
            spec = sc.actions.get(k)
            if not spec.enabled:
                continue
            if k == "deploy_generator" and self.generators_left <= 0:
                continue
            if k == "request_mutual_aid" and self.aid_left <= 0:
                continue
            if k == "dispatch_crew" and not self.crews:
                continue
            allowed[k] = {"cost": spec.cost, "cost_per_person": spec.cost_per_person, "lead_time_h": spec.lead_time_h,
                          "label": text_in(spec.label, self.lang) if spec.label else k.replace("_", " ")}
        window = (self._last_obs_seq, len(self.log))
        self._last_obs_seq = len(self.log)
        crews = [{"id": cr.id, "team": cr.team, "state": cr.state, "skills": list(cr.skills),
                  "task": c.asset_ids[cr.task] if cr.task is not None else None,
                  "node": c.road_ids[cr.node]} for cr in self.crews]
        injects, questions = self.pending.injects, self.pending.questions
        self.pending = _Pending()
        n_backup = int((self.state == BACKUP).sum())
        obs = _LiveObservation(
            time_h=now, clock=(sc.start + timedelta(hours=now)).isoformat(), point=self.point, kind=kind,
            done=self.done, gauge_m=self.gauge, injects=injects, questions=questions,
            assets_down=_LAZY, assets_on_backup=_LAZY,
            asset_counts={"up": int((self.state == UP).sum()), "backup": n_backup,
                          "down": int((self.state == DOWN).sum()), "damaged": int((self.damage > 0).sum())},
            services=_LAZY, service_totals=totals, crews=crews, generators_available=self.generators_left,
            mutual_aid_left=self.aid_left, budget_left=sc.resources.budget - self.spent, spent=self.spent,
            allowed=allowed, changes=_LAZY,
            warned=[c.district_ids[j] for j in np.nonzero(~np.isnan(self.warned_at))[0].tolist()],
            evacuated={c.district_ids[j]: int(sum(self.evacuees[j].values())) for j in range(c.n_districts)
                       if self.evacuees[j]},
            repairs_waiting=_LAZY, asset_state=_LAZY, type_of=_LAZY,
        )
        obs._sim = self
        obs._window = window
        self._live = obs
        return obs

    # the parts of an observation built on demand (see _LiveObservation)
    def _obs_part(self, name: str, window: tuple[int, int]) -> Any:
        c = self.city
        if name == "assets_down":
            idx = np.nonzero(self.state == DOWN)[0]
            ids, types, cause = c.asset_ids, c.type_names, self.cause
            return [{"id": ids[i], "type": types[i], "cause": cause[i], "damage": d, "criticality": k,
                     "crew": self.crews[a].id if a >= 0 else None, "flooded": f}
                    for i, d, k, a, f in zip(idx.tolist(), self.damage[idx].tolist(), c.asset_crit[idx].tolist(),
                                             self.assigned[idx].tolist(), self.flooded[idx].tolist(), strict=True)]
        if name == "assets_on_backup":
            out = []
            for i in np.nonzero(self.state == BACKUP)[0].tolist():
                self._settle(i)
                left = min((self.own_left[i] if s == "own" else self.gen_left[i]) for s in self.bk_using[i])
                out.append({"id": c.asset_ids[i], "type": str(c.asset_type[i]), "criticality": int(c.asset_crit[i]),
                            "backup_left_h": round(float(left), 3), "missing": list(self._target(i)[3]),
                            "generator": bool(self.has_gen[i])})
            return out
        if name in ("asset_state", "type_of"):
            state = {c.asset_ids[i]: _STATE_NAME[int(self.state[i])] for i in np.nonzero(self.state != UP)[0].tolist()}
            for i in np.nonzero(self.overloaded)[0].tolist():
                state.setdefault(c.asset_ids[i], "overloaded")
            if name == "asset_state":
                return state
            return {a: str(c.asset_type[c.asset_index[a]]) for a in state}
        if name == "services":
            pop = np.maximum(c.district_pop.astype(float), 1.0)
            served = 1.0 - self.district_unserved / pop[:, None]
            return {d: dict(zip(self._SERVICES, served[j].tolist(), strict=True)) for j, d in enumerate(c.district_ids)}
        if name == "changes":
            return [{"time_h": r.time, "kind": r.kind, "subject": r.subject, "id": r.subject, **r.data}
                    for r in self.log.records[window[0]:window[1]]
                    if r.kind in ("damage", "asset_down", "asset_up", "backup_start", "backup_exhausted", "inject",
                                  "repair", "road", "exposure", "population", "action")][-300:]
        if name == "repairs_waiting":
            return [c.asset_ids[i] for i in np.nonzero((self.damage > 0) & (self.assigned < 0))[0].tolist()]
        raise AttributeError(name)

    # ------------------------------------------------------------------------------------
    # decisions

    def check(self, decision: Decision | Sequence[Action]) -> list[str]:
        """Problems that would stop ``decision`` now (empty: it can be applied)."""
        if not isinstance(decision, Decision):
            decision = Decision(list(decision))
        c, sc = self.city, self.scenario
        out: list[str] = []
        if self.done:
            return ["the exercise is over"]
        cost = 0.0
        gens = self.generators_left
        aid = self.aid_left
        for k, a in enumerate(decision.actions):
            where = f"actions[{k}] ({a.action})"
            for loc, msg in action_problems(a, sc, c):
                out.append(f"{where}: {'.'.join(str(x) for x in loc)}: {msg}")
            if out:
                continue
            spec = sc.actions.get(a.action)
            if a.action == "evacuate":
                d = c.district_index[a.target]  # type: ignore[index]
                cost += spec.cost + spec.cost_per_person * self._evacuees_for(a)
                if self.residents[d] <= 0:
                    out.append(f"{where}: {a.target} has nobody left to evacuate")
            else:
                cost += spec.cost
            if a.action == "deploy_generator":
                gens -= 1
                if gens < 0:
                    out.append(f"{where}: no mobile generator left")
                i = c.asset_index[a.target]  # type: ignore[index]
                if not any(s == "power" for s, _ in c.asset_needs[i]):
                    out.append(f"{where}: {a.target} does not take power from the grid")
            if a.action == "refuel":
                i = c.asset_index[a.target]  # type: ignore[index]
                if "power" not in self.own_services[i] and not self.has_gen[i]:
                    out.append(f"{where}: {a.target} has no generator to refuel")
            if a.action == "request_mutual_aid":
                aid -= 1
                if aid < 0:
                    out.append(f"{where}: no mutual aid left to request")
            if a.action == "dispatch_crew":
                i = c.asset_index[a.target]  # type: ignore[index]
                teams = [t for t in sc.resources.crews if a.crew in (None, t.id)]
                ok = [t for t in teams if SKILL_FOR_TYPE.get(str(c.asset_type[i]), "general") in t.skills
                      or "general" in t.skills]
                if not ok and not any(cr.team == "mutual_aid" for cr in self.crews):
                    out.append(f"{where}: no crew team has the skills to repair a {c.asset_type[i]}")
            if a.action == "protect_asset":
                i = c.asset_index[a.target]  # type: ignore[index]
                if self.flooded[i]:
                    out.append(f"{where}: {a.target} is already under water; protection must go up before")
            if a.action == "reopen_road":
                e = edge_index(a.target, c)  # type: ignore[arg-type]
                if e is not None and not self.edge_closed_manual[e]:
                    out.append(f"{where}: road {a.target} was not closed by you")
        if self.spent + cost > sc.resources.budget + 1e-6:
            out.append(f"not enough budget: this costs {cost:,.0f} {sc.resources.currency}, "
                       f"{sc.resources.budget - self.spent:,.0f} left")
        return out

    def apply(self, decision: Decision | Sequence[Action]) -> None:
        """Check and schedule a decision; an invalid one raises :class:`DecisionError` and changes nothing."""
        if not isinstance(decision, Decision):
            decision = Decision(list(decision))
        problems = self.check(decision)
        if problems:
            raise DecisionError("; ".join(problems), field="actions")
        now = self.env.now
        rec = {"point": self.point, "time_h": round(now, 9), **decision.to_dict()}
        self.decisions.append(rec)
        self.log.append(now, "decision", str(self.point), {k: v for k, v in rec.items() if k != "point"})
        for a in decision.actions:
            self._schedule(a)
            self.action_history.append((now, a))
            for exp in self.expected:
                if not exp.met and self._matches(exp, a):
                    self._meet(exp, now)
        self._changed_since_obs += 1

    def _evacuees_for(self, a: Action) -> int:
        """People an evacuation order moves now: those who comply, up to the shelter's free places."""
        c = self.city
        d = c.district_index[a.target]  # type: ignore[index]
        s = c.asset_index[a.shelter]  # type: ignore[index]
        want = round(float(self.residents[d]) * self.scenario.actions.evacuate.compliance)
        if c.asset_capacity[s] > 0:
            want = min(want, int(c.asset_capacity[s]) - int(self.shelter_load[s]))
        return max(0, int(want))

    def _schedule(self, a: Action) -> None:
        sc = self.scenario
        spec = sc.actions.get(a.action)
        cost = spec.cost
        if a.action == "evacuate":
            cost += spec.cost_per_person * self._evacuees_for(a)
        if a.action == "deploy_generator":
            self.generators_left -= 1
        if a.action == "request_mutual_aid":
            self.aid_left -= 1
            cost += sc.resources.mutual_aid.cost
        if cost:
            self.spent += cost
            self.log.append(self.env.now, "cost", a.action, {"amount": round(cost, 6), "spent": round(self.spent, 6),
                                                             "budget_left": round(sc.resources.budget - self.spent, 6)})
        delay = spec.lead_time_h
        if a.action in ("dispatch_crew", "set_priorities") and delay <= 0:
            self._effect(a)  # an order with no lead time reaches the crews at once
            return
        if a.action == "request_mutual_aid":
            delay = max(0.0, sample(sc.resources.mutual_aid.delay_h, self.rng_aid))
        ev = self.env.timeout(_finite_delay(delay, a.action))
        ev.callbacks.append(lambda _e, a=a: self._effect(a))

    def _effect(self, a: Action) -> None:
        c, sc = self.city, self.scenario
        now = self.env.now
        data: dict[str, Any] = {"action": a.action}
        if a.action == "dispatch_crew":
            i = c.asset_index[a.target]  # type: ignore[index]
            teams = [t.id for t in sc.resources.crews if a.crew in (None, t.id)
                     and (SKILL_FOR_TYPE.get(str(c.asset_type[i]), "general") in t.skills or "general" in t.skills)]
            team = teams[0] if teams else "mutual_aid"
            self.orders.setdefault(team, deque()).append(i)
            data["team"] = team
            self._wake_crews()
        elif a.action == "set_priorities":
            self.priorities = [c.asset_index[x] for x in a.order or ()]
            self._wake_crews()
        elif a.action == "deploy_generator":
            i = c.asset_index[a.target]  # type: ignore[index]
            self._settle(i)
            self.has_gen[i] = True
            self.gen_left[i] += sc.actions.deploy_generator.fuel_hours
            self.log.append(now, "generator", a.target or "", {"state": "deployed", "fuel_h": float(self.gen_left[i])})
            self._propagate([i])
            self._rearm(i)
        elif a.action == "refuel":
            i = c.asset_index[a.target]  # type: ignore[index]
            self._settle(i)
            fuel = sc.actions.refuel.fuel_hours
            if self.has_gen[i]:
                self.gen_left[i] += fuel
            else:
                self.own_left[i] += fuel
            data["fuel_h"] = fuel
            self._propagate([i])
            self._rearm(i)
        elif a.action == "warn_public":
            targets = range(c.n_districts) if a.target in (None, "all") else [c.district_index[a.target]]
            for d in targets:
                if math.isnan(self.warned_at[d]):
                    self.warned_at[d] = now
            data["target"] = a.target or "all"
            data["message"] = a.message or ""
        elif a.action == "evacuate":
            d = c.district_index[a.target]  # type: ignore[index]
            s = c.asset_index[a.shelter]  # type: ignore[index]
            moved = self._evacuees_for(a)
            self.residents[d] -= moved
            self.evacuees[d][s] = self.evacuees[d].get(s, 0) + moved
            self.shelter_load[s] += moved
            self.log.append(now, "population", a.target or "", {"moved": moved, "shelter": a.shelter,
                                                                 "residents": int(self.residents[d]),
                                                                 "evacuees": int(sum(self.evacuees[d].values())),
                                                                 "population": int(c.district_pop[d])})
            # the shelter's state now matters to this district's people
            if d not in self.shelter_districts.setdefault(s, []):
                self.shelter_districts[s].append(d)
            self._recompute_districts([d])
            data.update(target=a.target, shelter=a.shelter, moved=moved)
        elif a.action == "protect_asset":
            i = c.asset_index[a.target]  # type: ignore[index]
            if self.flooded[i]:
                data["effective"] = False
            else:
                self.protection[i] += sc.actions.protect_asset.raise_m
                data["effective"] = True
                data["raised_m"] = sc.actions.protect_asset.raise_m
        elif a.action == "request_mutual_aid":
            k = sc.resources.mutual_aid.max_requests - self.aid_left
            self._aid_arrives(k)
        elif a.action in ("close_road", "reopen_road"):
            e = edge_index(a.target, c)  # type: ignore[arg-type]
            if e is not None:
                self.edge_closed_manual[e] = a.action == "close_road"
                self.closure_version += 1
                self.log.append(now, "road", a.target or "", {"closed": a.action == "close_road", "cause": "order"})
        self.log.append(now, "action", a.target or a.action, data)
        self._flush_districts()

    # ------------------------------------------------------------------------------------
    # whole runs

    def run(self) -> EventLog:
        """Run to the end, letting the policy (if any) decide at every decision point."""
        while not self.done:
            obs = self.advance()
            if obs.done:
                break
            if self.policy is None:
                continue
            d = self.policy.decide(obs)
            obs._detach()  # nobody else reads it: skip building what the policy did not ask for
            self._live = None
            if d is None or not d.actions:
                continue
            # a plan rule that cannot act now (no budget, nothing to repair) is skipped, and logged
            kept: list[Action] = []
            skipped: list[dict[str, Any]] = []
            for a in d.actions:
                problems = self.check(Decision([*kept, a]))
                if problems:
                    skipped.append({"action": a.model_dump(mode="json", exclude_none=True), "problems": problems})
                else:
                    kept.append(a)
            if skipped:  # kept beside the log: a plan's unmet intentions are not events in the city
                self.skipped.append({"time_h": self.env.now, "skipped": skipped})
            if kept:
                self.apply(Decision(kept, d.rationale, d.answers))
        return self.log


class _SimView:
    """The engine's state answering the questions :func:`condition_met` asks, straight from its arrays."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.time_h = sim.env.now
        self.gauge_m = sim.gauge

    def state_of(self, asset: str) -> str:
        sim = self.sim
        i = sim.city.asset_index.get(asset)
        if i is None:
            return "up"
        st = sim._st[i]
        if st == UP and sim._ov[i]:
            return "overloaded"
        return _STATE_NAME[st]

    def first_with(self, asset_type: str, state: str) -> str | None:
        sim = self.sim
        members = sim.city.by_type.get(asset_type)
        if members is None or not len(members):
            return None
        code = {"up": UP, "backup": BACKUP, "down": DOWN}.get(state)
        if code is None:
            hits = members[sim.overloaded[members]]
        else:
            hits = members[sim.state[members] == code]
        if not len(hits):
            return None
        return sim.city.asset_ids[int(hits[0])]  # city-file order, as an Observation lists them

    def served_share(self, district: str, service: str) -> float:
        sim = self.sim
        j = sim.city.district_index.get(district)
        if j is None or service not in sim._SERVICES:
            return 1.0
        return 1.0 - float(sim.district_unserved[j, sim._SERVICES.index(service)]) / max(float(sim.city.district_pop[j]), 1.0)

    def total_served(self, service: str) -> float:
        sim = self.sim
        if service not in sim._SERVICES:
            return 1.0
        total = max(float(sim.city.district_pop.sum()), 1.0)
        return 1.0 - float(sim.district_unserved[:, sim._SERVICES.index(service)].sum()) / total

    def has_inject(self, inject: str) -> bool:
        return inject in self.sim.fired


def run(scenario: Scenario, city: City, seed: int = 0, policy: Policy | None = None) -> EventLog:
    """One whole run; returns the event log."""
    return Simulation(scenario, city, seed, policy).run()


def replay(scenario: Scenario, city: City, seed: int, decisions: Sequence[dict[str, Any]],
           *, until_point: int | None = None, lang: str = "en") -> tuple[Simulation, Observation]:
    """Rebuild a game from its recorded decisions (to resume play or verify a score).

    Without ``until_point`` it plays to the end; with it, it stops at that decision point,
    before anything is decided there, ready for the player's next move.  Returns the
    simulation and the last observation.
    """
    from .policy import RecordedDecisions

    rec = RecordedDecisions(decisions)
    sim = Simulation(scenario, city, seed, rec, lang=lang)
    obs = sim.observe()
    while not sim.done:
        obs = sim.advance()
        if obs.done or (until_point is not None and obs.point >= until_point and obs.kind != "check"):
            break
        d = rec.decide(obs)
        if d is not None:
            sim.apply(d)
    return sim, obs
