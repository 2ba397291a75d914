"""What the utilities' own recovery costs the engine per event-log record.

The engine target (bench/README.md) is CPU per event-log record against bare simpy's CPU per
event, on the 5,000-asset synthetic flood left to do-nothing.  Since engine 0.4.0 do-nothing
means "the utilities on their own": crews repair by the utility's order and the run goes on to
the end of recovery.  This script measures the same flood three ways, each against bare simpy
measured right after it in the same process (the machine is shared: read the ratios):

* as shipped (the utilities' order, fast-forward to the end of recovery);
* without the utilities' order (``utility_restoration: false``: crews wait for orders, the
  workload the target was first set on);
* without the fast-forward (``recovery_h: 0``: the run ends at the scenario's last hour).

    python bench/recovery_cost.py [--runs 10] [--rounds 3] [--against OLD_TREE]

``--against`` also times the engine of another source tree (a checkout of an older commit,
made with ``git worktree add``; its engine and event log, with this tree's scenario and city) in
the same process, as shipped, run by run in turns with this one: on a shared machine the paired
ratio of CPU per round is steadier than either ratio to bare simpy.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
import time
import types
from pathlib import Path

import simpy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import flood_scenario
from scro_sim.city.synthetic import synthetic
from scro_sim.engine import Simulation
from scro_sim.policy import DoNothing


def engine_of(tree: str) -> type:
    """The Simulation class of source tree ``tree``: its engine and its event log, loaded beside this
    tree's under another package name.  The rest of the library (scenario, city, policies) is this
    tree's, shared, so that both engines read the very same scenario and city objects."""
    root = Path(tree) / "scro_sim"
    if not (root / "engine" / "__init__.py").is_file():
        raise SystemExit(f"{tree}: no scro_sim/engine package there")
    name = "scro_sim_against"
    package = types.ModuleType(name)
    package.__path__ = [str(root)]
    sys.modules[name] = package
    for mod_name, mod in list(sys.modules.items()):  # this tree's modules, but for the engine and the log
        if mod_name.startswith("scro_sim.") and mod_name != "scro_sim.log" and not mod_name.startswith("scro_sim.engine"):
            sys.modules[name + mod_name[len("scro_sim"):]] = mod
    return importlib.import_module(name + ".engine").Simulation


def bare_simpy_per_event(n: int = 12_000, reps: int = 5) -> float:
    """CPU seconds per event of a bare simpy process of timeouts (the yardstick)."""
    def proc(env: simpy.Environment) -> object:
        for _ in range(n):
            yield env.timeout(1)

    t = time.process_time()
    for _ in range(reps):
        env = simpy.Environment()
        env.process(proc(env))
        env.run()
    return (time.process_time() - t) / (n * reps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=10, help="runs per variant and round (seeds 0..runs-1)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds; the median ratio is printed")
    ap.add_argument("--against", metavar="OLD_TREE", help="also time this source tree's engine, alternating rounds")
    args = ap.parse_args()
    city = synthetic(5000, seed=1)
    gc.collect()
    gc.freeze()  # the city out of the collector, as in a batch worker
    base = flood_scenario(city)
    variants = {
        "as shipped": base,
        "no utility order": base.model_copy(update={"resources": base.resources.model_copy(
            update={"utility_restoration": False})}),
        "no fast-forward": base.model_copy(update={"recovery_h": 0.0}),
    }
    print(f"synthetic(5000): {city.n_assets} assets; 72 h flood, do nothing; {args.runs} runs x {args.rounds} rounds")
    for name, sc in variants.items():
        for s in range(2):  # warm the city's memo (fragility tables, road searches)
            Simulation(sc, city, s, DoNothing()).run()
        ratios, per_rec, records = [], [], 0
        for _ in range(args.rounds):
            t, n = time.process_time(), 0
            for s in range(args.runs):
                n += len(Simulation(sc, city, s, DoNothing()).run())
            per = (time.process_time() - t) / n
            ratios.append(per / bare_simpy_per_event())
            per_rec.append(per)
            records = n // args.runs
        ratios.sort()
        per_rec.sort()
        print(f"  {name:17} {records:5d} records/run  {per_rec[len(per_rec) // 2] * 1e6:6.2f} us/record  "
              f"{ratios[len(ratios) // 2]:5.2f}x bare simpy (median of {args.rounds})")

    if args.against:
        engines = {"this tree": Simulation, "against": engine_of(args.against)}
        for sim in engines.values():
            for s in range(2):
                sim(base, city, s, DoNothing()).run()
        cpu: dict[str, list[float]] = {name: [] for name in engines}
        for _ in range(args.rounds):
            spent = dict.fromkeys(engines, 0.0)
            for s in range(args.runs):  # run by run, in turns (who goes first alternates): the finest pairing
                for name in (engines if s % 2 == 0 else reversed(engines)):
                    t = time.process_time()
                    engines[name](base, city, s, DoNothing()).run()
                    spent[name] += time.process_time() - t
            for name in engines:
                cpu[name].append(spent[name])
        paired = sorted(a / b for a, b in zip(cpu["this tree"], cpu["against"], strict=True))
        print(f"  as shipped, CPU of this tree's engine / {args.against}'s, per round: "
              f"{' '.join(f'{x:.3f}' for x in paired)}; median {paired[len(paired) // 2]:.3f}")

if __name__ == "__main__":
    main()
