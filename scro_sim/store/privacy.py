"""What the database holds about one person, and erasing it (GDPR articles 15 and 17).

The store knows where personal data lives (the account, memberships, games, runs, ratings,
the sign-in throttle); what counts as free text inside a run's decisions, log and score card
is the caller's :class:`Scrubber` (``scro_sim.privacy`` passes the event log's rules), so
the store needs no knowledge of the engine.
"""

from __future__ import annotations

import json
import secrets
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import delete, or_, select, text
from sqlalchemy.orm import Session

from ..errors import StoreError
from .feedback import _answer_rows, _comment_rows, _plan_rows
from .tables import (
    _AnswerRatingRow,
    _CohortRow,
    _CommentRow,
    _ErasureRow,
    _GameRow,
    _HistoryRow,
    _JudgementRow,
    _LrsQueueRow,
    _LtiAccountRow,
    _LtiLineItemRow,
    _LtiTicketRow,
    _MemberRow,
    _now,
    _OverrideRow,
    _PlanItemRow,
    _PublishedRow,
    _RunRow,
    _TextRow,
    _ThrottleRow,
    _UserRow,
)

if TYPE_CHECKING:  # pragma: no cover
    from . import Store

__all__ = ["Erasure", "Scrubber", "erase_person", "person_record"]

PSEUDONYM_PREFIX = "erased-"


class Scrubber(Protocol):
    """Removes a person's free text from a run's stored parts, keeping everything the score needs."""

    def decisions(self, decisions: list[dict[str, Any]]) -> list[dict[str, Any]]: ...

    def log(self, log_jsonl: str) -> tuple[str, str]:
        """The scrubbed log and its new digest."""
        ...

    def scorecard(self, scorecard: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: the pseudonym the runs now carry, how many runs kept, what went."""

    pseudonym: str
    runs: int
    games_deleted: int
    account: str  # "deleted", "anonymised" (others' records point at it) or "none"


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _ratings(s: Session, run_ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for table, kind in ((_JudgementRow, "judgement"), (_OverrideRow, "override")):
        query = (select(table, _UserRow.username).join(_UserRow, _UserRow.id == table.assessor_id)
                 .where(table.run_id.in_(run_ids)).order_by(table.id))
        for r, name in s.execute(query):
            out.append({"kind": kind, "run_id": r.run_id, "criterion_id": r.criterion_id, "rating": r.rating,
                        "comment": r.comment, "assessor": name, "created_at": _iso(r.created_at)})
    return out


def person_record(store: Store, username: str) -> dict[str, Any]:
    """Everything held about ``username`` as JSON-ready data: account, cohorts, runs (with decisions,
    rationales, score cards and their history), the ratings of those runs, games, what the person
    published or rated as staff, the sign-in throttle's record, and their links to course platforms (LTI)."""
    with store._read() as s:
        u = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
        runs = list(s.scalars(select(_RunRow).where(_RunRow.learner == username).order_by(_RunRow.created_at)))
        if u is None and not runs:
            raise StoreError(f"unknown user {username!r}", field="username")
        account = None if u is None else {
            "username": u.username, "role": u.role, "display_name": u.display_name, "email": u.email,
            "language": u.language, "created_at": _iso(u.created_at)}
        cohorts = [] if u is None else [
            {"cohort": c.name, "title": c.title, "added_at": _iso(m.added_at)}
            for c, m in s.execute(select(_CohortRow, _MemberRow).join(_MemberRow, _MemberRow.cohort_id == _CohortRow.id)
                                  .where(_MemberRow.user_id == u.id).order_by(_CohortRow.name))]
        run_ids = [r.id for r in runs]
        history: dict[str, list[dict[str, Any]]] = {}
        for h in s.scalars(select(_HistoryRow).where(_HistoryRow.run_id.in_(run_ids)).order_by(_HistoryRow.id)):
            history.setdefault(h.run_id, []).append({"scorecard": h.scorecard, "total": h.total, "note": h.note,
                                                     "replaced_at": _iso(h.replaced_at)})
        run_data = []
        for r in runs:
            plan = None if r.plan_text is None else s.get_one(_TextRow, r.plan_text).body
            run_data.append({
                "id": r.id, "cohort": r.cohort, "scenario_id": r.scenario_id, "scenario_version": r.scenario_version,
                "seed": str(r.seed), "policy": r.policy, "source": r.source, "origin": r.origin,
                "total": r.total, "passed": r.passed,
                "provisional": r.provisional, "started_at": _iso(r.started_at), "finished_at": _iso(r.finished_at),
                "log_digest": r.log_digest, "decisions": r.decisions, "plan_yaml": plan, "scorecard": r.scorecard,
                "scorecard_history": history.get(r.id, [])})
        games = [{"id": g.id, "scenario_id": g.scenario_id, "seed": str(g.seed), "status": g.status,
                  "run_id": g.run_id, "decisions": g.decisions, "practice": bool(g.practice),
                  "created_at": _iso(g.created_at), "updated_at": _iso(g.updated_at)}
                 for g in s.scalars(select(_GameRow).where(_GameRow.learner == username).order_by(_GameRow.created_at))]
        staff: dict[str, Any] = {"published": [], "ratings_given": []}
        if u is not None:
            staff["published"] = [
                {"cohort": cname, "scenario_id": p.scenario_id, "version": p.version, "published_at": _iso(p.published_at)}
                for p, cname in s.execute(select(_PublishedRow, _CohortRow.name)
                                          .join(_CohortRow, _CohortRow.id == _PublishedRow.cohort_id)
                                          .where(_PublishedRow.published_by_id == u.id))]
            for table, kind in ((_JudgementRow, "judgement"), (_OverrideRow, "override")):
                staff["ratings_given"] += [
                    {"kind": kind, "run_id": r.run_id, "criterion_id": r.criterion_id, "rating": r.rating,
                     "comment": r.comment, "created_at": _iso(r.created_at)}
                    for r in s.scalars(select(table).where(table.assessor_id == u.id).order_by(table.id))]
        ratings = _ratings(s, run_ids)
        feedback = {"comments": [], "answer_ratings": [], "plan_items": []}
        for rid in run_ids:  # what assessors and lecturers wrote on the person's runs, and their plans
            feedback["comments"] += [{"run_id": c.run_id, "criterion_id": c.criterion_id, "time_h": c.time_h,
                                      "text": c.text, "author": c.author, "created_at": _iso(c.created_at)}
                                     for c in _comment_rows(s, rid)]
            feedback["answer_ratings"] += [{"run_id": a.run_id, "question_id": a.question_id, "rating": a.rating,
                                            "comment": a.comment, "assessor": a.assessor,
                                            "created_at": _iso(a.created_at)} for a in _answer_rows(s, rid)]
            feedback["plan_items"] += [{"run_id": p.run_id, "action": p.action, "owner": p.owner, "due": p.due,
                                        "status": p.status, "created_by": p.created_by, "updated_by": p.updated_by,
                                        "updated_at": _iso(p.updated_at)} for p in _plan_rows(s, rid)]
        if u is not None:
            staff["comments_given"] = [
                {"run_id": c.run_id, "criterion_id": c.criterion_id, "time_h": c.time_h, "text": c.body,
                 "created_at": _iso(c.created_at)}
                for c in s.scalars(select(_CommentRow).where(_CommentRow.author_id == u.id).order_by(_CommentRow.id))]
        course_platforms = [] if u is None else [
            {"issuer": a.issuer, "subject": a.subject, "linked_at": _iso(a.created_at),
             "line_items": [{"scenario_id": i.scenario_id, "lineitem": i.lineitem, "context_id": i.context_id,
                             "posted_at": _iso(i.posted_at), "status": i.status}
                            for i in s.scalars(select(_LtiLineItemRow).where(_LtiLineItemRow.user_id == u.id,
                                                                             _LtiLineItemRow.issuer == a.issuer)
                                               .order_by(_LtiLineItemRow.id))]}
            for a in s.scalars(select(_LtiAccountRow).where(_LtiAccountRow.user_id == u.id).order_by(_LtiAccountRow.id))]
    return {
        "format": "scro-sim/personal-data@1",
        "exported_at": _now().isoformat(),
        "username": username,
        "account": account,
        "cohorts": cohorts,
        "runs": run_data,
        "ratings_of_runs": ratings,
        "feedback_on_runs": feedback,
        "games": games,
        "as_staff": staff,
        "sign_in_throttle": store.throttle_records(username),
        "course_platforms": course_platforms,  # LTI launches: who they are there, where their grades go
    }


def _redact(value: str, names: list[str], pseudonym: str) -> str:
    for name in names:
        value = value.replace(name, pseudonym)
    return value


def _with_digest(card: Any, digest: str) -> Any:
    """The score card naming the scrubbed log's digest (a card records the log it graded)."""
    if isinstance(card, dict) and "log_digest" in card:
        return {**card, "log_digest": digest}
    return card


def _signature_ok(store: Store, s: Session, run_id: str) -> bool:
    """Whether the run's stored record carries a valid signature (never raises)."""
    try:
        store._require_signed(s, run_id)
    except StoreError:
        return False
    return True


def erase_person(store: Store, username: str, scrub: Scrubber) -> Erasure:
    """Erase ``username``'s personal data in one transaction; their runs stay under a random pseudonym.

    Runs keep their scores, cohort, scenario, seed and actions (so cohort statistics still count
    them and ``verify`` still re-simulates them), but lose every free text (``scrub``), the plan
    text the learner wrote, the assessors' and lecturers' comments on them and their
    improvement-plan items.  Games, memberships and the throttle record are deleted; the account
    is deleted, or anonymised when staff records (publications, ratings, comments given) point at
    it.  An ``erasures`` row records the pseudonym (never the name).  On SQLite deleted content
    is overwritten (``secure_delete``) and the WAL checkpointed; on PostgreSQL run ``VACUUM``
    afterwards to reclaim dead rows.
    """
    pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(8)

    def work(s: Session) -> Erasure:
        if store.dialect == "sqlite":
            s.execute(text("PRAGMA secure_delete = ON"))
        u = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
        runs = list(s.scalars(select(_RunRow).where(_RunRow.learner == username).with_for_update()))
        if u is None and not runs:
            raise StoreError(f"unknown user {username!r}", field="username")
        names = sorted({n for n in (username, u and u.display_name, u and u.email) if n}, key=len, reverse=True)
        plans: set[str] = set()
        run_ids = [r.id for r in runs]
        # a run that verified before the erasure is re-signed after it (its learner, texts and log
        # digest change); one that did not verify is erased all the same but stays unverifiable
        signed_before = [rid for rid in run_ids if _signature_ok(store, s, rid)]
        for r in runs:
            r.learner = pseudonym
            r.decisions = scrub.decisions(r.decisions)
            try:
                raw = zlib.decompress(r.log_z).decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as exc:
                raise StoreError(f"run {r.id}: stored log is corrupt: {exc}", field="log_jsonl") from exc
            body, digest = scrub.log(raw)
            data = body.encode("utf-8")
            r.log_z, r.log_size, r.log_digest = zlib.compress(data, 6), len(data), digest
            r.scorecard = _with_digest(scrub.scorecard(r.scorecard), digest)
            if r.plan_text is not None:
                plans.add(r.plan_text)
                r.plan_text = None
        if run_ids:
            for h in s.scalars(select(_HistoryRow).where(_HistoryRow.run_id.in_(run_ids))):
                h.scorecard, h.note = scrub.scorecard(h.scorecard), _redact(h.note, names, pseudonym)
            for table in (_JudgementRow, _OverrideRow):
                for j in s.scalars(select(table).where(table.run_id.in_(run_ids))):
                    j.comment = ""
            for c in s.scalars(select(_CommentRow).where(_CommentRow.run_id.in_(run_ids))):
                c.body = ""
            for a in s.scalars(select(_AnswerRatingRow).where(_AnswerRatingRow.run_id.in_(run_ids))):
                a.comment = ""
            # the plan's actions and owners are free text about the person: the items go
            s.execute(delete(_PlanItemRow).where(_PlanItemRow.run_id.in_(run_ids)))
        s.flush()
        for rid in signed_before:
            store._sign(s, rid)
        for sha in sorted(plans):
            used = s.scalar(select(_RunRow.id).where(or_(_RunRow.plan_text == sha, _RunRow.scenario_text == sha)).limit(1))
            if used is None:
                s.execute(delete(_TextRow).where(_TextRow.sha256 == sha))
        games = s.execute(delete(_GameRow).where(_GameRow.learner == username)).rowcount or 0
        # statements about them still on their way to the LRS (erasing what an LRS holds is done there)
        for queued in list(s.scalars(select(_LrsQueueRow))):
            actor = json.loads(queued.statement).get("actor", {})
            if actor.get("account", {}).get("name") == username:
                s.delete(queued)
        s.execute(delete(_ThrottleRow).where(_ThrottleRow.key == f"u:{username}"))
        account = "none"
        if u is not None:
            s.execute(delete(_MemberRow).where(_MemberRow.user_id == u.id))
            for table in (_LtiAccountRow, _LtiLineItemRow, _LtiTicketRow):  # who they are on a course platform
                s.execute(delete(table).where(table.user_id == u.id))
            referenced = any(s.scalar(q) is not None for q in (
                select(_PublishedRow.id).where(_PublishedRow.published_by_id == u.id).limit(1),
                select(_JudgementRow.id).where(_JudgementRow.assessor_id == u.id).limit(1),
                select(_OverrideRow.id).where(_OverrideRow.assessor_id == u.id).limit(1),
                select(_CommentRow.id).where(_CommentRow.author_id == u.id).limit(1),
                select(_AnswerRatingRow.id).where(_AnswerRatingRow.assessor_id == u.id).limit(1),
                select(_PlanItemRow.id).where(or_(_PlanItemRow.created_by_id == u.id,
                                                  _PlanItemRow.updated_by_id == u.id)).limit(1)))
            if referenced:
                u.username, u.display_name, u.email, u.language = pseudonym, None, None, "en"
                u.password_hash = "erased"  # matches no password
                account = "anonymised"
            else:
                s.delete(u)
                account = "deleted"
        s.add(_ErasureRow(pseudonym=pseudonym, runs=len(runs), erased_at=_now()))
        return Erasure(pseudonym, len(runs), games, account)

    result: Erasure = store._write(work)
    if store.dialect == "sqlite":  # old page images leave the WAL (best effort: a reader may hold it)
        raw = store.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    return result
