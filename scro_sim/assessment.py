"""Assessment workflow: score a run on the server, store it, verify it, judge, override, export.

This is where the engine, scoring and the store meet (the CLI and the app call only
this): a score is always computed here from the decisions, never accepted from a client,
and :func:`verify_run` re-simulates a stored run to prove its score.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .city import City
from .debrief import expert_log, module_results
from .engine import ENGINE_VERSION, Simulation, replay
from .errors import ScroSimError, StoreError
from .gc_tuning import engine_gc
from .lms import PROVISIONAL_MODES, GradeRow, export, outcome_evidence, xapi_settings
from .log import EventLog
from .policy import PlanPolicy, baseline_policy
from .resources import scenarios_dir as bundled_scenarios_dir
from .scenario import Plan, Scenario, load_scenario, text_in
from .scoring import Metrics, ScoreCard, compute_metrics, grade
from .store import GRADED_ORIGINS, NewRun, RunEvidence, Store, StoredRun

__all__ = [
    "VerifyReport",
    "export_cohort",
    "export_options",
    "grade_rows",
    "judge",
    "override",
    "post_lti_grade",
    "record_log",
    "record_run",
    "reference_metrics",
    "regrade",
    "resign_runs",
    "scenario_from_text",
    "score",
    "verify_run",
]

_log = logging.getLogger("scro_sim.lti")

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
    expert = expert_log(scenario, city, seed)  # the debrief reads the same run, so it is simulated once
    if expert is not None:
        out["expert"] = compute_metrics(expert)
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


def card_in_language(store: Store, run: StoredRun, scenario: Scenario, city: City, lang: str) -> ScoreCard:
    """The run's score card with its titles and feedback worded in ``lang``; the stored card is not changed.

    Re-grades the stored log with the stored judgements and overrides, so ratings and points
    are the record's own; only the words change.  The stored card itself when it is in ``lang``.
    """
    card = ScoreCard.model_validate(run.scorecard)
    if card.lang == lang:
        return card
    judgements, overrides = _ratings(store, run.id)
    return score(scenario, city, run.seed, EventLog.from_jsonl(run.log_jsonl), lang=lang,
                 judgements=judgements, overrides=overrides)


def play_decisions(scenario: Scenario, city: City, seed: int, decisions: list[dict[str, Any]]) -> EventLog:
    """Re-simulate a recorded decision list to the end (the server's own copy of the game)."""
    with engine_gc():
        sim, _ = replay(scenario, city, seed, decisions)
    return sim.log


def record_run(store: Store, scenario: Scenario, city: City, seed: int, decisions: list[dict[str, Any]], *,
               learner: str, cohort: str | None = None, source: str = "play", lang: str = "en",
               started_at: datetime | None = None, game_id: str | None = None,
               origin: str = "played") -> tuple[str, ScoreCard]:
    """Re-simulate ``decisions`` on the server, grade the result and store it; returns (run id, card).

    With ``game_id`` the stored game is finished in the same transaction; a game finished
    already (another window) keeps its one run, whose id is returned.  ``origin``: ``played``,
    or ``practice`` for a practice game (never graded).
    """
    log = play_decisions(scenario, city, seed, decisions)
    return record_log(store, scenario, city, seed, log, decisions=decisions, learner=learner, cohort=cohort,
                      source=source, lang=lang, started_at=started_at, game_id=game_id, origin=origin)


def record_log(store: Store, scenario: Scenario, city: City, seed: int, log: EventLog, *, decisions: list[dict[str, Any]],
               learner: str, cohort: str | None = None, source: str = "cli", lang: str = "en",
               policy: str | None = None, plan_yaml: str | None = None,
               started_at: datetime | None = None, game_id: str | None = None,
               origin: str = "cli") -> tuple[str, ScoreCard]:
    """Grade and store a log the server produced itself.

    ``origin`` says what the run is for (``scro_sim.store.RUN_ORIGINS``); only ``played`` and
    ``plan`` runs ever count toward a grade.

    The card is graded from the log as stored (its canonical JSON Lines, numbers to 12
    significant digits), so re-grading or verifying the stored run later gives it bit for bit.
    """
    text = log.to_jsonl()
    log = EventLog.from_jsonl(text)
    card = score(scenario, city, seed, log, lang=lang)
    now = datetime.now(UTC)
    if started_at is None and game_id is not None:
        # a game played in the app started when it was created, not when it was scored (xAPI durations)
        game = store.load_game(game_id)
        started_at = game.created_at if game is not None and game.created_at <= now else None
    run_id = store.save_run(NewRun(
        learner=learner, cohort=cohort, scenario_id=scenario.id, scenario_version=scenario.version,
        scenario_hash=scenario.source_sha256, scenario_yaml=scenario.source_text or scenario.model_dump_json(),
        city_hash=city.content_hash(), engine_version=ENGINE_VERSION, seed=int(seed), decisions=decisions,
        policy=policy, plan_yaml=plan_yaml, log_jsonl=text, log_digest=log.digest(),
        scorecard=card.model_dump(mode="json"), total=card.total, passed=card.passed,
        provisional=card.provisional, source=source, started_at=started_at or now, finished_at=now,
        game_id=game_id, origin=origin,
    ))
    if origin in GRADED_ORIGINS:
        post_lti_grade(store, learner, scenario.id)
    return run_id, card


def scenario_from_text(yaml_text: str, label: str = "<stored scenario>", *, base_dir: Path | None = None
                       ) -> tuple[Scenario, City]:
    """Load a scenario from stored text; its city is found relative to ``base_dir`` (bundled scenarios)."""
    return load_scenario(label, text=yaml_text, base_dir=base_dir or bundled_scenarios_dir())


@dataclass
class VerifyReport:
    """Outcome of checking a stored run: ``verified`` or exactly what differs.

    ``notes`` are findings that do not fail verification (the bundled scenario file changed
    since the run: the stored copy is what counts).
    """

    run_id: str
    verified: bool
    differences: list[str] = field(default_factory=list)
    stored_digest: str = ""
    replayed_digest: str = ""
    stored_total: float | None = None
    replayed_total: float | None = None
    notes: list[str] = field(default_factory=list)
    signature_missing: bool = False  # the run was never signed (stored before signing)
    signed_digest: str = ""  # what `resign_runs` may sign once everything else verified

    def __str__(self) -> str:
        if self.verified:
            total = "" if self.stored_total is None else f", score {self.stored_total:.1f}"
            return (f"run {self.run_id}: verified (digest {self.stored_digest[:16]}…{total})"
                    + "".join(f"\n  note: {n}" for n in self.notes))
        first, *rest = self.differences or ["(no reason recorded)"]
        return f"run {self.run_id}: not verified: {first}" + "".join(f"\n  - {d}" for d in rest)


def verify_run(store: Store, run_id: str, *, scenarios_dir: Path | None = None) -> VerifyReport:
    """Check a stored run: its signature, then re-simulate it and re-grade it from the stored inputs.

    Everything a page or an export shows of the run is covered: the signature (server secret)
    covers every column, judgement, override and earlier score card; re-simulation proves the
    log and digest from the decisions; re-grading proves the score card, total, pass/fail and
    provisional flag from the log and the judgements and overrides tables.  A damaged column is
    a difference naming it, never an exception.
    """
    ev = store.run_evidence(run_id)
    rep = VerifyReport(run_id=run_id, verified=False)
    diffs = rep.differences
    if ev.problems or ev.run is None:
        diffs.extend(ev.problems)
        return rep
    run = ev.run
    rep.stored_digest, rep.stored_total, rep.signed_digest = run.log_digest, run.total, ev.signed_digest
    if ev.signature is not None and not ev.signature.ok:
        diffs.append(ev.signature.problem)
        rep.signature_missing = ev.signature.problem.startswith("signature missing")
    if run.engine_version != ENGINE_VERSION:
        diffs.append(f"engine version differs: the run was made with {run.engine_version}, this is {ENGINE_VERSION}")
    text_sha = hashlib.sha256(run.scenario_yaml.encode("utf-8")).hexdigest()
    if text_sha != run.scenario_hash:
        diffs.append(f"stored scenario text does not match its hash (stored {run.scenario_hash[:12]}…, "
                     f"text {text_sha[:12]}…): the scenario record was changed")
    current = _current_scenario_file(run.scenario_id, scenarios_dir or bundled_scenarios_dir())
    if current is not None:
        cur_sha = hashlib.sha256(current.read_text(encoding="utf-8-sig").encode("utf-8")).hexdigest()
        if cur_sha != run.scenario_hash:
            rep.notes.append(f"scenario file changed since the run: {current} now has sha256 {cur_sha[:12]}…, "
                             f"the run used {run.scenario_hash[:12]}… (verified against the stored copy)")
    try:
        stored_log: EventLog | None = EventLog.from_jsonl(run.log_jsonl)
    except (ScroSimError, ValueError, TypeError, KeyError) as exc:
        stored_log = None
        diffs.append(f"the stored event log cannot be read: {exc}")
    if stored_log is not None and stored_log.digest() != run.log_digest:
        diffs.append("the stored event log does not match its stored digest: the log was changed")
    try:
        scenario, city = scenario_from_text(run.scenario_yaml, f"<run {run_id} scenario>")
    except ScroSimError as exc:
        diffs.append(f"the stored scenario cannot be loaded: {exc}")
        return rep
    if (scenario.id, scenario.version) != (run.scenario_id, run.scenario_version):
        diffs.append(f"scenario identity differs: the run row says {run.scenario_id} v{run.scenario_version}, "
                     f"its stored scenario is {scenario.id} v{scenario.version}")
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
    except (ScroSimError, ValueError, TypeError, KeyError, AttributeError) as exc:
        diffs.append(f"the stored decisions cannot be replayed: {exc}")
        return rep
    rep.replayed_digest = log.digest()
    if rep.replayed_digest != run.log_digest:
        first = _first_difference(stored_log, log) if stored_log is not None else ""
        diffs.append(f"re-simulating the stored decisions gives log digest {rep.replayed_digest[:16]}…, "
                     f"the stored log has {run.log_digest[:16]}…: the decisions or the log were changed"
                     + (f" (first difference: {first})" if first else ""))
    diffs.extend(_rating_problems(ev))
    try:
        stored_card = ScoreCard.model_validate(run.scorecard)
    except ValidationError as exc:
        diffs.append(f"runs.scorecard is not a score card: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        return rep
    if stored_log is not None and stored_log.digest() == rep.replayed_digest:
        log = stored_log  # the form every card is graded from (numbers as stored)
    try:
        card = _grade_stored(run, log, stored_card.lang, *_current_ratings(ev))
    except ScroSimError as exc:
        diffs.append(f"the run cannot be re-graded: {exc}")
        return rep
    rep.replayed_total = card.total
    fresh = json.loads(json.dumps(card.model_dump(mode="json")))
    diffs.extend(_card_differences(run.scorecard, fresh))
    for name, stored, again in (("total", run.total, card.total), ("passed", run.passed, card.passed),
                                ("provisional", run.provisional, card.provisional)):
        if stored != again:
            diffs.append(f"runs.{name} differs: stored {_show(stored)}, re-computed {_show(again)}")
    rep.verified = not diffs
    return rep


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _card_differences(stored: dict[str, Any], fresh: dict[str, Any], limit: int = 12) -> list[str]:
    """What differs between the stored score card and the re-computed one, field by field."""
    out: list[str] = []
    for key in sorted(set(stored) | set(fresh)):
        if key in ("criteria", "modules") or stored.get(key) == fresh.get(key):
            continue
        out.append(f"score card {key}: stored {_show(stored.get(key))}, re-computed {_show(fresh.get(key))}")
    for part, name in (("criteria", "id"), ("modules", "module")):
        mine, again = stored.get(part) or [], fresh.get(part) or []
        ids_s, ids_f = [x.get(name) for x in mine], [x.get(name) for x in again]
        if ids_s != ids_f:
            out.append(f"score card {part}: stored {_show(ids_s)}, re-computed {_show(ids_f)}")
            continue
        label = "criterion" if part == "criteria" else "module"
        for a, b in zip(mine, again, strict=True):
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key):
                    why = (" (from the judgements and overrides tables)"
                           if key in ("rating", "status", "comment", "by") else "")
                    out.append(f"{label} {a.get(name)} {key}: stored {_show(a.get(key))}, "
                               f"re-computed {_show(b.get(key))}{why}")
    if len(out) > limit:
        out = [*out[:limit], f"… and {len(out) - limit} more differences in the score card"]
    return out


def _current_ratings(ev: RunEvidence) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The newest judgement and override per criterion of a run's evidence."""
    return _by_criterion(ev.judgements), _by_criterion(ev.overrides)


def _rating_problems(ev: RunEvidence) -> list[str]:
    # Who rated is covered by the signature (the store checked the role when the rating was made;
    # a role changed later must not unverify old ratings), so only the table's own rule is checked here.
    return [f"override #{r.id} of {r.criterion_id} has no comment" for r in ev.overrides if not r.comment.strip()]


def _grade_stored(run: StoredRun, log: EventLog, lang: str, judgements: dict[str, dict[str, Any]],
                  overrides: dict[str, dict[str, Any]]) -> ScoreCard:
    """Grade a run's log with the rubric it is graded under (its own, or the revised one that re-graded it)."""
    scenario, city = scenario_from_text(run.rubric_yaml or run.scenario_yaml,
                                        f"<run {run.id} {'revised rubric' if run.rubric_yaml else 'scenario'}>")
    return score(scenario, city, run.seed, log, lang=lang, judgements=judgements, overrides=overrides)


def resign_runs(store: Store, run_ids: list[str] | None = None, *, unsigned: bool = False,
                scenarios_dir: Path | None = None) -> list[tuple[str, str]]:
    """Move runs to the current signing key: each is checked with the key it was signed with, then re-signed.

    With ``unsigned``, runs that were never signed (stored before signing) are signed too, but
    only after :func:`verify_run` found nothing else wrong with them.  Returns (run id, outcome)
    pairs; an outcome that is not ``current``, ``re-signed`` or ``signed`` says why the run was left alone.
    """
    out: list[tuple[str, str]] = []
    for run_id in run_ids if run_ids is not None else store.run_ids():
        try:
            out.append((run_id, store.resign_run(run_id)))
            continue
        except StoreError as exc:
            reason = _message(exc)
        if unsigned and "signature missing" in reason:
            rep = verify_run(store, run_id, scenarios_dir=scenarios_dir)
            if rep.signature_missing and rep.differences and all(d.startswith("signature missing")
                                                                 for d in rep.differences):
                try:
                    out.append((run_id, store.resign_run(run_id, unsigned_digest=rep.signed_digest)))
                    continue
                except StoreError as exc:
                    reason = _message(exc)
            else:
                reason = f"not verified: {'; '.join(d for d in rep.differences if not d.startswith('signature'))}"
        out.append((run_id, reason))
    return out


def _message(exc: ScroSimError) -> str:
    return "; ".join(p.message for p in exc.problems) or str(exc)


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
    return _by_criterion(store.judgements(run_id)), _by_criterion(store.overrides(run_id))


def _by_criterion(rows: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Judgement or override rows as :func:`grade` takes them; the rows come in the order they were
    made, so the newest of a criterion wins."""
    return {r.criterion_id: {"rating": r.rating, "comment": r.comment, "by": r.assessor} for r in rows}


def _rescore(store: Store, run_id: str, scenario_yaml: str | None = None) -> ScoreCard:
    """Grade a stored log again (its own rubric, or a revised scenario's) and store the new card."""
    run = store.get_run(run_id)
    if run is None:
        raise StoreError(f"no run {run_id!r}", field="run_id")
    if scenario_yaml is not None:
        scenario, _ = scenario_from_text(scenario_yaml, "<revised rubric>")
        if scenario.id != run.scenario_id:
            raise StoreError(f"the revised scenario is {scenario.id!r}, the run is {run.scenario_id!r}",
                             field="scenario")
        run = replace(run, rubric_yaml=scenario_yaml)
    old = ScoreCard.model_validate(run.scorecard)
    judgements, overrides = _ratings(store, run_id)
    card = _grade_stored(run, EventLog.from_jsonl(run.log_jsonl), old.lang, judgements, overrides)
    store.update_scorecard(run_id, card.model_dump(mode="json"), card.total, card.passed, card.provisional,
                           rubric_yaml=scenario_yaml)
    if run.origin in GRADED_ORIGINS:
        post_lti_grade(store, run.learner, run.scenario_id)
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


def grade_rows(store: Store, cohort: str | None = None, *, learner: str | None = None) -> list[GradeRow]:
    """Gradebook rows for a cohort's (or one learner's) graded attempts (stored totals already include
    judgements and overrides).

    Only runs learners played or submitted as their own plan (``GRADED_ORIGINS``) are read;
    practice games and reference, baseline, command-line and legacy runs never reach a grade.
    Each row carries its scenario's grading method and pass mark, which the exports apply.
    """
    rows: list[GradeRow] = []
    users = {u.username: u for u in store.list_users()}
    # by scenario text: parsed once however many runs used it
    scenarios: dict[str, tuple[str | None, str, float | None]] = {}
    for entry in store.gradebook(cohort, origins=GRADED_ORIGINS, learner=learner):
        r = entry.summary
        user = users.get(r.learner)
        card = ScoreCard.model_validate(entry.scorecard)
        if entry.scenario_yaml not in scenarios:
            try:
                sc, _ = scenario_from_text(entry.scenario_yaml)
                scenarios[entry.scenario_yaml] = (text_in(sc.title, "en"), sc.grading.method, sc.rubric.pass_mark)
            except ScroSimError:
                scenarios[entry.scenario_yaml] = (None, "highest", None)
        title, method, pass_mark = scenarios[entry.scenario_yaml]
        rows.append(GradeRow(
            username=r.learner, email=user.email if user else None, display_name=user.display_name if user else None,
            scenario_id=r.scenario_id, scenario_title=title or r.scenario_id, run_id=r.id,
            score=r.total, passed=r.passed, provisional=r.provisional, started_at=r.started_at,
            finished_at=r.finished_at, language=card.lang, modules=tuple(m.module for m in card.modules if m.module),
            module_results=tuple((m.module, m.title, m.score) for m in module_results(card, card.lang) if m.module),
            outcomes=outcome_evidence(c.model_dump() for c in card.criteria),
            revised_at=entry.revised_at, grading=method, pass_mark=pass_mark))
    return rows


#: The environment variable that sets what exports do with provisional grades (``mark`` or ``hold``).
PROVISIONAL_ENV = "SCRO_SIM_PROVISIONAL"


def provisional_mode(given: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """What exports do with provisional grades: ``given`` (a command-line flag), else ``$SCRO_SIM_PROVISIONAL``,
    else ``mark``; anything but ``mark`` or ``hold`` is refused naming where it came from."""
    env = os.environ if env is None else env
    value, where = (given, "--provisional") if given is not None else (env.get(PROVISIONAL_ENV, "").strip() or None,
                                                                       PROVISIONAL_ENV)
    if value is None:
        return "mark"
    if value not in PROVISIONAL_MODES:
        raise ScroSimError(f"{value!r} is not one of {', '.join(PROVISIONAL_MODES)} (mark provisional grades, or "
                           f"hold them back until rated)", field=where)
    return value


def export_options(fmt: str, *, openedx_map: str | None = None, xapi_homepage: str | None = None,
                   xapi_activity_base: str | None = None) -> dict[str, Any]:
    """A format's settings, from the given values (command-line options), else the environment: the Open
    edX ids (``$SCRO_SIM_OPENEDX_MAP``) for ``openedx``, the xAPI addresses for ``xapi``; none for others.

    A missing mapping, a broken mapping file or an address that is not an IRI raises :class:`ScroSimError`.
    """
    if fmt in ("openedx", "openedx-bulk"):
        from .openedx_map import OPENEDX_MAP_ENV, load_openedx_map, openedx_map_path

        path = openedx_map_path(openedx_map)
        if path is None:
            raise ScroSimError(f"the Open edX import needs the course's Open edX ids: give --openedx-map FILE or set "
                               f"${OPENEDX_MAP_ENV} (README, 'Open edX'); openedx-sheet is a readable sheet "
                               "Open edX cannot import", field="--openedx-map")
        return load_openedx_map(path).export_options()
    if fmt == "xapi":
        try:
            return xapi_settings(xapi_homepage, xapi_activity_base)
        except ValueError as exc:
            raise ScroSimError(str(exc), field="xapi") from None
    return {}


def export_cohort(store: Store, cohort: str | None, fmt: str, *, provisional: str | None = None,
                  options: Mapping[str, Any] | None = None) -> str:
    """Grades of a cohort in one of :data:`scro_sim.lms.FORMATS`.

    ``provisional``: ``mark`` or ``hold`` (None: :func:`provisional_mode`'s setting); the Open edX
    import cannot carry a mark, so ``openedx`` always holds provisional grades back.  ``options`` go
    to the exporter: the Open edX ids (:meth:`scro_sim.openedx_map.OpenedxMap.export_options`) for
    ``openedx``, ``homepage`` and ``activity_base`` (:func:`scro_sim.lms.xapi_settings`) for ``xapi``.
    """
    mode = "hold" if fmt in ("openedx", "openedx-bulk") else provisional_mode(provisional)
    return export(grade_rows(store, cohort), fmt, provisional=mode, **dict(options or {}))  # type: ignore[arg-type]



def post_lti_grade(store: Store, learner: str, scenario_id: str, config: Any = None) -> list[tuple[str, str]]:
    """Send ``learner``'s grade of ``scenario_id`` to the course platforms they launched it from (LTI AGS).

    Called when a graded run is stored and when an assessor's rating or override changes its
    grade; does nothing unless ``$SCRO_SIM_LTI_CONFIG`` names a set-up and a launch recorded a
    line item.  Provisional grades follow :func:`provisional_mode`.  A platform that cannot be
    reached never stops the run or the rating: the failure is logged and stored, and
    ``scro-sim lti-sync`` sends it again.  Returns (line item, ``sent`` or ``failed: why``) pairs.
    ``config``: an :class:`~scro_sim.lti.LtiConfig` to use instead of the environment's.
    """
    from .lti import configured
    from .lti.passback import send_grade

    try:
        config = config or configured()
        if config is None or not store.lti_line_items(learner, scenario_id):
            return []
        rows = [r for r in grade_rows(store, learner=learner) if r.scenario_id == scenario_id]
        return [(item.lineitem, status)
                for item, status in send_grade(store, config, learner, scenario_id, rows, provisional_mode())]
    except ScroSimError as exc:
        _log.error("grade of %s for %s not sent to the course platform: %s", learner, scenario_id, exc)
        return []
