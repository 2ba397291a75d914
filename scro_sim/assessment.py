"""Assessment workflow: score a run on the server, store it, verify it, judge, override, export.

This is where the engine, scoring and the store meet (the CLI and the app call only
this): a score is always computed here from the decisions, never accepted from a client,
and :func:`verify_run` re-simulates a stored run to prove its score.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .city import City
from .engine import ENGINE_VERSION, Simulation, replay
from .errors import ScroSimError, StoreError, VerificationError
from .gc_tuning import engine_gc
from .lms import GradeRow, export
from .log import EventLog
from .policy import PlanPolicy, baseline_policy
from .scenario import Plan, Scenario, load_scenario, text_in
from .scoring import Metrics, ScoreCard, compute_metrics, grade
from .store import NewRun, Store

__all__ = [
    "VerifyReport",
    "export_cohort",
    "grade_rows",
    "judge",
    "override",
    "record_log",
    "record_run",
    "reference_metrics",
    "regrade",
    "scenario_from_text",
    "score",
    "verify_run",
]

BUNDLED_SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
_REF_CACHE: dict[tuple[str, str, int], dict[str, Metrics]] = {}


def reference_metrics(scenario: Scenario, city: City, seed: int) -> dict[str, Metrics]:
    """The do-nothing baseline's and the expert plan's metrics on the same seed (cached)."""
    key = (scenario.source_sha256, city.content_hash(), int(seed))
    hit = _REF_CACHE.get(key)
    if hit is not None:
        return hit
    base = scenario.reference_plans.baseline
    base_policy = PlanPolicy(base, "baseline") if isinstance(base, Plan) else baseline_policy(base)
    out = {"baseline": compute_metrics(Simulation(scenario, city, seed, base_policy).run())}
    if scenario.reference_plans.expert is not None:
        out["expert"] = compute_metrics(Simulation(scenario, city, seed, PlanPolicy(scenario.reference_plans.expert,
                                                                                      "expert")).run())
    if len(_REF_CACHE) > 256:
        _REF_CACHE.clear()
    _REF_CACHE[key] = out
    return out


def score(scenario: Scenario, city: City, seed: int, log: EventLog, *, lang: str = "en",
          judgements: dict[str, dict[str, Any]] | None = None,
          overrides: dict[str, dict[str, Any]] | None = None) -> ScoreCard:
    """Grade a log with the scenario's rubric, relative metrics against its reference plans."""
    return grade(log, scenario, lang=lang, judgements=judgements, overrides=overrides,
                 reference=reference_metrics(scenario, city, seed))


def play_decisions(scenario: Scenario, city: City, seed: int, decisions: list[dict[str, Any]]) -> EventLog:
    """Re-simulate a recorded decision list to the end (the server's own copy of the game)."""
    with engine_gc():
        sim, _ = replay(scenario, city, seed, decisions)
    return sim.log


def record_run(store: Store, scenario: Scenario, city: City, seed: int, decisions: list[dict[str, Any]], *,
               learner: str, cohort: str | None = None, source: str = "play", lang: str = "en",
               started_at: datetime | None = None) -> tuple[str, ScoreCard]:
    """Re-simulate ``decisions`` on the server, grade the result and store it; returns (run id, card)."""
    log = play_decisions(scenario, city, seed, decisions)
    return record_log(store, scenario, city, seed, log, decisions=decisions, learner=learner, cohort=cohort,
                      source=source, lang=lang, started_at=started_at)


def record_log(store: Store, scenario: Scenario, city: City, seed: int, log: EventLog, *, decisions: list[dict[str, Any]],
               learner: str, cohort: str | None = None, source: str = "cli", lang: str = "en",
               policy: str | None = None, plan_yaml: str | None = None,
               started_at: datetime | None = None) -> tuple[str, ScoreCard]:
    """Grade and store a log the server produced itself."""
    card = score(scenario, city, seed, log, lang=lang)
    now = datetime.now(UTC)
    run_id = store.save_run(NewRun(
        learner=learner, cohort=cohort, scenario_id=scenario.id, scenario_version=scenario.version,
        scenario_hash=scenario.source_sha256, scenario_yaml=scenario.source_text or scenario.model_dump_json(),
        city_hash=city.content_hash(), engine_version=ENGINE_VERSION, seed=int(seed), decisions=decisions,
        policy=policy, plan_yaml=plan_yaml, log_jsonl=log.to_jsonl(), log_digest=log.digest(),
        scorecard=card.model_dump(mode="json"), total=card.total, passed=card.passed,
        provisional=card.provisional, source=source, started_at=started_at or now, finished_at=now,
    ))
    return run_id, card


def scenario_from_text(yaml_text: str, label: str = "<stored scenario>", *, base_dir: Path | None = None
                       ) -> tuple[Scenario, City]:
    """Load a scenario from stored text; its city is found relative to ``base_dir`` (bundled scenarios)."""
    return load_scenario(label, text=yaml_text, base_dir=base_dir or BUNDLED_SCENARIOS)


@dataclass
class VerifyReport:
    """Outcome of re-simulating a stored run: ``verified`` or exactly what differs."""

    run_id: str
    verified: bool
    differences: list[str] = field(default_factory=list)
    stored_digest: str = ""
    replayed_digest: str = ""
    stored_total: float | None = None
    replayed_total: float | None = None

    def __str__(self) -> str:
        if self.verified:
            return f"run {self.run_id}: verified (digest {self.stored_digest[:16]}…, score {self.stored_total:.1f})"
        return f"run {self.run_id}: NOT verified\n" + "\n".join(f"  - {d}" for d in self.differences)


def verify_run(store: Store, run_id: str, *, scenarios_dir: Path | None = None) -> VerifyReport:
    """Re-simulate a stored run from its stored inputs and compare digest and score."""
    run = store.get_run(run_id)
    if run is None:
        raise StoreError(f"no run {run_id!r}", field="run_id")
    rep = VerifyReport(run_id=run_id, verified=False, stored_digest=run.log_digest, stored_total=run.total)
    diffs = rep.differences
    if run.engine_version != ENGINE_VERSION:
        diffs.append(f"engine version differs: the run was made with {run.engine_version}, this is {ENGINE_VERSION}")
    text_sha = hashlib.sha256(run.scenario_yaml.encode("utf-8")).hexdigest()
    if text_sha != run.scenario_hash:
        diffs.append(f"stored scenario text does not match its hash (stored {run.scenario_hash[:12]}…, "
                     f"text {text_sha[:12]}…): the scenario record was changed")
    current = _current_scenario_file(run.scenario_id, scenarios_dir or BUNDLED_SCENARIOS)
    if current is not None:
        cur_sha = hashlib.sha256(current.read_text(encoding="utf-8-sig").encode("utf-8")).hexdigest()
        if cur_sha != run.scenario_hash:
            diffs.append(f"scenario file changed since the run: {current} now has sha256 {cur_sha[:12]}…, "
                         f"the run used {run.scenario_hash[:12]}… (verifying against the stored copy)")
    stored_log = EventLog.from_jsonl(run.log_jsonl)
    if stored_log.digest() != run.log_digest:
        diffs.append("the stored event log does not match its stored digest: the log was changed")
    try:
        scenario, city = scenario_from_text(run.scenario_yaml, f"<run {run_id} scenario>")
    except ScroSimError as exc:
        raise VerificationError(f"cannot load the stored scenario: {exc}") from None
    if city.content_hash() != run.city_hash:
        if run.city_hash == city.model_hash():
            diffs.append(f"city named the old way: the run names its city by the hash of its model "
                         f"({run.city_hash[:12]}…, engine 0.3.0 and earlier), which this city still has; runs now "
                         f"name it by its file's sha256 ({city.content_hash()[:12]}…), so the replayed log's "
                         f"run_start differs from the stored one")
        else:
            diffs.append(f"city file changed: the run used {run.city_hash[:12]}…, the city file now is "
                         f"{city.content_hash()[:12]}…")
    try:
        log = play_decisions(scenario, city, run.seed, list(run.decisions))
    except ScroSimError as exc:
        diffs.append(f"the stored decisions cannot be replayed: {exc}")
        return rep
    rep.replayed_digest = log.digest()
    if rep.replayed_digest != run.log_digest:
        first = _first_difference(stored_log, log)
        diffs.append(f"re-simulating the stored decisions gives log digest {rep.replayed_digest[:16]}…, "
                     f"the stored log has {run.log_digest[:16]}…: the decisions or the log were changed"
                     + (f" (first difference: {first})" if first else ""))
    stored_card = ScoreCard.model_validate(run.scorecard)
    judgements = {c.id: {"rating": c.rating, "comment": c.comment, "by": c.by}
                  for c in stored_card.criteria if c.status == "judged" and c.rating}
    overrides = _ratings(store, run_id)[1]
    card = score(scenario, city, run.seed, log, lang=stored_card.lang, judgements=judgements, overrides=overrides)
    rep.replayed_total = card.total
    if abs(card.total - run.total) > 1e-6:
        diffs.append(f"score differs: stored {run.total:.2f}, re-computed {card.total:.2f}")
    rep.verified = not any(not d.startswith("scenario file changed") for d in diffs)
    return rep


def _current_scenario_file(scenario_id: str, folder: Path) -> Path | None:
    if not folder.is_dir():
        return None
    for p in sorted(folder.glob("*.yaml")):
        try:
            head = p.read_text(encoding="utf-8-sig")[:4000]
        except OSError:
            continue
        if f"\nid: {scenario_id}\n" in f"\n{head}" or f"\nid: \"{scenario_id}\"" in head:
            return p
    return None


def _first_difference(a: EventLog, b: EventLog) -> str:
    for ra, rb in zip(a, b, strict=False):
        if ra.to_dict() != rb.to_dict():
            return f"record {ra.seq} at t={ra.time:g} h: stored {ra.kind} {ra.subject}, replayed {rb.kind} {rb.subject}"
    if len(a) != len(b):
        return f"stored log has {len(a)} records, replay has {len(b)}"
    return ""


def _ratings(store: Store, run_id: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The current judgements and overrides of a run, in the shape :func:`grade` takes."""
    judgements = {j.criterion_id: {"rating": j.rating, "comment": j.comment, "by": j.assessor}
                  for j in store.judgements(run_id)}
    overrides = {o.criterion_id: {"rating": o.rating, "comment": o.comment, "by": o.assessor}
                 for o in store.overrides(run_id)}
    return judgements, overrides


def _rescore(store: Store, run_id: str, scenario_yaml: str | None = None) -> ScoreCard:
    """Grade a stored log again (its own rubric, or a revised scenario's) and store the new card."""
    run = store.get_run(run_id)
    if run is None:
        raise StoreError(f"no run {run_id!r}", field="run_id")
    if scenario_yaml is None:
        scenario, city = scenario_from_text(run.scenario_yaml, f"<run {run_id} scenario>")
    else:
        scenario, city = scenario_from_text(scenario_yaml, "<revised rubric>")
        if scenario.id != run.scenario_id:
            raise StoreError(f"the revised scenario is {scenario.id!r}, the run is {run.scenario_id!r}",
                             field="scenario")
    old = ScoreCard.model_validate(run.scorecard)
    judgements, overrides = _ratings(store, run_id)
    card = score(scenario, city, run.seed, EventLog.from_jsonl(run.log_jsonl), lang=old.lang,
                 judgements=judgements, overrides=overrides)
    store.update_scorecard(run_id, card.model_dump(mode="json"), card.total, card.passed, card.provisional)
    return card


def judge(store: Store, run_id: str, criterion: str, rating: str, comment: str, assessor: str) -> ScoreCard:
    """An assessor rates a judged criterion; the run is re-graded from its stored log."""
    _check_criterion(store, run_id, criterion, judged=True)
    store.add_judgement(run_id, criterion, rating, comment, assessor)
    return _rescore(store, run_id)


def override(store: Store, run_id: str, criterion: str, rating: str, comment: str, assessor: str) -> ScoreCard:
    """An assessor overrides a rating with a comment; the original stays on the card and in the store."""
    _check_criterion(store, run_id, criterion, judged=None)
    store.add_override(run_id, criterion, rating, comment, assessor)
    return _rescore(store, run_id)


def _check_criterion(store: Store, run_id: str, criterion: str, *, judged: bool | None) -> None:
    run = store.get_run(run_id)
    if run is None:
        raise StoreError(f"no run {run_id!r}", field="run_id")
    card = ScoreCard.model_validate(run.scorecard)
    line = next((c for c in card.criteria if c.id == criterion), None)
    if line is None:
        raise StoreError(f"no criterion {criterion!r} in this run's rubric "
                         f"(criteria: {', '.join(c.id for c in card.criteria)})", field="criterion")
    if judged and line.kind != "judged":
        raise StoreError(f"criterion {criterion!r} is computed; use an override to change its rating",
                         field="criterion")


def regrade(store: Store, run_id: str, scenario_yaml: str | None = None) -> ScoreCard:
    """Re-grade a stored run from its stored log, under its own or a revised rubric (no re-play)."""
    return _rescore(store, run_id, scenario_yaml)


def grade_rows(store: Store, cohort: str | None = None) -> list[GradeRow]:
    """Gradebook rows for a cohort's runs (stored totals already include judgements and overrides)."""
    rows: list[GradeRow] = []
    users = {u.username: u for u in store.list_users()}
    titles: dict[str, str | None] = {}  # by scenario text: parsed once however many runs used it
    for entry in store.gradebook(cohort):
        r = entry.summary
        user = users.get(r.learner)
        card = ScoreCard.model_validate(entry.scorecard)
        if entry.scenario_yaml not in titles:
            try:
                sc, _ = scenario_from_text(entry.scenario_yaml)
                titles[entry.scenario_yaml] = text_in(sc.title, "en")
            except ScroSimError:
                titles[entry.scenario_yaml] = None
        rows.append(GradeRow(
            username=r.learner, email=user.email if user else None, display_name=user.display_name if user else None,
            scenario_id=r.scenario_id, scenario_title=titles[entry.scenario_yaml] or r.scenario_id, run_id=r.id,
            score=r.total, passed=r.passed, provisional=r.provisional, started_at=r.started_at,
            finished_at=r.finished_at, language=card.lang, modules=tuple(m.module for m in card.modules if m.module),
            revised_at=entry.revised_at))
    return rows


def export_cohort(store: Store, cohort: str | None, fmt: str) -> str:
    """Grades of a cohort in ``moodle``, ``openedx`` or ``xapi`` format."""
    return export(grade_rows(store, cohort), fmt)  # type: ignore[arg-type]
