"""Event-log digests of many runs, to show that a change to the engine's speed left every log alone.

The golden digests (tests/test_golden_digests.py) pin 45 runs; a speed change should also keep
the logs of many more.  This script runs the bundled exercises with do-nothing, greedy and their
expert plan, and the synthetic flood (do nothing, expert plan) and storm (do nothing, greedy) at
500 and 5,000 assets, each on seeds 1..8, and prints how many digests match those of the library
in another source tree (a checkout of an older commit, made with ``git worktree add``), which it
computes in a child process importing that tree's ``scro_sim`` whole (log, engine, scenario).

    python bench/log_digests.py --against OLD_TREE [--seeds 8] [--json out.json]
    python bench/log_digests.py --json out.json        # only this tree's digests
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def digests(seeds: int) -> dict[str, str]:
    """``{"scenario/policy/seed": digest}`` of every run, with whichever ``scro_sim`` is imported."""
    sys.path.insert(0, str(HERE))
    from bench import flood_scenario, storm_scenario
    from scro_sim.city.synthetic import synthetic
    from scro_sim.engine import Simulation
    from scro_sim.policy import PlanPolicy, baseline_policy
    from scro_sim.scenario import load_scenario

    def policy(sc: object, name: str) -> object:
        return PlanPolicy(sc.reference_plans.expert, "expert") if name == "expert" else baseline_policy(name)

    runs = []
    for path in sorted((HERE.parent / "scenarios").glob("*.yaml")):
        sc, city = load_scenario(path)
        runs += [(f"{path.stem}/{name}", sc, city, name) for name in ("do_nothing", "greedy", "expert")]
    for n in (500, 5000):
        city = synthetic(n, seed=1)
        flood, storm = flood_scenario(city), storm_scenario(city)
        runs += [(f"flood{n}/do_nothing", flood, city, "do_nothing"), (f"flood{n}/expert", flood, city, "expert"),
                 (f"storm{n}/do_nothing", storm, city, "do_nothing"), (f"storm{n}/greedy", storm, city, "greedy")]
    return {f"{name}/{seed}": Simulation(sc, city, seed, policy(sc, pol)).run().digest()
            for name, sc, city, pol in runs for seed in range(1, seeds + 1)}


def digests_of_tree(tree: str, seeds: int) -> dict[str, str]:
    """:func:`digests` with the library of source tree ``tree``, in a child process."""
    code = (f"import sys, json; sys.path.insert(0, {str(Path(tree).resolve())!r}); import scro_sim; "
            # scro_sim is imported first, from the other tree: bench.py's own path entry then finds it loaded
            f"sys.path.insert(0, {str(HERE)!r}); import log_digests; "
            f"print(json.dumps(log_digests.digests({seeds})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{tree}: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else 'failed'}")
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--against", metavar="OLD_TREE", help="compare with the digests of this source tree's library")
    ap.add_argument("--seeds", type=int, default=8, help="seeds 1..N per scenario and policy")
    ap.add_argument("--json", metavar="FILE", help="write this tree's digests here")
    args = ap.parse_args()
    mine = digests(args.seeds)
    if args.json:
        Path(args.json).write_text(json.dumps(mine, indent=1, sort_keys=True) + "\n")
    if not args.against:
        print(f"{len(mine)} runs")
        return
    theirs = digests_of_tree(args.against, args.seeds)
    differ = sorted(k for k in mine if mine[k] != theirs.get(k))
    print(f"{len(mine)} runs: {len(mine) - len(differ)} identical to {args.against}'s, {len(differ)} differ")
    for k in differ:
        print(f"  differs: {k}")
    if differ:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
