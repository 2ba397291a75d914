"""Who may see which cohorts and runs, and the feedback loop on a run: comments, answer ratings, the improvement plan.

Access: admins and assessors see every cohort; a lecturer sees the cohorts they belong to
(``cohort_members``) and the runs stored under them; a learner sees their own runs.  Every
query here checks it, so a page or command cannot show a lecturer another cohort's runs by
forgetting to.

Comments, answer ratings and plan items belong to one run and are covered by its signature
(like judgements): each write checks the run verifies, then re-signs it; a run without any of
them signs exactly what it signed before they existed (see :func:`signed_feedback`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..errors import StoreError
from ._common import _COMMENTERS, _JUDGES, PLAN_STATUSES, RATINGS
from ._util import _choice, _text
from .records import AnswerRating, Cohort, Comment, PlanItem, _cohort
from .tables import (
    _AnswerRatingRow,
    _CohortRow,
    _CommentRow,
    _MemberRow,
    _now,
    _PlanItemRow,
    _RunRow,
    _UserRow,
)

__all__ = ["FeedbackMixin", "parse_due", "signed_feedback"]

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ALL_COHORTS = ("admin", "assessor")
MAX_COMMENT = 5_000
MAX_ACTION = 2_000
MAX_HOURS = 100_000.0


def parse_due(value: object) -> str:
    """A due date as ISO text ``YYYY-MM-DD`` from a :class:`date` or such a text; anything else is refused."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise StoreError(f"{value!r} is not a date in the form YYYY-MM-DD (for example 2027-01-31)", field="due")


def _hours(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0 <= value <= MAX_HOURS:
        raise StoreError(f"must be a number of hours from 0 to {MAX_HOURS:g}, got {value!r}", field="time_h")
    return float(value)


def _comment(row: _CommentRow, author: str) -> Comment:
    return Comment(row.id, row.run_id, row.criterion_id, row.time_h, row.body, author, row.created_at)


def _answer(row: _AnswerRatingRow, assessor: str) -> AnswerRating:
    return AnswerRating(row.id, row.run_id, row.question_id, row.rating, row.comment, assessor, row.created_at)


def _iso(value: datetime) -> str:
    return value.isoformat()


def _comment_rows(s: Session, run_id: str) -> list[Comment]:
    query = (select(_CommentRow, _UserRow.username).join(_UserRow, _UserRow.id == _CommentRow.author_id)
             .where(_CommentRow.run_id == run_id).order_by(_CommentRow.id))
    return [_comment(r, name) for r, name in s.execute(query)]


def _answer_rows(s: Session, run_id: str) -> list[AnswerRating]:
    query = (select(_AnswerRatingRow, _UserRow.username).join(_UserRow, _UserRow.id == _AnswerRatingRow.assessor_id)
             .where(_AnswerRatingRow.run_id == run_id).order_by(_AnswerRatingRow.id))
    return [_answer(r, name) for r, name in s.execute(query)]


def _plan_rows(s: Session, run_id: str) -> list[PlanItem]:
    made, changed = aliased(_UserRow), aliased(_UserRow)
    query = (select(_PlanItemRow, made.username, changed.username)
             .join(made, made.id == _PlanItemRow.created_by_id).join(changed, changed.id == _PlanItemRow.updated_by_id)
             .where(_PlanItemRow.run_id == run_id).order_by(_PlanItemRow.id))
    return [PlanItem(r.id, r.run_id, r.action, r.owner, r.due, r.status, a, b, r.created_at, r.updated_at)
            for r, a, b in s.execute(query)]


def signed_feedback(s: Session, run_id: str) -> dict[str, Any]:
    """The feedback rows of a run as the signature covers them; a kind with no rows is left out, so a
    run without feedback signs exactly the fields it signed before feedback existed."""
    out: dict[str, Any] = {}
    comments = _comment_rows(s, run_id)
    if comments:
        out["comments"] = [[c.id, c.criterion_id, c.time_h, c.text, c.author, _iso(c.created_at)] for c in comments]
    answers = _answer_rows(s, run_id)
    if answers:
        out["answer_ratings"] = [[a.id, a.question_id, a.rating, a.comment, a.assessor, _iso(a.created_at)]
                                 for a in answers]
    items = _plan_rows(s, run_id)
    if items:
        out["plan_items"] = [[p.id, p.action, p.owner, p.due, p.status, p.created_by, p.updated_by,
                              _iso(p.created_at), _iso(p.updated_at)] for p in items]
    return out


class FeedbackMixin:
    """Cohort and run access by role, comments, answer ratings and improvement plans (part of Store)."""

    if TYPE_CHECKING:  # pragma: no cover - provided by Store and its other parts
        def _read(self) -> Any: ...
        def _write(self, work: Callable[[Session], Any]) -> Any: ...
        def _require_signed(self, s: Session, run_id: object) -> str: ...
        def _sign(self, s: Session, run_id: str, *, expect: str | None = None) -> None: ...
        @staticmethod
        def _user_row(session: Session, username: str, field: str = "username") -> _UserRow: ...
        @staticmethod
        def _cohort_row(session: Session, name: str) -> _CohortRow: ...
        @staticmethod
        def _known_run(session: Session, run_id: object) -> None: ...

    # -- access

    @staticmethod
    def _teaches(s: Session, user: _UserRow, cohort: str | None) -> bool:
        """Whether ``user`` may see ``cohort``'s runs: admins and assessors all, lecturers their own cohorts."""
        if user.role in _ALL_COHORTS:
            return True
        if user.role != "lecturer" or cohort is None:
            return False
        query = (select(_MemberRow.user_id).join(_CohortRow, _CohortRow.id == _MemberRow.cohort_id)
                 .where(_CohortRow.name == cohort, _MemberRow.user_id == user.id))
        return s.scalar(query) is not None

    def visible_cohorts(self, username: str) -> list[Cohort]:
        """The cohorts ``username`` may follow, by name: all for admins and assessors, their own for lecturers,
        none for learners."""
        with self._read() as s:
            u = self._user_row(s, username, "viewer")
            query = select(_CohortRow).order_by(_CohortRow.name)
            if u.role == "lecturer":
                query = query.join(_MemberRow, _MemberRow.cohort_id == _CohortRow.id).where(_MemberRow.user_id == u.id)
            elif u.role not in _ALL_COHORTS:
                return []
            return [_cohort(r) for r in s.scalars(query)]

    def require_cohort_access(self, username: str, cohort: str) -> None:
        """Raise StoreError unless the cohort exists and ``username`` may follow it."""
        with self._read() as s:
            self._cohort_row(s, cohort)  # unknown cohort: says so
            u = self._user_row(s, username, "viewer")
            if not self._teaches(s, u, cohort):
                raise StoreError(f"{username!r} ({u.role}) may not see cohort {cohort!r}: "
                                 f"lecturers see the cohorts they belong to", field="cohort")

    def may_view_run(self, username: str, run_id: str) -> bool:
        """Whether ``username`` may open the run: its learner, staff who may see its cohort (False if either
        is unknown, so a page answers "not available" alike for missing and forbidden runs)."""
        if not isinstance(run_id, str) or not isinstance(username, str):
            return False
        with self._read() as s:
            u = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
            row = s.execute(select(_RunRow.learner, _RunRow.cohort).where(_RunRow.id == run_id)).one_or_none()
            if u is None or row is None:
                return False
            return row.learner == username or self._teaches(s, u, row.cohort)

    def _actor(self, s: Session, run_id: str, username: str, field: str, roles: tuple[str, ...],
               *, learner_too: bool = False) -> tuple[_UserRow, str]:
        """Lock the (verified) run and check ``username`` may write on it; returns (user row, run id)."""
        checked = self._require_signed(s, run_id)
        who = self._user_row(s, username, field)
        learner, cohort = s.execute(select(_RunRow.learner, _RunRow.cohort).where(_RunRow.id == checked)).one()
        if learner_too and who.username == learner:
            return who, checked
        if who.role not in roles:
            allowed = ", ".join(roles) + (" or the run's learner" if learner_too else "")
            raise StoreError(f"{username!r} is a {who.role}: only {allowed} may do this on run {checked[:8]}",
                             field=field)
        if not self._teaches(s, who, cohort):
            raise StoreError(f"{username!r} may not see run {checked[:8]} (cohort {cohort or 'none'}): lecturers act "
                             f"on the runs of the cohorts they belong to", field=field)
        return who, checked

    # -- comments

    def add_comment(self, run_id: str, author: str, text: str, *, criterion_id: str | None = None,
                    time_h: float | None = None) -> Comment:
        """Comment on a run (assessors, admins, lecturers of its cohort): on a criterion, a moment of the timeline
        (hours from the start), both, or the run as a whole.  The run is re-signed."""
        _text(text, "text", MAX_COMMENT)
        if criterion_id is not None:
            _text(criterion_id, "criterion_id", 128)
        hours = _hours(time_h)

        def work(s: Session) -> Comment:
            who, checked = self._actor(s, run_id, author, "author", _COMMENTERS)
            row = _CommentRow(run_id=checked, criterion_id=criterion_id, time_h=hours, body=text.strip(),
                              author_id=who.id, created_at=_now())
            s.add(row)
            s.flush()
            self._sign(s, checked)
            return _comment(row, who.username)

        return self._write(work)

    def comments(self, run_id: str) -> list[Comment]:
        """A run's comments in the order made."""
        with self._read() as s:
            self._known_run(s, run_id)
            return _comment_rows(s, run_id)

    # -- answers to discussion questions

    def rate_answer(self, run_id: str, question_id: str, rating: str, comment: str, assessor: str) -> AnswerRating:
        """Rate a learner's answer to a discussion question (assessors and admins); earlier ratings are kept.
        The run is re-signed."""
        _text(question_id, "question_id", 128)
        _choice(rating, RATINGS, "rating")
        _text(comment, "comment", MAX_COMMENT, empty=True)

        def work(s: Session) -> AnswerRating:
            who, checked = self._actor(s, run_id, assessor, "assessor", _JUDGES)
            row = _AnswerRatingRow(run_id=checked, question_id=question_id, rating=rating, comment=comment.strip(),
                                   assessor_id=who.id, created_at=_now())
            s.add(row)
            s.flush()
            self._sign(s, checked)
            return _answer(row, who.username)

        return self._write(work)

    def answer_ratings(self, run_id: str, current_only: bool = True) -> list[AnswerRating]:
        """A run's answer ratings: the newest per question (by question id), or all in order made."""
        with self._read() as s:
            self._known_run(s, run_id)
            rows = _answer_rows(s, run_id)
        if not current_only:
            return rows
        latest = {r.question_id: r for r in rows}
        return [latest[k] for k in sorted(latest)]

    # -- the improvement plan

    def add_plan_item(self, run_id: str, action: str, owner: str, due: date | str, by: str,
                      status: str = "open") -> PlanItem:
        """Add an item to a run's improvement plan (its learner, assessors, admins, lecturers of its cohort)."""
        _text(action, "action", MAX_ACTION)
        _text(owner, "owner", 200)
        due_text = parse_due(due)
        _choice(status, PLAN_STATUSES, "status")

        def work(s: Session) -> PlanItem:
            who, checked = self._actor(s, run_id, by, "by", _COMMENTERS, learner_too=True)
            now = _now()
            row = _PlanItemRow(run_id=checked, action=action.strip(), owner=owner.strip(), due=due_text, status=status,
                               created_by_id=who.id, updated_by_id=who.id, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            self._sign(s, checked)
            return PlanItem(row.id, checked, row.action, row.owner, row.due, row.status, who.username, who.username,
                            row.created_at, row.updated_at)

        return self._write(work)

    def update_plan_item(self, item_id: int, by: str, *, action: str | None = None, owner: str | None = None,
                         due: date | str | None = None, status: str | None = None) -> PlanItem:
        """Change an item of an improvement plan (what is given); who may: as for :meth:`add_plan_item`."""
        if isinstance(item_id, bool) or not isinstance(item_id, int):
            raise StoreError(f"unknown plan item {item_id!r}", field="item")
        if action is not None:
            _text(action, "action", MAX_ACTION)
        if owner is not None:
            _text(owner, "owner", 200)
        due_text = None if due is None else parse_due(due)
        if status is not None:
            _choice(status, PLAN_STATUSES, "status")

        def work(s: Session) -> PlanItem:
            run_id = s.scalar(select(_PlanItemRow.run_id).where(_PlanItemRow.id == item_id))
            if run_id is None:
                raise StoreError(f"unknown plan item {item_id!r}", field="item")
            who, checked = self._actor(s, run_id, by, "by", _COMMENTERS, learner_too=True)
            row = s.get_one(_PlanItemRow, item_id)
            if action is not None:
                row.action = action.strip()
            if owner is not None:
                row.owner = owner.strip()
            if due_text is not None:
                row.due = due_text
            if status is not None:
                row.status = status
            row.updated_by_id, row.updated_at = who.id, _now()
            s.flush()
            self._sign(s, checked)
            return next(p for p in _plan_rows(s, checked) if p.id == item_id)

        return self._write(work)

    def plan_items(self, run_id: str) -> list[PlanItem]:
        """A run's improvement plan, in the order the items were added."""
        with self._read() as s:
            self._known_run(s, run_id)
            return _plan_rows(s, run_id)
