"""Time a cohort's grade export (xAPI) against the number of stored runs.

    python bench/gradebook_export.py            # 50 and 200 runs of the Riverton flood
    python bench/gradebook_export.py --runs 1000

Runs are stored once through the normal path (`assessment.record_log`: graded, log compressed),
each with a different seed's real log, so the export reads what a real cohort would hold.  A few
runs are re-graded (judgement and override), so their xAPI statements carry voidings.  Prints
the export time per size and per run: it should grow with the runs, not with their logs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scro_sim.assessment import export_cohort, override, record_log  # noqa: E402
from scro_sim.engine import Simulation  # noqa: E402
from scro_sim.policy import Greedy  # noqa: E402
from scro_sim.scenario import load_scenario  # noqa: E402
from scro_sim.store import Store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, nargs="*", default=[50, 200], help="cohort sizes to time")
    args = ap.parse_args()
    sc, city = load_scenario(ROOT / "scenarios" / "riverton_flood.yaml")
    logs = [Simulation(sc, city, seed, Greedy()).run() for seed in range(5)]  # five real logs, reused
    with tempfile.TemporaryDirectory() as tmp, Store(f"sqlite:///{Path(tmp) / 'bench.sqlite'}") as store:
        store.add_user("assessor", "bench-plover-basalt-quiver", "assessor")  # passes the strength rule
        stored = 0
        for n in sorted(args.runs):
            while stored < n:
                run_id, card = record_log(store, sc, city, stored % 5, logs[stored % 5], decisions=[],
                                          learner=f"learner{stored}", cohort="bench", policy="greedy")
                if stored % 10 == 0:  # some runs re-graded: their statements carry voidings
                    computed = next(c for c in card.criteria if c.kind == "computed")
                    override(store, run_id, computed.id, "S", "bench re-grade", "assessor")
                stored += 1
            t = time.perf_counter()
            text = export_cohort(store, "bench", "xapi")
            dt = time.perf_counter() - t
            print(f"{n:>6} runs: export {dt:6.2f} s ({dt / n * 1e3:.1f} ms per run, {len(text) / 1e6:.1f} MB of xAPI)")


if __name__ == "__main__":
    main()
