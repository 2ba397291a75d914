"""The ``scro-sim batch`` and ``scro-sim compare`` commands (wired in by :mod:`scro_sim.cli`).

``batch`` runs many paired replications of one plan with a rich progress bar and prints
the summary; ``compare`` puts several plans side by side and draws their distributions.
Input problems come out as ``path:line: field: message`` lines and exit status 2.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .errors import ScroSimError, print_problems

__all__ = ["add_batch_commands", "cmd_batch", "cmd_compare", "main", "seed_arg"]

_NAMED = ("do_nothing", "greedy", "expert", "baseline")


def _table_metrics() -> tuple[str, ...]:
    """The score and the catalogue's headline metrics: what the batch tables show."""
    from .scoring import HEADLINE

    return ("score", *HEADLINE)


def _fail(exc: ScroSimError) -> int:
    print_problems(exc)
    return 2


def seed_arg(text: str) -> int:
    """A seed from the command line: a whole number from 0 up (``scro-sim run``, ``play``, ``batch``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a seed is a whole number from 0 up")
    return value


def _common(q: argparse.ArgumentParser) -> None:
    q.add_argument("-n", type=int, default=100, help="replications (default 100)")
    q.add_argument("--seed", type=seed_arg, default=0, help="root seed of the batch (default 0)")
    q.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (needs scro_sim[dask])")
    q.add_argument("--workers", type=int, help="local worker processes (default: the CPUs available; 1 = in-process)")
    q.add_argument("--chunk", type=int, help="replications per task (default: automatic, at most 25)")
    q.add_argument("--db", dest="batch_db", metavar="URL",
                   help="store replications here, so an interrupted batch resumes (SQLite file or PostgreSQL URL)")


def add_batch_commands(subparsers: Any) -> None:
    """Add ``batch`` and ``compare`` to the ``scro-sim`` subcommands (handlers under ``fn``)."""
    b = subparsers.add_parser("batch", help="run many replications of a plan and summarise them")
    b.add_argument("scenario", help="scenario YAML")
    b.add_argument("--plan", required=True,
                   help="response plan YAML, or do_nothing, greedy, expert (the scenario's expert plan)")
    _common(b)
    b.add_argument("--out", help="write one row per replication and policy (Parquet)")
    b.add_argument("--batch-id", help="name of the batch in --db (default: a hash of its inputs)")
    b.add_argument("--digests", action="store_true",
                   help="add each run's event-log digest to its row (slower: every log is written out canonically)")
    b.set_defaults(fn=cmd_batch)

    c = subparsers.add_parser("compare", help="compare plans over the same replications")
    c.add_argument("scenario", help="scenario YAML")
    c.add_argument("plans", nargs="+", metavar="PLAN", help="plan YAML files or do_nothing, greedy, expert")
    _common(c)
    c.add_argument("--out", default="compare.png", help="histogram figure (PNG/SVG/PDF; default compare.png)")
    c.set_defaults(fn=cmd_compare)


# -- helpers -------------------------------------------------------------------------------------


#: the fork server's imports, as scro_sim.batch.executors.WORKER_PRELOAD (a test keeps them equal): naming
#: them here lets the server start before this process imports the library
_WORKER_PRELOAD = ["scro_sim.batch.replication", "scipy.sparse.csgraph"]


def _start_worker_server(args: argparse.Namespace) -> None:
    """Start the fork server that pool workers come from, so its imports (about a second) run on another
    core while this process imports the library and loads the scenario and city.

    Not on Linux: there the pool forks its workers from this process once the scenario and city
    are loaded (this command runs no other thread: its progress bar is redrawn from the callback),
    so they need no imports of their own.
    """
    if args.scheduler or args.workers == 1 or args.n <= 8:  # Dask, in-process, or too few to leave the process
        return
    if sys.platform == "linux":
        return
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - not on Linux
        return
    from multiprocessing import forkserver

    mp.get_context("forkserver").set_forkserver_preload(_WORKER_PRELOAD)
    forkserver.ensure_running()


def _load(path: str) -> tuple[Any, Any]:
    from .scenario import load_scenario

    return load_scenario(path)


def _plan(spec: str, scenario: Any, city: Any) -> Any:
    """A plan argument: a YAML path or a name."""
    from .scenario import load_plan

    if spec == "expert":
        if scenario.reference_plans.expert is None:
            raise ScroSimError("this scenario has no expert plan", path=scenario.source_path,
                               field="reference_plans.expert")
        return scenario.reference_plans.expert
    if spec == "baseline":
        return scenario.reference_plans.baseline
    if spec in ("do_nothing", "greedy") and not Path(spec).exists():
        return spec
    return load_plan(spec, scenario, city)


def _executor(args: argparse.Namespace) -> Any:
    if args.scheduler:
        from .batch import dask_executor

        return dask_executor(args.scheduler)
    if args.workers == 1:
        return "inline"
    return "auto"


def _store(args: argparse.Namespace) -> Any:
    url = args.batch_db or getattr(args, "db", None)
    if not url:
        return None
    from .store import Store

    return Store(url)


def _fmt(x: float | None) -> str:
    """Short numbers for tables: 1.2M, 35.1k, 43.6, 0.125."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.3g}M"
    if a >= 1e4:
        return f"{x / 1e3:.3g}k"
    if a >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def _run(args: argparse.Namespace, scenario: Any, city: Any, plan: Any, label: str, store: Any,
         executor: Any, batch_id: str | None = None) -> Any:
    """One batch with a rich progress bar.

    The bar is redrawn from the progress callback (at most ten times a second), not by rich's
    refresh thread: with no other thread running, the local pool may fork its workers from this
    process (see :mod:`scro_sim.batch.executors`).
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .batch import evaluate

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TimeRemainingColumn(), transient=False, auto_refresh=False) as bar:
        task = bar.add_task(label, total=args.n)
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            redraw = done >= total or now - last[0] >= 0.1
            if redraw:
                last[0] = now
            bar.update(task, completed=done, total=total, refresh=redraw)

        return evaluate(scenario, city, plan, args.n, args.seed, executor=executor, workers=args.workers,
                        chunk=args.chunk, store=store, batch_id=batch_id, progress=progress,
                        digests=bool(getattr(args, "digests", False)))


def _summary_table(result: Any, title: str) -> Any:
    """Per metric: the plan, the references and the paired differences (Δ = plan minus reference)."""
    from rich.table import Table

    t = Table(title=title)
    for col in ("metric", "", "mean", "p10", "p50", "p90", "worst10%", "P(pass)", "P(better)"):
        t.add_column(col, justify="left" if col in ("metric", "") else "right")
    s = result.summary_records()  # the summary's numbers without pandas (a second's import at start-up)
    from .scoring import SUMMARY

    table = _table_metrics()  # the per-service losses of the default summary are left out
    shown = [m for m in dict.fromkeys(r["metric"] for r in s) if m in table or m not in SUMMARY]
    for m in shown:
        sub = [r for r in s if r["metric"] == m]
        for k, r in enumerate(sub):
            label = str(r["policy"]).replace("plan-", "Δ ")
            t.add_row(m if k == 0 else "", label, _fmt(r["mean"]), _fmt(r["p10"]), _fmt(r["p50"]),
                      _fmt(r["p90"]), _fmt(r["cvar10"]),
                      "" if math.isnan(r["p_pass"]) else f"{r['p_pass']:.0%}",
                      "" if math.isnan(r["p_better"]) else f"{r['p_better']:.0%}",
                      end_section=k == len(sub) - 1)
    t.caption = ("worst10% = mean of the worst decile (highest losses, lowest scores); Δ = plan minus reference on the "
                 "same seeds; P(better) = share of replications where the plan did better")
    return t


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _tail(result: Any, console: Any) -> None:
    console.print(f"batch {result.batch_id}: {result.n} replications ({result.resumed} from the store, "
                  f"{result.ran} run now on {result.executor}) in {result.elapsed_s:.1f} s")
    failed = result.failed_records()
    if failed:
        from .batch import replication_seed

        console.print(f"[bold red]{len(failed)} replication(s) failed[/] after retries:")
        for index, attempts, error in failed[:10]:
            first = str(error).splitlines()[0] if error else ""
            console.print(f"  #{index} (seed {replication_seed(result.seed, index)}, {attempts} attempts): {first}")


# -- commands ------------------------------------------------------------------------------------


def _batches(args: argparse.Namespace, plans_of: Callable[[Any, Any], dict[str, Any]],
             batch_id: str | None = None) -> tuple[Any, dict[str, Any]] | int:
    """Load the scenario and run each plan ``plans_of(scenario, city)`` names as a batch, on one
    executor and store; (scenario, results by label), or the exit code of what went wrong."""
    if args.n < 1:
        print("-n: must be at least 1", file=sys.stderr)
        return 2
    executor: Any = None
    results: dict[str, Any] = {}
    _start_worker_server(args)
    try:
        scenario, city = _load(args.scenario)
        plans = plans_of(scenario, city)
        executor = _executor(args)
        store = _store(args)
        try:
            for label, plan in plans.items():
                results[label] = _run(args, scenario, city, plan, label, store, executor, batch_id)
        finally:
            if store is not None:
                store.close()
    except ScroSimError as exc:
        return _fail(exc)
    except (ImportError, OSError) as exc:  # no dask extra, unreachable scheduler
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        if executor is not None and not isinstance(executor, str):
            executor.shutdown()
    return scenario, results


def cmd_batch(args: argparse.Namespace) -> int:
    """``scro-sim batch SCENARIO --plan PLAN -n N``: progress bar, summary table, optional Parquet."""
    done = _batches(args, lambda scenario, city: {Path(args.plan).stem: _plan(args.plan, scenario, city)},
                    args.batch_id)
    if isinstance(done, int):
        return done
    scenario, results = done
    (result,) = results.values()
    console = _console()
    console.print(_summary_table(result, f"{scenario.id}: {args.plan} over {args.n} replications (seed {args.seed})"))
    _tail(result, console)
    if args.out:
        result.to_parquet(args.out)
        console.print(f"wrote {args.out}")
    return 0 if result.complete else 1


def cmd_compare(args: argparse.Namespace) -> int:
    """``scro-sim compare SCENARIO PLAN... -n N``: the plans side by side and a histogram figure."""

    def plans_of(scenario: Any, city: Any) -> dict[str, Any]:
        plans: dict[str, Any] = {}
        for spec in args.plans:
            label = spec if spec in _NAMED else Path(spec).stem
            while label in plans:
                label += "'"
            plans[label] = _plan(spec, scenario, city)
        return plans

    done = _batches(args, plans_of)
    if isinstance(done, int):
        return done
    scenario, results = done
    console = _console()
    console.print(_compare_table(results, scenario, args))
    for r in results.values():
        _tail(r, console)
    path = _histograms(results, args.out)
    console.print(f"wrote {path}")
    return 0 if all(r.complete for r in results.values()) else 1


def _compare_table(results: dict[str, Any], scenario: Any, args: argparse.Namespace) -> Any:
    from rich.table import Table

    t = Table(title=f"{scenario.id}: {len(results)} plans over the same {args.n} replications (seed {args.seed})")
    t.add_column("metric")
    t.add_column("")
    for label in results:
        t.add_column(label, justify="right")
    first = next(iter(results.values()))
    refs = [p for p in ("baseline", "expert") if p in set(first.summary["policy"])]
    for m in _table_metrics():
        cells: dict[str, list[str]] = {"mean": [], "p10–p90": [], "worst 10 %": [], "P(pass)": [],
                                       **{f"P(better than {p})": [] for p in refs}}
        for r in results.values():
            s = r.summary
            row = s[(s["policy"] == "plan") & (s["metric"] == m)]
            if row.empty:
                for v in cells.values():
                    v.append("–")
                continue
            x = row.iloc[0]
            cells["mean"].append(_fmt(x["mean"]))
            cells["p10–p90"].append(f"{_fmt(x['p10'])}–{_fmt(x['p90'])}")
            cells["worst 10 %"].append(_fmt(x["cvar10"]))
            cells["P(pass)"].append("" if math.isnan(x["p_pass"]) else f"{x['p_pass']:.0%}")
            for p in refs:
                d = s[(s["policy"] == f"plan-{p}") & (s["metric"] == m)]
                cells[f"P(better than {p})"].append(
                    "" if d.empty or math.isnan(d.iloc[0]["p_better"]) else f"{d.iloc[0]['p_better']:.0%}")
        keys = [k for k in cells if m == "score" or k != "P(pass)"]
        for k, name in enumerate(keys):
            t.add_row(m if k == 0 else "", name, *cells[name], end_section=k == len(keys) - 1)
    return t


def _histograms(results: dict[str, Any], out: str) -> Path:
    """Overlaid histograms of each plan's score and total resilience loss (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    hist = _table_metrics()[:2]  # the score and the total resilience loss

    fig, axes = plt.subplots(1, len(hist), figsize=(6 * len(hist), 4), constrained_layout=True)
    try:
        for ax, m in zip(np.atleast_1d(axes), hist, strict=True):
            values = {label: r.frame.loc[r.frame["policy"] == "plan", m].to_numpy(dtype=float)
                      for label, r in results.items()}
            allv = np.concatenate([v[~np.isnan(v)] for v in values.values()]) if values else np.zeros(0)
            lo, hi = (float(allv.min()), float(allv.max())) if len(allv) else (0.0, 1.0)
            if hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            bins = np.linspace(lo, hi, 31)
            for label, v in values.items():
                ax.hist(v[~np.isnan(v)], bins=bins, alpha=0.5, label=label)
            ax.set_xlabel("score (%)" if m == "score" else "person-hours without service (all services)")
            ax.set_ylabel("replications")
            ax.set_title(m)
            ax.legend()
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
    finally:
        plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``batch``/``compare`` on their own (``python -m scro_sim.batch_cli``); ``scro-sim`` wires the same."""
    p = argparse.ArgumentParser(prog="scro-sim")
    p.add_argument("--db", default=None, help=argparse.SUPPRESS)
    sub = p.add_subparsers(dest="command", required=True)
    add_batch_commands(sub)
    args = p.parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
