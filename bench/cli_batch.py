"""`scro-sim batch` end to end, start-up included, as a user runs it from the shell.

    python bench/cli_batch.py                      # 1,000 replications on the 5,000-asset city, 2 workers, 3 times
    python bench/cli_batch.py -n 200 --size 500 --repeat 1
    python bench/cli_batch.py --keep var/bench-cli  # leave the scenario and city files there
    python bench/cli_batch.py --against ../main     # the same, alternating with another checkout's code

Writes ``synthetic(SIZE, seed=1)`` as a city file and the bench's flood scenario (do nothing
as its only plan: one engine run per replication) next to it, then times
``scro-sim batch SCENARIO --plan do_nothing -n N --workers 2`` as a child process (wall
time from fork to exit). Next to it, in the same run, it times ``scro-sim --help`` (the
cost of starting Python and importing the CLI) and a bare ``python -c pass``.
Target: 1,000 replications at 5,000 assets in at most 10 s on 2 cores, start-up included.

Every command runs with its byte code cached, as an installed package has it, in the bench's
temporary folder (``PYTHONPYCACHEPREFIX``; nothing is written next to the sources), after one
untimed warm-up run.  ``--against TREE`` times another checkout's ``scro-sim batch`` in the
same run, alternating with this one's (same interpreter and libraries, ``PYTHONPATH=TREE``),
and prints the ratio of the medians: a comparison that a machine busy with other work does
not skew as much as figures taken at different times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import flood_data  # noqa: E402
from scro_sim.city import synthetic  # noqa: E402
from scro_sim.yamlio import dump_yaml  # noqa: E402


def write_inputs(folder: Path, size: int, fmt: str) -> Path:
    """The synthetic city and its flood scenario as files in ``folder``; returns the scenario's path."""
    city = synthetic(size, seed=1)
    name = f"synthetic{size}.{fmt}"
    if fmt == "json":
        (folder / name).write_text(json.dumps(city.to_node_link()), encoding="utf-8")
    else:
        (folder / name).write_text(city.to_yaml(), encoding="utf-8")
    data = flood_data(city, expert=False)
    data["city"] = name
    scenario = folder / f"flood{size}.yaml"
    scenario.write_text(dump_yaml(data), encoding="utf-8")
    return scenario


def wall(cmd: list[str], cwd: Path, env: dict[str, str] | None = None
         ) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds of the command and every process it started, the finished process).

    CPU is sampled every 20 ms with psutil (nan without it): the figure a busy machine does not inflate.
    """
    try:
        import psutil
    except ImportError:
        psutil = None
    t = time.perf_counter()
    # run where the inputs are, as a user would: from the repository, `python -c` in the fork server would put
    # the working tree's scro_sim first on its path whatever PYTHONPATH says
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, "COLUMNS": "120", **(env or {})})
    seen: dict[int, float] = {}
    if psutil is not None:
        me = psutil.Process(proc.pid)
        while proc.poll() is None:
            for p in [me, *me.children(recursive=True)]:
                try:
                    c = p.cpu_times()
                    seen[p.pid] = c.user + c.system
                except psutil.Error:  # ended between listing and asking
                    pass
            time.sleep(0.02)
    out, err = proc.communicate()
    dt = time.perf_counter() - t
    cpu = sum(seen.values()) if seen else float("nan")
    return dt, cpu, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def share_of_core() -> float:
    """CPU / wall of a 0.3 s busy loop: 1.0 on an idle core, less when other work competes."""
    w, c = time.perf_counter(), time.process_time()
    s = 0
    for i in range(1_500_000):
        s += i
    return (time.process_time() - c) / (time.perf_counter() - w)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=1000, help="replications (default 1000)")
    ap.add_argument("--size", type=int, default=5000, help="assets of the synthetic city (default 5000)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="timed batches (default 3; the median is reported)")
    ap.add_argument("--format", choices=("json", "yaml"), default="json", help="city file format (default json)")
    ap.add_argument("--keep", help="write the inputs to this folder and keep them")
    ap.add_argument("--against", metavar="TREE", help="also time this checkout's code, alternating (e.g. ../main)")
    args = ap.parse_args(argv)
    exe = str(Path(sys.executable).with_name("scro-sim"))
    cli = [exe] if Path(exe).exists() else [sys.executable, "-m", "scro_sim.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        scenario = write_inputs(folder, args.size, args.format)
        batch = [*cli, "batch", str(scenario), "--plan", "do_nothing", "-n", str(args.n), "--workers",
                 str(args.workers)]
        print("$ " + " ".join(batch[len(cli):]).replace(str(folder), "<dir>"), flush=True)
        small = [*batch[:-3], "16", *batch[-2:]]
        cached = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache-this")}
        trees: dict[str, dict[str, str]] = {"this": cached}
        if args.against:
            tree = Path(args.against).resolve()
            if not (tree / "scro_sim" / "__init__.py").exists():
                print(f"--against: {tree} holds no scro_sim package", file=sys.stderr)
                return 2
            trees["against"] = {**cached, "PYTHONPATH": str(tree),
                                "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache-against")}
        for env in trees.values():  # compile and warm the file cache before anything is timed
            done = wall(small, folder, env)[2]
            if done.returncode != 0:
                print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
                return 1
        rows: dict[str, list[tuple[float, float]]] = {"bare": [], "help": []}
        for t in trees:
            rows[f"small {t}"], rows[f"batch {t}"] = [], []
        shares = []
        for _ in range(args.repeat):
            shares.append(share_of_core())
            rows["bare"].append(wall([sys.executable, "-c", "pass"], folder)[:2])
            rows["help"].append(wall([*cli, "--help"], folder, cached)[:2])
            line = []
            for t, env in trees.items():
                for name, cmd in (("small", small), ("batch", batch)):
                    if name == "small" and args.n <= 16:
                        continue
                    dt, cpu, done = wall(cmd, folder, env)
                    if done.returncode != 0:
                        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
                        return 1
                    rows[f"{name} {t}"].append((dt, cpu))
                last = rows[f"batch {t}"][-1]
                line.append(f"{t}: {args.n} replications {last[0]:.2f} s wall, {last[1]:.1f} CPU s"
                            + (f"; 16: {rows[f'small {t}'][-1][0]:.2f} s wall, {rows[f'small {t}'][-1][1]:.1f} CPU s"
                               if rows[f"small {t}"] else ""))
            print("  " + " | ".join(line) + f" (a busy loop got {shares[-1]:.0%} of a core)", flush=True)

        def med(name: str, k: int) -> float:
            return statistics.median(r[k] for r in rows[name])

        print(f"medians of {args.repeat}: python -c pass {med('bare', 0):.2f} s; scro-sim --help {med('help', 0):.2f} s "
              f"wall, {med('help', 1):.2f} CPU s")
        for t in trees:
            who = "" if len(trees) == 1 else f"[{t}] "
            per_rep = ((med(f"batch {t}", 1) - med(f"small {t}", 1)) / (args.n - 16) if args.n > 16
                       else float("nan"))
            if rows[f"small {t}"]:
                print(f"{who}scro-sim batch, 16 replications (start-up, load, pool, summary): "
                      f"{med(f'small {t}', 0):.2f} s wall, {med(f'small {t}', 1):.2f} CPU s in all processes")
            print(f"{who}scro-sim batch, {args.n} replications, {args.size} assets, {args.workers} workers: "
                  f"{med(f'batch {t}', 0):.2f} s wall, {med(f'batch {t}', 1):.1f} CPU s in all processes "
                  f"({per_rep * 1e3:.1f} CPU ms per further replication)")
        print(f"a busy loop got {statistics.median(shares):.0%} of a core")
        if args.against:
            ratios = [f"{kind} {med(f'{kind} this', 1) / med(f'{kind} against', 1):.2f}"
                      for kind in ("small", "batch") if rows[f"{kind} this"]]
            print(f"this / against, CPU s in all processes (medians): {', '.join(ratios)}; wall "
                  f"{med('batch this', 0) / med('batch against', 0):.2f}")
        if args.n == 1000 and args.size == 5000:
            print(f"-> target 1,000 replications at 5,000 assets in <= 10 s wall, start-up included: "
                  f"{'met' if med('batch this', 0) <= 10.0 else 'MISSED'} ({med('batch this', 0):.1f} s; "
                  f"{med('batch this', 1) / 2:.1f} s of two idle cores by its CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
