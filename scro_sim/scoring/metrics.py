"""The one catalogue of metrics: each a function of the shared log pass, with its name and words.

Every metric a rubric criterion may name is registered here once, with its unit, whether lower
is better, a short description (an English message id, translated by the i18n catalogs at
display time) and the log record kinds it is made of; its function returns its value and
:func:`links` the records behind it.  Parameterised families (``resilience_loss.<service>``,
``downtime.<asset>``, ``timeliness.<expected>``, ``relative.<metric>``) are one entry each.
The scenario checks, the CLI, the report and the app read names, units and texts from
:data:`CATALOGUE`; nothing else lists metric names.

This module imports only the log, so the scenario checks may read it although scoring as a
whole sits above the scenario layer.
"""

from __future__ import annotations

import bisect
import difflib
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr

from ..log import EventLog
from .logpass import MAX_LINKS, SERVICES, LogPass

__all__ = [
    "CATALOGUE",
    "HEADLINE",
    "HIGHER_IS_BETTER",
    "LOSS_VALUES",
    "SUMMARY",
    "Metric",
    "Metrics",
    "compute_metrics",
    "describe",
    "lookup",
    "loss_in_money",
    "lower_is_better",
    "markdown",
    "metric_problem",
    "metric_value",
    "relative",
    "relative_applies",
    "rows",
    "value_for_money",
]


def N_(message: str) -> str:
    """Mark a message id for the i18n catalogs; it is translated where it is shown."""
    return message


Value = float | None
Links = dict[str, list[int]]


@dataclass(frozen=True)
class Metric:
    """One catalogue entry: a metric, or a family of metrics sharing a parameter."""

    #: ``cost``, or a family ``resilience_loss.<service>`` (``<param>`` names the parameter)
    name: str
    #: message id of the unit
    unit: str
    lower_is_better: bool
    #: message id of a one-line description
    text: str
    #: the log record kinds it is made of
    kinds: tuple[str, ...]
    #: its value (a family: ``{param: value}``) from the log pass; None for ``relative.*``
    value: Callable[[LogPass], Any] | None
    #: the records behind it, ``{full metric name: seqs}`` (``distinct_links``: ``{param: seqs}``
    #: in parameter order)
    links: Callable[[LogPass], Links]
    #: a family member the run never produced (an asset never down was down 0 h)
    default: Value = None
    #: each linked list holds distinct records already (no de-duplication needed)
    distinct_links: bool = False
    #: what it is about, for readers that reason about metrics by kind (the debrief): ``asset``,
    #: ``critical``, ``people``, ``service``, ``msel``, ``money``
    topics: tuple[str, ...] = ()
    #: only in runs that have what it measures (priced damage, a recovery fund, staff off sick): elsewhere
    #: its function returns None and the run has no such metric, so older runs' metrics and score cards
    #: are unchanged
    optional: bool = False

    @cached_property
    def family(self) -> str | None:
        """The family's parameter (``service``, ``asset``, ``expected``, ``metric``) or None."""
        _head, sep, rest = self.name.partition(".<")
        return rest[:-1] if sep else None

    @cached_property
    def prefix(self) -> str:
        """The name before the parameter: ``resilience_loss`` for ``resilience_loss.<service>``."""
        return self.name.partition(".<")[0]


#: every metric, in the order score cards and summaries list them
CATALOGUE: dict[str, Metric] = {}


def _metric(name: str, *, unit: str, text: str, kinds: tuple[str, ...],
            links: Callable[[LogPass], Links],
            topics: tuple[str, ...], lower_is_better: bool = True, default: Value = None,
            distinct_links: bool = False, optional: bool = False) -> Callable[[Callable[[LogPass], Any]], Any]:
    """Register the decorated function of the log pass as metric ``name``."""
    def register(fn: Callable[[LogPass], Any]) -> Callable[[LogPass], Any]:
        CATALOGUE[name] = Metric(name, unit, lower_is_better, text, kinds, fn, links, default, distinct_links,
                                 topics, optional)
        return fn
    return register


PERSON_HOURS = N_("person-hours")
HOURS = N_("hours")
PEOPLE = N_("people")
MONEY = N_("money")
SHARE = N_("share (0 to 1)")


def _per_service(prefix: str) -> Callable[[LogPass], Links]:
    return lambda p: {f"{prefix}.{s}": list(p.services.links[s]) for s in SERVICES}


def _records(kind: str, name: str) -> Callable[[LogPass], Links]:
    """Link every record of one kind to the metric ``name``."""
    return lambda p: {name: [r.seq for r in p.of(kind)]}


@_metric("resilience_loss.<service>", topics=("service",), unit=PERSON_HOURS, kinds=("service",),
         links=_per_service("resilience_loss"),
         text=N_("Person-hours without the service (power, water, telecom, health)"))
def resilience_loss(p: LogPass) -> dict[str, float]:
    return p.services.loss


@_metric("resilience_loss.total", topics=("service",),
         unit=PERSON_HOURS, kinds=("service",),
         links=lambda p: {"resilience_loss.total": sorted({x for s in SERVICES for x in p.services.links[s]})[:MAX_LINKS]},
         text=N_("Person-hours without a service, summed over the services"))
def resilience_loss_total(p: LogPass) -> float:
    return math.fsum(p.services.loss.values())


@_metric("resilience_loss_vulnerable.<service>", topics=("people", "service"),
         unit=PERSON_HOURS, kinds=("service",),
         links=_per_service("resilience_loss_vulnerable"),
         text=N_("Person-hours of vulnerable people without the service"))
def resilience_loss_vulnerable(p: LogPass) -> dict[str, float]:
    return p.services.vloss


@_metric("recovery_95.<service>", topics=("service",), unit=HOURS, kinds=("service",),
         links=_per_service("recovery_95"),
         text=N_("Hours until 95 % of people have the service back for good (empty: not by the end)"))
def recovery_95(p: LogPass) -> dict[str, float | None]:
    return p.services.recovery


@_metric("downtime.<asset>", topics=("asset",),
         unit=HOURS, default=0.0, distinct_links=True,
         kinds=("asset_down", "asset_up", "damage", "repair", "backup_start", "backup_exhausted", "generator",
                "decision"),
         links=lambda p: p.assets.links,  # by asset (distinct_links: the prefix is added once, when sorted)
         text=N_("Hours the asset was not working (an overloaded hospital still works)"))
def downtime(p: LogPass) -> dict[str, float]:
    return p.assets.downtime


@_metric("critical_downtime", topics=("critical",),
         unit=HOURS,
         kinds=("asset_down", "asset_up", "damage", "repair", "backup_start", "backup_exhausted", "generator"),
         links=lambda p: {"critical_downtime": p.assets.critical_links} if p.critical else {},
         text=N_("Hours of downtime summed over the critical facilities"))
def critical_downtime(p: LogPass) -> float:
    down = p.assets.downtime
    return math.fsum(down.get(a, 0.0) for a in p.critical)


@_metric("people_at_risk", topics=("people",), unit=PEOPLE, kinds=("exposure",),
         links=_records("exposure", "people_at_risk"),
         text=N_("People in the hazard's path who were not warned or evacuated in time"))
def people_at_risk(p: LogPass) -> float:
    return math.fsum(float(r.data["at_risk"]) for r in p.of("exposure"))


@_metric("people_at_risk_vulnerable", topics=("people",),
         unit=PEOPLE, kinds=("exposure",),
         links=_records("exposure", "people_at_risk_vulnerable"),
         text=N_("Vulnerable people among those at risk"))
def people_at_risk_vulnerable(p: LogPass) -> float:
    return math.fsum(float(r.data["at_risk_vulnerable"]) for r in p.of("exposure"))


@_metric("boil_water", topics=("service",), unit=PERSON_HOURS, kinds=("boil_water",),
         links=_records("boil_water", "boil_water"),
         text=N_("Person-hours under boil-water notices, from issue to lift or the end"))
def boil_water(p: LogPass) -> float:
    issued: dict[str, tuple[float, float]] = {}
    parts: list[float] = []
    for r in p.of("boil_water"):
        if r.data["status"] == "issued":
            issued[r.subject] = (r.time, float(r.data["people"]))
        elif r.subject in issued:
            t0, people = issued.pop(r.subject)
            parts.append(people * (min(r.time, p.end) - t0))
    parts.extend(people * max(0.0, p.end - t0) for t0, people in issued.values())
    return math.fsum(parts)


@_metric("cost", topics=("money",), unit=MONEY, kinds=("cost",), links=_records("cost", "cost"),
         text=N_("Money spent"))
def cost(p: LogPass) -> float:
    return math.fsum(p.cost_by_action.values())


@_metric("cost_share", topics=("money",), unit=SHARE, kinds=("cost", "run_start"),
         links=_records("cost", "cost_share"),
         text=N_("Money spent as a share of the budget"))
def cost_share(p: LogPass) -> float:
    return cost(p) / p.budget if p.budget > 0 else 0.0


@_metric("timeliness.<expected>", topics=("msel",), unit=N_("hours late"),
         kinds=("expected", "inject", "decision"),
         links=lambda p: {f"timeliness.{e}": v for e, v in p.expected.links.items()},
         text=N_("Hours late against the expected action's deadline (negative: early; empty: not done)"))
def timeliness(p: LogPass) -> dict[str, float | None]:
    return p.expected.timeliness


@_metric("expected_done_share", topics=("msel",),
         unit=SHARE, lower_is_better=False, kinds=("expected",),
         links=lambda p: {"expected_done_share": p.expected.last_records} if p.expected.timeliness else {},
         text=N_("Share of the MSEL's expected actions done by their deadline"))
def expected_done_share(p: LogPass) -> float | None:
    t = p.expected.timeliness
    if not t:
        return None
    return sum(1 for late in t.values() if late is not None and late <= 1e-9) / len(t)


# ---- staffing (scenarios with a ``staff_absence`` effect) ----------------------------------------
# A crew off sick is a ``crew`` record ``off_duty`` with ``cause: staff_absence`` (``on_duty`` when it
# is back); staff called back for a team are an ``action`` record naming the team (``crew``) with the
# number of crews (``crews``), each of which stands down with a ``crew`` record ``off_duty``,
# ``cause: stand_down``.


def _team(crew_id: str) -> str:
    return crew_id.split("#")[0].split("+")[0]


def _staffing_records(p: LogPass) -> list[Any]:
    out = [r for r in p.of("crew") if r.data.get("state") in ("off_duty", "on_duty")]
    out += [r for r in p.of("action") if "crews" in r.data and "crew" in r.data]
    return sorted(out, key=lambda r: r.seq)


@_metric("staff_shortfall", topics=("people",), unit=N_("crew-hours"), kinds=("crew", "action"), optional=True,
         links=lambda p: {"staff_shortfall": [r.seq for r in _staffing_records(p)]},
         text=N_("Crew-hours the crew teams were short of their normal strength: crews off sick, less crews "
                 "called back from leave at work in the same team"))
def staff_shortfall(p: LogPass) -> float | None:
    recs = _staffing_records(p)
    if not any(r.data.get("cause") == "staff_absence" for r in recs):
        return None  # no staff off sick in this run
    off: dict[str, int] = {}
    back: dict[str, int] = {}
    parts: list[float] = []
    t = 0.0
    for r in recs:
        parts.append((r.time - t) * sum(max(0, n - back.get(team, 0)) for team, n in off.items()))
        t = r.time
        if r.kind == "action":
            back[r.data["crew"]] = back.get(r.data["crew"], 0) + int(r.data["crews"])
        elif r.data.get("state") == "on_duty":
            off[_team(r.subject)] = off.get(_team(r.subject), 0) - 1
        elif r.data.get("cause") == "staff_absence":
            off[_team(r.subject)] = off.get(_team(r.subject), 0) + 1
        elif r.data.get("cause") == "stand_down":
            back[_team(r.subject)] = back.get(_team(r.subject), 0) - 1
    parts.append(max(0.0, p.end - t) * sum(max(0, n - back.get(team, 0)) for team, n in off.items()))
    return math.fsum(parts)


# ---- money lost to damage (scenarios that declare ``damage_costs``) --------------------------
# The engine prices each damage record (``loss``: what it adds to the repair bill) and marks the
# run (``damage_priced`` in run_start); an insurance policy's ``action`` record carries its terms
# (``deductible``, ``cover_limit``) from the hour the cover began.


def _priced(p: LogPass) -> bool:
    return bool(p.start.get("damage_priced"))


def _damage_losses(p: LogPass) -> list[Any]:
    return [r for r in p.of("asset_evidence") if r.kind == "damage" and "loss" in r.data]


def _payout(p: LogPass) -> tuple[float, list[int]]:
    """What the insurance paid (claims on damage after the cover began, less the deductible, up to the
    limit) and the records behind it (the policy and the damage it covered)."""
    policies = [r for r in p.of("action") if "cover_limit" in r.data]
    if not policies:
        return 0.0, []
    pol = policies[0]
    covered = [r for r in _damage_losses(p) if r.seq > pol.seq]
    claims = math.fsum(float(r.data["loss"]) for r in covered)
    paid = min(float(pol.data["cover_limit"]), max(0.0, claims - float(pol.data["deductible"])))
    return paid, [pol.seq, *(r.seq for r in covered)][:MAX_LINKS]


@_metric("damage_cost", topics=("money",), unit=MONEY, kinds=("damage",), optional=True,
         links=lambda p: {"damage_cost": [r.seq for r in _damage_losses(p)][:MAX_LINKS]} if _priced(p) else {},
         text=N_("Money to repair what the hazards damaged (the scenario's damage_costs; empty: not priced)"))
def damage_cost(p: LogPass) -> float | None:
    if not _priced(p):
        return None
    return math.fsum(float(r.data["loss"]) for r in _damage_losses(p))


@_metric("insurance_payout", topics=("money",), unit=MONEY, lower_is_better=False, kinds=("damage", "action"),
         optional=True, links=lambda p: {"insurance_payout": _payout(p)[1]} if _priced(p) else {},
         text=N_("What insurance paid: repair costs of damage after the cover began, less the deductible, "
                 "up to the limit (empty: not priced)"))
def insurance_payout(p: LogPass) -> float | None:
    return _payout(p)[0] if _priced(p) else None


@_metric("retained_loss", topics=("money",), unit=MONEY, kinds=("damage", "action"), optional=True,
         links=lambda p: {"retained_loss": [r.seq for r in _damage_losses(p)][:MAX_LINKS]} if _priced(p) else {},
         text=N_("Money lost to damage that the city bears itself: repair costs less insurance payouts "
                 "(empty: not priced)"))
def retained_loss(p: LogPass) -> float | None:
    if not _priced(p):
        return None
    return max(0.0, math.fsum(float(r.data["loss"]) for r in _damage_losses(p)) - _payout(p)[0])


# ---- paying for the recovery (scenarios that enable file_claim or activate_continuity_plan) ------
# run_start carries the fund's terms (``claims``) and the business sites with the price of their
# idle hours (``continuity``) only when the scenario enables those actions; elsewhere these
# metrics have no value, so other runs' metrics and score cards are unchanged.


def _claims_paid(p: LogPass) -> list[Any]:
    return [r for r in p.of("action") if "reimbursed" in r.data]  # the claims' records, once paid


@_metric("reimbursed", topics=("money",), unit=MONEY, lower_is_better=False, kinds=("action",), optional=True,
         links=lambda p: {"reimbursed": [r.seq for r in _claims_paid(p)][:MAX_LINKS]} if "claims" in p.start else {},
         text=N_("What the recovery fund paid back on the learner's claims (empty: no fund in the scenario)"))
def reimbursed(p: LogPass) -> float | None:
    if "claims" not in p.start:
        return None
    return math.fsum(float(r.data["reimbursed"]) for r in _claims_paid(p))


def _idle_hours(p: LogPass) -> tuple[dict[str, float], list[int]]:
    """Per business site, the hours it was down before a continuity plan was in force there; the
    records behind them (down/up records of the sites and the plans)."""
    sites = p.start["continuity"]["sites"]
    plan_from: dict[str, float] = {}
    links: list[int] = []
    for r in p.of("action"):
        if r.data.get("continuity") and r.subject not in plan_from:  # a continuity plan in force
            plan_from[r.subject] = r.time
            links.append(r.seq)
    wanted = set(sites)
    down_since: dict[str, float] = {}
    idle: dict[str, float] = {}
    for t, seq, kind, asset, data in p.of("asset_state"):
        if asset not in wanted or data.get("overload"):
            continue
        if kind == "asset_down":
            down_since.setdefault(asset, t)
            links.append(seq)
        elif asset in down_since:
            t0 = down_since.pop(asset)
            idle[asset] = idle.get(asset, 0.0) + max(0.0, min(t, plan_from.get(asset, t)) - t0)
            links.append(seq)
    for a, t0 in down_since.items():
        idle[a] = idle.get(a, 0.0) + max(0.0, min(p.end, plan_from.get(a, p.end)) - t0)
    return {a: idle[a] for a in sites if a in idle}, sorted(links)[:MAX_LINKS]


@_metric("business_interruption", topics=("money",), unit=MONEY, kinds=("asset_down", "asset_up", "action"),
         optional=True, links=lambda p: {"business_interruption": _idle_hours(p)[1]} if "continuity" in p.start else {},
         text=N_("What the business sites' standstill cost: hours down before a continuity plan was in force there, "
                 "times an hour's price (empty: no continuity plans in the scenario)"))
def business_interruption(p: LogPass) -> float | None:
    if "continuity" not in p.start:
        return None
    hours = _idle_hours(p)[0]
    return float(p.start["continuity"]["cost_h"]) * math.fsum(hours[a] for a in sorted(hours))


@_metric("net_cost", topics=("money",), unit=MONEY, kinds=("cost", "damage", "action", "asset_down", "asset_up"),
         optional=True, links=lambda p: {"net_cost": [r.seq for r in p.of("cost")][:MAX_LINKS]}
         if _priced(p) and "claims" in p.start else {},
         text=N_("What the disaster cost the city in the end: money spent, plus the repair bill it bears and its "
                 "business sites' standstill, less what the recovery fund paid back (empty: no fund in the scenario)"))
def net_cost(p: LogPass) -> float | None:
    if not _priced(p) or "claims" not in p.start:
        return None
    return math.fsum([cost(p), retained_loss(p) or 0.0, business_interruption(p) or 0.0, -(reimbursed(p) or 0.0)])


CATALOGUE["relative.<metric>"] = Metric(
    "relative.<metric>", N_("baseline 0, expert 1"), False,
    N_("Where the run lies between the do-nothing baseline (0) and the expert plan (1) on the same seed"),
    (), None, lambda p: {})

CATALOGUE["value_for_money"] = Metric(
    "value_for_money", N_("baseline 0, expert 1"), False,
    N_("Loss avoided per euro spent (against the baseline on the same seed), as a share of the expert's"),
    ("service", "exposure", "asset_down", "asset_up", "cost"), None,
    lambda p: {"value_for_money": [r.seq for r in p.of("cost")]}, topics=("money",))

_FAMILIES: dict[str, Metric] = {m.prefix: m for m in CATALOGUE.values() if m.family}

#: what batch summaries cover by default (a scenario's rubric metrics are added)
SUMMARY: tuple[str, ...] = ("resilience_loss.total", *(f"resilience_loss.{s}" for s in SERVICES),
                            "critical_downtime", "people_at_risk", "cost")
#: the few whole-run figures tables and charts show first
HEADLINE: tuple[str, ...] = tuple(n for n in SUMMARY if n in CATALOGUE)  # not the per-service ones
#: names whose higher values are better (a ``relative.*`` metric always is)
HIGHER_IS_BETTER: frozenset[str] = frozenset(n for n, m in CATALOGUE.items() if not m.lower_is_better and not m.family)


class Metrics(BaseModel):
    """Every metric of one run, with the events behind each (made by :func:`compute_metrics`)."""

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
    #: each catalogue entry's value by entry name (a family's: ``{param: value}``), set by
    #: :func:`compute_metrics` with the fields above, so not validated a second time
    _by_entry: dict[str, Any] = PrivateAttr(default_factory=dict)

    def flat(self, assets: Collection[str] | None = None) -> dict[str, float | None]:
        """One flat ``name -> value`` mapping (the names rubric metrics use), in catalogue order.

        ``assets``: keep only these assets' ``downtime.<asset>`` (those that went down), as a
        batch row does; default every asset that went down.
        """
        out: dict[str, float | None] = {}
        for m in CATALOGUE.values():
            if m.name not in self._by_entry:
                continue
            v = self._by_entry[m.name]
            if m.family:
                head = m.prefix + "."
                if assets is not None and m.family == "asset":
                    out.update((head + k, v[k]) for k in v if k in assets)
                else:
                    out.update((head + k, x) for k, x in v.items())
            else:
                out[m.name] = v
        return out


def compute_metrics(log: EventLog, *, links: bool = True) -> Metrics:
    """All metrics of a run from its log: the catalogue's functions over one shared pass.

    Batches call this once per replication, so the log is read once (:class:`LogPass`) and
    each metric is a few lines over the state it shares.  Scores are sums by
    :func:`math.fsum`, which rounds the exact sum once, so the order of the terms does not
    change a bit of the result.  ``links=False`` leaves out the records behind each metric
    (``links`` stays empty, and so do a score card's ``events``): the same values, for a batch
    that keeps only the numbers.
    """
    p = LogPass(log, links=links)
    by_name: dict[str, Any] = {}
    linked: Links = {}
    distinct: list[tuple[str, Links]] = []
    for m in CATALOGUE.values():
        if m.value is None:
            continue
        v = m.value(p)
        if m.optional and v is None:  # the run lacks what it measures (no priced damage, no fund...)
            continue
        by_name[m.name] = v
        if not links:
            continue
        if m.distinct_links:
            distinct.append((m.prefix + ".", m.links(p)))
        else:
            linked.update(m.links(p))
    # every value above is already of its field's type (float(), fsum, sums onto 0.0), so the
    # model is built without validating it again: a fifth of the cost on a city-sized run
    out = Metrics.model_construct(
        duration_h=p.end, population=p.population, critical=p.critical, budget=p.budget,
        cost_by_action=p.cost_by_action, links=_sorted_links(linked, distinct, log) if links else {},
        **{m.prefix: by_name[m.name] for m in CATALOGUE.values()
           if m.value is not None and m.prefix in Metrics.model_fields},
    )
    out._by_entry = by_name
    return out


def _sorted_links(links: Links, distinct: list[tuple[str, Links]], log: EventLog) -> Links:
    """Each metric's linked seqs, sorted and without repeats, in metric-name order.

    A city-sized run has hundreds of ``downtime.<asset>`` lists, so families whose lists hold
    distinct records (``distinct``: prefix and ``{param: seqs}`` in parameter order) skip the de-duplication unless
    two records share a seq (never in a log written by :meth:`EventLog.append`), and are
    merged in among the other names where their common prefix sorts.
    """
    records = log.records
    unique = len({r.seq for r in records}) == len(records)
    names = sorted(links)
    out: Links = {}
    at = 0
    for prefix, by_param in distinct:
        cut = bisect.bisect_left(names, prefix)
        out.update((k, sorted(set(links[k]))) for k in names[at:cut])
        if unique:
            out.update((prefix + k, sorted(v)) for k, v in by_param.items())
        else:
            out.update((prefix + k, sorted(set(v))) for k, v in by_param.items())
        at = cut
    out.update((k, sorted(set(links[k]))) for k in names[at:])
    return out


def lookup(name: str) -> tuple[Metric, str | None] | None:
    """The catalogue entry of a flat metric name and its parameter, or None if there is none."""
    m = CATALOGUE.get(name)
    if m is not None and not m.family:
        return m, None
    prefix, dot, arg = name.partition(".")
    family = _FAMILIES.get(prefix)
    if family is not None and dot:
        return family, arg
    return None


def describe(name: str) -> Metric | None:
    """The catalogue entry a flat metric name belongs to (``relative.X``: the relative entry)."""
    found = lookup(name)
    return found[0] if found else None


def lower_is_better(name: str) -> bool:
    """Whether lower values of a metric name are better (``relative.X``: never; unknown: yes)."""
    m = describe(name)
    return True if m is None else m.lower_is_better


def metric_value(metrics: Metrics, name: str, reference: Mapping[str, Metrics] | None = None,
                 values: Mapping[str, float] | None = None) -> float | None:
    """The value of a rubric metric name (a catalogue name; ``relative.X`` and ``value_for_money``
    need ``reference``, and ``value_for_money`` takes the scenario's ``values`` of a loss in money)."""
    found = lookup(name)
    if found is None:
        return None
    m, arg = found
    if m.name == "value_for_money":
        if not reference or "baseline" not in reference or "expert" not in reference:
            return None
        return value_for_money(metrics, reference["baseline"], reference["expert"], values)
    if m.value is None:  # relative.<metric>
        if arg is None or not reference or "baseline" not in reference or "expert" not in reference:
            return None
        return relative(metric_value(metrics, arg), metric_value(reference["baseline"], arg),
                        metric_value(reference["expert"], arg))
    v = metrics._by_entry.get(m.name)
    if arg is None:
        return v
    return v.get(arg, m.default) if v is not None else m.default


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
    # nine decimals: a learner level with the baseline reads 0, not the float noise of the sums (1e-12)
    return round((baseline - value) / span, 9)


#: what a loss is worth in money when a criterion does not say (``loss_values``): per person-hour
#: without each service, per person in the hazard's path unwarned, per hour a critical facility is
#: down.  Illustrative weights that put the losses on one scale, not estimates for any city;
#: docs/reference_data.md explains them and a lecturer sets their own in the rubric.
LOSS_VALUES: dict[str, float] = {
    "power": 5.0, "water": 5.0, "telecom": 2.0, "health": 50.0,
    "people_at_risk": 2000.0, "critical_downtime": 5000.0, "damage": 0.0,
}


def loss_in_money(m: Metrics, values: Mapping[str, float] | None = None) -> float:
    """A run's losses on one money scale: person-hours per service, people at risk and critical
    downtime, each times its value (``values`` overrides :data:`LOSS_VALUES` key by key), and, with a
    ``damage`` value (0 by default), the money lost to damage the city bears itself (``retained_loss``)."""
    v = {**LOSS_VALUES, **(values or {})}
    parts = [v[s] * m.resilience_loss.get(s, 0.0) for s in SERVICES if s in v]
    parts += [v["people_at_risk"] * m.people_at_risk, v["critical_downtime"] * m.critical_downtime]
    if v["damage"]:
        parts.append(v["damage"] * (getattr(m, "_by_entry", {}).get("retained_loss") or 0.0))
    return math.fsum(parts)


def value_for_money(run: Metrics, baseline: Metrics, expert: Metrics,
                    values: Mapping[str, float] | None = None) -> float | None:
    """Loss avoided per euro (against the baseline on the same seed) as a share of the expert's.

    1 buys as much per euro as the expert's plan, 0 buys nothing, below 0 made things worse.
    Nothing spent buys nothing to judge: None, which rates U, so doing nothing never passes.
    None too when the expert spent nothing or avoided no loss (the criterion does not apply:
    see :func:`relative_applies`).

    >>> from types import SimpleNamespace as M
    >>> base = M(resilience_loss={"power": 1000.0}, people_at_risk=0.0, critical_downtime=0.0, cost=0.0)
    >>> exp = M(resilience_loss={"power": 0.0}, people_at_risk=0.0, critical_downtime=0.0, cost=1000.0)
    >>> run = M(resilience_loss={"power": 500.0}, people_at_risk=0.0, critical_downtime=0.0, cost=1000.0)
    >>> value_for_money(run, base, exp)  # half the loss avoided for the same money
    0.5
    """
    if run.cost <= 0 or expert.cost <= 0:
        return None
    lost = loss_in_money(baseline, values)
    bought = (lost - loss_in_money(expert, values)) / expert.cost
    if bought <= 0:
        return None
    return round(((lost - loss_in_money(run, values)) / run.cost) / bought, 9)


def relative_applies(name: str, reference: Mapping[str, Metrics] | None, *,
                     min_gain: float | None = None, values: Mapping[str, float] | None = None) -> bool:
    """Whether a criterion measured against the reference runs means anything on this seed.

    ``relative.X`` applies when the expert beat the baseline on X by more than ``min_gain``
    (default: 5 % of the baseline's value), that is, by more than the metric's noise: where
    the expert could not do better than the utilities on their own, luck would decide, so the
    criterion is not applicable for the run, never a free pass.  ``value_for_money`` applies
    when the expert spent money and avoided more loss than ``min_gain`` (in money; default 5 %
    of the baseline's loss).  Other metrics always apply.  Missing references: it applies (and
    rates U, as a value that cannot be computed does).
    """
    if not reference or "baseline" not in reference or "expert" not in reference:
        return True
    base, exp = reference["baseline"], reference["expert"]
    if name == "value_for_money":
        lost = loss_in_money(base, values)
        gain = lost - loss_in_money(exp, values)
        return exp.cost > 0 and gain > (min_gain if min_gain is not None else 0.05 * abs(lost))
    if not name.startswith("relative."):
        return True
    arg = name[len("relative."):]
    b, e = metric_value(base, arg), metric_value(exp, arg)
    if b is None or e is None:
        return True
    gain = (e - b) if not lower_is_better(arg) else (b - e)
    return gain > (min_gain if min_gain is not None else max(0.05 * abs(b), 1e-9))


def _did_you_mean(name: str, candidates: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def metric_problem(name: str, *, assets: Collection[str] | None = None,
                   expected: Collection[str] = ()) -> str | None:
    """Why ``name`` is not a catalogue metric for this city and MSEL, or None if it is.

    ``assets`` are the city's asset ids (None: not checked); ``expected`` the scenario's
    expected-action ids.  A misspelled name gets the closest valid name as a suggestion.
    """
    if name.startswith("relative."):
        base = name[len("relative."):]
        if base.startswith("relative."):
            return "relative.<metric> takes a metric that is not itself relative"
        problem = metric_problem(base, assets=assets, expected=expected)
        if problem is None:
            return None
        return problem.replace(repr(base), repr(name), 1).replace("did you mean '", "did you mean 'relative.")
    choices = {"service": tuple(SERVICES), "expected": tuple(expected), "asset": tuple(assets or ())}
    found = lookup(name)
    if found is not None:
        m, arg = found
        if arg is None:
            return None
        family = m.family
        if family == "service":
            ok = arg in SERVICES
            known = list(SERVICES)
        elif family == "asset":
            if not arg:
                return f"{m.prefix} takes an asset id: {m.prefix}.H1"
            ok = assets is None or arg in assets
            known = list(assets or ())
        else:
            ok = arg in expected
            known = list(expected)
        if ok:
            return None
        what = {"service": "service", "asset": "asset", "expected": "expected action"}[family or ""]
        hint = _did_you_mean(name, [f"{m.prefix}.{k}" for k in known]
                             + [n for n in CATALOGUE if not CATALOGUE[n].family and n.startswith(m.prefix + ".")])
        if family == "service":
            return f"{m.prefix} takes a service ({', '.join(SERVICES)}), not {arg!r}{hint}"
        return f"unknown {what} {arg!r} in {name!r}{hint}"
    concrete = [n for n, m in CATALOGUE.items() if not m.family]
    for m in _FAMILIES.values():
        if m.family != "metric":
            concrete += [f"{m.prefix}.{k}" for k in choices[m.family or ""]]
    hint = _did_you_mean(name, concrete)
    return f"unknown metric {name!r}" + (hint or "; known (see `scro-sim metrics`): " + ", ".join(CATALOGUE))


def rows(metrics: Metrics, *, assets: Collection[str] | None = None) -> list[tuple[str, Metric, float | None]]:
    """The run's metrics for a table: (flat name, catalogue entry, value) in catalogue order.

    ``downtime.<asset>`` rows only for ``assets`` (default: the critical facilities), each
    listed even if it never went down.
    """
    keep = list(metrics.critical if assets is None else assets)
    out: list[tuple[str, Metric, float | None]] = []
    for m in CATALOGUE.values():
        if m.name not in metrics._by_entry:
            continue
        v = metrics._by_entry[m.name]
        if m.family == "asset":
            out.extend((f"{m.prefix}.{a}", m, v.get(a, m.default)) for a in keep)
        elif m.family:
            out.extend((f"{m.prefix}.{k}", m, x) for k, x in v.items())
        else:
            out.append((m.name, m, v))
    return out


def markdown(translate: Callable[[str], str] = str) -> str:
    """The catalogue as a Markdown table (name, unit, which way is better, meaning).

    ``translate`` turns message ids into the reader's language (an i18n translator);
    the default leaves them in English.  ``scro-sim metrics`` prints this, and the authoring
    guide (scenarios/README.md) holds the English table.
    """
    better = {True: translate(N_("lower")), False: translate(N_("higher"))}
    lines = [f"| {translate(N_('metric'))} | {translate(N_('unit'))} | {translate(N_('better'))} "
             f"| {translate(N_('meaning'))} |", "|---|---|---|---|"]
    lines += [f"| `{m.name}` | {translate(m.unit)} | {better[m.lower_is_better]} | {translate(m.text)} |"
              for m in CATALOGUE.values()]
    return "\n".join(lines) + "\n"


# ============================================================================================
# Hidden truth (issue 13 section 3): what the learner declared against the cause that came to
# light.  Kept together at the end of the catalogue; they read ``cause_revealed`` records (a
# hidden cause became visible), ``hazard`` records of cyber attacks, and the ``declare_incident``
# actions of ``decision`` records.

#: a declaration that is a call to the public, not a cause
_NOT_A_CAUSE = "boil_water"
COUNT = N_("count")


def _declarations(p: LogPass) -> list[tuple[float, int, str, str | None]]:
    """Every cause the learner declared: (time, decision seq, incident, target or None), in log order.

    A declaration is the decided action with an ``incident`` (only the declaring action has one;
    scoring does not import the engine's action registry)."""
    return [(r.time, r.seq, str(a["incident"]), a.get("target"))
            for r in p.of("decision") for a in r.data.get("actions", ())
            if a.get("incident") not in (None, _NOT_A_CAUSE)]


def _attacks(p: LogPass) -> tuple[set[str], set[str]]:
    """The run's true causes of attack and the assets attacked, whether they came to light or not."""
    causes: set[str] = set()
    targets: set[str] = set()
    for r in p.of("cause_revealed"):
        causes.add(str(r.data.get("cause")))
        targets.update(r.data.get("targets", ()))
    for r in p.of("hazard"):
        if r.data.get("type") == "cyber" and "targets" in r.data:
            causes.add("cyber")
            targets.update(r.data["targets"])
    return causes, targets


def _declare_links(p: LogPass) -> Links:
    revealed = [r.seq for r in p.of("cause_revealed")][:1]
    return {"declare_delay_h": revealed + [seq for _t, seq, _i, _a in _declarations(p)][:MAX_LINKS],
            "wrong_declarations": [seq for _t, seq, _i, _a in _declarations(p)][:MAX_LINKS]}


@_metric("declare_delay_h", topics=("judgement",), unit=HOURS, kinds=("cause_revealed", "decision"),
         links=_declare_links,
         text=N_("Hours from when a hidden cause could be known (its reveal) until the learner declared it "
                 "(0: declared before; never declared: the hours to the end; empty: no hidden cause came to light)"))
def declare_delay_h(p: LogPass) -> float | None:
    revealed = p.of("cause_revealed")
    if not revealed:
        return None
    t0, truth = revealed[0].time, str(revealed[0].data.get("cause"))
    _causes, attacked = _attacks(p)
    right = [t for t, _seq, incident, target in _declarations(p)
             if incident == truth and (target is None or target in attacked)]
    return max(0.0, (right[0] if right else p.end) - t0)


@_metric("wrong_declarations", topics=("judgement",), unit=COUNT, kinds=("cause_revealed", "hazard", "decision"),
         links=lambda p: {"wrong_declarations": _declare_links(p)["wrong_declarations"]},
         text=N_("Declarations of a wrong cause: an attack declared where there was none, or another cause "
                 "declared for an attacked asset (empty: no attack to judge against)"))
def wrong_declarations(p: LogPass) -> float | None:
    causes, targets = _attacks(p)
    if not causes:
        return None
    wrong = 0
    for _t, _seq, incident, target in _declarations(p):
        if target is None:
            wrong += incident not in causes
        else:
            wrong += (incident in causes) != (target in targets)
    return float(wrong)
