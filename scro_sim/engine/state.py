"""The run's state: every number of one run that changes while it runs, in plain arrays.

:class:`RunState` is built once from (scenario, city) before anything happens: every asset is
up, undamaged and dry, every district served, every crew at its depot.  The subsystems
(``cascade``, ``crews``, ``hazard_processes`` and the hazard modules, ``msel``, ``observation``,
the action modules) read and write it as ``sim.rs``; hot loops bind its arrays to locals.

What is *not* here:

- the city's tables (assets, needs, dependents, roads, populations...) never change during a
  run: they stay on :class:`~scro_sim.city.City`, and the tables the engine derives from them
  once per city (district supplier pairs, restoration weights, fragility tables, road parts and
  travel times, ``run_start``'s city summary...) live in ``city.memo``;
- what a run fixes at its start and never changes (the hazards' drawn numbers
  ``hazard_params``, ``_plain_supply``, ``_keeps``, ``repair_spec``, ``repair_cost``...) and
  the caches it can rebuild at any time (travel-time and skill look-ups, the utility's
  ``RepairOrder``) stay on the Simulation, with the subsystem that uses them;
- the kernel's own bookkeeping (decision points, the stop event, steps taken, the decisions
  list) stays on the kernel (``kernel.py``).

Indexing: "per asset" means by asset index in city-file order (``city.asset_ids``); "per
district" by district index (``city.district_ids``); "per road" by edge index (``city.edge_u``);
a (district, service) pair's flat index is ``d * len(DISTRICT_SERVICES) + k``.  Per-asset flags
are bytearrays with a numpy view of the same memory (the cascade reads single entries, fast on a
bytearray; numpy serves the vectorised steps): the pair is two fields, ``_st`` and ``state``.
Hours are simulation hours from the scenario's start.

For compatibility every field is also readable and writable as ``sim.<field>`` (see
:func:`forward_fields`): an action module may write ``sim.generators_left -= 1``.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict, deque
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

import numpy as np

from ..city import DISTRICT_SERVICES
from ._common import _HELD_BY_EFFECTS, Crew, _Expected, _Pending


@dataclass(slots=True, eq=False, repr=False)
class RunState:
    """Everything of one run that changes while it runs (see the module's docstring)."""

    # ---- assets: state, damage, causes -------------------------------------------------------
    _st: bytearray  # per asset: UP 0 / BACKUP 1 / DOWN 2
    state: np.ndarray  # per asset: int8 view of _st
    _dm: bytearray  # per asset: damage code 0 none, 1 degraded, 2 failed, 3..6 slight..complete
    damage: np.ndarray  # per asset: int8 view of _dm
    _fl: bytearray  # per asset: under water now (1)
    flooded: np.ndarray  # per asset: bool view of _fl
    _cy: bytearray  # per asset: taken down by a cyber attack now (1)
    cyber: np.ndarray  # per asset: bool view of _cy
    _ov: bytearray  # per asset: hospital overloaded by a patient surge (1)
    overloaded: np.ndarray  # per asset: bool view of _ov
    # per asset: what holds it down itself (a damage code or OUTAGE); the same bytearray as _dm unless
    # damage states keep assets running (derated) or outage/degradation effects exist
    _dn: bytearray
    _dn_view: np.ndarray  # per asset: int8 view of _dn
    cause: dict[int, str]  # asset -> why it is down ("damage", "flooded", "cyber", "no power"...), read only while down
    derate: np.ndarray  # per asset: share of its capacity lost while it runs (0..1, degradation)
    _derating: bool  # some asset runs derated (now or before) or demand changed: districts count capacity
    _outages: np.ndarray  # per asset: generic outage effects holding it down now (count, int32)
    max_intensity: dict[str, np.ndarray]  # hazard type -> per asset: the highest intensity met since its last repair
    capacity_z: dict[str, np.ndarray]  # hazard type -> per asset: standard-normal capacity quantile (nan: not drawn)
    hardened: np.ndarray | None  # per asset: capacity factor of a retrofit (harden_asset); None until one
    protection: np.ndarray  # per asset: flood protection height (m above its ground), raised by protect_asset
    protection_version: int  # bumped at every protection change (the flood re-sorts its thresholds)
    loop_unfed: dict[str, np.ndarray]  # service -> per asset: a member of a same-service loop nothing outside feeds
    loop_backup: dict[str, np.ndarray]  # service -> per asset: a loop member that carries its cut-off loop on its backup
    _queued: bytearray  # per asset: in the cascade's work queue now (scratch, all zero between cascades)

    # ---- backups ------------------------------------------------------------------------------
    own_left: array  # per asset: hours of its own backup (battery, tank) left ('d')
    gen_left: array  # per asset: hours of mobile-generator fuel left ('d')
    has_gen: bytearray  # per asset: a mobile generator is connected (1)
    bk_since: array  # per asset: hour its backup use was last charged ('d')
    bk_using: dict[int, tuple[str, ...]]  # asset -> backup sources in use now: ("own",), ("gen",) or both
    bk_token: array  # per asset: bumped to void a scheduled exhaustion ('q')

    # ---- roads --------------------------------------------------------------------------------
    edge_closed_flood: np.ndarray  # per road: closed by flood water (bool)
    edge_closed_manual: np.ndarray  # per road: closed by the learner (close_road) (bool)
    edge_closed_effect: np.ndarray | None  # per road: road_closure effects closing it now (count); None until one
    closure_version: int  # bumped whenever any road opens or closes (travel times are looked up again)
    gauge: float | None  # the river gauge's stage now (m); None without a flood

    # ---- districts: people and services -------------------------------------------------------
    _unserved: array  # per (district, service) flat pair: people unserved now ('q')
    district_unserved: np.ndarray  # (district, service): int64 view of _unserved
    _dirty_db: bytearray  # per flat pair: to recompute at the next flush (1)
    _dirty: list[int]  # flat pairs with _dirty_db set, in the order marked
    demand_ratio: np.ndarray  # (district, service): share of demand the supply can serve (demand_change; 1.0)
    residents: np.ndarray  # per district: people at home (int64; evacuees leave)
    evacuees: defaultdict[int, dict[int, int]]  # district -> {shelter asset: people sent there}
    shelter_load: np.ndarray  # per asset: people in the shelter (int64)
    shelter_districts: dict[int, list[int]]  # shelter asset -> districts whose people it holds
    warned_at: np.ndarray  # per district: hour of its first warning (nan: never)
    warnings: dict[int, list[tuple[float, float]]]  # district -> [(hour, share reached)] of each warning
    exposed: np.ndarray  # per district: a hazard has reached it (bool)
    info_shelter: np.ndarray  # per district: share sheltering in place from heat and wind (public_information)
    info_compliance: np.ndarray  # per district: extra share acting on warnings once rumours are answered
    _dry_since: list[float]  # per district: hour its taps ran dry (nan: they have water)
    _refilling: bytearray  # per district: the mains are refilling (1)
    _refill_token: list[int]  # per district: bumped to void a pending refill
    _boiling: bytearray  # per district: under a boil-water notice (1)
    _boil_token: list[int]  # per district: bumped to void a pending lift of the notice

    # ---- hospitals ----------------------------------------------------------------------------
    surge_beds: np.ndarray  # per asset: beds a hospital opened on top of its normal ones (open_surge_beds)
    patient_shift: np.ndarray  # per asset: patients moved into (+) or out of (-) a hospital (transfer_patients)
    unstaffed_beds: np.ndarray  # per asset: beds a hospital closed for want of staff (staff_absence)
    occupancy: dict[int, float]  # hospital asset -> occupancy (share of beds) at the last surge step

    # ---- crews and resources ------------------------------------------------------------------
    crews: list[Crew]  # every crew, own first then mutual aid as it arrives (its index is what _assigned holds)
    _assigned: array  # per asset: the crew on it (index into crews, -1 none) ('q')
    assigned: np.ndarray  # per asset: int64 view of _assigned
    orders: dict[str, deque[int]]  # crew team -> assets ordered (dispatch_crew), in the order given
    priorities: list[int] | None  # the learner's repair priority list (assets), None until set
    off_duty: dict[str, str]  # crew id -> why it takes no new work (staff_absence, stand_down)
    spares: dict[str, float] | None  # asset type -> repair-time factor (contract_spares); None until one
    cyber_open: dict[int, Any]  # cyber-hit asset an IT crew may restore now -> its CyberHazard
    generators_left: int  # mobile generators not yet deployed
    aid_left: int  # mutual-aid requests left
    spent: float  # money spent so far (scenario currency)

    # ---- hazards: conditions and hidden causes ------------------------------------------------
    attack_of: dict[int, Any]  # asset -> the cyber hazard under way on it
    revealed: dict[str, float]  # attack id -> hour its cause came to light
    _reveal_waiting: list[Any]  # attacks under way whose reveal waits for a condition
    _detect_on_reveal: dict[str, Any]  # attack id -> its detection event, fired by the reveal
    detected_at: dict[str, float]  # attack id -> hour it was detected, where its reveal did it
    _cond_hazards: list[tuple[Any, str, Any]]  # (event, trigger, value) of hazard effects waiting for a condition
    hazard_state: dict[str, Any]  # hazard id -> its module's own progress (a flood's: hazards/flood.py FloodRun)
    sensors: Any  # the gauge, data platform, observer, shared feeds (engine/sensors.py SensorState); None: no sensors

    # ---- MSEL ---------------------------------------------------------------------------------
    fired: dict[str, float]  # inject id -> hour it fired
    expected: list[_Expected]  # expected actions made due so far, in order
    action_history: list[tuple[float, Any]]  # (hour, Action) of every action decided
    pending: _Pending  # injects and questions the next observation reports
    cond_injects: list[tuple[Any, str, Any]]  # (inject, trigger, value) of injects waiting for a condition

    # ---- actions ------------------------------------------------------------------------------
    action_state: dict[str, dict[Any, Any]]  # action name -> its own bookkeeping (ActionKind.state)

    @classmethod
    def build(cls, scenario: Any, city: Any) -> RunState:
        """The state at hour 0: everything up, undamaged, dry and served; crews at their depots."""
        c, r, n, nd = city, scenario.resources, city.n_assets, city.n_districts
        ns = len(DISTRICT_SERVICES)
        st, dm, fl, cy, ov = bytearray(n), bytearray(n), bytearray(n), bytearray(n), bytearray(n)
        # what holds an asset down for its own reason: the damage array itself, unless damage states
        # keep assets running (derated) or outage/degradation effects exist
        keeps = any(spec.capacity for spec in scenario.damage_states.values())
        dn = bytearray(n) if keeps or any(h.type in _HELD_BY_EFFECTS for h in scenario.hazards) else dm
        assigned = array("q", b"\xff" * (8 * n))
        unserved = array("q", bytes(8 * nd * ns))
        crews = [Crew(f"{team.id}#{k + 1}", team.id, team.skills, int(c.asset_road[c.asset_index[team.depot]]))
                 for team in r.crews for k in range(team.count)]
        return cls(
            _st=st, state=np.frombuffer(st, dtype=np.int8), _dm=dm, damage=np.frombuffer(dm, dtype=np.int8),
            _fl=fl, flooded=np.frombuffer(fl, dtype=np.bool_), _cy=cy, cyber=np.frombuffer(cy, dtype=np.bool_),
            _ov=ov, overloaded=np.frombuffer(ov, dtype=np.bool_), _dn=dn, _dn_view=np.frombuffer(dn, dtype=np.int8),
            cause={}, derate=np.zeros(n), _derating=False, _outages=np.zeros(n, np.int32),
            max_intensity={}, capacity_z={}, hardened=None, protection=c.asset_protection.copy(),
            protection_version=0, loop_unfed={svc: np.zeros(n, bool) for svc, _ in c.supply_loops},
            loop_backup={svc: np.zeros(n, bool) for svc, _ in c.supply_loops},
            _queued=bytearray(n),
            # numbers per asset in arrays, not lists: the cycle collector never looks inside an array
            own_left=array("d", c.backup_hours.astype(np.float64).tobytes()), gen_left=array("d", bytes(8 * n)),
            has_gen=bytearray(n), bk_since=array("d", bytes(8 * n)), bk_using={}, bk_token=array("q", bytes(8 * n)),
            edge_closed_flood=np.zeros(len(c.edge_u), bool), edge_closed_manual=np.zeros(len(c.edge_u), bool),
            edge_closed_effect=None, closure_version=0, gauge=None,
            _unserved=unserved, district_unserved=np.frombuffer(unserved, np.int64).reshape(nd, ns),
            _dirty_db=bytearray(nd * ns), _dirty=[], demand_ratio=np.ones((nd, ns)),
            residents=c.district_pop.astype(np.int64).copy(), evacuees=defaultdict(dict),
            shelter_load=np.zeros(n, np.int64), shelter_districts={}, warned_at=np.full(nd, np.nan), warnings={},
            exposed=np.zeros(nd, bool), info_shelter=np.zeros(nd), info_compliance=np.zeros(nd),
            _dry_since=[math.nan] * nd, _refilling=bytearray(nd), _refill_token=[0] * nd,
            _boiling=bytearray(nd), _boil_token=[0] * nd,
            surge_beds=np.zeros(n), patient_shift=np.zeros(n), unstaffed_beds=np.zeros(n), occupancy={},
            crews=crews, _assigned=assigned, assigned=np.frombuffer(assigned, np.int64), orders={},
            priorities=None, off_duty={}, spares=None, cyber_open={}, generators_left=r.generators.count,
            aid_left=r.mutual_aid.max_requests if (r.mutual_aid.crews > 0 or r.mutual_aid.generators > 0) else 0,
            spent=0.0,
            attack_of={}, revealed={}, _reveal_waiting=[], _detect_on_reveal={}, detected_at={}, _cond_hazards=[],
            hazard_state={}, sensors=None,
            fired={}, expected=[], action_history=[], pending=_Pending(),
            cond_injects=[(i, i.when.key, i.when.value) for i in scenario.msel if i.when is not None],
            action_state={},
        )


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(RunState))


def forward_fields(cls: type) -> type:
    """Give ``cls`` (the Simulation) a property per RunState field that reads and writes ``self.rs.<field>``.

    Action and hazard modules, tests and tools keep writing ``sim.spent`` or ``sim.generators_left -= 1``;
    the engine's own subsystems use ``sim.rs`` directly."""
    for name in FIELDS:
        def put(self: Any, value: Any, name: str = name) -> None:
            setattr(self.rs, name, value)

        setattr(cls, name, property(attrgetter("rs." + name), put, doc=f"``self.rs.{name}`` (see RunState)"))
    return cls
