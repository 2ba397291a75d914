"""Hazards on the simpy clock: drawing their numbers, starting their processes, damage and exposure.

Each hazard kind's process lives in its own module of :mod:`scro_sim.engine.hazards` (the
registry); here is what every kind shares: the draws in file order, the one loop that starts the
processes, fragility damage with its sampled capacities, and a hazard reaching a district.  What
a hazard does to an asset (intensities, fragility) comes from :mod:`scro_sim.hazards`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..hazards import DEFAULT_DAMAGE_COST, OTHER_DAMAGE_COST, damage_cost, fragility_for
from ..policy import trigger_met
from ..scenario import sample
from ._common import (
    _CODE,
    _DAMAGE_NAME,
    _EPS,
    _SEVERITY,
    DOWN,
    _finite_delay,
    rounded,
)
from .actions.warn_public import protected_share as warned_share
from .hazards import REGISTRY as HAZARDS
from .observation import _SimView


class HazardMixin:
    """Hazard sampling, damage and the hazard processes (part of Simulation; state in ``self.rs``)."""

    def _init_hazards(self) -> None:
        """Sample every uncertain hazard parameter now, in file order, from the hazard stream."""
        sc, rng = self.scenario, self.rng_hazard
        self._tables: dict[str, np.ndarray] = {}  # fragility curves by asset, per hazard (see _curves)
        self._any_general = False  # some hazard's curves use the HAZUS states (damage codes 3..6)
        if any(h.when is not None for h in sc.hazards):
            self._check_conditions = self._check_conditions_and_hazards  # type: ignore[method-assign]
        self.hazard_params: dict[str, dict[str, float]] = {}
        self._hazard_kinds = [HAZARDS[h.type] for h in sc.hazards]

        def draw(d: Any) -> float:
            return sample(d, rng)

        for h, kind in zip(sc.hazards, self._hazard_kinds, strict=True):
            p = kind.draw(self, h, draw)
            for k, v in p.items():
                if not math.isfinite(v):
                    raise ValueError(f"hazard {h.id}: sampled {k} is not finite")
                if k.endswith("_h") and v < 0:
                    p[k] = 0.0
            self.hazard_params[h.id] = {k: round(v, 9) for k, v in p.items()}
        # what repairing each damage code costs, per asset (rows: codes 0..6); None: nothing is priced
        self.repair_cost: np.ndarray | None = None
        if sc.damage_costs is not None:
            self.repair_cost = self._price_damage(sc.damage_costs)

    def _price_damage(self, given: Any) -> np.ndarray:
        """Money to repair each damage code (0 none .. 6 complete) by asset: the scenario's figure for the
        asset, else for its type, else the engine's default for the type."""
        c = self.city
        out = np.zeros((len(_DAMAGE_NAME), c.n_assets))
        for i, (aid, typ) in enumerate(zip(c.asset_ids, c.type_names, strict=True)):
            deg, fail = DEFAULT_DAMAGE_COST.get(typ, OTHER_DAMAGE_COST)
            by_type, own = given.get(typ, {}), given.get(aid, {})
            deg = own.get("degraded", by_type.get("degraded", deg))
            fail = own.get("failed", by_type.get("failed", fail))
            for code, state in enumerate(_DAMAGE_NAME[1:], start=1):
                out[code, i] = own.get(state, by_type.get(state, damage_cost(state, deg, fail)))
        return out

    def _curves(self, hazard: str) -> np.ndarray:
        """Rows (median, beta) per damage state by asset (nan = immune), made once per city and curves.

        Two states (degraded, failed: every default curve) give 4 rows; once any curve for this
        hazard names a HAZUS state (slight ... complete) the table has 2 rows for each of the 6
        damage codes 1..6 (see ``_DAMAGE_NAME``)."""
        table = self._tables.get(hazard)
        if table is not None:
            return table
        c, sc = self.city, self.scenario
        key = ("fragility", hazard, sc.fragility_text(hazard))
        table = c.memo.get(key)
        if table is None:  # once per city and scenario fragility: by type, then per-asset overrides
            per_type = {typ: fragility_for(hazard, typ, sc.fragility, None) for typ in c.by_type}
            per_asset = {i: fragility_for(hazard, typ, sc.fragility, own)
                         for i, (typ, own) in c.fragility_overrides.items() if hazard in own}
            general = any(cur.state not in ("degraded", "failed")
                          for curves in (*per_type.values(), *per_asset.values()) for cur in curves)
            self._any_general = self._any_general or general
            table = np.full((12 if general else 4, c.n_assets), np.nan)

            def row(state: str) -> int:
                return 2 * (_CODE[state] - 1) if general else (0 if state == "degraded" else 2)

            for typ, members in c.by_type.items():
                for cur in per_type[typ]:
                    col = row(cur.state)
                    table[col, members], table[col + 1, members] = cur.median, cur.beta
            for i, curves in per_asset.items():
                table[:, i] = np.nan
                for cur in curves:
                    col = row(cur.state)
                    table[col, i], table[col + 1, i] = cur.median, cur.beta
            c.memo[key] = table
        if len(table) > 4:
            self._any_general = True
        self._tables[hazard] = table
        return table

    def _damage(self, hazard: str, idx: np.ndarray, intensity: np.ndarray) -> None:
        """Apply damage where intensity passed each asset's sampled capacity; log and cascade."""
        rs = self.rs
        mx = rs.max_intensity.get(hazard)
        if mx is None:
            mx = rs.max_intensity[hazard] = np.zeros(self.city.n_assets)
        deeper = intensity > mx[idx] + _EPS
        if not deeper.any():
            return
        sel = deeper.nonzero()[0]
        ai = idx[sel]
        x = intensity[sel]
        mx[ai] = x
        cap = self._capacities(hazard, ai)
        if rs.hardened is not None:  # a retrofit raises every curve's capacity by its factor
            cap = cap * rs.hardened[ai]
        if len(cap) == 2:
            # a nan capacity (immune to this hazard) compares false, silently
            new_state = np.where(x >= cap[1], 2, x >= cap[0]).astype(np.int8)
            if self._any_general:  # codes 3..6 from another hazard: compare severities
                worse = _SEVERITY[new_state] > _SEVERITY[rs.damage[ai]]
            else:
                worse = new_state > rs.damage[ai]
        else:  # damage codes 1..6: the most severe state passed, if worse than the asset's now
            new_state = np.zeros(len(ai), np.int8)
            sev = np.zeros(len(ai), np.int8)
            for r in range(len(cap)):
                better = (x >= cap[r]) & (_SEVERITY[r + 1] > sev)
                new_state[better] = r + 1
                sev[better] = _SEVERITY[r + 1]
            worse = sev > _SEVERITY[rs.damage[ai]]
        hit = ai[worse]
        if not len(hit):
            return
        states = new_state[worse]
        xs = x[worse]
        before = rs.damage[hit]
        rs.damage[hit] = states
        ids, types, hit_list = self.city.asset_ids, self.city.type_names, hit.tolist()
        data = [{"hazard": hazard, "intensity": xi, "state": _DAMAGE_NAME[st], "type": types[i]}
                for i, st, xi in zip(hit_list, states.tolist(), rounded(xs, 6), strict=True)]
        if self.repair_cost is not None:  # priced: what this damage adds to the repair bill
            rc = self.repair_cost
            for d, i, old, new in zip(data, hit_list, before.tolist(), states.tolist(), strict=True):
                d["loss"] = round(max(0.0, float(rc[new, i] - rc[old, i])), 6)
        self.log.extend(self.env.now, "damage", [ids[i] for i in hit_list], data)
        if self._keeps is not None:  # damage states that keep the asset running, derated
            hit = self._derate(hit, states)
            if not len(hit):
                self._wake_crews()
                return
        elif rs._dn is not rs._dm:
            rs._dn_view[hit] = states
        # An asset already down only changes its cause (damage comes first); the rest cascade.
        down = rs.state[hit] == DOWN
        for i in hit[down].tolist():
            rs.cause[i] = "damage"
        self._propagate(hit[~down].tolist())
        self._bridges_changed(hit)
        self._wake_crews()

    def _derate(self, hit: np.ndarray, states: np.ndarray) -> np.ndarray:
        """Assets just damaged into a state that keeps them running lose that share of their capacity
        (their districts are served in proportion); the rest go out of service.  Returns the latter."""
        rs = self.rs
        keep = self._keeps[states]
        runs = keep > 0
        out = hit[~runs]
        rs._dn_view[out] = states[~runs]
        run = hit[runs]
        if len(run):
            rs.derate[run] = 1.0 - keep[runs]
            rs._derating = True
            self._redo_districts(run.tolist())
        return out

    def _redo_districts(self, assets: list[int]) -> None:
        """Recompute the districts ``assets`` serve (their capacity changed, not their state)."""
        deps = self.city.district_dependents
        for i in assets:
            for d in deps[i]:
                self._mark_district(d)
        self._flush_districts()

    def _capacities(self, hazard: str, ai: np.ndarray) -> np.ndarray:
        """Capacities of assets ``ai`` per damage state (degraded, failed; or codes 1..6), kept from
        their draw to repair."""
        cap = self._capacity.get(hazard)
        table = self._curves(hazard)
        if cap is None:
            cap = self._capacity[hazard] = np.full((len(table) // 2, self.city.n_assets), np.nan)
        z = self.rs.capacity_z.get(hazard)
        new = np.ones(len(ai), bool) if z is None else np.isnan(z[ai])
        if new.any():
            zn = self._z(hazard, ai)[new]  # draws the missing quantiles, in asset order
            if len(table) == 4:
                dm, db, fm, fb = table[:, ai[new]]
                cap[0, ai[new]] = dm * np.exp(db * zn)  # nan curves (immune) give nan, silently
                cap[1, ai[new]] = fm * np.exp(fb * zn)
            else:
                rows = table[:, ai[new]]
                for r in range(len(cap)):
                    cap[r, ai[new]] = rows[2 * r] * np.exp(rows[2 * r + 1] * zn)
        return cap[:, ai]

    # generic effects: conditions, closed roads, demand -----------------------------------
    def _condition_event(self, when: Any) -> Any:
        """An event that fires when ``when`` (the inject condition language) first holds."""
        if when.key == "after_h":
            return self.env.timeout(_finite_delay(max(0.0, when.value - self.env.now), "condition"))
        ev = self.env.event()
        if trigger_met(when.key, when.value, _SimView(self))[0]:
            ev.succeed()
        else:
            self.rs._cond_hazards.append((ev, when.key, when.value))
        return ev

    def _check_conditions_and_hazards(self) -> None:
        """The MSEL's injects, then the hazards waiting for a condition that now holds.

        Installed as the run's ``_check_conditions`` only when a hazard has a ``when``: every
        state change checks conditions, and a run without one pays nothing for them."""
        rs = self.rs
        super()._check_conditions()  # type: ignore[misc]
        if rs._cond_hazards:
            view = _SimView(self)
            waiting = []
            for ev, key, value in rs._cond_hazards:
                if trigger_met(key, value, view)[0]:
                    ev.succeed()
                else:
                    waiting.append((ev, key, value))
            rs._cond_hazards = waiting

    def _set_effect_roads(self, edges: list[int], step: int, hazard: str) -> None:
        """Close (``step`` +1) or lift (-1) an effect's closure of ``edges``; log each road that changes."""
        rs = self.rs
        if rs.edge_closed_effect is None:
            rs.edge_closed_effect = np.zeros(len(self.city.edge_u), np.int32)
        now, names, count = self.env.now, self.city.edge_names, rs.edge_closed_effect
        for e in edges:
            count[e] += step
            if count[e] == (1 if step > 0 else 0):
                self.log.add(now, "road", names[e], {"closed": step > 0, "cause": "road_closure",
                                                        "hazard": hazard})
        rs.closure_version += 1
        self._wake_crews()

    def _set_demand(self, districts: list[int], k: int, ratio: float) -> None:
        """The share of demand for service ``k`` the supply can serve in ``districts`` (demand_change)."""
        rs = self.rs
        rs._derating = True
        for d in districts:
            rs.demand_ratio[d, k] = ratio
        self._recompute_pairs([(d, k) for d in districts])
        self._check_conditions()

    def _bridges_changed(self, assets: np.ndarray | list[int]) -> None:
        """Roads open or close with the bridges among ``assets`` that changed: travel times are
        looked up again.  A set lookup per asset: most changes touch no bridge, and a flood step's
        list is short."""
        bridges = self.city.memo.get("bridges")
        if bridges is None:
            b = self.city.edge_bridge
            bridges = self.city.memo["bridges"] = frozenset(b[b >= 0].tolist())
        if bridges and not bridges.isdisjoint(assets.tolist() if isinstance(assets, np.ndarray) else assets):
            self.rs.closure_version += 1

    def _start_processes(self) -> None:
        for h, kind in zip(self.scenario.hazards, self._hazard_kinds, strict=True):
            self._start(kind.process(self, h, self.hazard_params[h.id]))
        for crew in self.rs.crews:
            self._start(self._crew_proc(crew))
        for inj in self.scenario.msel:
            if inj.at_h is not None:
                ev = self.env.timeout(_finite_delay(inj.at_h, f"inject {inj.id}"))
                ev.callbacks.append(lambda _e, inj=inj: self._fire_inject(inj))

    def _expose(self, d: int, h: Any) -> None:
        """The hazard reached district ``d``: count who was warned or evacuated in time."""
        rs = self.rs
        c = self.city
        rs.exposed[d] = True
        now = self.env.now
        spec = self.scenario.actions.warn_public
        # a flood reaches the district's share on the flood plain; shaking, heat and wind reach everyone in it
        kind = HAZARDS[h.type]
        share = float(c.district_exposed_share[d]) if kind.exposes == "flood_plain" else 1.0
        exposed = float(rs.residents[d]) * share
        # rumour control (public_information) makes more people act on the warning
        compliance = min(1.0, spec.compliance + float(rs.info_compliance[d]))
        protected_share, lead = warned_share(self, d, now, compliance)
        if kind.sheltered:  # told to shelter in place (public_information)
            protected_share = max(protected_share, float(rs.info_shelter[d]))
        at_risk = exposed * (1.0 - protected_share)
        evacuated = sum(rs.evacuees[d].values()) if d in rs.evacuees else 0
        self.log.add(now, "exposure", c.district_ids[d], {
            "hazard": h.id, "exposed": round(exposed, 3), "evacuated": int(evacuated),
            "warned": bool(lead >= 0), "warning_lead_h": round(lead, 6) if lead >= 0 else None,
            "at_risk": round(at_risk, 3), "at_risk_vulnerable": round(at_risk * float(c.district_vuln[d]), 3),
        })

    # hidden truth ----------------------------------------------------------------------------
    def _reveal(self, h: Any, how: str) -> None:
        """The attack's cause comes to light (once): from now on the player sees ``cyber``, not ``unknown``."""
        rs = self.rs
        if h.id in rs.revealed:
            return
        rs.revealed[h.id] = self.env.now
        self.log.add(self.env.now, "cause_revealed", h.id, {"cause": "cyber", "by": how,
                                                               "targets": list(h.targets)})
        ev = rs._detect_on_reveal.pop(h.id, None)
        if ev is not None and not ev.triggered:
            ev.succeed()

    def _check_reveals(self) -> None:
        """Reveal the attacks under way whose ``reveal: {on: ...}`` condition now holds."""
        rs = self.rs
        view = None
        for h in list(rs._reveal_waiting):
            if h.id in rs.revealed:
                rs._reveal_waiting.remove(h)
                continue
            if view is None:
                view = _SimView(self)
            if trigger_met(h.reveal.on.key, h.reveal.on.value, view)[0]:
                rs._reveal_waiting.remove(h)
                self._reveal(h, "condition")

    def cause_shown(self, i: int, cause: str) -> str:
        """What the player is told of why asset ``i`` is down: ``cause``, or ``unknown`` while an
        attack on it has not come to light."""
        rs = self.rs
        if cause == "cyber":
            h = rs.attack_of.get(i)
            if h is not None and h.id not in rs.revealed:
                return "unknown"
        return cause
