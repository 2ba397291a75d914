"""Where replications run: in this process, a local process pool, or any ``concurrent.futures`` executor.

Work goes out in chunks of replications.  A local pool is forked from this process when
nothing else runs in it (one thread, Linux): the workers inherit the loaded scenario, city
and libraries, so nothing is pickled or imported again.  Otherwise the pickled context goes
to each pool worker once (initializer, workers from a fork server) or to a Dask cluster once
(``client.scatter``).  A lost task counts as one failed attempt of each replication in it; a
broken pool is replaced (from the fork server: by then this process runs the old pool's threads).
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import itertools
import math
import os
import pickle
import sys
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from .replication import _Context, _forget, _init_worker, _remember, _run_chunk, _run_indices

ExecutorSpec = Literal["auto", "inline", "process"] | cf.Executor
_AUTO_INLINE_MAX = 8  # "auto" runs this many replications or fewer in-process
_MAX_CHUNK = 25


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


#: what the fork server imports before it forks workers (scro_sim.batch_cli starts it early with the same list)
WORKER_PRELOAD = ["scro_sim.batch.replication", "scipy.sparse.csgraph"]  # crews route with csgraph.dijkstra


def _mp_context() -> Any:
    import multiprocessing as mp

    # forkserver: workers fork from a clean single-threaded server (no fork-after-threads
    # hazards from a progress bar or a Dask client), with scro_sim already imported there.
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(WORKER_PRELOAD)
        return ctx
    return mp.get_context("spawn")  # pragma: no cover


def _new_pool(workers: int, key: str, payload: bytes) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_init_worker,
                                  initargs=(key, payload))


def _can_fork() -> bool:
    """Whether pool workers may be forked from this process: Linux, and no other thread that a fork could
    catch holding a lock (a progress bar's refresher, a Dask client, a web server's sessions)."""
    return sys.platform == "linux" and threading.active_count() == 1


_FORKED = itertools.count()


def _forked_pool(workers: int, ctx: _Context) -> tuple[cf.ProcessPoolExecutor, str]:
    """A pool whose workers are forked from this process with ``ctx`` in their cache: no pickling, no imports.

    ``fork`` starts every worker at the first submission, before the pool starts its own thread.
    """
    import multiprocessing as mp

    key = f"forked-{os.getpid()}-{next(_FORKED)}"
    _remember(key, ctx)
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork"), initializer=_init_worker,
                                  initargs=(key, None))
    return pool, key


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

    own: cf.ProcessPoolExecutor | None = None
    ex: cf.Executor
    send: Any = None  # what each task carries: the payload, a Dask future of it, or nothing
    slots = n_workers
    forked: str | None = None  # the cache key of a context the workers inherited
    if kind == "process" and _can_fork():
        payload = b""  # pickled only if the pool breaks and a fresh one must come from the fork server
        own, forked = _forked_pool(n_workers, ctx)
        ex, key = own, forked
    else:
        payload = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
        key = hashlib.sha256(payload).hexdigest()
    if kind == "process" and own is None:
        ex = own = _new_pool(n_workers, key, payload)
    elif kind != "process":
        send = payload
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
                if not payload:
                    payload = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
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
        if forked is not None:
            _forget(forked)
    return (f"process x{n_workers}" if kind == "process" else kind), n_attempts
