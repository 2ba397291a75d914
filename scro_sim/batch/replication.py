"""One replication, as a worker runs it: seeds, policies, the shared scenario and city, the rows.

Replication ``k`` of a batch with seed ``s`` runs on child ``k`` of ``SeedSequence(s)``
(:func:`replication_seed`).  The scenario, city and plan specs travel to a worker once, as a
pickled :class:`_Context` cached by content hash; a pool worker then freezes them out of the
cycle collector (:func:`_init_worker`).
"""

from __future__ import annotations

import gc
import hashlib
import json
import pickle
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import ENGINE_VERSION, Simulation
from ..errors import WorkBudgetExceeded
from ..policy import PlanPolicy, Policy, baseline_policy
from ..scenario import Plan, Scenario
from ..scoring import compute_metrics, grade

if TYPE_CHECKING:  # pragma: no cover
    from ..city import City

#: A plan to evaluate: a Plan, a baseline name ("do_nothing", "greedy"), None (do nothing),
#: or a picklable zero-argument factory returning a fresh Policy (a class, for instance).
PlanSpec = Plan | str | Callable[[], Policy] | None
_ERROR_CHARS = 4000  # the end of an error's traceback kept per failed replication


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
              *, downtime: str = "critical", digests: bool = False) -> str:
    """Default batch id: a hash of scenario, city, plan, ``n``, seed, engine version and columns."""
    parts = [scenario.source_sha256, city.content_hash(), _spec_json(plan), str(n), str(seed), ENGINE_VERSION, downtime]
    if not digests:  # batches made before digests became optional had them: they keep their ids
        parts.append("no-digests")
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass
class _Context:
    """What a worker needs for any replication of one batch (cached per process by content hash)."""

    scenario: Scenario
    city: City
    specs: dict[str, PlanSpec]  # policy name -> spec, in row order
    downtime: str
    keep: frozenset[str]  # assets whose downtime always gets a column (named in the rubric)
    run_key: dict[str, str] = field(default_factory=dict)  # policy -> key of identical runs
    digests: bool = False  # give each row its log's digest


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


def _remember(key: str, ctx: _Context) -> None:
    """Put ``ctx`` in this process's cache under ``key``, so workers forked from it find it there."""
    with _CACHE_LOCK:
        _CACHE[key] = ctx


def _forget(key: str) -> None:
    """Drop ``key`` from this process's cache (the batch that forked workers with it is over)."""
    with _CACHE_LOCK:
        _CACHE.pop(key, None)


def _init_worker(key: str, payload: bytes | None) -> None:
    """Process-pool initializer: the scenario and city once per worker, then tune the cycle collector.

    ``payload`` None: the worker was forked with the context in its cache already.  The
    worker freezes what it holds out of the collector: the city lives as long as the
    worker, and full collections rescanning it every few replications took about a fifth of
    a 5,000-asset run.  It also collects young objects less often: a replication allocates
    thousands of small objects that reference counting frees, and the collector's frequent
    passes over them cost another tenth (both measured in bench/).  The pool is ours, so
    these settings touch nobody else's process.  A forked worker freezes without collecting
    first: a collection would walk (and copy, page by page) the whole heap it shares with its parent.
    """
    _context_from(key, payload)
    if payload is not None:
        gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


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
    measured: dict[int, Any] = {id(log): compute_metrics(log, links=False) for log in by_key.values()}
    reference = None
    if "baseline" in logs and "expert" in logs:
        reference = {"baseline": measured[id(logs["baseline"])], "expert": measured[id(logs["expert"])]}
    rows: list[dict[str, Any]] = []
    made: dict[int, dict[str, Any]] = {}  # the row's values, once per distinct run
    for name, log in logs.items():
        values = made.get(id(log))
        if values is None:
            m = measured[id(log)]
            card = grade(log, sc, reference=reference, metrics=m, digest=ctx.digests, flat_metrics=False)
            if ctx.downtime == "all":
                metrics = m.flat()
            else:  # the critical facilities' downtimes and those the rubric names, not every asset's
                keep = ctx.keep | frozenset(m.critical)
                metrics = m.flat(assets=keep)
            values = made[id(log)] = {
                "score": float(card.total), "passed": bool(card.passed), "provisional": bool(card.provisional),
                "events": len(log), **({"digest": card.log_digest} if ctx.digests else {}), **metrics}
        rows.append({"index": index, "seed": seed, "policy": name, **values})
    return rows


def _run_indices(ctx: _Context, root_seed: int, indices: Sequence[int]) -> list[tuple[int, str, Any]]:
    """Run replications ``indices``; each comes back ``(index, "done", rows)``, ``(index, "error", text)``
    or ``(index, "stopped", message)`` (over its work budget: not worth retrying, and no traceback)."""
    out: list[tuple[int, str, Any]] = []
    for i in indices:
        try:
            out.append((i, "done", _replicate(ctx, root_seed, i)))
        except WorkBudgetExceeded as exc:
            out.append((i, "stopped", f"{type(exc).__name__}: {exc}"))
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
