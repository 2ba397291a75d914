"""Asset state and cascades: who works, who runs on backup, who is down, and who is served.

The state it reads and writes is the run's :class:`~.state.RunState` (``self.rs``: flat
per-asset and per-district arrays); a change is propagated only to the dependents of what
changed.  Interdependency cycles restart together; same-service loops pass on only what
reaches them from outside."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..city import DISTRICT_SERVICES
from ._common import (
    _BLOCKING,
    _CODE,
    _DAMAGE_NAME,
    _DOWN_CAUSE,
    _EPS,
    BACKUP,
    DOWN,
    UP,
    _finite_delay,
)


class CascadeMixin:
    """The cascade and the people each district has served (part of Simulation; state in ``self.rs``)."""

    def _init_state(self) -> None:
        """The cascade's run constants and caches (its state is in ``self.rs``, see state.py)."""
        c = self.city
        # the capacity each damage code leaves an asset running with; None: every damage takes it out
        keeps = [0.0] * len(_DAMAGE_NAME)
        for state, spec in self.scenario.damage_states.items():
            keeps[_CODE[state]] = spec.capacity
        self._keeps = np.array(keeps) if any(keeps) else None
        self.own_services = c.backup_services  # per asset: the services its own backup covers
        self.critical = c.critical
        self._capacity: dict[str, np.ndarray] = {}  # hazard -> (degraded, failed) capacity per asset, from capacity_z
        # (closure version, its closed-road mask, whether any road is closed)
        self._matrix_cache: tuple[int, bytes, bool] | None = None
        self._cycles = 1 in self._reaches_cycle()  # the city has an interdependency cycle (most have none)

    def _z(self, hazard: str, idx: np.ndarray) -> np.ndarray:
        """Capacity quantiles (standard normal) for assets ``idx``, drawn on first need in index order."""
        rs = self.rs
        z = rs.capacity_z.get(hazard)
        if z is None:
            z = np.full(self.city.n_assets, np.nan)
            rs.capacity_z[hazard] = z
        need = idx[np.isnan(z[idx])]
        if len(need):
            z[np.sort(need)] = self.rng_damage.standard_normal(len(need))
        return z[idx]

    # ------------------------------------------------------------------------------------
    # cascades

    def _ok(self, x: int, service: str) -> bool:
        rs = self.rs
        if rs._st[x] == DOWN:
            return False
        unfed = rs.loop_unfed.get(service)
        if unfed is not None and unfed[x]:
            return False
        return not (service == "health" and rs._ov[x])

    def _loop_unfed(self, lid: int) -> tuple[list[int], list[int]]:
        """(members of same-service loop ``lid`` that nothing feeds, members that carry it on their backup).

        Supply from outside the loop reaches first.  Only when some members are cut off from it do
        those with a backup for the service run on it (and drain it), feeding the rest of their part
        of the loop; a backup never feeds a loop that the grid still reaches."""
        rs = self.rs
        c = self.city
        service, members = c.supply_loops[lid]
        mset = set(members)
        unfed = rs.loop_unfed[service]

        def capable(m: int) -> bool:
            if rs._dn[m] or rs.flooded[m] or rs.cyber[m]:
                return False
            return rs.state[m] != DOWN or rs.cause[m] == f"no {service}"

        def spread(reached: list[int], seen: set[int]) -> None:
            k = 0
            while k < len(reached):
                m = reached[k]
                k += 1
                for d in c.asset_dependents[m]:
                    if d in mset and d not in seen and capable(d):
                        seen.add(d)
                        reached.append(d)

        reached: list[int] = []
        seen: set[int] = set()
        for m in members:
            if capable(m):
                sup = next((x for s, x in c.asset_needs[m] if s == service), ())
                if any(x not in mset and rs.state[x] != DOWN and not unfed[x] for x in sup):
                    reached.append(m)
                    seen.add(m)
        spread(reached, seen)
        carriers = [m for m in members if m not in seen and capable(m) and (
            (service in self.own_services[m] and rs.own_left[m] > _EPS)
            or (service == "power" and rs.has_gen[m] and rs.gen_left[m] > _EPS))]
        seen.update(carriers)
        spread(list(carriers), seen)
        return [m for m in members if m not in seen], carriers

    def _target(self, i: int) -> tuple[int, str, tuple[str, ...], tuple[str, ...]]:
        """(state, cause, backup sources to use, missing services) that asset ``i`` should be in now."""
        rs = self.rs
        if rs._dn[i]:
            return DOWN, _DOWN_CAUSE[rs._dn[i]], (), ()
        if rs._fl[i]:
            return DOWN, "flooded", (), ()
        if rs._cy[i]:
            return DOWN, "cyber", (), ()
        missing = self._missing(i)
        if not missing:
            return UP, "", (), ()
        return (*self._without(i, missing), missing)

    def _missing(self, i: int) -> tuple[str, ...]:
        """The services asset ``i`` needs that none of its suppliers gives now."""
        st = self.rs._st
        missing: tuple[str, ...] = ()
        plain = self._plain_supply
        for s, sup in self.city.asset_needs[i]:
            if plain:
                for x in sup:
                    if st[x] != DOWN:
                        break
                else:
                    missing += (s,)
            elif not any(self._ok(x, s) for x in sup) or ((carrier := self.rs.loop_backup.get(s)) is not None and carrier[i]):
                missing += (s,)  # a loop's carrier feeds the loop from its backup: it runs on it itself
        return missing

    def _without(self, i: int, missing: tuple[str, ...]) -> tuple[int, str, tuple[str, ...]]:
        """(state, cause, backup sources) of asset ``i`` without the ``missing`` services: on backup, or down."""
        rs = self.rs
        own = rs.own_left[i] > _EPS
        gen = rs.has_gen[i] and rs.gen_left[i] > _EPS
        if not own and not gen:  # most assets: no backup at all
            return DOWN, "no " + missing[0], ()
        own_cov = self.own_services[i]
        if own and all(s in own_cov for s in missing):
            return BACKUP, "", ("own",)
        if gen and missing == ("power",):
            return BACKUP, "", ("gen",)
        if own and gen and all(s in own_cov or s == "power" for s in missing):
            return BACKUP, "", ("own", "gen")
        return DOWN, "no " + missing[0], ()

    def _settle(self, i: int) -> None:
        """Charge the backup fuel used since the last settlement."""
        rs = self.rs
        if rs._st[i] != BACKUP:
            return
        now = self.env.now
        used = now - rs.bk_since[i]
        if used > 0:
            using = rs.bk_using[i]
            if "own" in using:
                rs.own_left[i] = max(0.0, rs.own_left[i] - used)
            if "gen" in using:
                rs.gen_left[i] = max(0.0, rs.gen_left[i] - used)
        rs.bk_since[i] = now

    def _transition(self, i: int, new: int, cause: str, sources: tuple[str, ...], missing: tuple[str, ...],
                    now: float, out: list[Any]) -> bool:
        """Move asset ``i`` to ``new`` at ``now``; log it (into ``out``, the log's writer for ``now``);
        schedule backup exhaustion.  True if working changed."""
        rs = self.rs
        st = rs._st
        old = st[i]
        if new == old and (new != BACKUP or sources == rs.bk_using[i]):
            if new == DOWN:
                rs.cause[i] = cause
            return False
        c = self.city
        aid = c.asset_ids[i]
        if old == BACKUP and new != BACKUP:
            rs.bk_token[i] += 1
            if new == UP:
                out += (now, "backup_stop", aid, {"own_left_h": round(rs.own_left[i], 6),
                                                  "generator_left_h": round(rs.gen_left[i], 6)})
        st[i] = new
        rs.cause[i] = cause
        if new == BACKUP:
            rs.bk_using[i] = sources
            rs.bk_since[i] = now
            rs.bk_token[i] += 1
            left = self._hours_left(i, sources)
            if old != BACKUP:
                out += (now, "backup_start", aid, {"sources": list(sources), "missing": list(missing),
                                                   "hours_left": left if left.is_integer() else round(left, 6)})
            token = rs.bk_token[i]
            ev = self.env.timeout(_finite_delay(left, "backup"))
            ev.callbacks.append(lambda _e, i=i, token=token: self._exhausted(i, token))
        else:
            rs.bk_using[i] = ()
        if (old == DOWN) == (new == DOWN):
            return False
        if new == DOWN:
            out += (now, "asset_down", aid, {"cause": cause, "type": c.type_names[i]})
        else:
            out += (now, "asset_up", aid, {"on_backup": new == BACKUP, "type": c.type_names[i]})
        return True

    def _hours_left(self, i: int, sources: tuple[str, ...]) -> float:
        """Hours asset ``i`` can still run on backup ``sources``: ("own",), ("gen",) or both (the shorter)."""
        rs = self.rs
        left = rs.own_left[i] if sources[0] == "own" else rs.gen_left[i]
        return min(left, rs.gen_left[i]) if len(sources) > 1 else left

    def _rearm(self, i: int) -> None:
        """After fuel arrived for an asset already on backup: one new exhaustion time, no new start."""
        rs = self.rs
        if rs._st[i] != BACKUP:
            return
        self._settle(i)
        rs.bk_token[i] += 1
        token = rs.bk_token[i]
        left = self._hours_left(i, rs.bk_using[i])
        ev = self.env.timeout(_finite_delay(left, "backup"))
        ev.callbacks.append(lambda _e, i=i, token=token: self._exhausted(i, token))

    def _exhausted(self, i: int, token: int) -> None:
        rs = self.rs
        if rs.bk_token[i] != token or rs._st[i] != BACKUP:
            return
        self._settle(i)
        self.log.add(self.env.now, "backup_exhausted", self.city.asset_ids[i], {"sources": list(rs.bk_using[i])})
        self._propagate([i])

    def _propagate(self, seeds: Iterable[int]) -> None:
        """Re-evaluate ``seeds`` and everything downstream of what changes (incremental cascade)."""
        rs = self.rs
        c = self.city
        queued, dirty, st, dm, fl, cy, cause_of = rs._queued, rs._dirty_db, rs._st, rs._dn, rs._fl, rs._cy, rs.cause
        q: deque[int] = deque()
        for i in seeds:
            if queued[i]:
                continue
            if st[i] == DOWN and (dm[i] or fl[i] or cy[i]):  # stays down: only its cause can change
                cause_of[i] = _DOWN_CAUSE[dm[i]] if dm[i] else "flooded" if fl[i] else "cyber"
                continue
            queued[i] = 1
            q.append(i)
        if not q:
            self._flush_districts()
            return
        needs, loops_touching, plain, cycles = c.asset_needs, c.loops_touching, self._plain_supply, self._cycles
        dependents, district_dependents, shelters = c.asset_dependents, c.district_service_dependents, rs.shelter_districts
        dirty_list, own_left, has_gen = rs._dirty, rs.own_left, rs.has_gen
        now, ids, types = self.env.now, c.asset_ids, c.type_names
        out = self.log.at(now)  # out += (now, kind, subject, data): a record, without a call
        came_up: list[int] = []  # what came up, and what lost its own problem: a cycle may restart with them
        cleared: list[int] = []
        touched_loops: set[int] = set()
        while True:
            while q:
                i = q.popleft()
                queued[i] = 0
                old = st[i]
                if dm[i] or fl[i] or cy[i]:  # down for its own reason, whatever its suppliers do
                    cause = cause_of[i] = _DOWN_CAUSE[dm[i]] if dm[i] else "flooded" if fl[i] else "cyber"
                    if old == DOWN:
                        continue
                    if old == BACKUP:
                        self._settle(i)
                        rs.bk_token[i] += 1
                        rs.bk_using[i] = ()
                    st[i] = DOWN
                    out += (now, "asset_down", ids[i], {"cause": cause, "type": types[i]})
                else:
                    if old == BACKUP:
                        self._settle(i)
                    if plain:  # _missing(i), inline: this is the cascade's innermost step
                        missing: tuple[str, ...] = ()
                        for s, sup in needs[i]:
                            for x in sup:
                                if st[x] != DOWN:
                                    break
                            else:
                                missing += (s,)
                    else:
                        missing = self._missing(i)
                    if not missing:
                        new, cause, src = UP, "", ()
                    elif own_left[i] > _EPS or has_gen[i]:
                        new, cause, src = self._without(i, missing)
                    else:  # no backup at all (most assets): what _without says, without the call
                        new, cause, src = DOWN, "no " + missing[0], ()
                    if cycles and old == DOWN and new == DOWN and cause_of[i] in _BLOCKING and cause not in _BLOCKING:
                        cleared.append(i)  # its own problem is gone; it may be held down only by a cycle
                    if new == old and new != BACKUP:  # no change: what _transition would decide
                        if new == DOWN:
                            cause_of[i] = cause
                        continue
                    if old == BACKUP or new == BACKUP:
                        if not self._transition(i, new, cause, src, missing, now, out):
                            continue
                    else:  # up to down or down to up, no backup to stop or start: _transition's record only
                        st[i] = new
                        cause_of[i] = cause
                        out += (now, "asset_down", ids[i], {"cause": cause, "type": types[i]}) if new == DOWN else \
                            (now, "asset_up", ids[i], {"on_backup": False, "type": types[i]})
                    if cycles and old == DOWN:
                        came_up.append(i)
                for d in dependents[i]:
                    if queued[d]:
                        continue
                    # down for its own reason it stays down, as a seed does: its cause now, not a turn in the queue
                    if st[d] == DOWN and (dm[d] or fl[d] or cy[d]):
                        cause_of[d] = _DOWN_CAUSE[dm[d]] if dm[d] else "flooded" if fl[d] else "cyber"
                    else:
                        queued[d] = 1
                        q.append(d)
                for ds in district_dependents[i]:
                    if not dirty[ds]:
                        dirty[ds] = 1
                        dirty_list.append(ds)
                if i in shelters:
                    for d in shelters[i]:
                        self._mark_district(d)
                if loops_touching:
                    touched_loops.update(loops_touching.get(i, ()))
            if touched_loops:
                for lid in sorted(touched_loops):
                    service, members = c.supply_loops[lid]
                    flags, carrying = rs.loop_unfed[service], rs.loop_backup[service]
                    unfed_now, carriers = self._loop_unfed(lid)
                    now_unfed, now_carrying = set(unfed_now), set(carriers)
                    for m in members:
                        if (m in now_unfed) != bool(flags[m]) or (m in now_carrying) != bool(carrying[m]):
                            flags[m] = m in now_unfed
                            carrying[m] = m in now_carrying
                            for d in (m, *c.asset_dependents[m]):
                                if not queued[d]:
                                    queued[d] = 1
                                    q.append(d)
                            for d in c.district_dependents[m]:
                                self._mark_district(d)
                touched_loops.clear()
                if q:
                    continue
            if not came_up and not cleared:  # (always so in a city without interdependency cycles)
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
        self._flush_districts()

    def _reaches_cycle(self) -> bytearray:
        """Per asset, made once per city: whether an interdependency cycle lies downstream of it
        (it is in one, or feeds one through others).

        Only in a cycle can assets be held down by nothing but each other: what came up, or lost
        its own problem, without a cycle downstream leaves nothing for :meth:`_restart_cycles` to
        restart, and the search for one is skipped (most repairs, and every one in a city
        without cycles).
        """
        c = self.city
        got = c.memo.get("reaches_cycle")
        if got is None:
            from scipy.sparse import csr_matrix
            from scipy.sparse.csgraph import connected_components

            n = c.n_assets
            rows = [x for x, deps in enumerate(c.asset_dependents) for _ in deps]
            cols = [d for deps in c.asset_dependents for d in deps]
            m = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
            _, labels = connected_components(m, directed=True, connection="strong")
            in_cycle = np.bincount(labels)[labels] > 1
            for x, d in zip(rows, cols, strict=True):
                if x == d:  # an asset that needs itself
                    in_cycle[x] = True
            got = bytearray(in_cycle.astype(np.uint8).tobytes())
            stack = np.flatnonzero(in_cycle).tolist()
            while stack:  # everything upstream of a cycle
                a = stack.pop()
                for _, sup in c.asset_needs[a]:
                    for x in sup:
                        if not got[x]:
                            got[x] = 1
                            stack.append(x)
            c.memo["reaches_cycle"] = got
        return got

    def _restart_cycles(self, came_up: list[int], cleared: list[int]) -> list[int]:
        rs = self.rs
        c = self.city
        reaches = self._reaches_cycle()
        if not any(map(reaches.__getitem__, came_up)) and not any(map(reaches.__getitem__, cleared)):
            return []
        region: list[int] = [i for i in cleared if rs.state[i] == DOWN and rs.cause[i] not in _BLOCKING]
        seen: set[int] = set(region)
        stack = list(came_up) + region
        while stack:
            i = stack.pop()
            for d in c.asset_dependents[i]:
                if d in seen:
                    continue
                seen.add(d)
                if rs.state[d] == DOWN and not (rs._dn[d] or rs.flooded[d] or rs.cyber[d]):
                    region.append(d)
                    stack.append(d)
        if not region:
            return []
        region.sort()
        saved = {i: int(rs.state[i]) for i in region}
        for i in region:
            rs.state[i] = UP
        changed = True
        while changed:
            changed = False
            for i in region:
                if rs.state[i] != DOWN and self._target(i)[0] == DOWN:
                    rs.state[i] = DOWN
                    changed = True
        survivors = [i for i in region if rs.state[i] != DOWN]
        for i, s in saved.items():
            rs.state[i] = s
        # let the survivors find their state through normal evaluation, with the others assumed up
        for i in survivors:
            rs.state[i] = UP  # provisional: evaluated again by the caller's queue
            self.log.add(self.env.now, "asset_up", c.asset_ids[i], {"on_backup": False, "restart": True,
                                                                    "type": str(c.asset_type[i])})
            for d in c.district_dependents[i]:
                self._mark_district(d)
        out: list[int] = []
        for i in survivors:
            out.extend(c.asset_dependents[i])
            out.append(i)
        return out

    # ------------------------------------------------------------------------------------
    # people

    def _init_people(self) -> None:
        """Per-city tables of the districts (read-only, in ``city.memo``) and the water settings."""
        c = self.city
        needs = c.memo.get("district_needs")  # read-only: made once per city
        if needs is None:
            needs = c.memo["district_needs"] = [dict(n) for n in c.district_needs]
        self.district_needs: list[dict[str, tuple[int, ...]]] = needs
        self._shares = c.district_shares
        self._pairs = self._pair_table()
        people = c.memo.get("district_people")  # read-only: (population, vulnerable share) lists, once per city
        if people is None:
            people = c.memo["district_people"] = (c.district_pop.tolist(), c.district_vuln.astype(float).tolist())
        self._district_people: tuple[list[int], list[float]] = people
        self._water = self.scenario.water

    def _district_served(self, d: int, service: str) -> bool:
        sup = self.district_needs[d].get(service)
        if sup is None:
            return True
        if self._plain_supply:
            st = self.rs._st
            return any(st[x] != DOWN for x in sup)
        return any(self._ok(x, service) for x in sup)

    _SERVICES = DISTRICT_SERVICES

    def _recompute_districts(self, districts: Iterable[int]) -> None:
        """Recompute every service of ``districts``; log the changes."""
        n = len(self._SERVICES)
        self._recompute_flat([d * n + k for d in districts for k in range(n)])

    def _recompute_pairs(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Recompute the unserved people of (district, service index) ``pairs``, in order; log the changes."""
        n = len(self._SERVICES)
        self._recompute_flat([d * n + k for d, k in pairs])

    def _pair_table(self) -> list[tuple[int, int, str, tuple[int, ...] | None, tuple[float, ...] | None]]:
        """Per flat (district, service) pair d * 4 + k, made once per city: (d, k, service, its
        suppliers or None, their shares or None), so recomputing a pair looks nothing up by name."""
        c = self.city
        got = c.memo.get("district_pairs")
        if got is None:
            got = c.memo["district_pairs"] = [
                (d, k, s, self.district_needs[d].get(s), c.district_shares[d].get(s) if c.district_shares[d] else None)
                for d in range(c.n_districts) for k, s in enumerate(self._SERVICES)]
        return got

    def _recompute_flat(self, flat: Iterable[int]) -> None:
        """Recompute the unserved people of flat (district, service) pairs ``flat``, in order; log the changes."""
        rs = self.rs
        c, now, state, table = self.city, self.env.now, rs._st, rs._unserved
        pop, vuln = self._district_people
        plain, derating, rows, evacuees = self._plain_supply, rs._derating, self._pairs, rs.evacuees
        out: list[Any] | None = None  # the log's writer for now, taken at the first change
        for ds in flat:
            d, k, s, sup, shares = rows[ds]
            fed = 1.0  # share of the district's supply that runs now
            if sup is None:
                served = True
            elif shares is not None:  # fed in shares: each supplier feeds its part of the district
                fed = math.fsum(w for x, w in zip(sup, shares, strict=True)
                                if (state[x] != DOWN if plain else self._ok(x, s)))
                served = fed > _EPS
            elif plain:  # _district_served, inline
                served = False
                for x in sup:
                    if state[x] != DOWN:
                        served = True
                        break
            else:
                served = self._district_served(d, s)
            if s == "water" and sup is not None:
                served = self._taps(d, served)
            if not served:
                fed = 0.0
            elif derating and sup is not None:  # suppliers running derated feed their share of it
                fed = self._derated_fed(sup, shares, s, plain) * float(rs.demand_ratio[d, k])
            if fed < 1.0:
                residents = int(rs.residents[d])
                unserved = residents - round(residents * fed)
            else:
                unserved = 0
            if evacuees and d in evacuees:
                for shelter, n in evacuees[d].items():
                    if not (served if s == "health" else state[shelter] != DOWN):
                        unserved += n
            if unserved != table[ds]:
                table[ds] = unserved
                vulnerable = unserved * vuln[d]
                if out is None:
                    out = self.log.at(now)
                out += (now, "service", c.district_ids[d], {
                    "service": s, "unserved": unserved, "share": fed if fed == 0.0 or fed == 1.0 else round(fed, 6),
                    "unserved_vulnerable": vulnerable if vulnerable.is_integer() else round(vulnerable, 3),
                    "population": pop[d],
                })

    def _derated_fed(self, sup: tuple[int, ...], shares: Any, s: str, plain: bool) -> float:
        """The share of a district's supply that runs now when suppliers may run derated: shares
        weighted by each working supplier's capacity left; redundant feeds give the best one's."""
        rs = self.rs
        der, st = rs.derate, rs._st
        ok = [x for x in sup if (st[x] != DOWN if plain else self._ok(x, s))]
        if shares is not None:
            w = dict(zip(sup, shares, strict=True))
            return math.fsum(w[x] * (1.0 - float(der[x])) for x in ok)
        return max((1.0 - float(der[x]) for x in ok), default=0.0)

    def _taps(self, d: int, supplied: bool) -> bool:
        """Whether district ``d``'s taps have water, given whether its supply runs now.

        When supply returns after the taps ran dry, the mains refill first: water is back
        ``min(refill_h, hours dry)`` later, under a boil-water notice while the pipes are flushed.
        """
        rs = self.rs
        now = self.env.now
        dry = rs._dry_since[d]
        if not supplied:
            if math.isnan(dry):  # the taps run dry now
                rs._dry_since[d] = now
                if rs._boiling[d]:  # a notice on dry taps protects nobody; a new one follows the refill
                    self._lift_boil(d, "supply lost")
            if rs._refilling[d]:
                rs._refilling[d] = 0
                rs._refill_token[d] += 1
            return False
        if math.isnan(dry):
            return True
        if rs._refilling[d]:
            return False
        lag = min(self._water.refill_h, now - dry)
        if lag <= _EPS:
            rs._dry_since[d] = math.nan
            return True
        rs._refilling[d] = 1
        rs._refill_token[d] += 1
        token = rs._refill_token[d]
        self.log.add(now, "water_refill", self.city.district_ids[d], {
            "dry_h": round(now - dry, 6), "until_h": round(now + lag, 6)})
        ev = self.env.timeout(_finite_delay(lag, "water refill"))
        ev.callbacks.append(lambda _e, d=d, token=token: self._refilled(d, token))
        return False

    def _refilled(self, d: int, token: int) -> None:
        """The mains of district ``d`` are full again: water at the taps, under a boil-water notice."""
        rs = self.rs
        if rs._refill_token[d] != token or not rs._refilling[d]:
            return
        rs._refilling[d] = 0
        rs._dry_since[d] = math.nan
        self._mark_pair(d * len(self._SERVICES) + self._SERVICES.index("water"))
        self._flush_districts()
        hours = self._water.boil_water_h
        if hours <= 0 or not math.isnan(rs._dry_since[d]):  # no notice, or dry again already
            return
        now = self.env.now
        rs._boiling[d] = 1
        rs._boil_token[d] += 1
        token = rs._boil_token[d]
        self.log.add(now, "boil_water", self.city.district_ids[d], {
            "status": "issued", "until_h": round(now + hours, 6), "people": int(rs.residents[d])})
        ev = self.env.timeout(_finite_delay(hours, "boil-water notice"))
        ev.callbacks.append(lambda _e, d=d, token=token: self._flushed(d, token))

    def _flushed(self, d: int, token: int) -> None:
        """The boil-water notice of district ``d`` ends, unless a newer one or dry taps replaced it."""
        if self.rs._boil_token[d] == token:
            self._lift_boil(d, "flushed")

    def _lift_boil(self, d: int, reason: str) -> None:
        rs = self.rs
        rs._boiling[d] = 0
        rs._boil_token[d] += 1
        self.log.add(self.env.now, "boil_water", self.city.district_ids[d], {"status": "lifted", "reason": reason})

    def _mark_district(self, d: int) -> None:
        """Recompute every service of district ``d`` at the next flush (its people moved, or a loop changed)."""
        n = len(self._SERVICES)
        for ds in range(d * n, d * n + n):
            self._mark_pair(ds)

    def _mark_pair(self, ds: int) -> None:
        """Recompute (district, service) pair ``ds`` (flat: d * 4 + k) at the next flush."""
        rs = self.rs
        if not rs._dirty_db[ds]:
            rs._dirty_db[ds] = 1
            rs._dirty.append(ds)

    def _flush_districts(self) -> None:
        rs = self.rs
        if rs._dirty:
            flat = sorted(rs._dirty)
            rs._dirty.clear()
            for ds in flat:
                rs._dirty_db[ds] = 0
            self._recompute_flat(flat)
        self._check_conditions()
