"""What the engine's run would cost without each piece of overhead, measured in one process.

    python bench/ablate.py [ROUNDS=12] [SIZE=5000]

Each round times 20 do-nothing runs of the bench's 72 h flood on ``synthetic(SIZE)`` as the
engine is, then with one piece changed, and takes the ratio round by round (alternating in
one process, so the machine's state and the memory layout fall on both sides alike):

- ``gc off``: the cycle collector disabled during the runs;
- ``plain tuples``: log records made as plain tuples instead of ``EventRecord`` named tuples
  (breaks every reader of ``record.kind``; only the engine's cost is of interest here);
- ``no log``: ``append`` and ``extend`` do nothing (an upper bound: no records at all).

Logs are not compared: the last two change what is stored.  A figure, not a test.
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from itertools import count, repeat
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench
from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.policy import DoNothing


def _plain_append(self: EventLog, time: float, kind: str, subject: str = "", data: dict[str, Any] | None = None) -> None:
    records = self._records
    if not self._last - 1e-9 <= time < math.inf:
        raise ValueError(time)
    self._last = time
    records.append((float(time), len(records), kind, subject, {} if data is None else data))


def _plain_extend(self: EventLog, time: float, kind: str, subjects: list[str], data: list[dict[str, Any]]) -> None:
    self._last = time
    self._records.extend(zip(repeat(float(time)), count(len(self._records)), repeat(kind), subjects, data))


def _nothing(*_args: Any, **_kw: Any) -> None:
    return None


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    bench.say = lambda *a: None
    city = bench.city_of(size)
    sc = bench.flood_scenario(city, expert=False)
    gc.freeze()
    append, extend = EventLog.append, EventLog.extend

    def timed(n: int = 20) -> float:
        ts = []
        for s in range(n):
            t = time.perf_counter()
            Simulation(sc, city, s, DoNothing()).run()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1e3

    def with_log(a: Callable[..., Any], e: Callable[..., Any]) -> float:
        EventLog.append, EventLog.extend = a, e  # type: ignore[method-assign]
        try:
            return timed()
        finally:
            EventLog.append, EventLog.extend = append, extend  # type: ignore[method-assign]

    def gc_off() -> float:
        gc.disable()
        try:
            return timed()
        finally:
            gc.enable()

    variants: dict[str, Callable[[], float]] = {
        "gc off": gc_off,
        "plain tuples": lambda: with_log(_plain_append, _plain_extend),
        "no log": lambda: with_log(_nothing, _nothing),
    }
    timed(5)
    base: list[float] = []
    got: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(rounds):
        base.append(timed())
        for name, fn in variants.items():
            got[name].append(fn())
    print(f"synthetic({size}), 72 h flood, do nothing: {statistics.median(base):.2f} ms per run "
          f"(median of {rounds} rounds of 20 runs)")
    for name, vals in got.items():
        ratio = statistics.median(v / b for v, b in zip(vals, base, strict=True))
        print(f"  {name:13s} {statistics.median(vals):6.2f} ms  -> {ratio:.3f}x the engine as it is")


if __name__ == "__main__":
    main()
