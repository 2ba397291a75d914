"""compute_metrics over the metric catalogue against the single function it replaced, same runs.

    .venv/bin/python bench/metrics_cost.py [--rev aad0c34] [--assets 5000] [--reps 15]

Loads ``scro_sim/scoring.py`` as it was at ``--rev`` (before the catalogue) beside today's
package, plays a flood on a synthetic city with do-nothing and the expert plan, and times both
versions' ``compute_metrics`` on the same logs, interleaved, reporting the median CPU ms and
their ratio (new / old).  Both must give the same flat metrics and links.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import scro_sim
from bench import city_of, flood_scenario
from scro_sim.engine import Simulation
from scro_sim.policy import DoNothing, PlanPolicy
from scro_sim.scoring import compute_metrics, grade


def old_scoring(rev: str) -> Any:
    """The pre-catalogue scoring module at ``rev``, imported as ``scro_sim._scoring_before``."""
    root = Path(__file__).resolve().parent.parent
    src = subprocess.run(["git", "show", f"{rev}:scro_sim/scoring.py"], cwd=root, check=True,
                         capture_output=True, text=True).stdout
    path = Path(scro_sim.__file__).parent / "_scoring_before.py"
    path.write_text(src)
    try:
        spec = importlib.util.spec_from_file_location("scro_sim._scoring_before", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
    finally:
        path.unlink()
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", default="aad0c34")
    ap.add_argument("--assets", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=15)
    args = ap.parse_args()
    old = old_scoring(args.rev)
    city = city_of(args.assets)
    sc = flood_scenario(city)
    logs = [Simulation(sc, city, 1, DoNothing()).run(),
            Simulation(sc, city, 1, PlanPolicy(sc.reference_plans.expert, "expert")).run()]
    for log in logs:
        a, b = old.compute_metrics(log), compute_metrics(log)
        assert a.flat() == b.flat() and a.links == b.links, "the two versions disagree"
    ref = {"baseline": compute_metrics(logs[0]), "expert": compute_metrics(logs[1])}
    old_ref = {"baseline": old.compute_metrics(logs[0]), "expert": old.compute_metrics(logs[1])}
    cases = {
        "compute_metrics": (lambda log: old.compute_metrics(log), lambda log: compute_metrics(log)),
        "grade (metrics, rubric, card)": (lambda log: old.grade(log, sc, reference=old_ref, digest=False),
                                          lambda log: grade(log, sc, reference=ref, digest=False)),
    }
    print(f"{args.assets} assets, {sum(len(x) for x in logs) // len(logs)} records per log; median CPU ms per log:")
    for label, (before, after) in cases.items():
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(args.reps):
            for name, fn in (("old", before), ("new", after)):
                t = time.process_time()
                for log in logs:
                    fn(log)
                times[name].append((time.process_time() - t) * 1e3 / len(logs))
        o, n = statistics.median(times["old"]), statistics.median(times["new"])
        print(f"  {label}: before {o:.2f}, catalogue {n:.2f}, ratio {n / o:.3f}")


if __name__ == "__main__":
    main()
