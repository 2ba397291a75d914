"""What a player sees at a decision point, built from the engine's arrays (partly on demand)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from ..policy import Observation
from ._common import (
    _STATE_NAME,
    BACKUP,
    DOWN,
    UP,
    _Pending,
)
from .actions import REGISTRY as ACTIONS
from .sensors import shown_gauge, shown_unserved, stale

_LAZY: Any = object()


class _LiveObservation(Observation):
    """An :class:`Observation` whose damage-sized parts are built on first access.

    A policy that only needs the clock and the injects never pays for listing a thousand
    flooded assets; whoever reads a part gets exactly what a full observation would hold.
    """

    _LAZY_FIELDS = ("assets_down", "assets_on_backup", "services", "changes", "repairs_waiting", "asset_state",
                    "type_of", "asset_counts", "service_totals", "crews", "allowed", "warned", "evacuated",
                    "hospitals", "shelters")
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



class ObservationMixin:
    """What a player sees (part of Simulation)."""

    def observe(self, kind: str = "decision") -> Observation:
        """The current state as a player sees it.

        The clock, injects and counters are filled now; the parts that cost a pass over the
        city (assets down, on backup, per-district services, crews, allowed actions...) are
        built on first access.  That access happens before the state moves on: :meth:`advance`
        and :meth:`apply` fill in whatever is left of the previous observation first.
        """
        rs = self.rs
        sc = self.scenario
        now = self.env.now
        if self._live is not None:
            self._live._materialize()
        window = (self._last_obs_seq, len(self.log))
        self._last_obs_seq = len(self.log)
        injects, questions = rs.pending.injects, rs.pending.questions
        rs.pending = _Pending()
        # the plain fields only: a lazy field not in the instance's dict is one not built yet, which is
        # what the dataclass's __init__ would store through each lazy field's setter
        obs = _LiveObservation.__new__(_LiveObservation)
        obs.__dict__.update(
            time_h=now, clock=(sc.start + timedelta(hours=now)).isoformat(), point=self.point, kind=kind,
            done=self.done, gauge_m=shown_gauge(self), injects=injects, questions=questions,
            generators_available=rs.generators_left, mutual_aid_left=rs.aid_left,
            budget_left=sc.resources.budget - rs.spent, spent=rs.spent, stale=stale(self),
        )
        obs._sim = self
        obs._window = window
        self._live = None if self.done else obs  # a finished run's state no longer moves: nothing to fill in first
        return obs

    # the parts of an observation built on demand (see _LiveObservation)
    def _obs_part(self, name: str, window: tuple[int, int]) -> Any:
        rs = self.rs
        c, sc = self.city, self.scenario
        if name == "asset_counts":
            return {"up": int((rs.state == UP).sum()), "backup": int((rs.state == BACKUP).sum()),
                    "down": int((rs.state == DOWN).sum()), "damaged": int((rs.damage > 0).sum())}
        if name == "service_totals":
            total = max(float(c.district_pop.sum()), 1.0)
            unserved = shown_unserved(self)  # the truth, unless the data platform shows old readings
            return {s: 1.0 - float(unserved[:, k].sum()) / total for k, s in enumerate(self._SERVICES)}
        if name == "crews":
            return [{"id": cr.id, "team": cr.team, "state": cr.state, "skills": list(cr.skills),
                     "task": c.asset_ids[cr.task] if cr.task is not None else None,
                     "node": c.road_ids[cr.node],
                     "busy_until_h": round(cr.busy_until, 3) if cr.state == "repairing" else None,
                     "standby": c.asset_ids[cr.standby] if cr.standby is not None else None} for cr in rs.crews]
        if name == "allowed":
            allowed = {}
            for k, kind in ACTIONS.items():
                spec = sc.actions.get(k)
                if not spec.enabled or not kind.available(self):
                    continue
                allowed[k] = {"cost": spec.cost, "cost_per_person": spec.cost_per_person, "lead_time_h": spec.lead_time_h}
            return allowed
        if name == "hospitals":  # beds and occupancy of the hospitals a patient surge reaches
            return {c.asset_ids[i]: {"beds": int(c.asset_capacity[i]), "surge_beds": int(rs.surge_beds[i]),
                                     "occupancy": round(occ, 4), "overloaded": bool(rs.overloaded[i])}
                    for i, occ in sorted(rs.occupancy.items())}
        if name == "shelters":  # where an evacuation can go: places, people there now, state
            return {c.asset_ids[i]: {"places": int(c.asset_capacity[i]), "people": int(rs.shelter_load[i]),
                                     "state": _STATE_NAME[int(rs.state[i])]}
                    for i in c.by_type.get("shelter", np.zeros(0, dtype=np.int64)).tolist()}
        if name == "warned":
            return [c.district_ids[j] for j in np.nonzero(~np.isnan(rs.warned_at))[0].tolist()]
        if name == "evacuated":
            return {c.district_ids[j]: int(sum(rs.evacuees[j].values())) for j in sorted(rs.evacuees) if rs.evacuees[j]}
        if name == "assets_down":
            idx = np.nonzero(rs.state == DOWN)[0]
            ids, types, cause, shown = c.asset_ids, c.type_names, rs.cause, self.cause_shown
            return [{"id": ids[i], "type": types[i], "cause": shown(i, cause[i]), "damage": d, "criticality": k,
                     "crew": rs.crews[a].id if a >= 0 else None, "flooded": f}
                    for i, d, k, a, f in zip(idx.tolist(), rs.damage[idx].tolist(), c.asset_crit[idx].tolist(),
                                             rs.assigned[idx].tolist(), rs.flooded[idx].tolist(), strict=True)]
        if name == "assets_on_backup":
            out = []
            for i in np.nonzero(rs.state == BACKUP)[0].tolist():
                self._settle(i)
                left = self._hours_left(i, rs.bk_using[i])
                out.append({"id": c.asset_ids[i], "type": str(c.asset_type[i]), "criticality": int(c.asset_crit[i]),
                            "backup_left_h": round(float(left), 3), "missing": list(self._target(i)[3]),
                            "generator": bool(rs.has_gen[i])})
            return out
        if name in ("asset_state", "type_of"):
            state = {c.asset_ids[i]: _STATE_NAME[int(rs.state[i])] for i in np.nonzero(rs.state != UP)[0].tolist()}
            for i in np.nonzero(rs.overloaded)[0].tolist():
                state.setdefault(c.asset_ids[i], "overloaded")
            if name == "asset_state":
                return state
            return {a: str(c.asset_type[c.asset_index[a]]) for a in state}
        if name == "services":
            pop = np.maximum(c.district_pop.astype(float), 1.0)
            served = 1.0 - shown_unserved(self) / pop[:, None]
            return {d: dict(zip(self._SERVICES, served[j].tolist(), strict=True)) for j, d in enumerate(c.district_ids)}
        if name == "changes":
            return [self._hide_cause({"time_h": r.time, "kind": r.kind, "subject": r.subject, "id": r.subject,
                                      **r.data})
                    for r in self.log.records[window[0]:window[1]]
                    if r.kind in ("damage", "asset_down", "asset_up", "backup_start", "backup_exhausted", "inject",
                                  "repair", "road", "exposure", "population", "action", "water_refill",
                                  "boil_water", "cause_revealed")][-300:]
        if name == "repairs_waiting":
            waiting = np.nonzero((rs.damage > 0) & (rs.assigned < 0))[0].tolist()
            if rs.cyber_open:  # cyber-hit assets an IT crew could restore now
                waiting = sorted({*waiting, *(i for i in rs.cyber_open if rs.assigned[i] < 0)})
            return [c.asset_ids[i] for i in waiting]
        raise AttributeError(name)

    def _hide_cause(self, change: dict[str, Any]) -> dict[str, Any]:
        """A change as the player may see it: an attack that has not come to light reads ``unknown``."""
        if not self.rs.attack_of or change["kind"] not in ("damage", "asset_down", "repair"):
            return change
        i = self.city.asset_index.get(change["subject"])
        if i is None or self.cause_shown(i, "cyber") != "unknown":
            return change
        for k in ("cause", "state", "damage"):
            if change.get(k) == "cyber":
                change[k] = "unknown"
        change.pop("hazard", None)
        return change


class _SimView:
    """The engine's state answering the questions :func:`condition_met` asks, straight from its arrays."""

    def __init__(self, sim: Any) -> None:  # the Simulation (not imported: it imports this module)
        self.sim = sim
        self.time_h = sim.env.now
        self.gauge_m = sim.rs.gauge

    def state_of(self, asset: str) -> str:
        sim = self.sim
        i = sim.city.asset_index.get(asset)
        if i is None:
            return "up"
        st = sim.rs._st[i]
        if st == UP and sim.rs._ov[i]:
            return "overloaded"
        return _STATE_NAME[st]

    def first_with(self, asset_type: str, state: str) -> str | None:
        sim = self.sim
        members = sim.city.by_type.get(asset_type)
        if members is None or not len(members):
            return None
        code = {"up": UP, "backup": BACKUP, "down": DOWN}.get(state)
        if code is None:
            hits = members[sim.rs.overloaded[members]]
        else:
            hits = members[sim.rs.state[members] == code]
        if not len(hits):
            return None
        return sim.city.asset_ids[int(hits[0])]  # city-file order, as an Observation lists them

    def served_share(self, district: str, service: str) -> float:
        sim = self.sim
        j = sim.city.district_index.get(district)
        if j is None or service not in sim._SERVICES:
            return 1.0
        return 1.0 - float(sim.rs.district_unserved[j, sim._SERVICES.index(service)]) / max(float(sim.city.district_pop[j]), 1.0)

    def total_served(self, service: str) -> float:
        sim = self.sim
        if service not in sim._SERVICES:
            return 1.0
        total = max(float(sim.city.district_pop.sum()), 1.0)
        return 1.0 - float(sim.rs.district_unserved[:, sim._SERVICES.index(service)].sum()) / total

    def has_inject(self, inject: str) -> bool:
        return inject in self.sim.rs.fired
