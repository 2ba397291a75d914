"""Scored runs, their score-card history, judgements and overrides; every write re-signs the run."""

from __future__ import annotations

import hashlib
import math
import uuid
import zlib
from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select, type_coerce, update
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON, Boolean, Float, Integer, LargeBinary, NullType, String

from ..errors import StoreError
from ._common import (
    _JUDGES,
    GRADED_ORIGINS,
    RATINGS,
    RUN_ORIGINS,
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
from .feedback import signed_feedback
from .records import (
    GradebookEntry,
    Judgement,
    NewRun,
    Override,
    RunEvidence,
    RunSummary,
    ScorecardRevision,
    StoredRun,
)
from .signing import Keyring, SignatureCheck, canonical
from .tables import (
    IntText,
    UTCDateTime,
    _GameRow,
    _HistoryRow,
    _JudgementRow,
    _now,
    _OverrideRow,
    _RatedRow,
    _RunRow,
    _TextRow,
    _UserRow,
)

_RUNS: Table = _RunRow.__table__  # type: ignore[assignment]
# Everything of a run row that is signed: all but the compressed log (its digest is signed, and
# verification checks the log against it) and the signature itself.  ``game_id`` only links the
# run to the game it scored (added by 0004: runs signed before it must still verify).
_SIGNED_COLUMNS = tuple(c.name for c in _RUNS.columns if c.name not in ("log_z", "signature", "game_id"))


def _decode(dialect: Dialect, table: Table, raw: Mapping[str, Any], where: str,
            problems: list[str]) -> dict[str, Any]:
    """Turn raw database values into Python ones, column by column; what cannot be is a problem, not a crash."""
    out: dict[str, Any] = {}
    for col in table.columns:
        if col.name not in raw:
            continue
        name, value, kind = f"{where}.{col.name}", raw[col.name], col.type
        out[col.name] = None
        if value is None:
            if not col.nullable:
                problems.append(f"{name} is missing (NULL)")
            continue
        if isinstance(kind, Boolean) and (isinstance(value, str | float) or value not in (0, 1)):
            problems.append(f"{name} is not true or false: {value!r}")
            continue
        try:
            # only the types that convert (numbers, text and bytes come from the driver as they are)
            proc = (kind.dialect_impl(dialect).result_processor(dialect, None)
                    if isinstance(kind, JSON | IntText | UTCDateTime | Boolean) else None)
            value = proc(value) if proc is not None else value
        except Exception as exc:  # whatever a corrupt value makes the driver's converter raise
            what = "is not valid JSON" if isinstance(kind, JSON) else "cannot be read"
            problems.append(f"{name} {what} ({type(exc).__name__}: {exc})")
            continue
        if value is None:  # e.g. JSON 'null'
            if not col.nullable:
                problems.append(f"{name} is null")
            continue
        if isinstance(value, memoryview):
            value = value.tobytes()
        want: type | tuple[type, ...] | None = (
            int if isinstance(kind, IntText | Integer) else datetime if isinstance(kind, UTCDateTime)
            else bool if isinstance(kind, Boolean) else (int, float) if isinstance(kind, Float)
            else bytes if isinstance(kind, LargeBinary) else str if isinstance(kind, String) else None)
        if want is not None and (not isinstance(value, want) or (want is not bool and isinstance(value, bool))):
            problems.append(f"{name} has the wrong type: {type(value).__name__} {value!r:.60}")
            continue
        if isinstance(kind, Float):
            if not math.isfinite(value):
                problems.append(f"{name} is not a finite number: {value!r}")
                continue
            value = float(value)
        out[col.name] = value
    return out


def _raw_columns(table: Table, skip: tuple[str, ...] = ()) -> list[Any]:
    # NullType: the driver's value, untouched; _decode applies each column's own conversion
    return [type_coerce(c, NullType()).label(c.name) for c in table.columns if c.name not in skip]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


class RunsMixin:
    """Scored runs, their score-card history, judgements and overrides (part of Store)."""

    # -- signing

    @property
    def keyring(self) -> Keyring:
        """The keys runs are signed and verified with (see :mod:`scro_sim.store.signing`)."""
        ring: Keyring | None = getattr(self, "_keyring", None)
        if ring is None:
            url = self.url  # type: ignore[attr-defined]
            db = url.database if url.get_backend_name() == "sqlite" else None
            if db and db != ":memory:" and not db.startswith("file:"):  # a local file: a secret file beside it
                ring = Keyring.from_environment(Path(db).with_name(Path(db).name + ".secret"))
            else:
                ring = Keyring.from_environment()
                if ring.current is None and url.get_backend_name() == "sqlite":
                    # an in-memory database lives no longer than this process, nor need its key
                    ring = Keyring(Keyring.ephemeral().current, ring.old, "a random key for this process")
            self._keyring = ring
        return ring

    def _read_run(self, s: Session, run_id: str, *,
                  with_log: bool) -> tuple[RunEvidence, dict[str, Any], Any]:
        """Read a run and its ratings and history leniently (see :class:`RunEvidence`); no signature check."""
        dialect = s.get_bind().dialect
        problems: list[str] = []
        raw = s.execute(select(*_raw_columns(_RUNS, () if with_log else ("log_z",)))
                        .where(_RUNS.c.id == run_id)).mappings().one_or_none()
        if raw is None:
            raise StoreError(f"unknown run {run_id!r}", field="run_id")
        v = _decode(dialect, _RUNS, raw, "runs", problems)
        texts: dict[str, str] = {}
        wanted = [v.get(k) for k in ("scenario_text", "plan_text", "rubric_text") if isinstance(v.get(k), str)]
        if wanted:
            t_raw = s.execute(select(*_raw_columns(_TextRow.__table__)).where(  # type: ignore[arg-type]
                _TextRow.sha256.in_(wanted))).mappings().all()
            for m in t_raw:
                t = _decode(dialect, _TextRow.__table__, m, "texts", problems)  # type: ignore[arg-type]
                if isinstance(t.get("body"), str):
                    texts[str(t["sha256"])] = t["body"]
                    if _sha256(t["body"]) != t["sha256"]:
                        problems.append(f"texts {str(t['sha256'])[:12]}…: the stored text does not match its "
                                        f"sha256 (the scenario or plan text was changed)")
        for k in ("scenario_text", "plan_text", "rubric_text"):
            if isinstance(v.get(k), str) and v[k] not in texts:
                problems.append(f"runs.{k}: no stored text {v[k]!r:.20}")
        rated: dict[str, list[Any]] = {"judgements": [], "overrides": []}
        for table_cls, make in ((_JudgementRow, Judgement), (_OverrideRow, Override)):
            table: Table = table_cls.__table__  # type: ignore[assignment]
            query = (select(*_raw_columns(table), _UserRow.username)
                     .outerjoin(_UserRow, _UserRow.id == table.c.assessor_id)
                     .where(table.c.run_id == run_id).order_by(table.c.id))
            for m in s.execute(query).mappings():
                where = f"{table.name} #{m['id']}"
                before = len(problems)
                r = _decode(dialect, table, m, where, problems)
                if m["username"] is None:
                    problems.append(f"{where}: its assessor (user #{m['assessor_id']}) does not exist")
                elif r.get("rating") not in RATINGS:
                    problems.append(f"{where}.rating {r.get('rating')!r} is not one of {', '.join(RATINGS)}")
                if len(problems) == before:
                    rated[table.name].append(make(r["id"], r["run_id"], r["criterion_id"], r["rating"], r["comment"],
                                                  m["username"], r["created_at"]))
        history: list[ScorecardRevision] = []
        h_table: Table = _HistoryRow.__table__  # type: ignore[assignment]
        for m in s.execute(select(*_raw_columns(h_table)).where(h_table.c.run_id == run_id)
                           .order_by(h_table.c.id)).mappings():
            before = len(problems)
            h = _decode(dialect, h_table, m, f"scorecard_history #{m['id']}", problems)
            if len(problems) == before:
                if not isinstance(h["scorecard"], dict):
                    problems.append(f"scorecard_history #{m['id']}.scorecard is not an object")
                    continue
                history.append(ScorecardRevision(h["id"], h["run_id"], h["scorecard"], h["total"], h["passed"],
                                                 h["provisional"], h["note"], h["replaced_at"]))
        if isinstance(v.get("decisions"), list) and not all(isinstance(d, dict) for d in v["decisions"]):
            problems.append("runs.decisions is not a list of decisions (objects)")
        elif v.get("decisions") is not None and not isinstance(v["decisions"], list):
            problems.append("runs.decisions is not a list")
        if v.get("scorecard") is not None and not isinstance(v["scorecard"], dict):
            problems.append("runs.scorecard is not an object")
        log = ""
        if with_log and isinstance(v.get("log_z"), bytes):
            try:
                log = zlib.decompress(v["log_z"]).decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as exc:
                problems.append(f"runs.log_z: the stored log is corrupt ({exc})")
            else:
                if isinstance(v.get("log_size"), int) and v["log_size"] != len(log.encode("utf-8")):
                    problems.append(f"runs.log_size {v['log_size']} does not match the stored log "
                                    f"({len(log.encode('utf-8'))} bytes)")
        signed: dict[str, Any] = {}
        run: StoredRun | None = None
        if not problems:
            signed = {k: _iso(v[k]) if isinstance(v[k], datetime) else v[k] for k in _SIGNED_COLUMNS}
            signed["judgements"] = [[j.id, j.criterion_id, j.rating, j.comment, j.assessor, _iso(j.created_at)]
                                    for j in rated["judgements"]]
            signed["overrides"] = [[o.id, o.criterion_id, o.rating, o.comment, o.assessor, _iso(o.created_at)]
                                   for o in rated["overrides"]]
            signed["history"] = [[h.id, h.scorecard, h.total, h.passed, h.provisional, h.note, _iso(h.replaced_at)]
                                 for h in history]
            # comments, answer ratings and plan items (0006): only the kinds a run has, so older signatures hold
            signed.update(signed_feedback(s, run_id))
            summary = {f.name: v[f.name] for f in fields(RunSummary)}
            run = StoredRun(**summary, scenario_yaml=texts[v["scenario_text"]], decisions=v["decisions"],
                            plan_yaml=None if v["plan_text"] is None else texts[v["plan_text"]], log_jsonl=log,
                            scorecard=v["scorecard"],
                            rubric_yaml=None if v["rubric_text"] is None else texts[v["rubric_text"]],
                            game_id=v.get("game_id"))
        digest = hashlib.sha256(canonical(signed)).hexdigest() if signed else ""
        return (RunEvidence(run_id, run, tuple(rated["judgements"]), tuple(rated["overrides"]), tuple(history),
                            tuple(problems), None, digest), signed, v.get("signature"))

    def run_evidence(self, run_id: str) -> RunEvidence:
        """Everything stored about a run, with its signature checked; unreadable columns are listed, not raised."""
        if not isinstance(run_id, str):
            raise StoreError(f"unknown run {run_id!r}", field="run_id")
        with self._read() as s:  # type: ignore[attr-defined]
            ev, signed, signature = self._read_run(s, run_id, with_log=True)
            if ev.problems:
                return ev
            check = self._check_signature(s, ev, signed, signature)
        return RunEvidence(ev.run_id, ev.run, ev.judgements, ev.overrides, ev.history, ev.problems, check,
                           ev.signed_digest)

    def _check_signature(self, s: Session, ev: RunEvidence, signed: Mapping[str, Any],
                         signature: object) -> SignatureCheck:
        """The keyring's check of a run's signature; a layout-1 signature (made before runs recorded
        their origin) holds only while the origin is the one migration 0005 gave such a run."""
        check = self.keyring.check(signed, signature if isinstance(signature, str) else None)
        if check.ok and check.layout == 1:
            game_id = ev.run.game_id if ev.run is not None else None
            linked = game_id is not None or s.scalar(
                select(_GameRow.id).where(_GameRow.run_id == ev.run_id).limit(1)) is not None
            expected = "played" if linked else "legacy"
            if signed.get("origin") != expected:
                return SignatureCheck(False, problem=f"signature does not match: origin differs from what was signed "
                                                     f"(a run signed before origins were recorded is {expected!r})",
                                      fields=("origin",), layout=1)
        return check

    def _sign(self, s: Session, run_id: str, *, expect: str | None = None) -> None:
        """Sign the run as it now is in ``s`` (flushed); ``expect``: the signed-fields digest it must have."""
        s.flush()
        ev, signed, _ = self._read_run(s, run_id, with_log=False)
        if ev.problems:
            raise StoreError(f"run {run_id} cannot be signed: {'; '.join(ev.problems)}", field="run_id")
        if expect is not None and ev.signed_digest != expect:
            raise StoreError(f"run {run_id} changed while it was being verified; not signed", field="run_id")
        s.execute(update(_RUNS).where(_RUNS.c.id == run_id).values(signature=self.keyring.sign(signed)))

    def _require_signed(self, s: Session, run_id: object) -> str:
        """Lock the run and refuse to change (so re-sign) it unless its stored record carries a valid signature."""
        query = select(_RunRow.id).where(_RunRow.id == run_id).with_for_update()
        if not isinstance(run_id, str) or s.scalar(query) is None:
            raise StoreError(f"unknown run {run_id!r}", field="run_id")
        ev, signed, signature = self._read_run(s, run_id, with_log=False)
        problem = "; ".join(ev.problems)
        if not problem:
            check = self._check_signature(s, ev, signed, signature)
            problem = "" if check.ok else check.problem
        if problem:
            raise StoreError(f"run {run_id} does not verify ({problem}); it is not changed until it is checked "
                             "(scro-sim verify)", field="run_id")
        return run_id

    def resolve_run_id(self, prefix: str) -> str:
        """The one run whose id is ``prefix`` or starts with it; else a one-line error naming the candidates."""
        if not isinstance(prefix, str) or not prefix.strip():
            raise StoreError("give a run id (or the start of one)", field="run_id")
        prefix = prefix.strip()
        with self._read() as s:  # type: ignore[attr-defined]
            if s.scalar(select(_RunRow.id).where(_RunRow.id == prefix)) is not None:
                return prefix
            found = [i for i in s.scalars(select(_RunRow.id).where(_RunRow.id.startswith(prefix, autoescape=True))
                                          .order_by(_RunRow.id).limit(11)) if i.startswith(prefix)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise StoreError(f"no run id starts with {prefix!r} (scro-sim runs lists them)", field="run_id")
        more = ", …" if len(found) > 10 else ""
        raise StoreError(f"{prefix!r} is the start of {'more than 10' if more else len(found)} run ids: "
                         f"{', '.join(found[:10])}{more}; give more of it", field="run_id")

    def run_ids(self) -> list[str]:
        """Every run's id, oldest first (reads no other column, so a damaged run is still listed)."""
        with self._read() as s:  # type: ignore[attr-defined]
            return list(s.scalars(select(_RunRow.id).order_by(_RunRow.created_at, _RunRow.id)))

    def resign_run(self, run_id: str, *, unsigned_digest: str | None = None) -> str:
        """Re-sign a run with the current key if its signature verifies with any key.

        Returns ``"current"`` (already signed with the current key), ``"re-signed"``, or ``"signed"``
        for an unsigned run whose signed-fields digest is ``unsigned_digest`` (the caller re-simulated
        it first).  A run that does not verify raises :class:`StoreError` saying why.
        """
        status = ""

        def work(s: Session) -> None:
            nonlocal status
            ev, signed, signature = self._read_run(s, run_id, with_log=False)
            if ev.problems:
                raise StoreError("; ".join(ev.problems), field="run_id")
            check = self._check_signature(s, ev, signed, signature)
            if check.ok and check.current:
                status = "current"
                return
            if check.ok:
                status = "re-signed"
                self._sign(s, run_id)
            elif signature is None and unsigned_digest is not None:
                status = "signed"
                self._sign(s, run_id, expect=unsigned_digest)
            else:
                raise StoreError(check.problem, field="run_id")

        self._write(work)  # type: ignore[attr-defined]
        return status


    # -- runs

    @staticmethod
    def _put_text(session: Session, body: str) -> str:
        sha = _sha256(body)
        if session.get(_TextRow, sha) is None:
            session.add(_TextRow(sha256=sha, body=body))
            session.flush()  # before the run row that refers to it (no ORM relationship orders them)
        return sha

    @staticmethod
    def _known_run(session: Session, run_id: object) -> None:
        """Raise unless the run exists (reads only its id, so a damaged run is still found)."""
        if not isinstance(run_id, str) or session.scalar(select(_RunRow.id).where(_RunRow.id == run_id)) is None:
            raise StoreError(f"unknown run {run_id!r}", field="run_id")

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
        _choice(rec.origin, tuple(o for o in RUN_ORIGINS if o != "legacy"), "origin")
        started, finished = _aware(rec.started_at, "started_at"), _aware(rec.finished_at, "finished_at")
        raw = rec.log_jsonl.encode("utf-8")
        log_z = zlib.compress(raw, 6)  # outside the write lock: a few MB take a while
        run_id = uuid.uuid4().hex
        if rec.game_id is not None:
            _text(rec.game_id, "game_id", 64)

        def work(s: Session) -> str:
            game = None if rec.game_id is None else self._game_to_finish(s, rec)
            if game is not None and game.run_id is not None:
                return game.run_id  # finished already (another window): its one run, nothing stored twice
            if game is not None and rec.origin != ("practice" if game.practice else "played"):
                raise StoreError(f"game {rec.game_id!r} is {'a practice game' if game.practice else 'graded'}: "
                                 f"its run cannot have origin {rec.origin!r}", field="origin")
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
                game_id=rec.game_id,
                origin=rec.origin,
            )
            s.add(row)
            self._sign(s, run_id)
            if game is not None:  # the game is finished in the same transaction as its run is stored
                s.flush()
                game.status, game.run_id, game.updated_at, game.version = "finished", run_id, _now(), game.version + 1
            return run_id

        return self._write(work)

    def get_run(self, run_id: str) -> StoredRun | None:
        """A saved run with its decompressed log and texts, or None; a damaged run raises StoreError naming it."""
        if not isinstance(run_id, str):
            return None
        with self._read() as s:
            if s.scalar(select(_RunRow.id).where(_RunRow.id == run_id)) is None:
                return None
            ev, _, _ = self._read_run(s, run_id, with_log=True)
        if ev.problems or ev.run is None:
            raise StoreError(f"run {run_id} is damaged: {'; '.join(ev.problems)}", field="run_id")
        return ev.run

    def list_runs(
        self,
        learner: str | None = None,
        scenario: str | None = None,
        cohort: str | None = None,
        provisional: bool | None = None,
        limit: int | None = None,
        source: str | None = None,
        origins: tuple[str, ...] | None = None,
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
        if origins is not None:
            query = query.where(r.origin.in_([_choice(o, RUN_ORIGINS, "origins") for o in origins]))
        if limit is not None:
            query = query.limit(_int(limit, "limit", low=0))
        with self._read() as s:
            return [RunSummary(**row._mapping) for row in s.execute(query)]

    def gradebook(self, cohort: str | None = None,
                  origins: tuple[str, ...] = GRADED_ORIGINS, *, learner: str | None = None) -> list[GradebookEntry]:
        """A cohort's runs (all runs without one; only ``learner``'s with one), newest first, with what a
        grade export needs.

        Only runs of ``origins`` are read: by default the runs learners played or submitted as
        their own plan; reference, baseline, practice, command-line and legacy runs never count.

        Three queries whatever the number of runs, and no log is read: an LMS export of a large
        cohort used to decompress every run's log and ask for each run's history on its own.
        """
        r = _RunRow
        cols = [getattr(r, f.name) for f in fields(RunSummary)]
        query = select(*cols, r.scorecard, r.scenario_text).order_by(r.created_at.desc(), r.id.desc())
        query = query.where(r.origin.in_([_choice(o, RUN_ORIGINS, "origins") for o in origins]))
        if cohort is not None:
            query = query.where(r.cohort == cohort)
        if learner is not None:
            query = query.where(r.learner == learner)
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
        rubric_yaml: str | None = None,
    ) -> None:
        """Re-grade a run; the previous scorecard is kept in ``scorecard_history``.

        ``rubric_yaml``: the (revised) scenario text whose rubric graded this card; None keeps
        the one the run was graded with before.  The run is re-signed.
        """
        _json(scorecard, "scorecard", dict)
        total = self._check_grade(total, passed, provisional)
        _text(note, "note", 10_000, empty=True)
        if rubric_yaml is not None:
            _text(rubric_yaml, "rubric_yaml", 10_000_000)

        def work(s: Session) -> None:
            row = self._run_row(s, self._require_signed(s, run_id))
            if rubric_yaml is not None:
                sha = self._put_text(s, rubric_yaml)
                row.rubric_text = None if sha == row.scenario_text else sha
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
            self._sign(s, row.id)

        self._write(work)

    def scorecard_history(self, run_id: str) -> list[ScorecardRevision]:
        """Earlier scorecards of a run, oldest first."""
        with self._read() as s:
            self._known_run(s, run_id)
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
            checked = self._require_signed(s, run_id)
            who = self._user_row(s, assessor, "assessor")
            if who.role not in _JUDGES:
                raise StoreError(
                    f"{assessor!r} is a {who.role}: only assessors and admins rate runs", field="assessor"
                )
            row = table(
                run_id=checked,
                criterion_id=criterion_id,
                rating=rating,
                comment=comment,
                assessor_id=who.id,
                created_at=_now(),
            )
            s.add(row)
            s.flush()
            self._sign(s, checked)
            return make(
                row.id, row.run_id, row.criterion_id, row.rating, row.comment, who.username, row.created_at
            )

        return self._write(work)

    def _ratings(self, table: type[_RatedRow], run_id: str, current_only: bool) -> list[Any]:
        make = Judgement if table is _JudgementRow else Override
        with self._read() as s:
            self._known_run(s, run_id)
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
