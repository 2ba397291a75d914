"""Batch replications: same frame on every executor, resume after SIGKILL, retries, summary statistics, CLI."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scro_sim import batch
from scro_sim.batch import cvar, evaluate, replication_seed, summarize
from scro_sim.batch import replication as batch_replication

N = 8
SEED = 20240301


@pytest.fixture(scope="module")
def mini(mini_scenario_path: Path, mini_plan_path: Path) -> tuple[Any, Any, Any]:
    from scro_sim.scenario import load_plan, load_scenario

    sc, city = load_scenario(mini_scenario_path)
    return sc, city, load_plan(mini_plan_path, sc, city)


@pytest.fixture(scope="module")
def reference(mini: tuple[Any, Any, Any]) -> batch.BatchResult:
    """The uninterrupted, in-process run every other run must equal bit for bit."""
    sc, city, plan = mini
    return evaluate(sc, city, plan, N, SEED, executor="inline")


def _same(a: batch.BatchResult, b: batch.BatchResult) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)
    assert pd.util.hash_pandas_object(a.frame).tolist() == pd.util.hash_pandas_object(b.frame).tolist()


# -- seeds and the frame ---------------------------------------------------------------------------


def test_replication_seeds_come_from_one_seed_sequence() -> None:
    kids = np.random.SeedSequence(SEED).spawn(5)
    want = [int(k.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for k in kids]
    assert [replication_seed(SEED, k) for k in range(5)] == want
    assert len(set(want)) == 5


def test_frame_has_one_row_per_replication_and_policy(reference: batch.BatchResult) -> None:
    f = reference.frame
    assert len(f) == 3 * N and reference.complete and reference.ran == N
    assert f[["index", "policy"]].values.tolist() == [[i, p] for i in range(N) for p in ("baseline", "expert", "plan")]
    assert list(f.columns[:len(batch.FIXED_COLUMNS)]) == list(batch.FIXED_COLUMNS)
    for col in ("resilience_loss.total", "critical_downtime", "people_at_risk", "cost", "downtime.H1"):
        assert f[col].dtype == np.float64
    # paired: the three policies of one replication share its seed, and seeds follow the index
    assert (f.groupby("index")["seed"].nunique() == 1).all()
    assert f.drop_duplicates("index")["seed"].tolist() == [replication_seed(SEED, i) for i in range(N)]
    # the plan really differs from doing nothing on the same seed (it spends money)
    plan, base = f[f.policy == "plan"], f[f.policy == "baseline"]
    assert (plan["cost"].to_numpy() > 0).all() and (base["cost"].to_numpy() == 0).all()
    assert set(reference.summary["policy"]) == {"plan", "baseline", "expert", "plan-baseline", "plan-expert"}


@pytest.mark.timeout(180)
def test_same_frame_inline_process_pool_and_dask(mini: tuple[Any, Any, Any], reference: batch.BatchResult) -> None:
    sc, city, plan = mini
    ticks: list[tuple[int, int]] = []
    pooled = evaluate(sc, city, plan, N, SEED, executor="process", workers=2, chunk=3,
                      progress=lambda d, t: ticks.append((d, t)))
    assert pooled.executor.startswith("process")
    _same(reference, pooled)
    assert ticks[0] == (0, N) and ticks[-1] == (N, N) and len(ticks) == N + 1

    distributed = pytest.importorskip("distributed")
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster, timeout="60s") as client:
        client.wait_for_workers(2, timeout=60)
        on_dask = evaluate(sc, city, plan, N, SEED, executor=client.get_executor(), chunk=2)
    assert on_dask.executor == "dask"
    _same(reference, on_dask)


def test_a_pool_is_forked_from_a_process_running_alone_and_comes_from_the_fork_server_beside_a_thread(
        monkeypatch: pytest.MonkeyPatch, mini: tuple[Any, Any, Any], reference: batch.BatchResult) -> None:
    import threading

    from scro_sim.batch import executors

    sc, city, plan = mini
    forked: list[int] = []
    real = executors._forked_pool
    monkeypatch.setattr(executors, "_forked_pool", lambda *a: forked.append(1) or real(*a))
    alone = threading.active_count() == 1 and sys.platform == "linux"
    _same(reference, evaluate(sc, city, plan, N, SEED, executor="process", workers=2, chunk=3))
    assert forked == ([1] if alone else [])
    stop = threading.Event()
    beside = threading.Thread(target=stop.wait)
    beside.start()
    try:  # a fork could catch another thread holding a lock: the fork server makes the workers
        _same(reference, evaluate(sc, city, plan, N, SEED, executor="process", workers=2, chunk=3))
    finally:
        stop.set()
        beside.join()
    assert forked == ([1] if alone else [])
    assert not [k for k in batch_replication._CACHE if k.startswith("forked-")]  # the batch let go of its context


_DIES_AT_2 = """
import os, sys
import pandas as pd
from scro_sim.batch import evaluate, replication
from scro_sim.scenario import load_plan, load_scenario

sc, city = load_scenario(sys.argv[1])
plan = load_plan(sys.argv[2], sc, city)
want = evaluate(sc, city, plan, {n}, {seed}, executor="inline")
real = replication._replicate

def dies_at_2(ctx, root_seed, index):
    if index == 2:  # forked workers inherit this; the fresh pool's come from the fork server and run the real one
        os._exit(3)
    return real(ctx, root_seed, index)

replication._replicate = dies_at_2
got = evaluate(sc, city, plan, {n}, {seed}, executor="process", workers=2, chunk=1)
pd.testing.assert_frame_equal(want.frame, got.frame, check_exact=True)
assert got.attempts > {n} and any("BrokenProcessPool" in i for i in got.incidents), got.incidents
print("finished after", len(got.incidents), "lost task(s)")
"""


@pytest.mark.timeout(180)
@pytest.mark.skipif(sys.platform != "linux", reason="the pool forks its workers on Linux only")
def test_a_forked_worker_that_dies_costs_its_tasks_one_attempt_and_a_fresh_pool_finishes_the_batch(
        mini_scenario_path: Path, mini_plan_path: Path) -> None:
    # in a fresh process: one running no other thread, so its pool forks (this one may run a test's threads)
    done = subprocess.run([sys.executable, "-c", _DIES_AT_2.format(n=N, seed=SEED), str(mini_scenario_path),
                           str(mini_plan_path)], capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "finished after" in done.stdout


def test_digests_are_asked_for_and_equal_the_digest_of_the_same_run(mini: tuple[Any, Any, Any]) -> None:
    from scro_sim.engine import Simulation
    from scro_sim.policy import PlanPolicy

    sc, city, plan = mini
    plain = evaluate(sc, city, plan, 2, SEED, executor="inline")
    assert "digest" not in plain.frame.columns
    with_digests = evaluate(sc, city, plan, 2, SEED, executor="inline", digests=True)
    assert list(with_digests.frame.columns[:8]) == [*batch.FIXED_COLUMNS, "digest"]
    pd.testing.assert_frame_equal(with_digests.frame.drop(columns="digest"), plain.frame, check_exact=True)
    assert with_digests.batch_id != plain.batch_id  # a resumed batch never mixes rows with and without
    row = with_digests.frame[(with_digests.frame.policy == "plan") & (with_digests.frame["index"] == 1)].iloc[0]
    log = Simulation(sc, city, replication_seed(SEED, 1), PlanPolicy(plan, "plan")).run()
    assert row["digest"] == log.digest() and row["events"] == len(log)


def _single_run_rows(sc: Any, city: Any, specs: dict[str, Any], index: int, downtime: str) -> list[dict[str, Any]]:
    """The rows of replication ``index`` made the long way: each policy run alone, its metrics and score card
    from the public scoring functions, every metric kept (the batch keeps critical and rubric assets)."""
    from scro_sim.engine import Simulation
    from scro_sim.policy import PlanPolicy, baseline_policy
    from scro_sim.scoring import compute_metrics, grade

    seed = replication_seed(SEED, index)
    logs = {name: Simulation(sc, city, seed, PlanPolicy(spec, name) if not isinstance(spec, str)
                             else baseline_policy(spec)).run() for name, spec in specs.items()}
    measured = {name: compute_metrics(log) for name, log in logs.items()}
    reference = {"baseline": measured["baseline"], "expert": measured["expert"]} if "expert" in logs else None
    rows = []
    for name, log in logs.items():
        card = grade(log, sc, reference=reference)
        named = {c.metric.removeprefix("relative.") for c in sc.rubric.criteria if c.metric}
        keep = set(log.first("run_start").data["critical"]) | {m[9:] for m in named if m.startswith("downtime.")}
        metrics = {k: v for k, v in card.metrics.items()
                   if downtime == "all" or not k.startswith("downtime.") or k[9:] in keep}
        rows.append({"index": index, "seed": seed, "policy": name, "score": card.total, "passed": card.passed,
                     "provisional": card.provisional, "events": len(log), **metrics})
    return rows


@pytest.mark.parametrize("downtime", ["critical", "all"])
def test_a_batch_row_holds_the_numbers_of_the_same_seed_run_and_graded_alone(
        mini: tuple[Any, Any, Any], downtime: str) -> None:
    sc, city, plan = mini
    res = evaluate(sc, city, plan, 3, SEED, executor="process", workers=2, chunk=1, downtime=downtime)
    specs = {"plan": plan, "baseline": sc.reference_plans.baseline, "expert": sc.reference_plans.expert}
    for index in range(3):
        for want in _single_run_rows(sc, city, specs, index, downtime):
            got = res.frame[(res.frame["index"] == index) & (res.frame["policy"] == want["policy"])].iloc[0]
            for col in res.frame.columns:  # a column another run made: this run's asset never went down
                if col.startswith("downtime.") and col not in want:
                    assert got[col] == 0.0, (index, want["policy"], col)
            assert set(want) <= set(res.frame.columns)
            for key, value in want.items():
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    assert math.isnan(got[key]), (index, want["policy"], key)
                else:
                    assert got[key] == value, (index, want["policy"], key, got[key], value)


def test_plan_may_be_a_name_or_none(mini: tuple[Any, Any, Any]) -> None:
    sc, city, _ = mini
    nothing = evaluate(sc, city, None, 2, SEED, executor="inline", digests=True)
    named = evaluate(sc, city, "do_nothing", 2, SEED, executor="inline", digests=True)
    f = nothing.frame
    # doing nothing is the baseline: same log digest on the same seed
    assert (f[f.policy == "plan"]["digest"].to_numpy() == f[f.policy == "baseline"]["digest"].to_numpy()).all()
    pd.testing.assert_frame_equal(nothing.frame, named.frame, check_exact=True)
    assert nothing.batch_id == named.batch_id
    greedy = evaluate(sc, city, "greedy", 2, SEED, executor="inline")
    assert greedy.batch_id != named.batch_id


# -- resume after a hard kill --------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.unpinned  # which replications ran in this process before the kill is a matter of timing
def test_killed_batch_resumes_with_only_the_missing_replications(
        tmp_path: Path, mini: tuple[Any, Any, Any], mini_scenario_path: Path, mini_plan_path: Path) -> None:
    from scro_sim.store import Store

    sc, city, plan = mini
    n, bid = 30, "killed-batch"
    url = f"sqlite:///{tmp_path / 'batches.sqlite'}"
    store = Store(url)  # creates the schema before the child opens it
    script = textwrap.dedent(f"""
        from scro_sim.batch import evaluate
        from scro_sim.scenario import load_plan, load_scenario
        from scro_sim.store import Store
        sc, city = load_scenario({str(mini_scenario_path)!r})
        plan = load_plan({str(mini_plan_path)!r}, sc, city)
        evaluate(sc, city, plan, {n}, {SEED}, executor="process", workers=2, chunk=1,
                 store=Store({url!r}), batch_id={bid!r})
        """)
    child = subprocess.Popen([sys.executable, "-c", script], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 40
        done = 0
        while time.monotonic() < deadline:
            if store.get_batch(bid) is not None:
                done = sum(r.status == "done" for r in store.replications(bid))
                if done >= 4:
                    break
            if child.poll() is not None:
                pytest.fail(f"the batch ended before it could be killed: {child.stderr.read().decode()[-2000:]}")
            time.sleep(0.01)
        else:
            pytest.fail("no replication was stored in time")
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the parent and its pool workers, at once
        child.wait(timeout=10)
    stored = sum(r.status == "done" for r in store.replications(bid))
    assert 4 <= stored < n, stored
    assert len(store.missing_replications(bid)) == n - stored

    ticks: list[tuple[int, int]] = []
    resumed = evaluate(sc, city, plan, n, SEED, executor="inline", store=store, batch_id=bid,
                       progress=lambda d, t: ticks.append((d, t)))
    assert resumed.resumed == stored and resumed.ran == n - stored
    assert ticks[0] == (stored, n) and ticks[-1] == (n, n)
    assert store.missing_replications(bid) == []
    uninterrupted = evaluate(sc, city, plan, n, SEED, executor="inline")
    _same(uninterrupted, resumed)
    # a third call finds everything stored and runs nothing
    again = evaluate(sc, city, plan, n, SEED, executor="inline", store=store, batch_id=bid)
    assert again.ran == 0 and again.resumed == n
    _same(uninterrupted, again)
    store.close()


# -- failures ------------------------------------------------------------------------------------------


def _failing(monkeypatch: pytest.MonkeyPatch, *, always: set[int] = frozenset(), once: set[int] = frozenset()
             ) -> Counter[int]:
    """Make replications ``always`` raise every time and ``once`` on their first attempt; count attempts."""
    calls: Counter[int] = Counter()
    real = batch_replication._replicate

    def flaky(ctx: Any, root: int, i: int) -> Any:
        calls[i] += 1
        if i in always or (i in once and calls[i] == 1):
            raise RuntimeError(f"boom in replication {i}")
        return real(ctx, root, i)

    monkeypatch.setattr(batch_replication, "_replicate", flaky)
    return calls


def test_a_replication_that_always_fails_is_marked_failed(
        monkeypatch: pytest.MonkeyPatch, mini: tuple[Any, Any, Any], reference: batch.BatchResult) -> None:
    sc, city, plan = mini
    calls = _failing(monkeypatch, always={2})
    res = evaluate(sc, city, plan, 4, SEED, executor="inline", max_attempts=3)
    assert calls == Counter({0: 1, 1: 1, 2: 3, 3: 1})
    assert not res.complete
    assert res.failed[["index", "attempts"]].values.tolist() == [[2, 3]]
    assert res.failed["seed"].tolist() == [replication_seed(SEED, 2)]
    assert "boom in replication 2" in res.failed["error"].iloc[0]
    assert sorted(set(res.frame["index"])) == [0, 1, 3]
    want = reference.frame[reference.frame["index"].isin([0, 1, 3])].reset_index(drop=True)
    pd.testing.assert_frame_equal(res.frame, want, check_exact=True)


def test_a_replication_over_its_work_budget_fails_at_once_with_the_budget_message() -> None:
    from enginekit import asset, make_city, make_scenario

    quake = {"id": "q1", "type": "earthquake", "epicentre": [0, 5000], "magnitude": 6.0, "aftershock_count": 3}
    sc = make_scenario([quake], duration_h=24)
    # a billion aftershocks, past validation's cap of 100: the engine's own guard must stop it
    sc = sc.model_copy(update={"hazards": (sc.hazards[0].model_copy(update={"aftershock_count": 1e9}),)})
    res = evaluate(sc, make_city([asset("PP1", "power_plant")]), None, 2, SEED, executor="inline", max_attempts=3)
    assert res.failed[["index", "attempts"]].values.tolist() == [[0, 1], [1, 1]]  # not retried: it would run away again
    assert res.attempts == 2 and res.frame.empty and not res.complete
    for error in res.failed["error"]:
        assert error.startswith("WorkBudgetExceeded: ") and "work budget" in error and "1,000,000,000 aftershocks" in error
        assert "\n" not in error and "Traceback" not in error


@pytest.mark.unpinned  # which replications fail and are retried here is a matter of timing
def test_failures_on_a_pool_are_retried_and_stored(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mini: tuple[Any, Any, Any],
        reference: batch.BatchResult) -> None:
    from scro_sim.store import Store

    sc, city, plan = mini
    calls = _failing(monkeypatch, always={5}, once={1})
    with Store(f"sqlite:///{tmp_path / 'b.sqlite'}") as store, ThreadPoolExecutor(2) as pool:
        res = evaluate(sc, city, plan, N, SEED, executor=pool, chunk=3, store=store, max_attempts=2)
        assert res.executor == "given"
        assert calls[1] == 2 and calls[5] == 2 and res.attempts == N + 2
        assert res.failed["index"].tolist() == [5]
        reps = {r.index: r for r in store.replications(res.batch_id)}
        assert reps[5].status == "failed" and reps[5].attempts == 2 and "boom" in (reps[5].error or "")
        assert reps[1].status == "done"
        want = reference.frame[reference.frame["index"] != 5].reset_index(drop=True)
        pd.testing.assert_frame_equal(res.frame, want, check_exact=True)
        # resuming does not try the exhausted replication again, and still reports it
        again = evaluate(sc, city, plan, N, SEED, executor="inline", store=store, max_attempts=2)
        assert again.ran == 0 and again.failed["index"].tolist() == [5] and calls[5] == 2
        pd.testing.assert_frame_equal(again.frame, want, check_exact=True)


class _FlakyExecutor(ThreadPoolExecutor):
    """A pool whose first tasks are lost (as when a remote worker dies), raising ConnectionError."""

    def __init__(self, lose: int) -> None:
        super().__init__(2)
        self.lose = lose

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if self.lose > 0:
            self.lose -= 1

            def lost(*_a: Any, **_k: Any) -> Any:
                raise ConnectionError("worker lost")

            return super().submit(lost)
        return super().submit(fn, *args, **kwargs)


@pytest.mark.unpinned  # which replications are lost and retried here is a matter of timing
def test_lost_tasks_are_retried_and_reported(mini: tuple[Any, Any, Any], reference: batch.BatchResult) -> None:
    sc, city, plan = mini
    with _FlakyExecutor(lose=2) as pool:
        res = evaluate(sc, city, plan, N, SEED, executor=pool, chunk=2)
    assert res.complete and len(res.incidents) == 2 and "worker lost" in res.incidents[0]
    _same(reference, res)


# -- summary statistics ----------------------------------------------------------------------------------


# -- cost estimate ---------------------------------------------------------------------------------------


def test_replication_cost_counts_the_plan_the_references_and_the_plans_work(mini: tuple[Any, Any, Any]) -> None:
    from scro_sim.batch import replication_cost, run_cost

    sc, city, plan = mini
    assert replication_cost(sc, city, plan) == sum(run_cost(sc, city, s) for s in (
        plan, sc.reference_plans.baseline, sc.reference_plans.expert))
    engine_only = run_cost(sc, city, None)
    assert run_cost(sc, city, "greedy") == engine_only < run_cost(sc, city, plan)
    more_rules = plan.model_copy(update={"rules": plan.rules * 10})
    finer = plan.model_copy(update={"check_every_h": 0.1})
    assert run_cost(sc, city, more_rules) > run_cost(sc, city, plan) < run_cost(sc, city, finer)
    # every action may come due with every other: 4,000 of them cost 4,000 squared pairs, whatever the rules
    crowd = plan.model_copy(update={"prepositioning": plan.prepositioning * 2000})
    assert run_cost(sc, city, crowd) - engine_only >= 5 * 4000 * 4000
    longer = sc.model_copy(update={"duration_h": sc.duration_h * 10})
    assert run_cost(longer, city, plan) > run_cost(sc, city, plan)


def test_cvar_is_the_mean_of_the_worst_decile() -> None:
    assert cvar(range(1, 21)) == 19.5  # highest two of twenty losses
    assert cvar(range(1, 21), higher_is_better=True) == 1.5  # lowest two of twenty scores
    assert cvar([3.0, 1.0, 2.0]) == 3.0  # fewer than ten: the single worst
    assert cvar(range(1, 16)) == 14.5  # ceil(1.5) = 2 worst
    assert math.isnan(cvar([]))


def test_summary_on_a_hand_made_frame() -> None:
    k = np.arange(20)
    plan = pd.DataFrame({"index": k, "policy": "plan", "score": 5.0 * k, "passed": k >= 15,
                         "resilience_loss.total": k + 1.0})
    base = pd.DataFrame({"index": k, "policy": "baseline", "score": 2.0 * k, "passed": k >= 19,
                         "resilience_loss.total": 2.0 * (k + 1)})
    s = summarize(pd.concat([base, plan], ignore_index=True), ["score", "resilience_loss.total"])
    row = s.set_index(["policy", "metric"])

    loss = row.loc[("plan", "resilience_loss.total")]
    assert loss["n"] == 20 and loss["mean"] == 10.5
    assert loss["p10"] == pytest.approx(2.9) and loss["p50"] == 10.5 and loss["p90"] == pytest.approx(18.1)
    assert loss["cvar10"] == 19.5 and loss["p_pass"] == 0.25
    score = row.loc[("plan", "score")]
    assert score["cvar10"] == 2.5  # mean of the two lowest scores, 0 and 5
    assert score["std"] == pytest.approx(np.std(5.0 * k, ddof=1))
    assert row.loc[("baseline", "score"), "p_pass"] == 0.05

    d = row.loc[("plan-baseline", "resilience_loss.total")]  # plan - baseline = -(k + 1)
    assert d["mean"] == -10.5 and d["p_better"] == 1.0 and d["cvar10"] == -1.5  # worst: the smallest gains
    ds = row.loc[("plan-baseline", "score")]  # 3k: better everywhere except k = 0 (a tie)
    assert ds["p_better"] == 0.95 and ds["cvar10"] == 1.5
    assert math.isnan(d["p_pass"]) and math.isnan(loss["p_better"])
    assert ("plan-expert", "score") not in row.index


def test_summary_pairs_by_index_and_skips_missing_values() -> None:
    plan = pd.DataFrame({"index": [0, 1, 2], "policy": "plan", "passed": True, "m": [1.0, np.nan, 3.0]})
    base = pd.DataFrame({"index": [2, 0], "policy": "baseline", "passed": False, "m": [1.0, 4.0]})
    s = summarize(pd.concat([plan, base]), ["m"]).set_index(["policy", "metric"])
    assert s.loc[("plan", "m"), "n"] == 2 and s.loc[("plan", "m"), "mean"] == 2.0
    d = s.loc[("plan-baseline", "m")]  # index 0: 1 - 4, index 2: 3 - 1
    assert d["n"] == 2 and d["mean"] == -0.5 and d["p_better"] == 0.5


def test_the_summary_made_from_the_rows_is_the_summary_of_the_frame() -> None:
    from scro_sim.batch.summary import BatchResult

    rows = [  # out of order, a value None, a downtime only some runs have, an index only the plan has
        {"index": 2, "seed": 9, "policy": "plan", "score": 40.0, "passed": False, "provisional": False, "events": 5,
         "m": 3.0, "downtime.A": 2.5},
        {"index": 0, "seed": 7, "policy": "plan", "score": 80.0, "passed": True, "provisional": False, "events": 5,
         "m": None},
        {"index": 0, "seed": 7, "policy": "baseline", "score": 10.0, "passed": False, "provisional": True,
         "events": 4, "m": 4, "downtime.A": 1.0},
        {"index": 2, "seed": 9, "policy": "baseline", "score": 30.0, "passed": True, "provisional": False,
         "events": 4, "m": 1.0},
        {"index": 1, "seed": 8, "policy": "plan", "score": 55.5, "passed": True, "provisional": False, "events": 6,
         "m": 0.1, "downtime.A": 0.25},
        {"index": 1, "seed": 8, "policy": "expert", "score": 90.0, "passed": True, "provisional": False, "events": 6,
         "m": 0.3},
    ]
    res = BatchResult("b", 3, 0, rows=rows, metrics=["score", "m", "downtime.A", "absent"], higher_is_better=["m"])
    want = summarize(res.frame, ["score", "m", "downtime.A", "absent"], higher_is_better=["m"])
    pd.testing.assert_frame_equal(res.summary, want, check_exact=True)
    assert set(want["policy"]) == {"plan", "baseline", "expert", "plan-baseline", "plan-expert"}
    empty = BatchResult("b", 3, 0, rows=[], metrics=["score"], failed={1: (3, "boom")})
    assert empty.summary.empty and list(empty.summary.columns) == list(want.columns)
    assert not empty.complete and empty.failed["index"].tolist() == [1] and empty.failed_records() == [(1, 3, "boom")]


def test_scro_sim_batch_prints_its_summary_without_importing_pandas(mini_scenario_path: Path) -> None:
    script = ("import sys\nfrom scro_sim.cli import main\nrc = main(sys.argv[1:])\n"
              "print('PANDAS', 'pandas' in sys.modules)\nsys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", script, "batch", str(mini_scenario_path), "--plan", "greedy", "-n", "3",
                           "--workers", "1"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "P(better)" in done.stdout and "PANDAS False" in done.stdout


def test_parquet_round_trip(tmp_path: Path, reference: batch.BatchResult) -> None:
    import pyarrow.parquet as pq

    path = reference.to_parquet(tmp_path / "r.parquet", summary_path=tmp_path / "s.parquet")
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, reference.frame, check_exact=True, check_dtype=False)
    assert b"scro_sim.batch" in pq.read_schema(path).metadata
    assert len(pd.read_parquet(tmp_path / "s.parquet")) == len(reference.summary)


def test_bad_arguments_are_refused(mini: tuple[Any, Any, Any]) -> None:
    sc, city, plan = mini
    with pytest.raises(ValueError, match="n must be"):
        evaluate(sc, city, plan, 0)
    with pytest.raises(ValueError, match="seed"):
        evaluate(sc, city, plan, 1, -1)
    with pytest.raises(ValueError, match="executor"):
        evaluate(sc, city, plan, 1, executor="threads")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown plan name"):
        evaluate(sc, city, "heroic", 1)
    from scro_sim.errors import PlanError
    from scro_sim.scenario import Action, Plan

    wrong = Plan(prepositioning=(Action(action="protect_asset", target="NO_SUCH_ASSET"),))
    with pytest.raises(PlanError, match="NO_SUCH_ASSET"):
        evaluate(sc, city, wrong, 1)


# -- CLI -----------------------------------------------------------------------------------------------


def test_cli_batch_and_compare(tmp_path: Path, mini_scenario_path: Path, mini_plan_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim.batch_cli import main

    out = tmp_path / "r.parquet"
    rc = main(["batch", str(mini_scenario_path), "--plan", str(mini_plan_path), "-n", "3", "--workers", "1",
               "--out", str(out), "--db", f"sqlite:///{tmp_path / 'b.sqlite'}", "--digests"])
    frame = pd.read_parquet(out)
    assert rc == 0 and len(frame) == 9 and frame["digest"].str.fullmatch("[0-9a-f]{64}").all()
    printed = capsys.readouterr().out
    assert "score" in printed and "3 run now" in printed.replace("\n", " ").replace("  ", " ")
    fig = tmp_path / "cmp.png"
    rc = main(["compare", str(mini_scenario_path), str(mini_plan_path), "greedy", "-n", "2", "--workers", "1",
               "--out", str(fig)])
    assert rc == 0 and fig.stat().st_size > 1000
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # the figure was closed


def test_cli_batch_on_a_process_pool_gives_the_rows_of_an_in_process_batch(tmp_path: Path, mini_scenario_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim.batch_cli import main

    pooled, inline = tmp_path / "pool.parquet", tmp_path / "inline.parquet"
    assert main(["batch", str(mini_scenario_path), "--plan", "greedy", "-n", "10", "--workers", "2",
                 "--out", str(pooled)]) == 0
    assert "process x2" in capsys.readouterr().out
    assert main(["batch", str(mini_scenario_path), "--plan", "greedy", "-n", "10", "--workers", "1",
                 "--out", str(inline)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(pooled), pd.read_parquet(inline), check_exact=True)


def test_the_cli_starts_the_fork_server_with_the_imports_the_pool_asks_for() -> None:
    from scro_sim import batch_cli
    from scro_sim.batch import executors

    assert batch_cli._WORKER_PRELOAD == executors.WORKER_PRELOAD


def test_cli_reports_input_errors_as_file_line_messages(
        tmp_path: Path, scenario_data: dict[str, Any], to_yaml: Any, mini_city_path: Path, mini_plan_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim.batch_cli import main

    scenario_data["city"] = str(mini_city_path)
    scenario_data["duration_h"] = -5
    bad = tmp_path / "bad.yaml"
    bad.write_text(to_yaml(scenario_data), encoding="utf-8")
    rc = main(["batch", str(bad), "--plan", str(mini_plan_path), "-n", "2", "--workers", "1"])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"{bad}:" in err and "duration_h" in err and "Traceback" not in err
    rc = main(["batch", str(bad).replace("bad", "missing"), "--plan", "greedy", "-n", "2"])
    assert rc == 2 and "Traceback" not in capsys.readouterr().err
