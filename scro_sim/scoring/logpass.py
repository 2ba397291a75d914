"""The one shared pass over a run's log that every metric of the catalogue reads.

A metric is a small function of this pass (see :mod:`.metrics`), so the log is read once
however many metrics there are: records are grouped by kind once, and each block of state
(service step curves, asset downtime, notices, costs, MSEL timeliness) is built once, on first
use, and shared by the metrics that need it.  Only log records are read, never the engine.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..log import EventLog, EventRecord

__all__ = ["MAX_LINKS", "SERVICES", "LogPass", "service_curves"]

SERVICES: tuple[str, ...] = ("power", "water", "telecom", "health")
#: at most this many linked records per service and per asset's evidence
MAX_LINKS = 60

#: kinds whose metrics depend on their order across kinds share one group in :func:`_by_kind`
_GROUP_OF: dict[str, str] = {
    "asset_down": "asset_state", "asset_up": "asset_state",
    # what shows why an asset was down, linked after its own down/up records
    **dict.fromkeys(("damage", "repair", "backup_start", "backup_exhausted", "generator"), "asset_evidence"),
}


def _by_kind(records: Iterable[EventRecord]) -> dict[str, list[EventRecord]]:
    """The records grouped by kind in one pass, each group in log order.

    ``asset_down`` and ``asset_up`` share the group ``"asset_state"``, and the records that
    explain a downtime the group ``"asset_evidence"`` (see ``_GROUP_OF``).
    """
    groups: dict[str, list[EventRecord]] = defaultdict(list)
    group_of = _GROUP_OF.get
    for r in records:
        kind = r.kind
        groups[group_of(kind, kind)].append(r)
    return groups


def _integrate(steps: list[tuple[float, float]], end: float) -> float:
    """Integral of a step function given as (time, value) change points, from 0 to ``end``."""
    if not steps:
        return 0.0
    parts = []
    t, v = steps[0]
    for t_next, v_next in steps[1:]:
        if v and t_next > t:
            parts.append(v * (min(t_next, end) - t))
        t, v = t_next, v_next
    if v and end > t:
        parts.append(v * (end - t))
    return math.fsum(parts)


def _recovery_time(steps: list[tuple[float, float]], population: int, end: float) -> float | None:
    """Hours until 95 % of people have the service back for good (0 if it never fell below)."""
    if population <= 0:
        return 0.0
    limit = 0.05 * population
    last_bad_end: float | None = None
    fell = False
    for k, (_t, unserved) in enumerate(steps):
        if unserved > limit:
            fell = True
            last_bad_end = steps[k + 1][0] if k + 1 < len(steps) else None
    if not fell:
        return 0.0
    return None if last_bad_end is None else float(last_bad_end)  # None: not recovered by the end


@dataclass(frozen=True)
class Services:
    """Per service: person-hours unserved (all, vulnerable), recovery time, linked records."""

    loss: dict[str, float]
    vloss: dict[str, float]
    recovery: dict[str, float | None]
    links: dict[str, list[int]]


@dataclass(frozen=True)
class Assets:
    """Hours down per asset (overload is not downtime) and each asset's linked records."""

    downtime: dict[str, float]
    #: per asset that went down or up, by name: its down/up records, evidence, decisions naming it
    links: dict[str, list[int]]
    #: the first ten down/up/evidence records of each critical facility
    critical_links: list[int]


@dataclass(frozen=True)
class Expected:
    """The MSEL's expected actions: hours late (None: not done) and the records behind each."""

    timeliness: dict[str, float | None]
    links: dict[str, list[int]]
    #: per expected action asked for: its last ``expected`` record (what the done share links)
    last_records: list[int]


class LogPass:
    """A run's log read once: its records by kind and the shared state metrics are made of."""

    def __init__(self, log: EventLog, *, links: bool = True) -> None:
        #: whether to gather the records behind each value (``links=False``: the values alone, as a batch needs)
        self.with_links = links
        self.log = log
        self.groups = _by_kind(log.records)
        if not self.groups.get("run_start"):
            raise ValueError("the log has no run_start record")
        self.start: dict[str, Any] = self.groups["run_start"][0].data
        ends = self.groups.get("run_end")
        self.end: float = float(ends[0].time) if ends else float(self.start["duration_h"])
        self.population = int(self.start["population"])
        self.critical: list[str] = list(self.start.get("critical", []))
        self.budget = float(self.start.get("budget", 0.0))

    def of(self, group: str) -> list[EventRecord]:
        """The records of one kind (or group, see ``_GROUP_OF``), in log order."""
        return self.groups.get(group, [])

    @cached_property
    def services(self) -> Services:
        """Service step functions per service and district, integrated once."""
        steps: dict[str, dict[str, list[tuple[float, float]]]] = {s: {} for s in SERVICES}
        vsteps: dict[str, dict[str, list[tuple[float, float]]]] = {s: {} for s in SERVICES}
        total_steps: dict[str, list[tuple[float, float]]] = {s: [(0.0, 0.0)] for s in SERVICES}
        current: dict[str, dict[str, float]] = {s: {} for s in SERVICES}
        links: dict[str, list[int]] = {s: [] for s in SERVICES}
        for t, seq, _kind, district, data in self.of("service"):
            s = data["service"]
            unserved = float(data["unserved"])
            by_district = steps[s].get(district)
            if by_district is None:
                by_district = steps[s][district] = []
                vsteps[s][district] = []
            by_district.append((t, unserved))
            vsteps[s][district].append((t, float(data["unserved_vulnerable"])))
            now = current[s]
            now[district] = unserved
            total_steps[s].append((t, math.fsum(now.values())))
            if len(links[s]) < MAX_LINKS:
                links[s].append(seq)
        end = self.end
        loss: dict[str, float] = {}
        vloss: dict[str, float] = {}
        recovery: dict[str, float | None] = {}
        for s in SERVICES:
            districts = sorted(steps[s])
            loss[s] = math.fsum(_integrate(steps[s][d], end) for d in districts)
            vloss[s] = math.fsum(_integrate(vsteps[s][d], end) for d in districts)
            recovery[s] = _recovery_time(total_steps[s], self.population, end)
        return Services(loss, vloss, recovery, links)

    @cached_property
    def assets(self) -> Assets:
        """Downtime per asset from its down/up records, with the records that explain it (unless not asked for)."""
        if not self.with_links:
            return self._downtime_only()
        down_since: dict[str, float] = {}
        downtime: dict[str, float] = {}
        links: dict[str, list[int]] = {}
        for t, seq, kind, asset, data in self.of("asset_state"):
            if data.get("overload"):
                continue
            if kind == "asset_down":
                down_since.setdefault(asset, t)
            elif asset in down_since:
                downtime[asset] = downtime.get(asset, 0.0) + (t - down_since.pop(asset))
            seqs = links.get(asset)
            if seqs is None:
                links[asset] = [seq]
            else:
                seqs.append(seq)
        for a, t in down_since.items():
            downtime[a] = downtime.get(a, 0.0) + (self.end - t)
        for _t, seq, _kind, asset, _data in self.of("asset_evidence"):
            seqs = links.get(asset)
            if seqs is not None and len(seqs) < MAX_LINKS:
                seqs.append(seq)
        critical_links = [x for a in self.critical for x in links.get(a, [])[:10]]
        if downtime:  # the decisions that targeted an asset that was down
            targeted: dict[str | None, list[int]] = {}
            for d in self.of("decision"):
                for target in {act.get("target") for act in d.data.get("actions", [])}:
                    targeted.setdefault(target, []).append(d.seq)
            for a in downtime:
                if a in targeted:
                    links[a].extend(targeted[a])
        names = sorted(links)  # every asset that went down or up, by name
        return Assets({a: downtime[a] for a in names if a in downtime}, {a: links[a] for a in names},
                      critical_links)

    def _downtime_only(self) -> Assets:
        """:attr:`assets` without the linked records: the same sums, in the same order, and no lists."""
        down_since: dict[str, float] = {}
        downtime: dict[str, float] = {}
        get = downtime.get
        for t, _seq, kind, asset, data in self.of("asset_state"):
            if data.get("overload"):
                continue
            if kind == "asset_down":
                down_since.setdefault(asset, t)
            elif asset in down_since:
                downtime[asset] = get(asset, 0.0) + (t - down_since.pop(asset))
        for a, t in down_since.items():
            downtime[a] = get(a, 0.0) + (self.end - t)
        return Assets(dict(sorted(downtime.items())), {}, [])

    @cached_property
    def expected(self) -> Expected:
        """Hours late per expected action, linked to its inject, its records and the decision that met it."""
        first_inject: dict[str, int] = {}
        for r in self.of("inject"):
            first_inject.setdefault(r.subject, r.seq)
        timeliness: dict[str, float | None] = {}
        links: dict[str, list[int]] = {}
        met: list[EventRecord] = []
        for r in self.of("expected"):
            st = r.data["status"]
            seqs = links.setdefault(r.subject, [])
            seqs.append(r.seq)
            if st == "due":
                timeliness.setdefault(r.subject, None)
                inject = first_inject.get(r.data.get("inject"))  # the inject that asked for it
                if inject is not None:
                    seqs.insert(0, inject)
            elif st == "met":
                timeliness[r.subject] = float(r.data["late_h"])
                met.append(r)
        last_records = [links[name][-1] for name in timeliness]
        # the decisions that met expected actions, so an assessor sees the (late) decision itself
        decisions = self.of("decision")
        for r in met:
            t = r.data["action_time_h"]
            for d in decisions:
                if abs(d.time - t) < 1e-9:
                    links[r.subject].append(d.seq)
                    break
        return Expected(dict(sorted(timeliness.items())), links, last_records)

    @cached_property
    def cost_by_action(self) -> dict[str, float]:
        """Money spent per action kind, by kind name."""
        by_action: dict[str, float] = defaultdict(float)
        for r in self.of("cost"):
            by_action[r.subject] += float(r.data["amount"])
        return dict(sorted(by_action.items()))


def service_curves(log: EventLog) -> Any:
    """Served share of the whole population per service over time (a pandas DataFrame).

    Columns: ``time_h``, ``service``, ``served`` (0..1); one row per change, starting at 0.
    A log without its ``run_start`` record (which holds the population) is refused, as the metrics refuse it.
    """
    import pandas as pd

    start = log.first("run_start")
    if start is None:
        raise ValueError("the log has no run_start record")
    pop = float(start.data["population"])
    end_rec = log.first("run_end")
    end = end_rec.time if end_rec else float(start.data["duration_h"])
    current: dict[str, dict[str, float]] = {s: {} for s in SERVICES}
    rows = [{"time_h": 0.0, "service": s, "served": 1.0} for s in SERVICES]
    for r in log.of_kind("service"):
        s = r.data["service"]
        current[s][r.subject] = float(r.data["unserved"])
        rows.append({"time_h": r.time, "service": s,
                     "served": 1.0 - math.fsum(current[s].values()) / max(pop, 1.0)})
    for s in SERVICES:
        last = [row for row in rows if row["service"] == s][-1]
        rows.append({"time_h": end, "service": s, "served": last["served"]})
    return pd.DataFrame(rows)
