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
ones; a replication that raises is retried and marked failed after ``max_attempts``.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import hashlib
import json
import math
import os
import pickle
import threading
import time
import traceback
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .engine import ENGINE_VERSION, Simulation
from .errors import PlanError, Problem
from .policy import PlanPolicy, Policy, baseline_policy
from .scenario import Plan, Scenario, check_plan
from .scoring import compute_metrics, grade

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .city import City
    from .store import Store

__all__ = [
    "DEFAULT_METRICS",
    "HIGHER_IS_BETTER",
    "BatchResult",
    "PlanSpec",
    "batch_key",
    "cvar",
    "dask_executor",
    "evaluate",
    "replication_seed",
    "summarize",
]

#: A plan to evaluate: a Plan, a baseline name ("do_nothing", "greedy"), None (do nothing),
#: or a picklable zero-argument factory returning a fresh Policy (a class, for instance).
PlanSpec = Plan | str | Callable[[], Policy] | None
ExecutorSpec = Literal["auto", "inline", "process"] | cf.Executor

#: Metrics the summary covers by default (rubric metrics of the scenario are added).
DEFAULT_METRICS: tuple[str, ...] = (
    "score",
    "resilience_loss.total",
    "resilience_loss.power",
    "resilience_loss.water",
    "resilience_loss.telecom",
    "resilience_loss.health",
    "critical_downtime",
    "people_at_risk",
    "cost",
)
#: Metrics where more is better (everything else is a loss: less is better).
HIGHER_IS_BETTER: frozenset[str] = frozenset({"score", "expected_done_share"})
#: The columns before the metrics, in this order; metric columns follow sorted by name.
FIXED_COLUMNS: tuple[str, ...] = ("index", "seed", "policy", "score", "passed", "provisional", "events", "digest")
_POLICY_ORDER = ("plan", "baseline", "expert")
_AUTO_INLINE_MAX = 8  # "auto" runs this many replications or fewer in-process
_MAX_CHUNK = 25
_ERROR_CHARS = 4000


# ------------------------------------------------------------------------------------------
# seeds and identity


def replication_seed(seed: int, index: int) -> int:
    """Engine seed of replication ``index``: child ``index`` of ``SeedSequence(seed)``, as a 63-bit int.

    Equal to ``SeedSequence(seed).spawn(n)[index]`` for any ``n > index``.

    >>> replication_seed(42, 0) == replication_seed(42, 0) != replication_seed(42, 1)
    True
    """
    child = np.random.SeedSequence(seed, spawn_key=(index,))
    return int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def _spec_json(spec: PlanSpec) -> str:
    """Canonical JSON naming a plan spec (goes into the batch id)."""
    if spec is None:
        return json.dumps({"policy": "do_nothing"})
    if isinstance(spec, str):
        return json.dumps({"policy": spec})
    if isinstance(spec, Plan):
        return json.dumps({"plan": spec.model_dump(mode="json")}, sort_keys=True, separators=(",", ":"))
    name = f"{getattr(spec, '__module__', '?')}.{getattr(spec, '__qualname__', type(spec).__qualname__)}"
    return json.dumps({"factory": name})


def _make_policy(spec: PlanSpec, name: str) -> Policy:
    if spec is None:
        return baseline_policy("do_nothing")
    if isinstance(spec, str):
        return baseline_policy(spec)
    if isinstance(spec, Plan):
        return PlanPolicy(spec, name)
    return spec()


def batch_key(scenario: Scenario, city: City, plan: PlanSpec, n: int, seed: int,
              *, downtime: str = "critical") -> str:
    """Default batch id: a hash of scenario, city, plan, ``n``, seed, engine version and columns."""
    parts = [scenario.source_sha256, city.content_hash(), _spec_json(plan), str(n), str(seed), ENGINE_VERSION, downtime]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------------------------------
# the work itself (runs in workers)


@dataclass
class _Context:
    """What a worker needs for any replication of one batch (cached per process by content hash)."""

    scenario: Scenario
    city: City
    specs: dict[str, PlanSpec]  # policy name -> spec, in row order
    downtime: str
    keep: frozenset[str]  # assets whose downtime always gets a column (named in the rubric)
    run_key: dict[str, str] = field(default_factory=dict)  # policy -> key of identical runs


_CACHE: OrderedDict[str, _Context] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 2


def _context_from(key: str, payload: bytes | None) -> _Context:
    with _CACHE_LOCK:
        ctx = _CACHE.get(key)
        if ctx is not None:
            _CACHE.move_to_end(key)
            return ctx
        if payload is None:
            raise RuntimeError(f"batch context {key[:12]} is not loaded in this worker and was not sent")
        ctx = pickle.loads(payload)
        _CACHE[key] = ctx
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
        return ctx


def _init_worker(key: str, payload: bytes) -> None:
    """Process-pool initializer: unpickle the scenario and city once per worker.

    The worker then freezes what it holds out of the cycle collector: the city lives as long
    as the worker, and full collections rescanning its objects after every few replications
    took about a fifth of a 5,000-asset run (measured in bench/).
    """
    _context_from(key, payload)
    gc.collect()
    gc.freeze()


def _replicate(ctx: _Context, root_seed: int, index: int) -> list[dict[str, Any]]:
    """One replication: every policy on the same seed, graded against the references; one row each."""
    seed = replication_seed(root_seed, index)
    sc, city = ctx.scenario, ctx.city
    logs: dict[str, Any] = {}
    by_key: dict[str, Any] = {}
    for name, spec in ctx.specs.items():
        k = ctx.run_key[name]
        if k not in by_key:
            by_key[k] = Simulation(sc, city, seed, _make_policy(spec, name)).run()
        logs[name] = by_key[k]
    measured: dict[int, Any] = {id(log): compute_metrics(log) for log in by_key.values()}
    reference = None
    if "baseline" in logs and "expert" in logs:
        reference = {"baseline": measured[id(logs["baseline"])], "expert": measured[id(logs["expert"])]}
    rows: list[dict[str, Any]] = []
    cards: dict[int, Any] = {}
    for name, log in logs.items():
        card = cards.get(id(log))
        if card is None:
            card = cards[id(log)] = grade(log, sc, reference=reference, metrics=measured[id(log)])
        start = log.first("run_start")
        keep = ctx.keep | frozenset(start.data.get("critical", ()) if start is not None else ())
        metrics = {k: v for k, v in card.metrics.items()
                   if ctx.downtime == "all" or not k.startswith("downtime.") or k[9:] in keep}
        rows.append({"index": index, "seed": seed, "policy": name, "score": float(card.total),
                     "passed": bool(card.passed), "provisional": bool(card.provisional), "events": len(log),
                     "digest": card.log_digest, **metrics})
    return rows


def _run_indices(ctx: _Context, root_seed: int, indices: Sequence[int]) -> list[tuple[int, str, Any]]:
    """Run replications ``indices``; each comes back ``(index, "done", rows)`` or ``(index, "error", text)``."""
    out: list[tuple[int, str, Any]] = []
    for i in indices:
        try:
            out.append((i, "done", _replicate(ctx, root_seed, i)))
        except Exception as exc:  # reported per replication, retried by the caller
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            out.append((i, "error", f"{type(exc).__name__}: {exc}\n{text[-_ERROR_CHARS:]}"))
    return out


def _run_chunk(key: str, payload: bytes | None, root_seed: int, indices: Sequence[int],
               tag: int = 0) -> list[tuple[int, str, Any]]:
    """A task: the batch context from this worker's cache (or ``payload``), then :func:`_run_indices`.

    ``tag`` only makes every submission distinct (Dask caches pure tasks by their arguments,
    which would hand a retry the cached failure).
    """
    return _run_indices(_context_from(key, payload), root_seed, indices)


# ------------------------------------------------------------------------------------------
# executors


def dask_executor(address: str | None = None, **client_kwargs: Any) -> cf.Executor:
    """A ``concurrent.futures`` executor on a Dask cluster (``tcp://host:8786``; None: a local cluster).

    Needs the optional extra ``pip install 'scro_sim[dask]'``.  ``shutdown()`` also closes the client.
    """
    try:
        from distributed import Client
        from distributed.cfexecutor import ClientExecutor
    except ImportError as exc:
        raise ImportError("the Dask executor needs dask.distributed: pip install 'scro_sim[dask]'") from exc

    class _OwnedClientExecutor(ClientExecutor):  # type: ignore[misc]
        def shutdown(self, wait: bool = True) -> None:
            try:
                super().shutdown(wait=wait)
            finally:
                self._client.close()

    client_kwargs.setdefault("timeout", "10s")
    client = Client(address, **client_kwargs)
    return _OwnedClientExecutor(client)


def _dask_client(executor: cf.Executor) -> Any | None:
    """The Dask client behind ``client.get_executor()``, or None for other executors."""
    if type(executor).__module__.startswith("distributed") or any(
            c.__module__.startswith("distributed") for c in type(executor).__mro__):
        return getattr(executor, "_client", None)
    return None


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def _mp_context() -> Any:
    import multiprocessing as mp

    # forkserver: workers fork from a clean single-threaded server (no fork-after-threads
    # hazards from a progress bar or a Dask client), with scro_sim already imported there.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["scro_sim.batch"])
        return ctx
    return mp.get_context("spawn")  # pragma: no cover


def _new_pool(workers: int, key: str, payload: bytes) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_init_worker,
                                  initargs=(key, payload))


# ------------------------------------------------------------------------------------------
# results


@dataclass
class BatchResult:
    """What :func:`evaluate` returns.

    ``frame``: one row per (replication, policy), sorted by index then policy.
    ``summary``: per policy (and per paired difference) per key metric: mean, std, p10, p50,
    p90, cvar10 (mean of the worst 10 %), p_pass, p_better.  ``failed``: replications that
    failed ``max_attempts`` times (index, seed, attempts, error).  ``ran``: replications
    computed in this call; ``resumed``: taken from the store.
    """

    batch_id: str
    n: int
    seed: int
    frame: pd.DataFrame
    summary: pd.DataFrame
    failed: pd.DataFrame
    ran: int = 0
    resumed: int = 0
    attempts: int = 0
    elapsed_s: float = 0.0
    executor: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    incidents: list[str] = field(default_factory=list)  # task-level failures (lost workers, broken pools)

    @property
    def complete(self) -> bool:
        """Every replication finished (none failed)."""
        return self.failed.empty

    def to_parquet(self, path: str | Path, *, summary_path: str | Path | None = None) -> Path:
        """Write the frame (with the batch's parameters as file metadata); optionally the summary too."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        table = pa.Table.from_pandas(self.frame, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[b"scro_sim.batch"] = json.dumps({"batch_id": self.batch_id, "n": self.n, "seed": self.seed,
                                              **self.meta}, sort_keys=True).encode("utf-8")
        pq.write_table(table.replace_schema_metadata(meta), path)
        if summary_path is not None:
            self.summary.to_parquet(summary_path, index=False)
        return path


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    """Rows to the canonical frame: fixed columns, then metrics sorted; floats; sorted rows."""
    import pandas as pd

    df = pd.DataFrame.from_records(list(rows))
    metric_cols = sorted(c for c in df.columns if c not in FIXED_COLUMNS)
    df = df.reindex(columns=[*FIXED_COLUMNS, *metric_cols])
    types = {"index": "int64", "seed": "int64", "score": "float64", "passed": "bool", "provisional": "bool",
             "events": "int64"}
    for c, t in types.items():
        df[c] = df[c].astype(t)
    for c in ("policy", "digest"):
        df[c] = df[c].astype("str") if len(df) else df[c].astype(object).astype("str")
    for c in metric_cols:
        col = pd.to_numeric(df[c].astype(object).where(df[c].notna(), np.nan), errors="coerce").astype("float64")
        if c.startswith("downtime."):
            col = col.fillna(0.0)  # an asset missing from a run's metrics never went down in it
        df[c] = col
    return df.sort_values(["index", "policy"], kind="stable").reset_index(drop=True)


def cvar(values: Iterable[float], *, alpha: float = 0.1, higher_is_better: bool = False) -> float:
    """Mean of the worst ``alpha`` share (at least one value): the highest losses or the lowest scores.

    >>> cvar([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
    19.5
    >>> cvar([5.0, 1.0, 3.0], higher_is_better=True)
    1.0
    """
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if not len(x):
        return math.nan
    k = max(1, math.ceil(alpha * len(x) - 1e-9))
    x = np.sort(x)
    worst = x[:k] if higher_is_better else x[-k:]
    return float(math.fsum(worst.tolist()) / k)


def _stats(x: np.ndarray, higher: bool, alpha: float) -> dict[str, float]:
    x = x[~np.isnan(x)]
    if not len(x):
        return {"n": 0, "mean": math.nan, "std": math.nan, "p10": math.nan, "p50": math.nan, "p90": math.nan,
                "cvar10": math.nan}
    q = np.quantile(x, [0.1, 0.5, 0.9])
    return {"n": len(x), "mean": float(math.fsum(x.tolist()) / len(x)),
            "std": float(np.std(x, ddof=1)) if len(x) > 1 else 0.0,
            "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]),
            "cvar10": cvar(x.tolist(), alpha=alpha, higher_is_better=higher)}


def summarize(frame: pd.DataFrame, metrics: Sequence[str] | None = None, *,
              higher_is_better: Iterable[str] = (), alpha: float = 0.1) -> pd.DataFrame:
    """Per policy per metric: n, mean, std, p10, p50, p90, cvar10, p_pass; then paired differences.

    Difference rows (``plan-baseline``, ``plan-expert``) are per-replication ``plan - other``
    on the indices both have; their ``cvar10`` is the worst 10 % of differences and
    ``p_better`` the share of replications where the plan did strictly better.
    """
    import pandas as pd

    higher = set(HIGHER_IS_BETTER) | set(higher_is_better)
    metrics = [m for m in (metrics or DEFAULT_METRICS) if m in frame.columns]
    present = [p for p in _POLICY_ORDER if p in set(frame["policy"])] if len(frame) else []
    present += sorted(set(frame["policy"]) - set(present)) if len(frame) else []
    rows: list[dict[str, Any]] = []
    by_policy = {p: frame[frame["policy"] == p].set_index("index") for p in present}
    for p in present:
        sub = by_policy[p]
        p_pass = float(sub["passed"].mean()) if len(sub) else math.nan
        for m in metrics:
            st = _stats(sub[m].to_numpy(dtype=float), m in higher, alpha)
            rows.append({"policy": p, "metric": m, **st, "p_pass": p_pass, "p_better": math.nan})
    if "plan" in by_policy:
        for other in ("baseline", "expert"):
            if other not in by_policy:
                continue
            a, b = by_policy["plan"], by_policy[other]
            common = a.index.intersection(b.index)
            for m in metrics:
                d = a.loc[common, m].to_numpy(dtype=float) - b.loc[common, m].to_numpy(dtype=float)
                st = _stats(d, m in higher, alpha)
                ok = d[~np.isnan(d)]
                better = float(np.mean(ok > 0) if m in higher else np.mean(ok < 0)) if len(ok) else math.nan
                rows.append({"policy": f"plan-{other}", "metric": m, **st, "p_pass": math.nan, "p_better": better})
    cols = ["policy", "metric", "n", "mean", "std", "p10", "p50", "p90", "cvar10", "p_pass", "p_better"]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype("int64")
    return out


def _rubric_metrics(scenario: Scenario) -> tuple[list[str], set[str], set[str]]:
    """(metric names, higher-is-better names, assets named) from the scenario's computed criteria."""
    names: list[str] = []
    higher: set[str] = set()
    assets: set[str] = set()
    for c in scenario.rubric.criteria:
        if c.kind != "computed" or not c.metric:
            continue
        m = c.metric[len("relative."):] if c.metric.startswith("relative.") else c.metric
        if m.startswith("downtime."):
            assets.add(m[len("downtime."):])
        if c.metric.startswith("relative."):
            continue  # a relative value is 0..1 against the references, not a column
        if m not in names:
            names.append(m)
        if not c.lower_is_better:
            higher.add(m)
    return names, higher, assets


def _failed_frame(failed: Mapping[int, tuple[int, str]], root_seed: int) -> pd.DataFrame:
    import pandas as pd

    idx = sorted(failed)
    return pd.DataFrame({"index": pd.Series(idx, dtype="int64"),
                         "seed": pd.Series([replication_seed(root_seed, i) for i in idx], dtype="int64"),
                         "attempts": pd.Series([failed[i][0] for i in idx], dtype="int64"),
                         "error": pd.Series([failed[i][1] for i in idx], dtype="str")})


# ------------------------------------------------------------------------------------------
# evaluate


def evaluate(scenario: Scenario, city: City, plan: PlanSpec, n: int, seed: int = 0, *,
             executor: ExecutorSpec = "auto", workers: int | None = None, chunk: int | None = None,
             store: Store | None = None, batch_id: str | None = None,
             progress: Callable[[int, int], Any] | None = None, max_attempts: int = 3,
             downtime: Literal["critical", "all"] = "critical",
             metrics: Sequence[str] | None = None) -> BatchResult:
    """Run ``n`` paired replications of ``plan`` (and the scenario's baseline and expert plans).

    ``executor``: "inline" (this process), "process" (a process pool of ``workers``,
    default: the CPUs this process may use), "auto" (inline for a handful of replications,
    else a pool), or any ``concurrent.futures.Executor`` (e.g. :func:`dask_executor`).
    ``chunk``: replications per task (default: about eight tasks per worker, at most 25).
    ``store`` + ``batch_id`` (default :func:`batch_key`): resumable.  ``progress(done, total)``
    is called as replications settle.  ``downtime``: per-asset ``downtime.*`` columns for
    critical and rubric-named assets only ("critical") or for every asset that went down ("all").
    ``metrics``: the summary's metrics (default :data:`DEFAULT_METRICS` + the rubric's).
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
    ctx = _Context(scenario, city, specs, downtime, frozenset(rubric_assets))
    ctx.run_key = {name: _spec_json(s) + ("#" + name if isinstance(s, Plan) or callable(s) else "")
                   for name, s in specs.items()}
    plan_json = _spec_json(plan)
    bid = batch_id or batch_key(scenario, city, plan, n, seed, downtime=downtime)
    meta = {"scenario": scenario.id, "scenario_version": scenario.version, "city": city.id,
            "city_sha256": city.content_hash(), "engine": ENGINE_VERSION, "downtime": downtime,
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
            if attempts[i] < max_attempts:
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

    import pandas as pd

    rows = [r for i in sorted(results) for r in results[i]]
    frame = _frame(rows) if rows else pd.DataFrame({c: pd.Series(dtype="object") for c in FIXED_COLUMNS})
    keys = list(metrics) if metrics is not None else [*DEFAULT_METRICS, *(m for m in rubric_names if m not in DEFAULT_METRICS)]
    summary = summarize(frame, keys, higher_is_better=rubric_higher)
    return BatchResult(batch_id=bid, n=n, seed=seed, frame=frame, summary=summary,
                       failed=_failed_frame(failed, seed), ran=len(ran), resumed=resumed, attempts=n_attempts,
                       elapsed_s=time.perf_counter() - t0, executor=how, meta=meta, incidents=incidents)


def _execute(ctx: _Context, seed: int, todo: list[int], report: Callable[[int, str, Any], bool], ran: set[int],
             incidents: list[str], *, executor: ExecutorSpec, workers: int | None, chunk: int | None) -> tuple[str, int]:
    """Run ``todo`` on the chosen executor, calling ``report`` per outcome; retries what it asks for."""
    kind: str
    if isinstance(executor, cf.Executor):
        kind = "dask" if _dask_client(executor) is not None else "given"
    elif executor in ("inline", "process", "auto"):
        kind = str(executor)
    else:
        raise ValueError(f"executor must be 'auto', 'inline', 'process' or an Executor, got {executor!r}")
    n_workers = workers if workers is not None else _cpu_count()
    if n_workers < 1:
        raise ValueError("workers must be at least 1")
    if kind == "auto":
        kind = "inline" if len(todo) <= _AUTO_INLINE_MAX or n_workers == 1 else "process"
    n_attempts = 0

    if kind == "inline":
        queue = deque(todo)
        while queue:
            i = queue.popleft()
            ran.add(i)
            n_attempts += 1
            ((_, status, value),) = _run_indices(ctx, seed, [i])
            if report(i, status, value):
                queue.append(i)
        return "inline", n_attempts

    payload = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
    key = hashlib.sha256(payload).hexdigest()
    own: cf.ProcessPoolExecutor | None = None
    ex: cf.Executor
    send: Any = payload  # what each task carries: the payload, a Dask future of it, or nothing
    slots = n_workers
    if kind == "process":
        ex = own = _new_pool(n_workers, key, payload)
        send = None
    else:
        assert isinstance(executor, cf.Executor)
        ex = executor
        client = _dask_client(ex)
        if client is not None:
            send = client.scatter(payload, broadcast=True, hash=True)
            if workers is None:
                try:
                    slots = max(1, sum(client.nthreads().values()))
                except Exception:  # a count for sizing only
                    slots = n_workers
        elif workers is None:
            slots = int(getattr(ex, "_max_workers", n_workers) or n_workers)
    size = chunk if chunk is not None else max(1, min(_MAX_CHUNK, math.ceil(len(todo) / (slots * 8))))
    if size < 1:
        raise ValueError("chunk must be at least 1")
    pending: deque[list[int]] = deque(todo[k:k + size] for k in range(0, len(todo), size))
    inflight: dict[cf.Future[Any], list[int]] = {}
    limit = max(2, 2 * slots)
    tag = 0
    broken = False
    try:
        while pending or inflight:
            if broken and not inflight and own is not None:  # a worker died: start a fresh pool
                own.shutdown(wait=False, cancel_futures=True)
                ex = own = _new_pool(n_workers, key, payload)
                broken = False
            while pending and len(inflight) < limit and not broken:
                idx = pending.popleft()
                tag += 1
                inflight[ex.submit(_run_chunk, key, send, seed, idx, tag)] = idx
                n_attempts += len(idx)
                ran.update(idx)
            if not inflight:
                continue
            done, _ = cf.wait(list(inflight), return_when=cf.FIRST_COMPLETED)
            retry: list[int] = []
            for fut in sorted(done, key=lambda f: inflight[f][0]):
                idx = inflight.pop(fut)
                try:
                    out = fut.result()
                except Exception as exc:  # a lost task: each replication in it failed once
                    if isinstance(exc, cf.BrokenExecutor):
                        if own is None:
                            raise
                        broken = True
                    incidents.append(f"task of {len(idx)} replication(s) from #{idx[0]}: {type(exc).__name__}: {exc}")
                    if own is None:
                        # the worker may have lost the shared context (restarted, data lost): retries carry it
                        send = payload
                    for i in idx:
                        if report(i, "error", f"task failed: {type(exc).__name__}: {exc}"):
                            pending.append([i])  # alone, so one replication that kills workers sinks no other
                    continue
                for i, status, value in out:
                    if report(i, status, value):
                        retry.append(i)
            if retry:
                pending.append(retry)
    except BaseException:
        for fut in inflight:
            fut.cancel()
        if own is not None:
            own.shutdown(wait=False, cancel_futures=True)
            own = None
        raise
    finally:
        if own is not None:
            own.shutdown(wait=True)
    return (f"process x{n_workers}" if kind == "process" else kind), n_attempts
