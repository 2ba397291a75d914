"""The store's part for the Learning Record Store queue: statements kept until the LRS accepts them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .tables import _LrsQueueRow

#: What becomes of a queued statement: waiting (or retrying), accepted by the LRS, or refused as malformed.
LRS_STATUSES: tuple[str, ...] = ("pending", "sent", "rejected")


@dataclass(frozen=True, slots=True)
class QueuedStatement:
    """One statement in the LRS queue."""

    statement_id: str
    statement: dict[str, Any]
    status: str
    attempts: int
    next_at: datetime
    last_error: str | None


class LrsQueueMixin:
    """Queue methods of :class:`scro_sim.store.Store` (part of Store: uses its ``_read`` and ``_write``)."""

    def enqueue_statements(self, statements: Iterable[dict[str, Any]], now: datetime) -> int:
        """Queue statements by id; a statement queued before (sent or not) is not queued twice. Returns how many
        were new."""
        items = {str(s["id"]): json.dumps(s, sort_keys=True, ensure_ascii=False) for s in statements}

        def work(s: Session) -> int:
            known = set(s.scalars(select(_LrsQueueRow.statement_id).where(_LrsQueueRow.statement_id.in_(list(items)))))
            new = [sid for sid in items if sid not in known]
            for sid in new:
                s.add(_LrsQueueRow(statement_id=sid, statement=items[sid], status="pending", attempts=0,
                                   queued_at=now, next_at=now))
            return len(new)

        return self._write(work) if items else 0

    def due_statements(self, now: datetime, *, limit: int = 500, all_pending: bool = False) -> list[QueuedStatement]:
        """Pending statements whose retry time has come (every pending one with ``all_pending``), oldest first."""
        with self._read() as s:
            query = select(_LrsQueueRow).where(_LrsQueueRow.status == "pending")
            if not all_pending:
                query = query.where(_LrsQueueRow.next_at <= now)
            rows = s.scalars(query.order_by(_LrsQueueRow.queued_at, _LrsQueueRow.statement_id).limit(limit))
            return [QueuedStatement(r.statement_id, json.loads(r.statement), r.status, r.attempts, r.next_at,
                                    r.last_error) for r in rows]

    def mark_statements(self, ids: Iterable[str], status: str, now: datetime, *, error: str | None = None,
                        next_at: datetime | None = None) -> None:
        """Record an attempt: ``sent``, ``rejected``, or still ``pending`` (retry from ``next_at``)."""
        if status not in LRS_STATUSES:
            raise ValueError(f"unknown queue status {status!r}")
        wanted = list(ids)

        def work(s: Session) -> None:
            for row in s.scalars(select(_LrsQueueRow).where(_LrsQueueRow.statement_id.in_(wanted))):
                row.attempts += 1
                row.status, row.last_error = status, error
                if status == "sent":
                    row.sent_at = now
                row.next_at = next_at or now

        if wanted:
            self._write(work)

    def lrs_queue_counts(self) -> dict[str, int]:
        """How many queued statements are in each status."""
        with self._read() as s:
            counts = dict(s.execute(select(_LrsQueueRow.status, func.count()).group_by(_LrsQueueRow.status)).all())
        return {status: int(counts.get(status, 0)) for status in LRS_STATUSES}
