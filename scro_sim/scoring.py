"""Metrics and rubric grading, as plain functions of the event log.

Scoring never looks inside the engine: everything here is computed from
:class:`~scro_sim.log.EventLog` records, so a stored log can be re-graded under a revised
rubric without re-playing, and an assessor can follow every line of a score card back to
the events that produced it (``events`` holds their sequence numbers).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from .log import EventLog, EventRecord
from .scenario import RATINGS, Criterion, Rubric, Scenario, text_in

__all__ = [
    "SERVICES",
    "CriterionResult",
    "Metrics",
    "ScoreCard",
    "compute_metrics",
    "evidence",
    "grade",
    "metric_value",
    "rate",
    "relative",
    "service_curves",
]

SERVICES: tuple[str, ...] = ("power", "water", "telecom", "health")
_MAX_LINKS = 60


class Metrics(BaseModel):
    """Every metric of one run, with the events behind each."""

    duration_h: float
    population: int
    resilience_loss: dict[str, float]
    resilience_loss_vulnerable: dict[str, float]
    recovery_95: dict[str, float | None]
    downtime: dict[str, float]
    critical: list[str]
    critical_downtime: float
    people_at_risk: float
    people_at_risk_vulnerable: float
    #: person-hours under boil-water notices (0 in runs stored before the engine issued them)
    boil_water: float = 0.0
    cost: float
    budget: float
    cost_by_action: dict[str, float]
    timeliness: dict[str, float | None]
    expected_done_share: float | None
    links: dict[str, list[int]] = Field(default_factory=dict)

    def flat(self) -> dict[str, float | None]:
        """One flat ``name -> value`` mapping (the names rubric metrics use)."""
        out: dict[str, float | None] = {}
        for s, v in self.resilience_loss.items():
            out[f"resilience_loss.{s}"] = v
        out["resilience_loss.total"] = math.fsum(self.resilience_loss.values())
        for s, v in self.resilience_loss_vulnerable.items():
            out[f"resilience_loss_vulnerable.{s}"] = v
        for s, v in self.recovery_95.items():
            out[f"recovery_95.{s}"] = v
        for a, v in self.downtime.items():
            out[f"downtime.{a}"] = v
        out["critical_downtime"] = self.critical_downtime
        out["people_at_risk"] = self.people_at_risk
        out["people_at_risk_vulnerable"] = self.people_at_risk_vulnerable
        out["boil_water"] = self.boil_water
        out["cost"] = self.cost
        out["cost_share"] = self.cost / self.budget if self.budget > 0 else 0.0
        for e, v in self.timeliness.items():
            out[f"timeliness.{e}"] = v
        out["expected_done_share"] = self.expected_done_share
        return out


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


def compute_metrics(log: EventLog) -> Metrics:
    """All metrics of a run from its log.

    Batches call this once per replication, so it reads the log once, grouping the records by
    kind (:func:`_by_kind`), keeps per-service and per-asset state in dicts keyed by district and
    asset instead of re-sorting or rescanning per record, and sorts each link list once.  Scores
    are sums by :func:`math.fsum`, which rounds the exact sum once, so the order of the terms
    does not change a bit of the result.
    """
    groups = _by_kind(log.records)
    if not groups.get("run_start"):
        raise ValueError("the log has no run_start record")
    sd = groups["run_start"][0].data
    end = groups["run_end"][0].time if groups.get("run_end") else float(sd["duration_h"])
    population = int(sd["population"])
    links: dict[str, list[int]] = {}  # by metric name, all but downtime.* (see asset_links)

    # service step functions per service and district, and the unserved total per service
    steps: dict[str, dict[str, list[tuple[float, float]]]] = {s: {} for s in SERVICES}
    vsteps: dict[str, dict[str, list[tuple[float, float]]]] = {s: {} for s in SERVICES}
    total_steps: dict[str, list[tuple[float, float]]] = {s: [(0.0, 0.0)] for s in SERVICES}
    current: dict[str, dict[str, float]] = {s: {} for s in SERVICES}
    service_links: dict[str, list[int]] = {s: [] for s in SERVICES}
    for t, seq, _kind, district, data in groups.get("service", []):
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
        if len(service_links[s]) < _MAX_LINKS:
            service_links[s].append(seq)
    loss: dict[str, float] = {}
    vloss: dict[str, float] = {}
    recovery: dict[str, float | None] = {}
    for s in SERVICES:
        districts = sorted(steps[s])
        loss[s] = math.fsum(_integrate(steps[s][d], end) for d in districts)
        vloss[s] = math.fsum(_integrate(vsteps[s][d], end) for d in districts)
        recovery[s] = _recovery_time(total_steps[s], population, end)
        links[f"resilience_loss.{s}"] = service_links[s]
        links[f"resilience_loss_vulnerable.{s}"] = list(service_links[s])
        links[f"recovery_95.{s}"] = list(service_links[s])
    links["resilience_loss.total"] = sorted({x for s in SERVICES for x in service_links[s]})[:_MAX_LINKS]

    # asset downtime (overload of a hospital is not downtime of the building)
    down_since: dict[str, float] = {}
    downtime: dict[str, float] = {}
    asset_links: dict[str, list[int]] = {}  # per asset: its down/up records, then evidence
    for t, seq, kind, asset, data in groups.get("asset_state", []):
        if data.get("overload"):
            continue
        if kind == "asset_down":
            down_since.setdefault(asset, t)
        elif asset in down_since:
            downtime[asset] = downtime.get(asset, 0.0) + (t - down_since.pop(asset))
        seqs = asset_links.get(asset)
        if seqs is None:
            asset_links[asset] = [seq]
        else:
            seqs.append(seq)
    for a, t in down_since.items():
        downtime[a] = downtime.get(a, 0.0) + (end - t)
    for _t, seq, _kind, asset, _data in groups.get("asset_evidence", []):
        seqs = asset_links.get(asset)
        if seqs is not None and len(seqs) < _MAX_LINKS:
            seqs.append(seq)
    critical = list(sd.get("critical", []))
    crit_down = math.fsum(downtime.get(a, 0.0) for a in critical)
    if critical:
        links["critical_downtime"] = [x for a in critical for x in asset_links.get(a, [])[:10]]

    # people at risk
    par = groups.get("exposure", [])
    at_risk = math.fsum(float(r.data["at_risk"]) for r in par)
    at_risk_v = math.fsum(float(r.data["at_risk_vulnerable"]) for r in par)
    links["people_at_risk"] = [r.seq for r in par]
    links["people_at_risk_vulnerable"] = [r.seq for r in par]

    # boil-water notices: people x hours from issue to lift (or the end)
    issued: dict[str, tuple[float, float]] = {}
    boil_parts: list[float] = []
    for r in groups.get("boil_water", []):
        if r.data["status"] == "issued":
            issued[r.subject] = (r.time, float(r.data["people"]))
        elif r.subject in issued:
            t0, people = issued.pop(r.subject)
            boil_parts.append(people * (min(r.time, end) - t0))
    boil_parts.extend(people * max(0.0, end - t0) for t0, people in issued.values())
    links["boil_water"] = [r.seq for r in groups.get("boil_water", [])]

    # cost
    by_action: dict[str, float] = defaultdict(float)
    for r in groups.get("cost", []):
        by_action[r.subject] += float(r.data["amount"])
    cost = math.fsum(by_action.values())
    links["cost"] = links["cost_share"] = [r.seq for r in groups.get("cost", [])]

    # timeliness against the MSEL
    first_inject: dict[str, int] = {}
    for r in groups.get("inject", []):
        first_inject.setdefault(r.subject, r.seq)
    timeliness: dict[str, float | None] = {}
    expected_links: dict[str, list[int]] = {}
    met: list[EventRecord] = []
    for r in groups.get("expected", []):
        st = r.data["status"]
        seqs = expected_links.setdefault(r.subject, [])
        seqs.append(r.seq)
        if st == "due":
            timeliness.setdefault(r.subject, None)
            inject = first_inject.get(r.data.get("inject"))  # the inject that asked for it
            if inject is not None:
                seqs.insert(0, inject)
        elif st == "met":
            timeliness[r.subject] = float(r.data["late_h"])
            met.append(r)
    on_time = sum(1 for late in timeliness.values() if late is not None and late <= 1e-9)
    if timeliness:
        links["expected_done_share"] = [expected_links[name][-1] for name in timeliness]
    done_share = on_time / len(timeliness) if timeliness else None
    # the decisions that met expected actions, so an assessor sees the (late) decision itself
    decisions = groups.get("decision", [])
    for r in met:
        t = r.data["action_time_h"]
        for d in decisions:
            if abs(d.time - t) < 1e-9:
                expected_links[r.subject].append(d.seq)
                break
    for name, seqs in expected_links.items():
        links[f"timeliness.{name}"] = seqs
    # the decisions that targeted an asset that was down
    if downtime:
        targeted: dict[str | None, list[int]] = {}  # target -> decisions naming it
        for d in decisions:
            for target in {act.get("target") for act in d.data.get("actions", [])}:
                targeted.setdefault(target, []).append(d.seq)
        for a in downtime:
            if a in targeted:
                asset_links[a].extend(targeted[a])
    assets = sorted(asset_links)  # every asset that went down or up, by name
    return Metrics(
        duration_h=end, population=population, resilience_loss=loss, resilience_loss_vulnerable=vloss,
        recovery_95=recovery, downtime={a: downtime[a] for a in assets if a in downtime}, critical=critical,
        critical_downtime=crit_down, people_at_risk=at_risk, people_at_risk_vulnerable=at_risk_v,
        boil_water=math.fsum(boil_parts),
        cost=cost, budget=float(sd.get("budget", 0.0)), cost_by_action=dict(sorted(by_action.items())),
        timeliness=dict(sorted(timeliness.items())), expected_done_share=done_share,
        links=_sorted_links(links, {a: asset_links[a] for a in assets}, log),
    )


def _sorted_links(links: dict[str, list[int]], downtime_links: dict[str, list[int]],
                  log: EventLog) -> dict[str, list[int]]:
    """Each metric's linked seqs, sorted and without repeats, in metric-name order.

    ``downtime_links`` maps asset to seqs, assets in name order.  A city-sized run has hundreds,
    so they take a cheaper path: their ``downtime.<asset>`` names sort together, where
    ``"downtime."`` sorts among the other names, and each list holds seqs of distinct records, so
    it needs no de-duplication unless two records share a seq (never in a log written by
    :meth:`EventLog.append`).
    """
    names = sorted(links)
    cut = bisect.bisect_left(names, "downtime.")
    out = {k: sorted(set(links[k])) for k in names[:cut]}
    records = log.records
    if len({r.seq for r in records}) == len(records):
        out.update((f"downtime.{a}", sorted(v)) for a, v in downtime_links.items())
    else:
        out.update((f"downtime.{a}", sorted(set(v))) for a, v in downtime_links.items())
    out.update((k, sorted(set(links[k]))) for k in names[cut:])
    return out


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
    return last_bad_end  # None: not recovered by the end of the run


def metric_value(metrics: Metrics, name: str, reference: Mapping[str, Metrics] | None = None) -> float | None:
    """The value of a rubric metric name (see ``scenario.METRICS``)."""
    if name.startswith("relative."):
        base = name[len("relative."):]
        if not reference or "baseline" not in reference or "expert" not in reference:
            return None
        return relative(metric_value(metrics, base), metric_value(reference["baseline"], base),
                        metric_value(reference["expert"], base))
    flat = metrics.flat()
    if name in flat:
        return flat[name]
    if name.startswith("downtime."):
        return 0.0  # never went down
    return None


def relative(value: float | None, baseline: float | None, expert: float | None) -> float | None:
    """0 = as bad as the do-nothing baseline, 1 = as good as the expert (lower raw values are better).

    >>> relative(50.0, 100.0, 0.0)
    0.5
    """
    if value is None or baseline is None or expert is None:
        return None
    span = baseline - expert
    if abs(span) < 1e-9:
        return 1.0 if value <= expert + 1e-9 else 0.0
    return (baseline - value) / span


def rate(value: float | None, c: Criterion) -> str:
    """HSEEP rating of a computed criterion's value against its thresholds (missing value: U)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or c.thresholds is None:
        return "U"
    t = c.thresholds
    if c.lower_is_better:
        return "P" if value <= t.P else "S" if value <= t.S else "M" if value <= t.M else "U"
    return "P" if value >= t.P else "S" if value >= t.S else "M" if value >= t.M else "U"


class CriterionResult(BaseModel):
    id: str
    title: str
    kind: Literal["computed", "judged"]
    metric: str | None = None
    value: float | None = None
    rating: Literal["P", "S", "M", "U"] | None = None
    computed_rating: Literal["P", "S", "M", "U"] | None = None
    status: Literal["rated", "awaiting judgement", "judged", "overridden", "not applicable"]
    points: float = 0.0
    weight: float
    feedback: str = ""
    outcome: str
    outcome_text: str = ""
    module: str
    events: list[int] = Field(default_factory=list)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    guidance: dict[str, str] = Field(default_factory=dict)
    comment: str = ""
    by: str = ""


class ModuleEvidence(BaseModel):
    module: str
    outcomes: list[str]
    criteria: list[str]
    score: float | None
    provisional: bool


class ScoreCard(BaseModel):
    """A graded run: per criterion, per module, and in total."""

    scenario: str
    scenario_version: str
    lang: str
    criteria: list[CriterionResult]
    modules: list[ModuleEvidence]
    total: float
    pass_mark: float
    passed: bool
    provisional: bool
    metrics: dict[str, float | None]
    log_digest: str


def evidence(log: EventLog, what: str) -> list[dict[str, Any]]:
    """What an assessor reads for a judged criterion: warnings, rationales, or answers to a question."""
    out: list[dict[str, Any]] = []
    for r in log.of_kind("decision"):
        if what == "warnings":
            for a in r.data.get("actions", []):
                if a.get("action") == "warn_public":
                    out.append({"seq": r.seq, "time_h": r.time, "target": a.get("target", "all"),
                                "text": a.get("message", "")})
        elif what == "rationales":
            if r.data.get("rationale"):
                out.append({"seq": r.seq, "time_h": r.time, "text": r.data["rationale"],
                            "actions": [a.get("action") for a in r.data.get("actions", [])]})
        elif what.startswith("answer:"):
            q = what[len("answer:"):]
            ans = (r.data.get("answers") or {}).get(q)
            if ans:
                out.append({"seq": r.seq, "time_h": r.time, "question": q, "text": ans})
    return out


def grade(log: EventLog, rubric: Rubric | Scenario, *, lang: str = "en",
          judgements: Mapping[str, Mapping[str, Any]] | None = None,
          overrides: Mapping[str, Mapping[str, Any]] | None = None,
          reference: Mapping[str, Metrics] | None = None, metrics: Metrics | None = None,
          digest: bool = True) -> ScoreCard:
    """Grade a run's log against a rubric (pass the scenario to get outcome texts and modules).

    ``judgements`` and ``overrides`` map criterion id to ``{"rating", "comment", "by"}``;
    an override wins over both the computed rating and a judgement, and the computed
    rating stays on the card.  ``reference`` holds the baseline's and expert's metrics on
    the same seed, for ``relative.*`` metrics; ``metrics`` may pass this log's own metrics
    when the caller has them already (batches do).  ``digest=False`` leaves ``log_digest``
    empty: a batch replication that keeps only the score and metrics skips writing the
    whole log out canonically (a quarter of its time at 5,000 assets).
    """
    scenario = rubric if isinstance(rubric, Scenario) else None
    rb = scenario.rubric if scenario is not None else rubric
    assert isinstance(rb, Rubric)
    outcomes = {lo.id: lo for lo in scenario.learning_outcomes} if scenario else {}
    m = metrics if metrics is not None else compute_metrics(log)
    judgements = judgements or {}
    overrides = overrides or {}
    lines: list[CriterionResult] = []
    for c in rb.criteria:
        lo = outcomes.get(c.outcome)
        module = lo.module if lo is not None else ""
        base = {"id": c.id, "title": text_in(c.title, lang), "kind": c.kind, "weight": c.weight,
                "outcome": c.outcome, "outcome_text": text_in(lo.text, lang) if lo else "", "module": module}
        if c.kind == "computed":
            assert c.metric is not None
            key = c.metric[len("relative."):] if c.metric.startswith("relative.") else c.metric
            if key.startswith("timeliness.") and key[len("timeliness."):] not in m.timeliness:
                # its inject never arrived in this run: nothing was asked, so nothing is judged
                lines.append(CriterionResult(**base, metric=c.metric, status="not applicable"))
                continue
            value = metric_value(m, c.metric, reference)
            rating: str | None = rate(value, c)
            line = CriterionResult(**base, metric=c.metric, value=value, rating=rating, computed_rating=rating,
                                   status="rated", events=m.links.get(key, []))
        else:
            assert c.evidence is not None and c.guidance is not None
            ev = evidence(log, c.evidence)
            j = judgements.get(c.id)
            rating = str(j["rating"]) if j else None
            line = CriterionResult(**base, metric=None, value=None, rating=rating,  # type: ignore[arg-type]
                                   status="judged" if j else "awaiting judgement",
                                   events=[e["seq"] for e in ev], evidence=ev,
                                   guidance={k: text_in(getattr(c.guidance, k), lang) for k in RATINGS},
                                   comment=str(j.get("comment", "")) if j else "", by=str(j.get("by", "")) if j else "")
        o = overrides.get(c.id)
        if o:
            line.rating = o["rating"]
            line.status = "overridden"
            line.comment = str(o.get("comment", ""))
            line.by = str(o.get("by", ""))
        if line.rating is not None:
            line.points = round(c.weight * rb.points[line.rating], 9)
            line.feedback = text_in(getattr(c.feedback, line.rating), lang)
        lines.append(line)
    rated = [ln for ln in lines if ln.rating is not None]
    provisional = any(ln.rating is None and ln.status != "not applicable" for ln in lines)
    total = _percent(rated)
    modules: list[ModuleEvidence] = []
    for mod in sorted({ln.module for ln in lines}):
        mine = [ln for ln in lines if ln.module == mod]
        modules.append(ModuleEvidence(
            module=mod, outcomes=sorted({ln.outcome for ln in mine}), criteria=[ln.id for ln in mine],
            score=_percent([ln for ln in mine if ln.rating is not None]) if any(ln.rating for ln in mine) else None,
            provisional=any(ln.rating is None and ln.status != "not applicable" for ln in mine)))
    return ScoreCard(
        scenario=scenario.id if scenario else "", scenario_version=scenario.version if scenario else "", lang=lang,
        criteria=lines, modules=modules, total=total, pass_mark=rb.pass_mark, passed=total >= rb.pass_mark,
        provisional=provisional, metrics=m.flat(), log_digest=log.digest() if digest else "",
    )


def _percent(lines: Iterable[CriterionResult]) -> float:
    lines = list(lines)
    w = math.fsum(ln.weight for ln in lines)
    if w <= 0:
        return 0.0
    return round(100.0 * math.fsum(ln.points for ln in lines) / w, 6)


def service_curves(log: EventLog) -> Any:
    """Served share of the whole population per service over time (a pandas DataFrame).

    Columns: ``time_h``, ``service``, ``served`` (0..1); one row per change, starting at 0.
    """
    import pandas as pd

    start = log.first("run_start")
    pop = float(start.data["population"]) if start else 1.0
    end_rec = log.first("run_end")
    end = end_rec.time if end_rec else (float(start.data["duration_h"]) if start else 0.0)
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


def records_by_seq(log: EventLog, seqs: Iterable[int]) -> list[EventRecord]:
    """The records with these sequence numbers (what a score-card line links to)."""
    return [log[s] for s in sorted(set(seqs)) if 0 <= s < len(log)]
