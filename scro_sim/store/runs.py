"""Scored runs, their score-card history, judgements and overrides."""

from __future__ import annotations

import math
import uuid
import zlib
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from ..errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    pass
from ._common import (
    _JUDGES,
    RATINGS,
    RUN_SOURCES,
)
from ._util import (
    _aware,
    _choice,
    _int,
    _json,
    _sha256,
    _text,
)
from .records import (
    GradebookEntry,
    Judgement,
    NewRun,
    Override,
    RunSummary,
    ScorecardRevision,
    StoredRun,
)
from .tables import (
    _HistoryRow,
    _JudgementRow,
    _now,
    _OverrideRow,
    _RatedRow,
    _RunRow,
    _TextRow,
    _UserRow,
)


class RunsMixin:
    """Scored runs, their score-card history, judgements and overrides (part of Store)."""


    # -- runs

    @staticmethod
    def _put_text(session: Session, body: str) -> str:
        sha = _sha256(body)
        if session.get(_TextRow, sha) is None:
            session.add(_TextRow(sha256=sha, body=body))
            session.flush()  # before the run row that refers to it (no ORM relationship orders them)
        return sha

    @staticmethod
    def _run_row(session: Session, run_id: str, *, lock: bool = False) -> _RunRow:
        query = select(_RunRow).where(_RunRow.id == run_id)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none() if isinstance(run_id, str) else None
        if row is None:
            raise StoreError(f"unknown run {run_id!r}", field="run_id")
        return row

    @staticmethod
    def _check_grade(total: object, passed: object, provisional: object) -> float:
        if isinstance(total, bool) or not isinstance(total, int | float) or not math.isfinite(total):
            raise StoreError(f"must be a number, got {total!r}", field="total")
        if not 0.0 <= float(total) <= 100.0:
            raise StoreError(f"must be between 0 and 100, got {total!r}", field="total")
        for name, value in (("passed", passed), ("provisional", provisional)):
            if not isinstance(value, bool):
                raise StoreError(f"must be true or false, got {value!r}", field=name)
        return float(total)

    def save_run(self, rec: NewRun) -> str:
        """Save a scored run in one transaction and return its id (uuid4 hex)."""
        if not isinstance(rec, NewRun):
            raise StoreError("save_run takes a NewRun", field="rec")
        _text(rec.learner, "learner", 64)
        if rec.cohort is not None:
            _text(rec.cohort, "cohort", 64)
        _text(rec.scenario_id, "scenario_id", 128)
        _text(rec.scenario_version, "scenario_version", 64, empty=True)
        _text(rec.scenario_hash, "scenario_hash", 128)
        _text(rec.scenario_yaml, "scenario_yaml", 10_000_000)
        _text(rec.city_hash, "city_hash", 128, empty=True)
        _text(rec.engine_version, "engine_version", 64)
        _int(rec.seed, "seed")
        _json(rec.decisions, "decisions", list)
        if rec.policy is not None:
            _text(rec.policy, "policy", 255)
        if rec.plan_yaml is not None:
            _text(rec.plan_yaml, "plan_yaml", 10_000_000)
        if not isinstance(rec.log_jsonl, str):
            raise StoreError("must be a string", field="log_jsonl")
        _text(rec.log_digest, "log_digest", 128)
        _json(rec.scorecard, "scorecard", dict)
        total = self._check_grade(rec.total, rec.passed, rec.provisional)
        _choice(rec.source, RUN_SOURCES, "source")
        started, finished = _aware(rec.started_at, "started_at"), _aware(rec.finished_at, "finished_at")
        raw = rec.log_jsonl.encode("utf-8")
        log_z = zlib.compress(raw, 6)  # outside the write lock: a few MB take a while
        run_id = uuid.uuid4().hex

        def work(s: Session) -> str:
            row = _RunRow(
                id=run_id,
                learner=rec.learner,
                cohort=rec.cohort,
                scenario_id=rec.scenario_id,
                scenario_version=rec.scenario_version,
                scenario_hash=rec.scenario_hash,
                scenario_text=self._put_text(s, rec.scenario_yaml),
                city_hash=rec.city_hash,
                engine_version=rec.engine_version,
                seed=rec.seed,
                decisions=rec.decisions,
                policy=rec.policy,
                plan_text=None if rec.plan_yaml is None else self._put_text(s, rec.plan_yaml),
                log_z=log_z,
                log_size=len(raw),
                log_digest=rec.log_digest,
                scorecard=rec.scorecard,
                total=total,
                passed=rec.passed,
                provisional=rec.provisional,
                source=rec.source,
                started_at=started,
                finished_at=finished,
                created_at=_now(),
            )
            s.add(row)
            return run_id

        return self._write(work)

    def get_run(self, run_id: str) -> StoredRun | None:
        """A saved run with its decompressed log and texts, or None."""
        with self._read() as s:
            row = s.get(_RunRow, run_id) if isinstance(run_id, str) else None
            if row is None:
                return None
            scenario_yaml = s.get_one(_TextRow, row.scenario_text).body
            plan_yaml = None if row.plan_text is None else s.get_one(_TextRow, row.plan_text).body
            try:
                log = zlib.decompress(row.log_z).decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as exc:
                raise StoreError(f"run {run_id}: stored log is corrupt: {exc}", field="log_jsonl") from exc
            texts: dict[str, Any] = {"scenario_yaml": scenario_yaml, "plan_yaml": plan_yaml, "log_jsonl": log}
            values: dict[str, Any] = {
                f.name: getattr(row, f.name) for f in fields(StoredRun) if f.name not in texts
            }
            return StoredRun(**values, **texts)

    def list_runs(
        self,
        learner: str | None = None,
        scenario: str | None = None,
        cohort: str | None = None,
        provisional: bool | None = None,
        limit: int | None = None,
        source: str | None = None,
    ) -> list[RunSummary]:
        """Summaries of saved runs, newest first (ties by id), filtered by whatever is given."""
        r = _RunRow
        cols = [getattr(r, f.name) for f in fields(RunSummary)]  # everything but the log and texts
        query = select(*cols).order_by(r.created_at.desc(), r.id.desc())
        if learner is not None:
            query = query.where(r.learner == learner)
        if scenario is not None:
            query = query.where(r.scenario_id == scenario)
        if cohort is not None:
            query = query.where(r.cohort == cohort)
        if provisional is not None:
            query = query.where(r.provisional == bool(provisional))
        if source is not None:
            query = query.where(r.source == source)
        if limit is not None:
            query = query.limit(_int(limit, "limit", low=0))
        with self._read() as s:
            return [RunSummary(**row._mapping) for row in s.execute(query)]

    def gradebook(self, cohort: str | None = None) -> list[GradebookEntry]:
        """A cohort's runs (all runs without one), newest first, with what a grade export needs.

        Three queries whatever the number of runs, and no log is read: an LMS export of a large
        cohort used to decompress every run's log and ask for each run's history on its own.
        """
        r = _RunRow
        cols = [getattr(r, f.name) for f in fields(RunSummary)]
        query = select(*cols, r.scorecard, r.scenario_text).order_by(r.created_at.desc(), r.id.desc())
        if cohort is not None:
            query = query.where(r.cohort == cohort)
        with self._read() as s:
            rows = [row._mapping for row in s.execute(query)]
            ids = [m["id"] for m in rows]
            revised: dict[str, list[Any]] = {}
            texts: dict[str, str] = {}
            for chunk in range(0, len(ids), 500):  # keeps each IN (...) list within every database's limits
                part = ids[chunk:chunk + 500]
                history = select(_HistoryRow.run_id, _HistoryRow.replaced_at).where(
                    _HistoryRow.run_id.in_(part)).order_by(_HistoryRow.id)
                for run_id, replaced_at in s.execute(history):
                    revised.setdefault(run_id, []).append(replaced_at)
            hashes = sorted({m["scenario_text"] for m in rows})
            for chunk in range(0, len(hashes), 500):
                part = hashes[chunk:chunk + 500]
                for sha, body in s.execute(select(_TextRow.sha256, _TextRow.body).where(_TextRow.sha256.in_(part))):
                    texts[sha] = body
            names = [f.name for f in fields(RunSummary)]
            return [GradebookEntry(RunSummary(**{k: m[k] for k in names}), m["scorecard"], texts[m["scenario_text"]],
                                   tuple(revised.get(m["id"], ()))) for m in rows]

    def update_scorecard(
        self,
        run_id: str,
        scorecard: dict[str, Any],
        total: float,
        passed: bool,
        provisional: bool,
        *,
        note: str = "",
    ) -> None:
        """Re-grade a run; the previous scorecard is kept in ``scorecard_history``."""
        _json(scorecard, "scorecard", dict)
        total = self._check_grade(total, passed, provisional)
        _text(note, "note", 10_000, empty=True)

        def work(s: Session) -> None:
            row = self._run_row(s, run_id, lock=True)
            s.add(
                _HistoryRow(
                    run_id=row.id,
                    scorecard=row.scorecard,
                    total=row.total,
                    passed=row.passed,
                    provisional=row.provisional,
                    note=note,
                    replaced_at=_now(),
                )
            )
            row.scorecard, row.total, row.passed, row.provisional = scorecard, total, passed, provisional

        self._write(work)

    def scorecard_history(self, run_id: str) -> list[ScorecardRevision]:
        """Earlier scorecards of a run, oldest first."""
        with self._read() as s:
            self._run_row(s, run_id)
            rows = s.scalars(select(_HistoryRow).where(_HistoryRow.run_id == run_id).order_by(_HistoryRow.id))
            return [
                ScorecardRevision(
                    h.id, h.run_id, h.scorecard, h.total, h.passed, h.provisional, h.note, h.replaced_at
                )
                for h in rows
            ]

    # -- judgements and overrides

    def _rate(
        self,
        table: type[_RatedRow],
        run_id: str,
        criterion_id: str,
        rating: str,
        comment: str,
        assessor: str,
        *,
        need_comment: bool,
    ) -> Judgement | Override:
        _text(criterion_id, "criterion_id", 128)
        _choice(rating, RATINGS, "rating")
        _text(comment, "comment", 20_000, empty=not need_comment)
        make = Judgement if table is _JudgementRow else Override

        def work(s: Session) -> Judgement | Override:
            run = self._run_row(s, run_id)
            who = self._user_row(s, assessor, "assessor")
            if who.role not in _JUDGES:
                raise StoreError(
                    f"{assessor!r} is a {who.role}: only assessors and admins rate runs", field="assessor"
                )
            row = table(
                run_id=run.id,
                criterion_id=criterion_id,
                rating=rating,
                comment=comment,
                assessor_id=who.id,
                created_at=_now(),
            )
            s.add(row)
            s.flush()
            return make(
                row.id, row.run_id, row.criterion_id, row.rating, row.comment, who.username, row.created_at
            )

        return self._write(work)

    def _ratings(self, table: type[_RatedRow], run_id: str, current_only: bool) -> list[Any]:
        make = Judgement if table is _JudgementRow else Override
        with self._read() as s:
            self._run_row(s, run_id)
            query = (
                select(table, _UserRow.username)
                .join(_UserRow, _UserRow.id == table.assessor_id)
                .where(table.run_id == run_id)
                .order_by(table.id)
            )
            rows = [
                make(r.id, r.run_id, r.criterion_id, r.rating, r.comment, name, r.created_at)
                for r, name in s.execute(query)
            ]
        if not current_only:
            return rows
        latest: dict[str, Any] = {}
        for r in rows:  # ordered by id: a later one supersedes an earlier one
            latest[r.criterion_id] = r
        return [latest[k] for k in sorted(latest)]

    def add_judgement(
        self, run_id: str, criterion_id: str, rating: str, comment: str, assessor: str
    ) -> Judgement:
        """Rate a judged criterion (P/S/M/U); assessors and admins only.  Earlier ratings are kept."""
        result = self._rate(
            _JudgementRow, run_id, criterion_id, rating, comment, assessor, need_comment=False
        )
        assert isinstance(result, Judgement)
        return result

    def add_override(
        self, run_id: str, criterion_id: str, rating: str, comment: str, assessor: str
    ) -> Override:
        """Override a criterion's rating (P/S/M/U) with a required comment; the scorecard stays as it was."""
        result = self._rate(_OverrideRow, run_id, criterion_id, rating, comment, assessor, need_comment=True)
        assert isinstance(result, Override)
        return result

    def judgements(self, run_id: str, current_only: bool = True) -> list[Judgement]:
        """A run's judgements: the newest per criterion (by criterion id), or all in order made."""
        return self._ratings(_JudgementRow, run_id, current_only)

    def overrides(self, run_id: str, current_only: bool = True) -> list[Override]:
        """A run's overrides: the newest per criterion (by criterion id), or all in order made."""
        return self._ratings(_OverrideRow, run_id, current_only)
