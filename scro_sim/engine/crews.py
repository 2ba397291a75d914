"""Repair crews: orders and priorities, travel over the road graph as it is now, repairs, mutual aid."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..hazards import (
    DEFAULT_REPAIR_H,
)
from ..scenario import CyberHazard, sample
from ._common import (
    _DAMAGE_NAME,
    OUTAGE,
    Crew,
    _finite_delay,
)
from .repair_order import RepairOrder


class CrewMixin:
    """Crews and repairs (part of Simulation; crews, orders and queues in ``self.rs``)."""

    def _init_resources(self) -> None:
        c, r = self.city, self.scenario.resources
        self._skill_of = c.memo.get("skill_of")
        if self._skill_of is None:
            self._skill_of = c.memo["skill_of"] = np.array([c.type_skill.get(t, "general") for t in c.type_names],
                                                           dtype=object)
        self._skill_masks: dict[tuple[str, ...], np.ndarray] = {}
        self._skill_bytes_of: dict[tuple[str, ...], bytes] = {}
        self.repair_spec = self.scenario.repair_times
        self._utility = r.utility_restoration  # crews without orders follow the utility's own order
        self._repair_order: RepairOrder | None = None  # made at the utility's first choice
        self._connected: tuple[np.ndarray, bool] | None = None  # (road parts, _roads_connected() for them)
        self._reach_cache: tuple[Any, ...] | None = None  # see _utility_task
        self._in_reach: tuple[int, bool] | None = None  # (closure version, _all_in_reach() for it)
        self._hours_now: tuple[int, dict[int, np.ndarray]] = (-1, {})  # (closure version, source -> road hours)

    def _it_can_restore(self, i: int) -> bool:
        """Whether an IT team sent to asset ``i`` now has work there: it is down from a cyber attack
        whose hazard gives IT crews a restoration time (detected already, or about to be: the crew
        then waits on site until the operators confirm the intrusion)."""
        rs = self.rs
        if i in rs.cyber_open:
            return True
        if not rs._cy[i]:
            return False
        aid = self.city.asset_ids[i]
        return any(isinstance(h, CyberHazard) and h.incident_response_h is not None and aid in h.targets
                   for h in self.scenario.hazards)

    def _skill_mask(self, skills: tuple[str, ...]) -> np.ndarray:
        """Assets a crew with ``skills`` can repair (one mask per set of skills, made once)."""
        m = self._skill_masks.get(skills)
        if m is None:
            m = np.zeros(self.city.n_assets, bool)
            for sk in skills:
                m |= self._skill_of == sk
            self._skill_masks[skills] = m
        return m

    def _skill_bytes(self, skills: tuple[str, ...]) -> bytes:
        """:meth:`_skill_mask` as bytes, for reading one asset at a time (a numpy scalar read costs more)."""
        got = self._skill_bytes_of.get(skills)
        if got is None:
            got = self._skill_bytes_of[skills] = self._skill_mask(skills).tobytes()
        return got

    def _skill_ok(self, crew: Crew, i: int) -> bool:
        need = self.city.type_skill.get(str(self.city.asset_type[i]), "general")
        return need in crew.skills or "general" in crew.skills

    def _next_task(self, crew: Crew) -> int | None:
        rs = self.rs
        if crew.id in rs.off_duty:  # off sick or sent home: it finishes what it was on, then stops
            return None
        sb = crew.standby  # the site this crew was sent to before anything broke there
        if sb is None and not rs.cyber_open and not rs.orders and rs.priorities is None and self._utility:
            return self._utility_task(crew)  # no standby, orders or priorities: the utility's own order
        if sb is not None and rs._dm[sb] and rs._assigned[sb] < 0 and not rs._fl[sb]:
            return sb
        it = bool(rs.cyber_open) and "it" in crew.skills
        if it and sb in rs.cyber_open and rs._assigned[sb] < 0 and not rs._fl[sb]:
            return sb
        q = rs.orders.get(crew.team)
        if q:
            # orders in the order given; a flooded site waits until it is dry.  An order for an
            # asset that is not damaged pre-positions the crew there, on standby.
            for i in list(q):
                if rs._assigned[i] >= 0:
                    q.remove(i)
                elif not rs.flooded[i]:
                    q.remove(i)
                    return i
        utility = self.scenario.resources.utility_restoration
        if rs.priorities is None and not utility:
            return None
        dm, fl = rs._dm, rs._fl
        priorities = rs.priorities or []
        if it:  # IT incident response: the cyber-hit assets in priority order, then the most critical
            free = [i for i in rs.cyber_open if rs._assigned[i] < 0 and not fl[i]]
            if free:
                rank = {a: k for k, a in enumerate(priorities)}
                crit = self.city.asset_crit
                return min(free, key=lambda i: (rank.get(i, len(rank)), -int(crit[i]), i))
        parts = None
        for i in priorities:
            if dm[i] and rs._assigned[i] < 0 and not fl[i] and self._skill_ok(crew, i):
                if parts is None and self._roads_closed():
                    parts = self._road_parts()
                if parts is not None and parts[crew.node] != parts[self.city.asset_road[i]]:
                    continue  # beyond a closed road: the list's next reachable asset first
                crew.by_priorities = True
                return i
        if utility:
            return self._utility_task(crew)
        # then the most critical of the rest (lowest index first among equals)
        cand = self._open_repairs(crew)
        if not len(cand):
            return None
        return int(cand[np.argmax(self.city.asset_crit[cand])])  # argmax takes the first of the highest

    def _open_repairs(self, crew: Crew) -> np.ndarray:
        """Damaged assets nobody is on, out of the water, that ``crew`` has the skills for, in index order."""
        rs = self.rs
        # `!= 0` first: numpy finds the nonzero entries of a boolean array ten times faster than of an int8 one
        cand = np.flatnonzero(rs.damage != 0)  # few of the city's assets: filter those, not the whole city
        ok = (rs.assigned[cand] < 0) & ~rs.flooded[cand]
        if "general" not in crew.skills:
            ok &= self._skill_mask(crew.skills)[cand]
        return cand[ok]

    def _utility_task(self, crew: Crew) -> int | None:
        """The utility's own next repair for ``crew``: what keeps critical facilities going first,
        then the most people brought back per expected repair hour (lowest index among equals)."""
        rs = self.rs
        if self._repair_order is None:
            types = self.city.type_names
            skills = self.city.memo.get("skill_names")  # read-only: _skill_of as a list, made once per city
            if skills is None:
                skills = self.city.memo["skill_names"] = self._skill_of.tolist()
            self._repair_order = RepairOrder(rs._dm, *self._restoration_weights(), self._mean_repair(),
                                             lambda i, code: self._state_hours(types[i], code)[0], skills)
        general = self._any_general
        if self._all_in_reach():
            # every repair is within reach: the first open one in the order (most often near its head)
            assigned, fl = rs._assigned, rs._fl
            if "general" in crew.skills:
                for i in self._repair_order.in_order(general):
                    if not fl[i] and assigned[i] < 0:
                        return i
                return None
            if len(crew.skills) == 1:  # the repairs that need its one skill, in the same order
                for i in self._repair_order.in_group(general, crew.skills[0]):
                    if not fl[i] and assigned[i] < 0:
                        return i
                return None
            skill = self._skill_bytes(crew.skills)
            for i in self._repair_order.in_order(general):
                if skill[i] and not fl[i] and assigned[i] < 0:
                    return i
            return None
        # Some damage lies beyond closed roads: only what the crew can drive to; the bridges it can
        # reach come first (route clearance opens the way for every other repair); nothing reachable:
        # the best anyway, and the crew waits at the closure for the water to go.
        order = self._repair_order.assets(general)
        parts = self._road_parts()
        got = self._reach_cache  # per order and closure: each asset's part of the road network, and its bridges
        if got is None or got[0] is not order or got[1] is not parts:
            got = self._reach_cache = (order, parts, parts[self.city.asset_road[order]], self._is_bridge()[order], {})
        _, _, part_of, bridge_of, by_skills = got
        ok = (rs.assigned[order] < 0) & ~rs.flooded[order]  # the crew's open repairs
        if "general" not in crew.skills:
            skilled = by_skills.get(crew.skills)
            if skilled is None:
                skilled = by_skills[crew.skills] = self._skill_mask(crew.skills)[order]
            ok &= skilled
        open_ = np.flatnonzero(ok)  # places in the order of the crew's open repairs
        if not len(open_):
            return None
        near = open_[part_of[open_] == parts[crew.node]]  # those within its reach
        if len(near) == len(open_):  # all within reach after all
            return int(order[open_[0]])
        bridges = near[bridge_of[near]]
        return int(order[bridges[0] if len(bridges) else near[0] if len(near) else open_[0]])

    def _mean_repair(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean repair hours per asset when degraded and when failed (the scenario's, else the
        defaults), made once per city and set of repair times (read-only)."""
        c = self.city
        key = ("mean_repair", tuple(sorted((typ, spec.degraded, spec.failed) for typ, spec in self.repair_spec.items())))
        got = c.memo.get(key)
        if got is None:
            deg, fail = np.zeros(c.n_assets), np.zeros(c.n_assets)
            for typ, members in c.by_type.items():
                spec = self.repair_spec.get(typ)
                d, f = (spec.degraded, spec.failed) if spec is not None else DEFAULT_REPAIR_H.get(
                    typ, ((12.0, 6.0), (72.0, 36.0)))
                deg[members], fail[members] = d[0], f[0]
            got = c.memo[key] = (deg, fail)
        return got

    def _restoration_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Per asset, made once per city: whether it feeds a critical facility (itself or through
        others), and the people whose district services depend on it (weighted by feeder share)."""
        c = self.city
        got = c.memo.get("restoration_weights")
        if got is not None:
            return got
        n, ns = c.n_assets, len(self._SERVICES)
        crit = np.zeros(n, bool)
        crit[list(self.critical)] = True
        feeds = np.zeros(n, bool)
        people = np.zeros(n)
        pop = c.district_pop.astype(float)
        for i in range(n):
            seen = {i}
            stack = [i]
            slots: dict[int, float] = {}
            while stack:
                a = stack.pop()
                if crit[a]:
                    feeds[i] = True
                for ds in c.district_service_dependents[a]:
                    d, k = divmod(ds, ns)
                    svc = self._SERVICES[k]
                    shares = c.district_shares[d].get(svc)
                    w = 1.0
                    if shares is not None:
                        sup = dict(c.district_needs[d])[svc]
                        w = shares[sup.index(a)]
                    slots[ds] = max(slots.get(ds, 0.0), w)
                for b in c.asset_dependents[a]:
                    if b not in seen:
                        seen.add(b)
                        stack.append(b)
            people[i] = math.fsum(pop[ds // ns] * w for ds, w in sorted(slots.items()))
        got = c.memo["restoration_weights"] = (feeds, people)
        return got

    def _closed_mask(self) -> np.ndarray:
        rs = self.rs
        c = self.city
        closed = rs.edge_closed_flood | rs.edge_closed_manual
        if rs.edge_closed_effect is not None:  # road_closure effects
            closed = closed | (rs.edge_closed_effect > 0)
        b = c.edge_bridge
        has = b >= 0
        if has.any():
            bad = np.zeros(len(b), bool)
            # damaged, under water, or shut by a cyber attack on its control system
            bad[has] = (rs._dn_view[b[has]] > 0) | rs.flooded[b[has]] | rs.cyber[b[has]]
            closed = closed | bad
        return closed

    def _is_bridge(self) -> np.ndarray:
        """Per asset: whether a road crosses it (made once per city)."""
        c = self.city
        got = c.memo.get("is_bridge")
        if got is None:
            got = c.memo["is_bridge"] = np.zeros(c.n_assets, bool)
            b = c.edge_bridge
            got[b[b >= 0]] = True
        return got

    def _all_in_reach(self) -> bool:
        """Whether every repair is within every crew's reach now: no road is closed, or none that
        cuts the road network in two (as most closures).  Made once per closure version."""
        rs = self.rs
        got = self._in_reach
        if got is None or got[0] != rs.closure_version:
            got = self._in_reach = (rs.closure_version, not self._roads_closed() or self._roads_connected())
        return got[1]

    def _travel_hours(self, src: int, dst: int) -> float:
        """Road hours from ``src`` to ``dst`` with today's closures."""
        if src == dst:
            return 0.0
        return float(self._hours_from(src)[dst])

    def _roads_closed(self) -> bool:
        """Whether any road is closed now (flood, order, or a bridge out)."""
        self._closure_mask()
        return self._matrix_cache[2]  # type: ignore[index]

    def _closure_mask(self) -> bytes:
        """Today's closed-road mask as bytes (a cache key), made once per closure version."""
        rs = self.rs
        if self._matrix_cache is None or self._matrix_cache[0] != rs.closure_version:
            closed = self._closed_mask()
            self._matrix_cache = (rs.closure_version, closed.tobytes(), bool(closed.any()))
        return self._matrix_cache[1]

    def _road_parts(self) -> np.ndarray:
        """Per road node, the part of the road network it lies in with today's closures (one
        search per set of closed roads, kept with the city as the travel times are)."""
        mask = self._closure_mask()
        cache = self.city.memo.get("road_parts")
        if cache is None:
            cache = self.city.memo["road_parts"] = {}
        parts = cache.get(mask)
        if parts is None:
            from scipy.sparse.csgraph import connected_components

            if len(cache) > 512:
                cache.clear()
            closed = np.frombuffer(mask, dtype=bool)
            parts = cache[mask] = connected_components(self.city.road_matrix(closed), directed=False)[1]
        return parts

    def _roads_connected(self) -> bool:
        """Whether every road node can still reach every other with today's closures (a closed road
        that cuts nobody off, as most are): then nothing is out of any crew's reach."""
        parts = self._road_parts()
        got = self._connected
        if got is None or got[0] is not parts:
            got = self._connected = (parts, not parts.any())  # one part: every label 0
        return got[1]

    def _hours_from(self, src: int) -> np.ndarray:
        """Road hours from ``src`` to every road node with today's closures (inf: no way through).

        One shortest-path search per set of closed roads and source, kept with the city: a flood
        closes and reopens the same roads in turn, and the runs of a batch meet the same sets.
        The run keeps the sources it asked for under the closures of now, found without hashing
        the closed-road mask again.
        """
        rs = self.rs
        version, near = self._hours_now
        if version != rs.closure_version:
            near = {}
            self._hours_now = (rs.closure_version, near)
        dist = near.get(src)
        if dist is None:
            dist = near[src] = self._city_hours_from(src)
        return dist

    def _city_hours_from(self, src: int) -> np.ndarray:
        """:meth:`_hours_from` from the city's cache (searched on a miss)."""
        mask = self._closure_mask()
        cache = self.city.memo.get("travel")
        if cache is None:
            cache = self.city.memo["travel"] = {}
        key = (mask, src)
        dist = cache.get(key)
        if dist is None:
            from scipy.sparse.csgraph import dijkstra

            matrix = cache.get(mask)
            if matrix is None:
                if len(cache) > 512:  # bounded: a long batch on a big town must not grow it forever
                    cache.clear()
                matrix = cache[mask] = self.city.road_matrix(np.frombuffer(mask, dtype=bool))
            # the matrix holds each road both ways: searched as directed, scipy skips making its transpose
            dist = cache[key] = dijkstra(matrix, directed=True, indices=src)
        return dist

    def _state_hours(self, typ: str, code: int) -> tuple[float, float]:
        """(mean, sd) repair hours of an asset type in damage state ``code``: the scenario's, else
        derived from the type's degraded and failed hours (slight = degraded, moderate halfway,
        extensive = failed, complete twice failed)."""
        spec = self.repair_spec.get(typ)
        deg, fail = (spec.degraded, spec.failed) if spec is not None else DEFAULT_REPAIR_H.get(typ, ((12.0, 6.0), (72.0, 36.0)))
        name = _DAMAGE_NAME[code]
        own = getattr(spec, name, None) if spec is not None else None
        if own is not None:
            return float(own[0]), float(own[1])
        if name in ("degraded", "slight"):
            return deg
        if name in ("failed", "extensive"):
            return fail
        if name == "moderate":
            return (deg[0] + fail[0]) / 2, (deg[1] + fail[1]) / 2
        return 2 * fail[0], 2 * fail[1]

    def _repair_hours(self, i: int, crew: Crew) -> float:
        rs = self.rs
        typ = self.city.type_names[i]
        code = rs._dm[i]
        if code > 2:
            mean, sd = self._state_hours(typ, code)
        else:
            spec = self.repair_spec.get(typ)
            deg, fail = (spec.degraded, spec.failed) if spec is not None else DEFAULT_REPAIR_H.get(
                typ, ((12.0, 6.0), (72.0, 36.0)))
            mean, sd = fail if code >= 2 else deg
        h = float(self.rng_repair.normal(mean, sd))
        h = max(h, 0.2 * mean)
        if self.city.type_skill.get(typ, "general") not in crew.skills:
            h *= 1.5  # a general crew on specialist equipment
        if rs.spares is not None:  # spare parts on contract (contract_spares) shorten the repair
            h *= rs.spares.get(typ, 1.0)
        return h

    def _crew_proc(self, crew: Crew) -> Any:
        rs = self.rs
        c, env, add, dm, is_bridge = self.city, self.env, self.log.add, rs._dm, self._is_bridge()
        number = rs.crews.index(crew)  # what `assigned` holds; crews are only ever added at the end
        while True:
            task = self._next_task(crew)
            if task is None:
                crew.state, crew.task = "off_duty" if crew.id in rs.off_duty else "idle", None
                crew.wake = env.event()
                yield crew.wake
                continue
            crew.task = task
            by_priorities, crew.by_priorities = crew.by_priorities, False
            rs._assigned[task] = number
            aid = c.asset_ids[task]
            dst = int(c.asset_road[task])
            hours = self._travel_hours(crew.node, dst)
            if not math.isfinite(hours):
                crew.state = "blocked"
                add(env.now, "crew", crew.id, {"state": "blocked", "asset": aid})
                while not math.isfinite(hours):  # wait for a route to open (water recedes, bridge fixed)
                    yield env.timeout(1.0)
                    hours = self._travel_hours(crew.node, dst)
            crew.state = "travelling"
            add(env.now, "crew", crew.id, {"state": "dispatched", "asset": aid, "travel_h": round(hours, 6)})
            if by_priorities:  # the learner's priority list sent this crew: an expected dispatch is done
                self._crew_sent(aid)
            yield env.timeout(_finite_delay(hours, "travel"))
            crew.node = dst
            add(env.now, "crew", crew.id, {"state": "arrived", "asset": aid})
            while rs._fl[task]:
                crew.state = "waiting"
                yield env.timeout(1.0)
            if task in rs.cyber_open and "it" in crew.skills:
                yield from self._it_restore(crew, task)
                continue
            if not dm[task]:
                rs._assigned[task] = -1
                if crew.standby != task:
                    crew.standby = task
                    add(env.now, "crew", crew.id, {"state": "standby", "asset": aid})
                continue
            if crew.standby == task:
                crew.standby = None
            crew.state = "repairing"
            dur = self._repair_hours(task, crew)
            now = env.now
            crew.busy_until = now + dur
            add(now, "repair", aid, {"state": "started", "crew": crew.id, "hours": round(dur, 6),
                                     "damage": _DAMAGE_NAME[dm[task]]})
            yield env.timeout(_finite_delay(dur, "repair"))
            dm[task] = 0
            if self._repair_order is not None:
                self._repair_order.note(task)
            if rs._dn is not dm:  # what held it down or derated it ends (an outage still holds it)
                rs._dn[task] = OUTAGE if rs._outages[task] else 0
                if rs.derate[task]:
                    rs.derate[task] = 0.0
                    self._redo_districts([task])
            for hz, mx in rs.max_intensity.items():  # a repaired asset has a new capacity
                mx[task] = 0.0
                z = rs.capacity_z.get(hz)
                if z is not None:
                    z[task] = np.nan
            rs._assigned[task] = -1
            add(env.now, "repair", aid, {"state": "finished", "crew": crew.id})
            if is_bridge[task]:  # roads across it open again: travel times are looked up again
                self._reopen_repaired_bridge(task)
                rs.closure_version += 1
            self._propagate([task])

    def _it_restore(self, crew: Crew, task: int) -> Any:
        """IT incident response on a cyber-hit asset: isolate, clean and rebuild the control
        system, check the set points, restart.  The hours are drawn per job from the cyber stream."""
        rs = self.rs
        aid = self.city.asset_ids[task]
        h = rs.cyber_open[task]
        if crew.standby == task:
            crew.standby = None
        crew.state = "repairing"
        dur = max(0.0, sample(h.incident_response_h, self.rng_cyber))
        crew.busy_until = self.env.now + dur
        self.log.add(self.env.now, "repair", aid, {"state": "started", "crew": crew.id, "hours": round(dur, 6),
                                                      "damage": "cyber", "hazard": h.id})
        yield self.env.timeout(_finite_delay(dur, "IT incident response"))
        rs._assigned[task] = -1
        restored = rs.cyber_open.get(task) is h  # not already back by the unassisted recovery
        self.log.add(self.env.now, "repair", aid, {"state": "finished", "crew": crew.id, "damage": "cyber",
                                                      "restored": restored})
        if restored:
            del rs.cyber_open[task]
            rs.cyber[task] = False
            self._bridges_changed([task])
            self._propagate([task])

    def _reopen_repaired_bridge(self, i: int) -> None:
        """A road the learner closed across damaged bridge ``i`` opens again now that it is repaired
        (closed "until it has been inspected": the repair crew's sign-off is that inspection)."""
        rs = self.rs
        c = self.city
        for e in np.nonzero((c.edge_bridge == i) & rs.edge_closed_manual)[0].tolist():
            rs.edge_closed_manual[e] = False
            rs.closure_version += 1
            name = f"{c.road_ids[int(c.edge_u[e])]}~{c.road_ids[int(c.edge_v[e])]}"
            self.log.add(self.env.now, "road", name, {"closed": False, "cause": "repaired"})

    def _wake_crews(self) -> None:
        rs = self.rs
        if rs.priorities is None and not self.scenario.resources.utility_restoration and not any(
                rs.orders.values()) and not any(
                cr.standby is not None for cr in rs.crews):
            return  # no orders: idle crews stay put
        for crew in rs.crews:
            if crew.state == "idle" and crew.wake is not None and not crew.wake.triggered:
                crew.wake.succeed()

    def _aid_arrives(self, k: int) -> None:
        rs = self.rs
        c, ma = self.city, self.scenario.resources.mutual_aid
        depot = ma.depot or self.scenario.resources.crews[0].depot
        node = int(c.asset_road[c.asset_index[depot]])
        new = [Crew(f"mutual_aid{k}#{j + 1}", "mutual_aid", ma.skills, node) for j in range(ma.crews)]
        rs.crews.extend(new)
        data: dict[str, Any] = {"state": "arrived", "crews": ma.crews}
        if ma.generators:  # generators that came with the aid join the pool
            rs.generators_left += ma.generators
            data["generators"] = ma.generators
        self.log.add(self.env.now, "crew", f"mutual_aid{k}", data)
        for crew in new:
            self._start(self._crew_proc(crew))
