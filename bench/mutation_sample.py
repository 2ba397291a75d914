"""Mutation score from a seeded uniform sample of mutmut's mutants, with a Wilson 95 % interval.

A full `make mutation` plants about 10,400 mutants in the engine, scoring, assessment and log
modules, hours of CPU on two cores.  This script lists every mutant mutmut would plant (with
mutmut's own mutation code, so the names are exactly mutmut's), draws a uniform random sample
of them with a fixed seed, lets `mutmut run <names>` check only those, and reports the share
killed per module group with a Wilson score interval for the whole population.

    python bench/mutation_sample.py --sample 300 --seed 1             # all mutated modules
    python bench/mutation_sample.py --sample 150 --module scro_sim/assessment.py
    python bench/mutation_sample.py --sample 300 --seed 1 --report-only   # recount, no run
    python bench/mutation_sample.py --sample 300 --seed 1 --fresh-only    # only the fresh-process checks
    python bench/mutation_sample.py --sample 300 --seed 1 --names         # the drawn names only
    make mutation SAMPLE=300 SEED=1 [MODULE=scro_sim/engine]

The same seed, sample size, module filter and source files give the same mutants.  mutmut runs
at the lowest CPU priority (`nice 19`, --nice to change) with HYPOTHESIS_PROFILE=mutation.
Killed counts mutmut's "killed" and "timeout" (a planted bug that makes the tests hang is caught
by the time limit); "no tests" (no selected test reaches the function) counts as survived.

mutmut forks each mutant's test run from a process that has already imported the package and
run the whole selection once, so a mutant in code that runs at import (a hazard kind's field
table, the metric catalogue) or whose result that process has already cached is never executed
and "survives".  So each sampled mutant mutmut leaves alive in a function that runs while pytest
imports the selection (traced once, in a fresh process, with mutmut's own "stats" hook) is checked
again in a fresh process: `python -m pytest -x` inside mutants/ with MUTANT_UNDER_TEST=<name> set
before the package is imported, on the tests mutmut ties to its function and every test tied to
any function of its module, and the contract tests of the file formats (CONTRACT_TESTS).  A
failure there counts as killed ("killed in a fresh process"), a pass as survived.  --fresh-all
checks every survivor so (cached results too; slower), --no-fresh none (counts as mutmut does).
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
FRESH = ROOT / "mutants" / "fresh-checks.json"
STATS = ROOT / "mutants" / "mutmut-stats.json"
FRESH_KILLED = "killed in a fresh process"
OPTIONS_WITH_VALUE = {"--deselect", "-m", "-k", "--ignore", "-p"}
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NOT_RUN = {"not checked", "skipped", "check was interrupted by user"}
GROUPS = ("scro_sim/engine/", "scro_sim/scoring/", "scro_sim/assessment.py", "scro_sim/log.py")
#: tests of what is built at import (the file formats' field tables): run on every import-time mutant,
#: as no run-time trace ties them to the functions that build those tables
CONTRACT_TESTS = ("tests/test_schemas.py",)


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


def selection() -> tuple[list[str], list[str]]:
    """[tool.mutmut]'s test selection, split into test paths and the pytest options around them.

    Read from the copy in mutants/ when there is one: the fresh-process checks run the tests of the
    copy mutmut made (the checkout's selection may have grown since).
    """
    config = ROOT / "mutants" / "pyproject.toml"
    config = config if config.exists() else ROOT / "pyproject.toml"
    args = tomllib.loads(config.read_text())["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    paths, options = [], []
    it = iter(args)
    for arg in it:
        if arg.startswith("-"):
            options.append(arg)
            if arg in OPTIONS_WITH_VALUE:
                options.append(next(it))
        else:
            paths.append(arg)
    return paths, options


def module_of(function: str) -> str:
    """`scro_sim.log.x_f` or `scro_sim.log.xǁClassǁf` -> `scro_sim.log`."""
    return function.rpartition(".")[0]


def collection_time_functions() -> set[str]:
    """Mutated functions (mutmut's mangled names) that run while pytest imports the selection.

    Traced in a fresh process inside mutants/ with MUTANT_UNDER_TEST=stats, the mode in which
    mutmut's trampolines record each call, during `pytest --collect-only`.
    """
    paths, options = selection()
    script = ("import json, sys, pytest\n"
              "pytest.main(['--collect-only', '-q', '-p', 'no:randomly', '-p', 'no:cacheprovider', *sys.argv[1:]])\n"
              "from mutmut.state import state\n"
              "print('MUTMUT-HITS ' + json.dumps(sorted(state()._stats)))\n")
    env = {**os.environ, "MUTANT_UNDER_TEST": "stats", "HYPOTHESIS_PROFILE": "mutation"}
    out = subprocess.run([sys.executable, "-c", script, *paths, *options], cwd=ROOT / "mutants", env=env,
                         capture_output=True, text=True, check=False).stdout
    line = next((x for x in out.splitlines() if x.startswith("MUTMUT-HITS ")), None)
    if line is None:
        sys.exit("mutation_sample: tracing the test collection in mutants/ failed:\n" + out[-2000:])
    hits = set(json.loads(line.removeprefix("MUTMUT-HITS ")))
    if not hits:
        sys.exit("mutation_sample: no mutated function ran at collection: mutants/ is not the code imported")
    return hits


def fresh_check(name: str, tests: list[str], options: list[str], budget: float) -> str:
    """Run `tests` in a new process inside mutants/ with mutant `name` active from import on.

    A mutant that breaks the import of a test module (a field table read at import, say) makes
    pytest stop with a collection error (exit 2 or 4) instead of a failure: the same tests are then
    run without any mutant, and only if they pass there is the mutant counted as killed.
    """
    def run(mutant: str) -> int:
        env = {**os.environ, "MUTANT_UNDER_TEST": mutant, "HYPOTHESIS_PROFILE": "mutation"}
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "--tb=no", "--no-header", "-p", "no:randomly",
               "-p", "no:cacheprovider", "--rootdir=.", *tests, *options]
        return subprocess.run(cmd, cwd=ROOT / "mutants", env=env, capture_output=True, text=True,
                              timeout=budget, check=False).returncode

    try:
        code = run(name)
        if code in (2, 4) and run("") == 0:
            return FRESH_KILLED
    except subprocess.TimeoutExpired:
        return "timeout in a fresh process"
    return {0: "survived in a fresh process", 1: FRESH_KILLED, 5: "no tests"}.get(code, f"pytest exit {code}")


def recheck_in_fresh_process(sample: dict[str, str], every: bool = False) -> None:
    """Check sampled mutants mutmut left alive again in a fresh process (see the module doc): those in
    functions run at import, or with ``every`` all of them.

    Results are kept in mutants/fresh-checks.json under the mutant's name and its file's hash.
    """
    from mutmut.utils.format_utils import mangled_name_from_mutant_name

    status = statuses()
    alive = [n for n in sample if status.get(n) in {"survived", "no tests"}]
    digests = {p: v["sha256"] for p, v in json.loads(CACHE.read_text()).items()}
    done = json.loads(FRESH.read_text()) if FRESH.exists() else {}
    todo = [n for n in alive if done.get(n, {}).get("sha256") != digests[sample[n]]]
    if not todo:
        return
    at_collection = collection_time_functions()
    if not every:
        todo = [n for n in todo if mangled_name_from_mutant_name(n) in at_collection]
    stats = json.loads(STATS.read_text())
    tests_of = stats["tests_by_mangled_function_name"]
    duration = stats["duration_by_test"]
    _, options = selection()
    print(f"checking {len(todo)} surviving mutants again in a fresh process", flush=True)
    for name in todo:
        function = mangled_name_from_mutant_name(name)
        tests = set(tests_of.get(function, ()))
        if function in at_collection:
            module = module_of(function)
            tests |= {t for f, ts in tests_of.items() if module_of(f) == module for t in ts}
            tests |= {t for t in CONTRACT_TESTS if (ROOT / "mutants" / t).exists()}
        budget = max(600.0, 20 * sum(duration.get(t, 1.0) for t in tests))
        result = fresh_check(name, sorted(tests), options, budget) if tests else "no tests"
        done[name] = {"sha256": digests[sample[name]], "status": result,
                      "import_time": function in at_collection, "tests": len(tests)}
        FRESH.write_text(json.dumps(done, indent=1))
        print(f"  {name}: {result}", flush=True)


def report(sample: dict[str, str], population: dict[str, list[str]], modules: list[str]) -> dict:
    """Kill rate and Wilson interval per module group and overall; survivors listed."""
    status = statuses()
    fresh = json.loads(FRESH.read_text()) if FRESH.exists() else {}
    digests = {p: v["sha256"] for p, v in json.loads(CACHE.read_text()).items()}
    for name, path in sample.items():
        if name in fresh and fresh[name]["sha256"] == digests[path] and status.get(name) in {"survived", "no tests"}:
            status[name] = fresh[name]["status"]
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
        if state in KILLED or state in {FRESH_KILLED, "timeout in a fresh process"}:
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
    by_state = defaultdict(int)
    for name in sample:
        if name not in unchecked:
            by_state[status.get(name)] += 1
    print("by status: " + ", ".join(f"{k} {v}" for k, v in sorted(by_state.items())))
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
    parser.add_argument("--report-only", action="store_true",
                        help="count the recorded results (mutmut's and the fresh checks'), run nothing")
    parser.add_argument("--fresh-only", action="store_true",
                        help="skip `mutmut run`: only check its recorded survivors again in a fresh process")
    parser.add_argument("--fresh-all", action="store_true",
                        help="check every survivor again in a fresh process, not only those in code run at import")
    parser.add_argument("--no-fresh", action="store_true",
                        help="do not check mutmut's survivors again in a fresh process (count as mutmut does)")
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
    if not (args.report_only or args.fresh_only):
        env = {**os.environ, "HYPOTHESIS_PROFILE": "mutation"}
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(args.jobs), *sample],
                       cwd=ROOT, env=env, check=False)
    if not (args.report_only or args.no_fresh) and STATS.exists():
        recheck_in_fresh_process(sample, every=args.fresh_all)
    figures = report(sample, population, modules)
    if args.json:
        args.json.write_text(json.dumps({"seed": args.seed, "sample": args.sample, "modules": modules,
                                         **figures}, indent=1))


if __name__ == "__main__":
    main()
