"""Mutation score from a seeded uniform sample of mutmut's mutants, with a Wilson 95 % interval.

A full `make mutation` plants about 10,400 mutants in the engine, scoring, assessment and log
modules, hours of CPU on two cores.  This script lists every mutant mutmut would plant (with
mutmut's own mutation code, so the names are exactly mutmut's), draws a uniform random sample
of them with a fixed seed, lets `mutmut run <names>` check only those, and reports the share
killed per module group with a Wilson score interval for the whole population.

    python bench/mutation_sample.py --sample 300 --seed 1             # all mutated modules
    python bench/mutation_sample.py --sample 150 --module scro_sim/assessment.py
    python bench/mutation_sample.py --sample 300 --seed 1 --report-only   # recount, no run
    python bench/mutation_sample.py --sample 300 --seed 1 --names         # the drawn names only
    make mutation SAMPLE=300 SEED=1 [MODULE=scro_sim/engine]

The same seed, sample size, module filter and source files give the same mutants.  mutmut runs
at the lowest CPU priority (`nice 19`, --nice to change) with HYPOTHESIS_PROFILE=mutation.
Killed counts mutmut's "killed" and "timeout" (a planted bug that makes the tests hang is caught
by the time limit); "no tests" (no selected test reaches the function) counts as survived.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import math
import os
import random
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "mutants" / "mutant-names.json"
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NOT_RUN = {"not checked", "skipped", "check was interrupted by user"}
GROUPS = ("scro_sim/engine/", "scro_sim/scoring/", "scro_sim/assessment.py", "scro_sim/log.py")


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval for a proportion killed/n (sound for small n and p near 1)."""
    if n == 0:
        return (0.0, 1.0)
    p = killed / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mutated_files() -> list[str]:
    """The source files [tool.mutmut] only_mutate names, relative to the repository root."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    files = {p.relative_to(ROOT).as_posix() for folder in config["source_paths"] for p in (ROOT / folder).rglob("*.py")}
    # fnmatch as mutmut matches them: "*" spans "/", so scro_sim/engine/* takes engine/actions/ too
    return sorted(f for f in files if any(fnmatch.fnmatch(f, pattern) for pattern in config["only_mutate"]))


def mutant_names() -> dict[str, list[str]]:
    """Every mutant name mutmut plants, per source file, cached by the file's content hash."""
    from mutmut.mutation.file_mutation import mutate_file_contents
    from mutmut.utils.format_utils import get_mutant_name

    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    names: dict[str, list[str]] = {}
    for path in mutated_files():
        code = (ROOT / path).read_text()
        digest = hashlib.sha256(code.encode()).hexdigest()
        if cache.get(path, {}).get("sha256") != digest:
            mutated = mutate_file_contents(path, code)
            cache[path] = {"sha256": digest,
                           "names": [get_mutant_name(Path(path), n) for n in mutated.mutant_names]}
        names[path] = cache[path]["names"]
    CACHE.parent.mkdir(exist_ok=True)
    CACHE.write_text(json.dumps({p: cache[p] for p in names}, indent=1))
    return names


def draw(names: dict[str, list[str]], size: int, seed: int, modules: list[str]) -> dict[str, str]:
    """A uniform sample without replacement of `size` mutants (all if fewer), name -> file."""
    pool = sorted((name, path) for path, file_names in names.items()
                  if in_modules(path, modules)
                  for name in file_names)
    if not pool:
        sys.exit(f"mutation_sample: no mutants in {', '.join(modules)}")
    picked = pool if size >= len(pool) else random.Random(seed).sample(pool, size)
    return dict(sorted(picked))


def statuses() -> dict[str, str]:
    """mutmut's recorded status of every mutant, from `mutmut results --all true`."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            result[name] = status
    return result


def in_modules(path: str, modules: list[str]) -> bool:
    """Whether a source file is one of `modules` (files or folders); every file when none."""
    return not modules or any(path == m or path.startswith(m + "/") for m in modules)


def group_of(path: str) -> str:
    return next((g for g in GROUPS if path == g or path.startswith(g)), path)


def report(sample: dict[str, str], population: dict[str, list[str]], modules: list[str]) -> dict:
    """Kill rate and Wilson interval per module group and overall; survivors listed."""
    status = statuses()
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    survivors, unchecked = [], []
    for name, path in sample.items():
        state = status.get(name, "not checked")
        group = group_of(path)
        if state in NOT_RUN:
            unchecked.append(name)
            continue
        rows[group]["n"] += 1
        rows["all"]["n"] += 1
        if state in KILLED:
            rows[group]["killed"] += 1
            rows["all"]["killed"] += 1
        else:
            survivors.append(f"{name}: {state}")
    size = defaultdict(int)
    for path, file_names in population.items():
        if in_modules(path, modules):
            size[group_of(path)] += len(file_names)
            size["all"] += len(file_names)
    summary = {}
    print(f"{'module group':<26}{'mutants':>8}{'sampled':>8}{'killed':>8}{'rate':>8}   95 % CI (Wilson)")
    for group in [*sorted(g for g in rows if g != "all"), "all"]:
        n, k = rows[group]["n"], rows[group]["killed"]
        low, high = wilson(k, n)
        rate = k / n if n else float("nan")
        summary[group] = {"mutants": size[group], "sampled": n, "killed": k, "rate": rate,
                          "ci95": [low, high]}
        print(f"{group:<26}{size[group]:>8}{n:>8}{k:>8}{rate:>8.1%}   {low:.1%} - {high:.1%}")
    if unchecked:
        print(f"{len(unchecked)} sampled mutants not checked yet (left out of the counts)")
    print("survivors:" if survivors else "no survivors")
    for line in survivors:
        print("  " + line)
    return {"groups": summary, "survivors": survivors, "unchecked": unchecked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=300, help="mutants drawn (default 300)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the draw (default 1)")
    parser.add_argument("--module", action="append", default=[],
                        help="limit the draw to a file or folder (repeatable), e.g. scro_sim/engine")
    parser.add_argument("--jobs", type=int, default=2, help="mutmut --max-children (default 2)")
    parser.add_argument("--nice", type=int, default=19, help="CPU niceness of the run (default 19)")
    parser.add_argument("--report-only", action="store_true", help="count mutmut's recorded results")
    parser.add_argument("--names", action="store_true",
                        help="print the drawn mutants' names, one a line, and stop (to check several draws "
                             "in one `mutmut run`)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    os.chdir(ROOT)
    os.nice(args.nice)
    modules = [m.removesuffix("/") for m in args.module]
    population = mutant_names()
    sample = draw(population, args.sample, args.seed, modules)
    if args.names:
        print("\n".join(sample))
        return
    total = sum(len(v) for path, v in population.items() if in_modules(path, modules))
    print(f"{len(sample)} of {total} mutants drawn with seed {args.seed}")
    if not args.report_only:
        env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation"}
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs), *sample],
                       cwd=ROOT, env=env, check=False)
    figures = report(sample, population, modules)
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "sample": args.sample, "modules": modules,
                                         **figures}, indent=1))


if __name__ == "__main__":
    main()
