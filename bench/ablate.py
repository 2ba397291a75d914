"""What the engine's run would cost without each piece of overhead, measured in one process.

    python bench/ablate.py [ROUNDS=12] [SIZE=5000]

Each round times 20 do-nothing runs of the bench's 72 h flood on ``synthetic(SIZE)`` as the
engine is, then with one piece changed, and takes the ratio round by round (alternating in
one process, so the machine's state and the memory layout fall on both sides alike):

- ``gc off``: the cycle collector disabled during the runs;
- ``no log``: the engine's writes (``add``, ``extend``, the writer ``at`` hands out) keep
  nothing (an upper bound: no records at all).

The engine keeps a run's records as pending fields and makes the ``EventRecord`` tuples when
the log is first read (``scro_sim/log.py``), so their form no longer costs the run anything.
Logs are not compared: ``no log`` changes what is stored.  A figure, not a test.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench
from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.policy import DoNothing


def _nothing(*_args: Any, **_kw: Any) -> None:
    return None


def _throwaway(*_args: Any, **_kw: Any) -> list[Any]:
    return []  # a writer whose records nobody keeps


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    bench.say = lambda *a: None
    city = bench.city_of(size)
    sc = bench.flood_scenario(city, expert=False)
    gc.freeze()
    writes = (EventLog.add, EventLog.extend, EventLog.at)

    def timed(n: int = 20) -> float:
        ts = []
        for s in range(n):
            t = time.perf_counter()
            Simulation(sc, city, s, DoNothing()).run()
            ts.append(time.perf_counter() - t)
        return statistics.median(ts) * 1e3

    def without_log() -> float:
        EventLog.add, EventLog.extend, EventLog.at = _nothing, _nothing, _throwaway  # type: ignore[method-assign]
        try:
            return timed()
        finally:
            EventLog.add, EventLog.extend, EventLog.at = writes  # type: ignore[method-assign]

    def gc_off() -> float:
        gc.disable()
        try:
            return timed()
        finally:
            gc.enable()

    variants: dict[str, Callable[[], float]] = {
        "gc off": gc_off,
        "no log": without_log,
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
