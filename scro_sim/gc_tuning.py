"""Cycle-collector settings for the stretches where the engine runs in a user's process.

A run or a play step allocates many thousands of small objects that reference counting frees;
Python's default collector thresholds make it pass over them hundreds of times, and its full
collections rescan the whole loaded city (millions of objects at 50,000 assets) on the way.
:func:`engine_gc` sets that aside for the duration of a run or a play step and puts everything
back afterwards. The engine itself never touches the collector; batch workers (processes of
their own) tune it once for their lifetime (:func:`scro_sim.batch.replication._init_worker`).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["FULL_THRESHOLD", "RUN_THRESHOLD", "engine_gc"]

#: young-generation threshold while the engine runs (Python's default is 700)
RUN_THRESHOLD = 50_000
#: oldest-generation threshold while the engine runs: no full collection inside a run or a step. A run's log
#: records are named tuples, which CPython never stops tracking, so at 200,000 assets (300,000 records) full
#: collections over them came back six times a run and made each record cost half as much again as at 5,000.
FULL_THRESHOLD = 1_000_000

_lock = threading.Lock()
_depth = 0
_saved: tuple[tuple[int, ...], bool] | None = None  # thresholds before, and whether we froze


@contextmanager
def engine_gc() -> Iterator[None]:
    """Collect young objects less often, make no full collection, and keep what already exists (the city,
    the scenario) out of the collector's passes while the block runs; restore the thresholds and unfreeze after.

    Re-entrant and shared by threads (the app serves several sessions in one process): the first
    block in sets the collector, the last one out restores it. When something else has already
    frozen objects (a batch worker) it leaves the frozen set alone and only raises the threshold.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            froze = gc.isenabled() and gc.get_freeze_count() == 0
            _saved = (gc.get_threshold(), froze)
            if froze:
                gc.freeze()
            t0, t1, t2 = gc.get_threshold()
            gc.set_threshold(max(RUN_THRESHOLD, t0), t1, max(FULL_THRESHOLD, t2))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved is not None:
                threshold, froze = _saved
                gc.set_threshold(*threshold)
                if froze:
                    gc.unfreeze()
                _saved = None
