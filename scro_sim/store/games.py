"""Games in progress and resumable batch replications."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from ..errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    pass
from ._common import (
    GAME_STATUSES,
    MAX_ATTEMPTS,
    REPLICATION_STATUSES,
)
from ._util import (
    _choice,
    _int,
    _json,
    _text,
)
from .records import (
    Batch,
    Game,
    Replication,
    _batch,
    _game,
    _replication,
)
from .tables import (
    _BatchRow,
    _GameRow,
    _now,
    _ReplicationRow,
    _RunRow,
)


class GameConflict(StoreError):
    """A save lost its compare-and-set: the game moved on elsewhere; ``game`` is how it is now."""

    def __init__(self, message: str, game: Game) -> None:
        super().__init__(message, field="version")
        self.game = game


class GamesMixin:
    """Games in progress and resumable batch replications (part of Store)."""


    # -- games in progress

    def save_game(
        self,
        game_id: str,
        learner: str,
        scenario_id: str,
        scenario_hash: str,
        seed: int,
        decisions: list[dict[str, Any]],
        status: str = "playing",
        *,
        expected_version: int | None = None,
        practice: bool = False,
    ) -> Game:
        """Create or update a game in progress (a finished game, or another learner's, is refused).

        With ``expected_version`` (the version the caller read) the save is a compare-and-set:
        it succeeds only if nobody saved the game since, else :class:`GameConflict` carries the
        game as it is now.  Saving exactly what is stored already is a no-op that succeeds
        (a retried click, or a reply lost after the commit), so a save can always be retried.
        Every save that changes something increments ``version``.  ``practice`` is set when the
        game is created (a practice game's run is never graded) and never changes after.
        """
        _text(game_id, "game_id", 64)
        _text(learner, "learner", 64)
        _text(scenario_id, "scenario_id", 128)
        _text(scenario_hash, "scenario_hash", 128)
        _int(seed, "seed")
        _json(decisions, "decisions", list)
        _choice(status, GAME_STATUSES, "status")
        if expected_version is not None:
            _int(expected_version, "expected_version", low=0)
        if not isinstance(practice, bool):
            raise StoreError(f"must be true or false, got {practice!r}", field="practice")
        wanted = json.loads(json.dumps(decisions))  # as the JSON column gives it back (tuples become lists)

        def work(s: Session) -> Game:
            row = s.scalars(select(_GameRow).where(_GameRow.id == game_id).with_for_update()).one_or_none()
            now = _now()
            if row is None:
                if expected_version not in (None, 0):
                    raise StoreError(f"unknown game {game_id!r}", field="game_id")
                row = _GameRow(id=game_id, learner=learner, run_id=None, created_at=now, version=0, practice=practice)
                s.add(row)
            elif row.learner != learner:
                raise StoreError(f"game {game_id!r} belongs to another learner", field="learner")
            elif expected_version is not None and (row.decisions, row.status, row.seed) == (wanted, status, seed):
                return _game(row)  # already saved exactly so: idempotent
            elif row.status == "finished":
                raise GameConflict(f"game {game_id!r} is finished", _game(row))
            if row in s.new:
                row.scenario_id, row.scenario_hash, row.seed = scenario_id, scenario_hash, seed
                row.decisions, row.status, row.updated_at = decisions, status, now
                s.flush()
                return _game(row)
            query = update(_GameRow).where(_GameRow.id == game_id, _GameRow.status != "finished")
            if expected_version is not None:
                query = query.where(_GameRow.version == expected_version)
            done = s.execute(
                query.values(scenario_id=scenario_id, scenario_hash=scenario_hash, seed=seed, decisions=decisions,
                             status=status, updated_at=now, version=_GameRow.version + 1),
                execution_options={"synchronize_session": False},
            )
            s.expire(row)
            if done.rowcount != 1:  # the compare-and-set lost: someone saved since the caller read
                raise GameConflict(f"game {game_id!r} was changed elsewhere (version {row.version}, "
                                   f"expected {expected_version})", _game(row))
            return _game(row)

        return self._write(work)

    def _game_to_finish(self, s: Session, rec: Any) -> _GameRow:
        """Lock the game a run (``NewRun`` with ``game_id``) is to score; refuse one it cannot score."""
        row = s.scalars(select(_GameRow).where(_GameRow.id == rec.game_id).with_for_update()).one_or_none()
        if row is None:
            raise StoreError(f"unknown game {rec.game_id!r}", field="game_id")
        if row.learner != rec.learner:
            raise StoreError(f"game {rec.game_id!r} belongs to another learner", field="learner")
        if row.run_id is None and row.decisions != json.loads(json.dumps(rec.decisions)):
            raise GameConflict(f"game {rec.game_id!r} has other decisions than the run to store", _game(row))
        return row

    def load_game(self, game_id: str) -> Game | None:
        """A saved game, or None."""
        with self._read() as s:
            row = s.get(_GameRow, game_id) if isinstance(game_id, str) else None
            return None if row is None else _game(row)

    def list_games(self, learner: str, status: str | None = None) -> list[Game]:
        """A learner's games, most recently updated first."""
        query = select(_GameRow).where(_GameRow.learner == learner)
        if status is not None:
            query = query.where(_GameRow.status == _choice(status, GAME_STATUSES, "status"))
        with self._read() as s:
            return [
                _game(r) for r in s.scalars(query.order_by(_GameRow.updated_at.desc(), _GameRow.id.desc()))
            ]

    def finish_game(self, game_id: str, run_id: str) -> Game:
        """Mark a game finished with the id of its saved run."""

        def work(s: Session) -> Game:
            row = s.scalars(select(_GameRow).where(_GameRow.id == game_id).with_for_update()).one_or_none()
            if row is None:
                raise StoreError(f"unknown game {game_id!r}", field="game_id")
            run = self._run_row(s, run_id)
            if row.status == "finished" and row.run_id != run.id:
                raise StoreError(
                    f"game {game_id!r} is already finished with run {row.run_id}", field="game_id"
                )
            row.status, row.run_id, row.updated_at = "finished", run.id, _now()
            s.flush()
            return _game(row)

        return self._write(work)

    # -- batch replications

    def create_batch(
        self, batch_id: str, scenario_hash: str, plan_hash: str, n: int, seed: int, meta: dict[str, Any]
    ) -> Batch:
        """Register a batch; the same id again is fine with equal parameters (resume), else StoreError."""
        _text(batch_id, "batch_id", 64)
        _text(scenario_hash, "scenario_hash", 128)
        _text(plan_hash, "plan_hash", 128)
        _int(n, "n", low=1)
        _int(seed, "seed")
        _json(meta, "meta", dict)

        def work(s: Session) -> Batch:
            row = s.get(_BatchRow, batch_id)
            if row is None:
                row = _BatchRow(
                    id=batch_id,
                    scenario_hash=scenario_hash,
                    plan_hash=plan_hash,
                    n=n,
                    seed=seed,
                    meta=meta,
                    created_at=_now(),
                )
                s.add(row)
                s.flush()
            elif (row.scenario_hash, row.plan_hash, row.n, row.seed, row.meta) != (
                scenario_hash,
                plan_hash,
                n,
                seed,
                json.loads(json.dumps(meta)),
            ):
                raise StoreError(f"batch {batch_id!r} exists with other parameters", field="batch_id")
            return _batch(row)

        return self._write(work)

    def get_batch(self, batch_id: str) -> Batch | None:
        """A batch, or None."""
        with self._read() as s:
            row = s.get(_BatchRow, batch_id) if isinstance(batch_id, str) else None
            return None if row is None else _batch(row)

    def put_replication(
        self, batch_id: str, index: int, status: str, result: dict[str, Any] | None, error: str | None
    ) -> Replication:
        """Record a replication's state; a "failed" put counts an attempt.  "done" is final."""
        _int(index, "index", low=0)
        _choice(status, REPLICATION_STATUSES, "status")
        if result is not None:
            _json(result, "result", dict)
        if error is not None and not isinstance(error, str):
            raise StoreError("must be a string or None", field="error")

        def work(s: Session) -> Replication:
            batch = s.get(_BatchRow, batch_id)
            if batch is None:
                raise StoreError(f"unknown batch {batch_id!r}", field="batch_id")
            if index >= batch.n:
                raise StoreError(f"index {index} is outside batch {batch_id!r} of {batch.n}", field="index")
            row = s.scalars(
                select(_ReplicationRow)
                .where(_ReplicationRow.batch_id == batch_id, _ReplicationRow.idx == index)
                .with_for_update()
            ).one_or_none()
            if row is None:
                row = _ReplicationRow(batch_id=batch_id, idx=index, attempts=0)
                s.add(row)
            elif row.status == "done" and status != "done":
                return _replication(row)  # a late report from a duplicate worker must not undo a result
            row.status, row.result, row.error, row.updated_at = status, result, error, _now()
            if status == "failed":
                row.attempts += 1
            s.flush()
            return _replication(row)

        return self._write(work)

    def replications(self, batch_id: str) -> list[Replication]:
        """A batch's recorded replications, by index."""
        with self._read() as s:
            if s.get(_BatchRow, batch_id) is None:
                raise StoreError(f"unknown batch {batch_id!r}", field="batch_id")
            query = (
                select(_ReplicationRow)
                .where(_ReplicationRow.batch_id == batch_id)
                .order_by(_ReplicationRow.idx)
            )
            return [_replication(r) for r in s.scalars(query)]

    def missing_replications(self, batch_id: str, max_attempts: int = MAX_ATTEMPTS) -> list[int]:
        """Indices still to run: not "done" and failed fewer than ``max_attempts`` times."""
        with self._read() as s:
            batch = s.get(_BatchRow, batch_id)
            if batch is None:
                raise StoreError(f"unknown batch {batch_id!r}", field="batch_id")
            query = select(_ReplicationRow.idx).where(
                _ReplicationRow.batch_id == batch_id,
                (_ReplicationRow.status == "done") | (_ReplicationRow.attempts >= max_attempts),
            )
            settled = set(s.scalars(query))
            return [i for i in range(batch.n) if i not in settled]

    # -- counts (cheap, for dashboards and tests)

    def count_runs(self) -> int:
        """How many runs are stored."""
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(_RunRow)) or 0)
