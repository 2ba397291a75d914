"""Many replications of one plan: paired seeds, a process pool or Dask cluster, summaries, resume.

:func:`evaluate` runs ``n`` replications of a response plan on a scenario.  Replication
``k`` gets its engine seed from child ``k`` of one ``numpy.random.SeedSequence(seed)``
(:func:`replication_seed`), so it does not depend on ``n``, on the executor or on which
worker ran it; on that seed it runs the plan *and* the scenario's baseline and expert
plans (a paired comparison: same floods, same repair times drawn in the same order) and
grades each run against the baseline's and expert's metrics.  The result is one row per
replication and policy, identical bit for bit whichever executor produced it, plus a
summary per policy and of the paired differences.

Work is shipped in chunks of replications; the scenario and city go to each worker once
(pool initializer, ``client.scatter`` for Dask) and are cached there by content hash, so
a 50,000-asset city is not pickled per task.  With a :class:`~scro_sim.store.Store`, each
finished replication is written as it arrives and a restarted batch runs only the missing
ones; a replication that raises is retried and marked failed after ``max_attempts``, except
one stopped by its work budget (:class:`~scro_sim.errors.WorkBudgetExceeded`): the same seed
would run away again, so it is marked failed at once, with the budget's message.
:func:`replication_cost` estimates a replication's work before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..engine import ENGINE_VERSION
from ..errors import PlanError, Problem
from ..scenario import Plan, Scenario, check_plan
from .cost import replication_cost, run_cost
from .executors import ExecutorSpec, _execute, dask_executor
from .replication import _ERROR_CHARS, PlanSpec, _Context, _spec_json, batch_key, replication_seed
from .summary import (
    DEFAULT_METRICS,
    FIXED_COLUMNS,
    HIGHER_IS_BETTER,
    BatchResult,
    _rubric_metrics,
    cvar,
    summarize,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..city import City
    from ..store import Store

__all__ = [
    "DEFAULT_METRICS",
    "FIXED_COLUMNS",
    "HIGHER_IS_BETTER",
    "BatchResult",
    "PlanSpec",
    "batch_key",
    "cvar",
    "dask_executor",
    "evaluate",
    "replication_cost",
    "replication_seed",
    "run_cost",
    "summarize",
]


def evaluate(scenario: Scenario, city: City, plan: PlanSpec, n: int, seed: int = 0, *,
             executor: ExecutorSpec = "auto", workers: int | None = None, chunk: int | None = None,
             store: Store | None = None, batch_id: str | None = None,
             progress: Callable[[int, int], Any] | None = None, max_attempts: int = 3,
             downtime: Literal["critical", "all"] = "critical",
             metrics: Sequence[str] | None = None, digests: bool = False) -> BatchResult:
    """Run ``n`` paired replications of ``plan`` (and the scenario's baseline and expert plans).

    ``executor``: "inline" (this process), "process" (a process pool of ``workers``,
    default: the CPUs this process may use), "auto" (inline for a handful of replications,
    else a pool), or any ``concurrent.futures.Executor`` (e.g. :func:`dask_executor`).
    ``chunk``: replications per task (default: about eight tasks per worker, at most 25).
    ``store`` + ``batch_id`` (default :func:`batch_key`): resumable.  ``progress(done, total)``
    is called as replications settle (from the thread that called ``evaluate``); an exception
    it raises stops the batch and propagates, with the replications already stored kept.
    ``downtime``: per-asset ``downtime.*`` columns for critical and rubric-named assets only
    ("critical") or for every asset that went down ("all").
    ``metrics``: the summary's metrics (default :data:`DEFAULT_METRICS` + the rubric's).
    ``digests``: add each run's event-log digest as a ``digest`` column (it writes every
    log out canonically, about a quarter of a replication's time; the rows are reproducible
    from their seeds either way).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if downtime not in ("critical", "all"):
        raise ValueError("downtime must be 'critical' or 'all'")
    seed = int(seed)
    if isinstance(plan, str) and plan not in ("do_nothing", "greedy"):
        raise ValueError(f"unknown plan name {plan!r}; give a Plan, 'do_nothing', 'greedy' or None")
    if isinstance(plan, Plan):
        problems = check_plan(plan, scenario, city)
        if problems:
            raise PlanError(problems=[Problem("<plan>", None, *(p.split(": ", 1) if ": " in p else ("", p)))
                                      for p in problems])
    t0 = time.perf_counter()

    refs = scenario.reference_plans
    specs: dict[str, PlanSpec] = {"plan": plan, "baseline": refs.baseline}
    if refs.expert is not None:
        specs["expert"] = refs.expert
    rubric_names, rubric_higher, rubric_assets = _rubric_metrics(scenario)
    ctx = _Context(scenario, city, specs, downtime, frozenset(rubric_assets), digests=bool(digests))
    ctx.run_key = {name: _spec_json(s) + ("#" + name if isinstance(s, Plan) or callable(s) else "")
                   for name, s in specs.items()}
    plan_json = _spec_json(plan)
    bid = batch_id or batch_key(scenario, city, plan, n, seed, downtime=downtime, digests=bool(digests))
    meta = {"scenario": scenario.id, "scenario_version": scenario.version, "city": city.id,
            "city_sha256": city.content_hash(), "engine": ENGINE_VERSION, "downtime": downtime,
            "digests": bool(digests),
            "policies": {k: json.loads(_spec_json(v)) for k, v in specs.items()}}

    results: dict[int, list[dict[str, Any]]] = {}
    failed: dict[int, tuple[int, str]] = {}
    attempts: dict[int, int] = {}
    todo: list[int] = list(range(n))
    if store is not None:
        store.create_batch(bid, scenario.source_sha256, hashlib.sha256(plan_json.encode()).hexdigest(), n, seed, meta)
        for rep in store.replications(bid):
            if rep.status == "done" and rep.result is not None:
                results[rep.index] = list(rep.result["rows"])
            else:
                attempts[rep.index] = rep.attempts
                if rep.attempts >= max_attempts:
                    failed[rep.index] = (rep.attempts, rep.error or "")
        todo = [i for i in store.missing_replications(bid, max_attempts) if i not in results]
    resumed = len(results)
    settled = len(results) + len(failed)
    if progress is not None:
        progress(settled, n)

    def report(i: int, status: str, value: Any) -> bool:
        """Record one outcome; True if the replication should run again."""
        nonlocal settled
        if status == "done":
            results[i] = value
            if store is not None:
                store.put_replication(bid, i, "done", {"rows": value}, None)
        else:
            attempts[i] = attempts.get(i, 0) + 1
            if store is not None:
                store.put_replication(bid, i, "failed", None, str(value)[-_ERROR_CHARS:])
            if attempts[i] < max_attempts and status != "stopped":  # a budget stop would only repeat itself
                return True
            failed[i] = (attempts[i], str(value)[-_ERROR_CHARS:])
        settled += 1
        if progress is not None:
            progress(settled, n)
        return False

    ran: set[int] = set()
    incidents: list[str] = []
    n_attempts = 0
    how = "none"
    if todo:
        how, n_attempts = _execute(ctx, seed, todo, report, ran, incidents, executor=executor, workers=workers,
                                   chunk=chunk)

    rows = [r for i in sorted(results) for r in results[i]]
    keys = list(metrics) if metrics is not None else [*DEFAULT_METRICS, *(m for m in rubric_names if m not in DEFAULT_METRICS)]
    # the frame and summary tables are made when first read (pandas is imported then, not here)
    return BatchResult(bid, n, seed, rows=rows, metrics=keys, higher_is_better=rubric_higher, failed=failed,
                       ran=len(ran), resumed=resumed, attempts=n_attempts, elapsed_s=time.perf_counter() - t0,
                       executor=how, meta=meta, incidents=incidents)
