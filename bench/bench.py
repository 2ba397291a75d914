"""scro_sim benchmarks: figures and ratios, each measured in the same run as its baseline.

    python bench/bench.py --quick      # every section at small sizes
    python bench/bench.py              # the full sizes (1,000 replications; takes longer)
    python bench/bench.py --only engine,scaling --json out.json

Sections: (1) engine cost per simpy event and per event-log record against bare simpy
timeouts; (1b, scaling) per-record cost of a whole-city storm at 5,000, 50,000 and 200,000
assets; (2) time per replication of a flood on synthetic cities of 500, 5,000 and 50,000
assets, and batch throughput; (3) interactive play on 50,000 assets: step latency and replay
to a mid-game decision point; (3b, gc) the cycle collector's cost in a user's process; (4)
parallel speedup against the raw two-process speedup of a plain CPU loop, and per-task
overhead on a Dask LocalCluster; (5) peak memory per replication. When the engine misses
its per-replication target, a cProfile breakdown follows. These are not tests: nothing
here fails on a slow machine. bench/README.md lists the current figures."""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import simpy

from scro_sim.batch import evaluate
from scro_sim.city import City, synthetic
from scro_sim.engine import Simulation, replay
from scro_sim.log import EventLog
from scro_sim.policy import DoNothing, PlanPolicy
from scro_sim.scenario import Action, Scenario, load_scenario
from scro_sim.scoring import compute_metrics, grade
from scro_sim.yamlio import dump_yaml

RESULTS: dict[str, Any] = {}
TARGETS: list[tuple[str, str, bool]] = []


def say(line: str = "") -> None:
    print(line, flush=True)


def record(key: str, value: Any, text: str) -> None:
    RESULTS[key] = value
    say(f"  {text}")


def target(name: str, measured: str, ok: bool) -> None:
    TARGETS.append((name, measured, ok))
    say(f"  -> target {name}: {measured} [{'met' if ok else 'MISSED'}]")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(wall seconds, result)."""
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def timed2(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result): CPU time is what other load on the machine does not inflate."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


class ChildCPU:
    """CPU seconds used by this process's descendants (pool workers) while the block runs; sampled with psutil."""

    def __init__(self) -> None:
        self.seconds = float("nan")

    def _snap(self) -> dict[int, float]:
        out: dict[int, float] = {}
        for p in self._me.children(recursive=True):
            try:
                t = p.cpu_times()
                out[p.pid] = t.user + t.system
            except Exception:  # the process ended between listing and asking
                pass
        return out

    def __enter__(self) -> ChildCPU:
        try:
            import psutil
        except ImportError:
            self._me = None
            return self
        import threading

        self._me = psutil.Process()
        self._base = self._snap()
        self._last = dict(self._base)
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.wait(0.05):
                self._last.update(self._snap())

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._me is None:
            return
        self._stop.set()
        self._thread.join()
        self._last.update(self._snap())
        self.seconds = sum(v - self._base.get(pid, 0.0) for pid, v in self._last.items())


def share_of_core(seconds: float = 0.5) -> float:
    """CPU seconds / wall seconds of a busy loop: 1.0 on an idle core, less when other work competes."""
    w, c, _ = timed2(lambda: _spin(int(4_000_000 * seconds)))
    return c / w if w > 0 else float("nan")


def pct(xs: list[float], q: float) -> float:
    return float(np.quantile(np.asarray(xs), q))


# ----------------------------------------------------------------------------------------
# a flood scenario for synthetic cities


def depot_of(city: City) -> str:
    """A crew depot the scenario validation accepts (synthetic cities have no 'depot' asset)."""
    for kind in ("depot", "eoc", "fire_station"):
        for i in range(city.n_assets):
            if city.asset_type[i] == kind:
                return city.asset_ids[i]
    raise SystemExit("the synthetic city has no depot, eoc or fire_station asset for the crews")


def flood_scenario(city: City, *, expert: bool = True) -> Scenario:
    """A 72 h river flood on a synthetic city's ``floodplain`` (river datum 1.0 m), with crews and a rubric."""
    sc, _ = load_scenario(f"<synthetic flood on {city.id}>", city=city, text=dump_yaml(flood_data(city, expert=expert)))
    return sc


def flood_data(city: City, *, expert: bool = True) -> dict[str, Any]:
    """The scenario of :func:`flood_scenario` as plain data (its ``city`` is the city's id)."""
    depot = depot_of(city)
    hospitals = [city.asset_ids[i] for i in range(city.n_assets) if city.asset_type[i] == "hospital"]
    feedback = {"P": "Excellent", "S": "Good", "M": "Fair", "U": "Poor"}
    data: dict[str, Any] = {
        "format": "scro-scenario/1", "id": "synthetic-flood", "version": "1.0", "title": "Synthetic river flood",
        "summary": "Benchmark flood", "level": "intermediate", "expected_minutes": 30, "modules": ["M1"],
        "learning_outcomes": [{"id": "LO1", "module": "M1", "text": "Keep critical services running"}],
        "city": city.id, "start": "2024-03-01T06:00:00", "duration_h": 72,
        "decision_points": {"every_h": 6},
        "hazards": [{"id": "flood", "type": "flood", "base_stage_m": 1.0,
                     "peak_stage_m": {"dist": "triangular", "low": 3.0, "mode": 4.0, "high": 5.5},
                     "rise_start_h": 2, "time_to_peak_h": {"dist": "uniform", "low": 10, "high": 16},
                     "recession_h": 24, "zones": ["floodplain"]}],
        "resources": {"budget": 500000,
                      "crews": [{"id": "power_crew", "count": 4, "depot": depot, "skills": ["power"]},
                                {"id": "general_crew", "count": 2, "depot": depot, "skills": ["general", "water"]}],
                      "generators": {"count": 4, "fuel_hours": 24},
                      "mutual_aid": {"crews": 3, "skills": ["power"], "delay_h": 24, "cost": 20000, "depot": depot}},
        "msel": [{"id": "I1", "at_h": 0, "sender": "Met office", "channel": "email", "text": "The river is rising",
                  "expected_actions": [{"id": "EA1", "action": "warn_public", "deadline_h": 2}]}],
        "rubric": {"criteria": [
            {"id": "C1", "title": "Power", "kind": "computed", "weight": 2, "outcome": "LO1",
             "metric": "relative.resilience_loss.power", "thresholds": {"P": 0.8, "S": 0.5, "M": 0.2},
             "lower_is_better": False, "feedback": dict(feedback)},
            {"id": "C2", "title": "Warning", "kind": "computed", "weight": 1, "outcome": "LO1",
             "metric": "timeliness.EA1", "thresholds": {"P": 0, "S": 1, "M": 3}, "feedback": dict(feedback)}]},
        "reference_plans": {"baseline": "do_nothing"},
    }
    if expert:
        data["reference_plans"]["expert"] = {
            "priorities": hospitals[:3],
            "prepositioning": [{"action": "warn_public", "target": "all", "message": "Leave the flood plain now."}],
            "rules": [{"when": {"any_down": "substation"}, "do": [{"action": "request_mutual_aid"}]}],
        }
    return data


def storm_scenario(city: City) -> Scenario:
    """A 48 h windstorm over the whole of a synthetic city (centred on it, gusts at its edge about two thirds of
    the peak), with the flood scenario's crews: damage and outages everywhere, in proportion to the city's size."""
    xy = city.asset_xy
    centre = (float(xy[:, 0].mean()), float(xy[:, 1].mean()))
    reach_km = float(np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1]).max()) / 1000.0
    data = flood_data(city, expert=False)
    data.update(id="synthetic-storm", title="Synthetic windstorm", summary="Benchmark storm", duration_h=48)
    data["hazards"] = [{"id": "storm", "type": "storm", "start_h": 2, "duration_h": 24,
                        "centre": [round(centre[0], 1), round(centre[1], 1)],
                        "radius_km": round(max(1.0, 1.5 * reach_km), 3), "peak_wind_ms": 48}]
    data["msel"][0]["text"] = "A storm is coming"
    sc, _ = load_scenario(f"<synthetic storm on {city.id}>", city=city, text=dump_yaml(data))
    return sc


_CITIES: dict[int, City] = {}


def city_of(n: int) -> City:
    if n not in _CITIES:
        dt, c = timed(lambda: synthetic(n, seed=1))
        _CITIES[n] = c
        # Long-lived objects leave the cycle collector's reach, as in a batch worker (batch.replication._init_worker):
        # otherwise every few runs a full collection rescans the cities and is charged to whichever run it hits.
        gc.collect()
        gc.freeze()
        say(f"  (built synthetic({n}) in {dt:.2f} s: {c.n_assets} assets, {c.n_districts} districts, "
            f"{len(c.road_ids)} road nodes; frozen out of the cycle collector as in a batch worker)")
    return _CITIES[n]


# ----------------------------------------------------------------------------------------
# (1) engine per event against bare simpy


def _bare_simpy(n_events: int) -> tuple[float, int]:
    """CPU seconds for a process yielding timeouts until ``n_events`` simpy events were scheduled."""
    env = simpy.Environment()

    def proc(env: simpy.Environment, k: int) -> Any:
        for _ in range(k):
            yield env.timeout(1.0)

    env.process(proc(env, max(0, n_events - 2)))  # + Initialize + the process's own end event
    t = time.process_time()
    env.run()
    return time.process_time() - t, next(env._eid)  # type: ignore[attr-defined]


BARE_EVENTS = 12_000  # timeouts per bare-simpy baseline measurement


def bench_engine(quick: bool) -> None:
    say("\n(1) engine cost per simpy event vs bare simpy timeouts (same number of events; CPU time)")
    cases = [("mini city, 48 h flood, do nothing", None), ("synthetic 500, 72 h flood, do nothing", 500),
             ("synthetic 5000, 72 h flood, do nothing", 5000)]
    for label, n in cases:
        if n is None:
            sc, city = load_scenario(Path(__file__).resolve().parent.parent / "tests" / "data" / "mini_scenario.yaml")
        else:
            city = city_of(n)
            sc = flood_scenario(city)
        reps = 10 if quick else 40
        Simulation(sc, city, 0, DoNothing()).run()  # warm caches
        eng_total, eng_run, events, records, bare = [], [], [], [], []
        ratios: list[tuple[float, float]] = []
        # Rounds of engine runs, each followed by as many baseline measurements (12,000 timeouts,
        # ~10 ms, long enough for the clock): the machine's load hits both alike, and a baseline
        # run between two engine runs does not disturb them.  Ratios are taken round by round.
        per_round = max(1, reps // 4)
        for first in range(0, reps, per_round):
            seeds = range(first, min(reps, first + per_round))
            rt, rr, re = [], [], []
            for s in seeds:
                t0 = time.process_time()
                sim = Simulation(sc, city, s, DoNothing())
                t1 = time.process_time()
                log = sim.run()
                t2 = time.process_time()
                eng_total.append(t2 - t0)
                eng_run.append(t2 - t1)
                events.append(next(sim.env._eid))  # type: ignore[attr-defined]
                records.append(len(log))
                rt.append(t2 - t0)
                rr.append(len(log))
                re.append(events[-1])
            del sim, log
            rb = [t / n for t, n in (_bare_simpy(BARE_EVENTS) for _ in seeds)]
            bare += rb
            b = statistics.median(rb)
            ratios.append((statistics.median(t / e for t, e in zip(rt, re, strict=True)) / b,
                           statistics.median(t / r for t, r in zip(rt, rr, strict=True)) / b))
        ev = int(statistics.median(events))
        per_bare = statistics.median(bare)
        per_eng = statistics.median(t / e for t, e in zip(eng_total, events, strict=True))
        per_run = statistics.median(t / e for t, e in zip(eng_run, events, strict=True))
        per_record = statistics.median(t / r for t, r in zip(eng_total, records, strict=True))
        ratio = statistics.median(r[0] for r in ratios)
        rec_ratio = statistics.median(r[1] for r in ratios)
        key = "mini" if n is None else f"synthetic{n}"
        init_ms = (statistics.median(eng_total) - statistics.median(eng_run)) * 1e3
        record(f"engine.{key}.events", ev, f"{label}: {ev} simpy events, {int(statistics.median(records))} log records "
               f"per run; run {statistics.median(eng_total) * 1e3:.1f} ms (of which __init__ ~{init_ms:.1f} ms)")
        record(f"engine.{key}.us_per_event", per_eng * 1e6,
               f"engine {per_eng * 1e6:.1f} us/event (run only, without __init__: {per_run * 1e6:.1f} us); "
               f"bare simpy {per_bare * 1e6:.2f} us/event (median of {reps} runs of {BARE_EVENTS:,} timeouts, "
               f"in {len(ratios)} rounds with the engine runs)")
        RESULTS[f"engine.{key}.ratio"] = ratio
        # One simpy event here is a whole step of a hazard (an hour of flood over the plain) with
        # every change it causes; what the engine produces per event is a record of the event log.
        RESULTS[f"engine.{key}.us_per_record"] = per_record * 1e6
        RESULTS[f"engine.{key}.record_ratio"] = rec_ratio
        say(f"  -> per simpy event {ratio:,.0f}x bare simpy; per event-log record (state change) "
            f"{per_record * 1e6:.2f} us = {rec_ratio:.1f}x bare simpy's {per_bare * 1e6:.2f} us")
        if n == 5000:
            target(f"engine per event-log record within {RECORD_TARGET:g}x of bare simpy, pure Python ({label})",
                   f"{rec_ratio:.1f}x ({ratio:,.0f}x per simpy event, each a whole hazard step)",
                   rec_ratio <= RECORD_TARGET)


RECORD_TARGET = 4.5  # engine CPU per event-log record / bare simpy CPU per event, at 5,000 assets
SCALING_SIZES = (5000, 50000, 200000)


def bench_scaling(quick: bool) -> None:
    """CPU per event-log record of a whole-city windstorm at 5,000, 50,000 and 200,000 assets: flat if no step
    does work in proportion to the city for each thing it changes.

    Each run is measured twice in turn: under :func:`scro_sim.gc_tuning.engine_gc`, as ``scro-sim run``/``play``
    and the app run the engine (batch workers set the collector alike), and with Python's default collector
    thresholds (the city frozen, as everywhere in this bench)."""
    say("\n(1b) engine cost per event-log record as the city grows: a windstorm over the whole city, do nothing")
    from contextlib import nullcontext

    from scro_sim.gc_tuning import engine_gc

    modes = {"engine_gc": engine_gc, "default": nullcontext}
    per: dict[str, dict[int, float]] = {m: {} for m in modes}
    sizes = SCALING_SIZES[:2] if quick else SCALING_SIZES  # --quick leaves out the 200,000-asset city (~15 s to build)
    for n in sizes:
        city = city_of(n)
        sc = storm_scenario(city)
        Simulation(sc, city, 0, DoNothing()).run()  # per-city tables made on first use
        reps = {5000: 6, 50000: 3, 200000: 1}[n] if quick else {5000: 20, 50000: 6, 200000: 3}[n]
        us: dict[str, list[float]] = {m: [] for m in modes}
        bare: list[float] = []
        recs, runs = [], []
        for s in range(1, reps + 1):
            for m in (modes if s % 2 else reversed(list(modes))):
                with modes[m]():
                    t = time.process_time()
                    log = Simulation(sc, city, s, DoNothing()).run()
                    dt = time.process_time() - t
                us[m].append(dt / len(log) * 1e6)
                if m == "engine_gc":
                    recs.append(len(log))
                    runs.append(dt)
                del log
            bare.append(statistics.median(_bare_simpy(BARE_EVENTS)[0] / BARE_EVENTS for _ in range(3)) * 1e6)
        for m in modes:
            per[m][n] = statistics.median(us[m])
            RESULTS[f"scaling.{n}.{m}.us_per_record"] = per[m][n]
            RESULTS[f"scaling.{n}.{m}.record_ratio"] = statistics.median(
                u / b for u, b in zip(us[m], bare, strict=True))
        record(f"scaling.{n}.records", int(statistics.median(recs)),
               f"{city.n_assets:>7} assets: {per['engine_gc'][n]:.2f} us per record under engine_gc "
               f"({RESULTS[f'scaling.{n}.engine_gc.record_ratio']:.1f}x bare simpy's {statistics.median(bare):.2f} us), "
               f"{per['default'][n]:.2f} us with the default collector; {int(statistics.median(recs)):,} records per "
               f"run, run {statistics.median(runs) * 1e3:,.0f} ms (median of {reps})")
    # The sizes run minutes apart and the machine's speed drifts (bare simpy itself varies 2x on a busy one), so
    # growth is judged on each size's ratio to bare simpy measured in rounds with its own runs; us alongside.
    lo, hi = sizes[0], sizes[-1]
    for m in modes:
        RESULTS[f"scaling.{m}.growth_us"] = per[m][hi] / per[m][lo]
        RESULTS[f"scaling.{m}.growth"] = (RESULTS[f"scaling.{hi}.{m}.record_ratio"]
                                          / RESULTS[f"scaling.{lo}.{m}.record_ratio"])
    say(f"  -> {hi:,} / {lo:,} assets, per record against bare simpy: {RESULTS['scaling.engine_gc.growth']:.2f}x under "
        f"engine_gc ({RESULTS['scaling.engine_gc.growth_us']:.2f}x in us), {RESULTS['scaling.default.growth']:.2f}x with "
        f"the default collector ({RESULTS['scaling.default.growth_us']:.2f}x in us)")
    target(f"cost per record flat from {lo:,} to {hi:,} assets (whole-city storm, engine_gc; flat = within 1.25x)",
           f"{RESULTS[f'scaling.{hi}.engine_gc.record_ratio']:.2f}x / {RESULTS[f'scaling.{lo}.engine_gc.record_ratio']:.2f}x "
           f"bare simpy = {RESULTS['scaling.engine_gc.growth']:.2f}x", RESULTS["scaling.engine_gc.growth"] <= 1.25)


# ----------------------------------------------------------------------------------------
# (2) time per replication


def _grade_once(sc: Scenario, log: Any, ref: dict[str, Any] | None) -> None:
    grade(log, sc, reference=ref)


def bench_replication(quick: bool) -> dict[int, Scenario]:
    say("\n(2) time per replication of a flood scenario on synthetic cities (one engine run; then scoring)")
    say("    figures are CPU ms (wall ms in brackets: higher when other work shares the cores)")
    scen: dict[int, Scenario] = {}
    sizes = {500: (10, 40), 5000: (5, 20), 50000: (1, 3)}
    for n, (rq, rf) in sizes.items():
        city = city_of(n)
        sc = scen[n] = flood_scenario(city)
        expert_plan = sc.reference_plans.expert
        assert expert_plan is not None
        cold, _ = timed(lambda sc=sc, city=city: Simulation(sc, city, 10_000, DoNothing()).run())
        reps = rq if quick else rf
        nothing: list[tuple[float, float]] = []
        expert: list[tuple[float, float]] = []
        scoring: list[tuple[float, float]] = []
        events = []
        for s in range(reps):
            w, c, log = timed2(lambda s=s, sc=sc, city=city: Simulation(sc, city, s, DoNothing()).run())
            nothing.append((w, c))
            events.append(len(log))
            w, c, elog = timed2(lambda s=s, sc=sc, city=city, p=expert_plan: Simulation(
                sc, city, s, PlanPolicy(p, "expert")).run())
            expert.append((w, c))
            ref = {"baseline": compute_metrics(log), "expert": compute_metrics(elog)}
            _, c, _ = timed2(lambda log=log: EventLog(log.records).digest())  # a fresh log: nothing cached
            RESULTS.setdefault(f"replication.{n}.digest_ms", []).append(c * 1e3)
            _, c, _ = timed2(lambda log=log: compute_metrics(log))
            RESULTS.setdefault(f"replication.{n}.metrics_ms", []).append(c * 1e3)
            w, c, _ = timed2(lambda sc=sc, log=log, ref=ref: _grade_once(sc, log, ref))
            scoring.append((w, c))

        def med(xs: list[tuple[float, float]], k: int) -> float:
            return statistics.median(x[k] for x in xs) * 1e3

        dg = RESULTS[f"replication.{n}.digest_ms"] = statistics.median(RESULTS[f"replication.{n}.digest_ms"])
        mt = RESULTS[f"replication.{n}.metrics_ms"] = statistics.median(RESULTS[f"replication.{n}.metrics_ms"])
        record(f"replication.{n}.do_nothing_ms", med(nothing, 1),
               f"{city.n_assets:>6} assets: do nothing {med(nothing, 1):6.1f} ms [{med(nothing, 0):.1f}], expert plan "
               f"{med(expert, 1):6.1f} ms [{med(expert, 0):.1f}], grading {med(scoring, 1):.1f} ms (of which metrics "
               f"{mt:.1f} ms, log digest {dg:.1f} ms); {int(statistics.median(events))} log records; "
               f"first run on a fresh city {cold * 1e3:.0f} ms wall")
        RESULTS[f"replication.{n}.do_nothing_wall_ms"] = med(nothing, 0)
        RESULTS[f"replication.{n}.expert_ms"] = med(expert, 1)
        RESULTS[f"replication.{n}.grading_ms"] = med(scoring, 1)
        RESULTS[f"replication.{n}.cold_ms"] = cold * 1e3
        if n == 5000:
            target("<= 8 ms per replication at 5,000 assets (do nothing, CPU)", f"{med(nothing, 1):.1f} ms",
                   med(nothing, 1) <= 8.0)
    return scen


def _batch(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run a batch; (result, wall s, CPU s of this process and its workers)."""
    with ChildCPU() as kids:
        w, c, res = timed2(fn)
    for line in res.incidents[:3]:
        say(f"  !! {res.executor}: {line}")
    if not res.failed.empty:
        first = str(res.failed["error"].iloc[0]).splitlines()
        say(f"  !! {len(res.failed)} of {res.n} replications failed ({res.executor}); first error: {first[0] if first else ''}")
        RESULTS.setdefault("failures", []).append({"executor": res.executor, "n": res.n, "failed": len(res.failed),
                                                   "error": str(res.failed["error"].iloc[0])[-3000:]})
    return res, w, c + kids.seconds


def bench_throughput(quick: bool, scen: dict[int, Scenario]) -> None:
    say("\n(2b) batch throughput at 5,000 (and 50,000) assets on 2 worker processes")
    city = city_of(5000)
    single = flood_scenario(city, expert=False)  # plan = do nothing = baseline: one engine run per replication
    n = 40 if quick else 1000
    _, wall, cpu = _batch(lambda: evaluate(single, city, None, n, 1, executor="process", workers=2))
    per1000 = wall / n * 1000
    ideal = cpu / n * 1000 / 2
    record("throughput.5000.single_s_per_1000", per1000,
           f"{n} single-policy replications (1 run + metrics + score each; no per-row digests, the default): "
           f"{wall:.1f} s wall -> {per1000:.1f} s per 1,000"
           + ("" if n == 1000 else " (extrapolated)") + f"; {cpu / n * 1e3:.0f} CPU ms per replication in all "
           f"processes -> {ideal:.0f} s per 1,000 on 2 uncontended cores")
    RESULTS["throughput.5000.single_cpu_ms"] = cpu / n * 1e3
    if quick:
        say("  (--quick: too few replications to judge the 1,000-replication targets; start-up dominates)")
    else:
        target("1,000 replications at 5,000 assets in <= 10 s on 2 cores",
               f"{per1000:.1f} s measured, {ideal:.1f} s from CPU time", min(per1000, ideal) <= 10.0)
    n2 = 6 if quick else 100
    _, wall, cpu = _batch(lambda: evaluate(scen[5000], city, "greedy", n2, 1, executor="process", workers=2))
    record("throughput.5000.paired_cpu_ms", cpu / n2 * 1e3,
           f"{n2} paired replications (greedy + do nothing + expert, each graded): {wall:.1f} s wall, "
           f"{cpu / n2 * 1e3:.0f} CPU ms per replication")
    # stretch: 1,000 at 50,000 assets (the city goes to each worker once, pickled)
    big = city_of(50000)
    n3 = 20 if quick else 1000
    _, wall, cpu = _batch(lambda: evaluate(flood_scenario(big, expert=False), big, None, n3, 1, executor="process",
                                           workers=2))
    per1000 = wall / n3 * 1000
    record("throughput.50000.single_s_per_1000", per1000,
           f"{n3} single-policy replications at {big.n_assets} assets: {wall:.1f} s wall -> {per1000:.0f} s per 1,000"
           + ("" if n3 == 1000 else " (extrapolated)") + f"; {cpu / n3 * 1e3:.0f} CPU ms per replication in all processes")
    if not quick:
        target("stretch: 1,000 replications at 50,000 assets in <= 120 s on 2 cores", f"{per1000:.0f} s", per1000 <= 120.0)


# ----------------------------------------------------------------------------------------
# profile (when the engine misses its target)


def bench_profile(scen: dict[int, Scenario]) -> None:
    say("\n(profile) where a 5,000-asset replication spends its time (cProfile, 5 runs of do nothing)")
    city = city_of(5000)
    sc = scen[5000]
    Simulation(sc, city, 0, DoNothing()).run()
    pr = cProfile.Profile()
    pr.enable()
    for s in range(5):
        Simulation(sc, city, s, DoNothing()).run()
    pr.disable()
    st = pstats.Stats(pr)
    total = st.total_tt  # type: ignore[attr-defined]
    rows: dict[str, float] = {}
    wanted = {"__init__": "Simulation.__init__ (initial cascade over all assets)",
              "observe": "Simulation.observe (the observation at each decision point)",
              "_flood_step": "_flood_step (water level: flooded/dry assets, roads, people)",
              "_propagate": "_propagate (incremental cascade)",
              "_damage": "_damage (fragility draws)",
              "_recompute_districts": "_recompute_districts",
              "_check_conditions": "_check_conditions (conditional injects)",
              "append": "EventLog.append"}
    for (file, _line, fn), (_cc, _nc, _tt, ct, _callers) in st.stats.items():  # type: ignore[attr-defined]
        if fn in wanted and ("engine.py" in file or ("log.py" in file and fn == "append")):
            rows[wanted[fn]] = rows.get(wanted[fn], 0.0) + ct
    say(f"  total {total / 5 * 1e3:.1f} ms per run; cumulative time per function (overlapping):")
    for name, ct in sorted(rows.items(), key=lambda kv: -kv[1]):
        say(f"    {ct / total:6.1%}  {ct / 5 * 1e3:7.1f} ms  {name}")
        RESULTS[f"profile.{name.split(' ')[0]}"] = ct / total
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(8)
    say("  top functions by own time:")
    for line in out.getvalue().splitlines():
        if line.strip() and (line.strip()[0].isdigit() or "ncalls" in line):
            say("    " + line.strip())


# ----------------------------------------------------------------------------------------
# (3) interactive play on 50,000 assets


def _decide(sim: Simulation, obs: Any) -> list[Action]:
    """A scripted player: warn at once, ask for mutual aid, then dispatch a crew to a damaged asset."""
    acts: list[Action] = []
    if obs.point == 0:
        acts.append(Action(action="warn_public", target="all", message="Leave the flood plain now."))
    elif obs.point == 2 and obs.mutual_aid_left:
        acts.append(Action(action="request_mutual_aid"))
    elif obs.repairs_waiting:
        acts.append(Action(action="dispatch_crew", target=obs.repairs_waiting[0]))
    return [a for a in acts if not sim.check(acts)]


def bench_play(quick: bool, scen: dict[int, Scenario]) -> None:
    say("\n(3) interactive play on 50,000 assets: advance to the next decision point + observation")
    city = city_of(50000)
    sc = scen.get(50000) or flood_scenario(city)
    steps: list[float] = []
    applies: list[float] = []
    games = 1 if quick else 3
    sim = None
    for g in range(games):
        sim = Simulation(sc, city, 100 + g)
        obs = sim.observe()
        while not sim.done:
            dt, obs = timed(sim.advance)
            steps.append(dt)
            if obs.done:
                break
            acts = _decide(sim, obs)
            if acts:
                dt, _ = timed(lambda acts=acts, sim=sim: sim.apply(acts))
                applies.append(dt)
    assert sim is not None
    record("play.50000.step_median_ms", statistics.median(steps) * 1e3,
           f"{len(steps)} steps over {games} game(s): median {statistics.median(steps) * 1e3:.1f} ms, "
           f"p95 {pct(steps, 0.95) * 1e3:.1f} ms, max {max(steps) * 1e3:.1f} ms; apply a decision: median "
           f"{statistics.median(applies) * 1e3:.2f} ms")
    RESULTS["play.50000.step_p95_ms"] = pct(steps, 0.95) * 1e3
    decisions = sim.decisions
    mid = max(1, (sim.point + 1) // 2)
    dt, (_sim, robs) = timed(lambda: replay(sc, city, 100 + games - 1, decisions, until_point=mid))
    record("play.50000.replay_mid_ms", dt * 1e3,
           f"replay of {sum(1 for d in decisions if d['point'] < mid)} decisions to decision point {mid} "
           f"(t = {robs.time_h:g} h of {sc.duration_h:g}): {dt * 1e3:.0f} ms")


def _gc_child(rounds: int) -> dict[str, Any]:
    """In a fresh process: build the 50,000-asset city, then time runs and games in turn under both settings."""
    from contextlib import nullcontext

    from scro_sim.gc_tuning import engine_gc

    city = synthetic(50000, seed=1)  # not frozen, and the collector's counts as loading left them
    sc = flood_scenario(city)
    Simulation(sc, city, 0, DoNothing()).run()
    modes = {"default": nullcontext, "engine_gc": engine_gc}
    runs: dict[str, list[float]] = {m: [] for m in modes}
    games: dict[str, list[float]] = {m: [] for m in modes}
    steps: dict[str, list[float]] = {m: [] for m in modes}
    for r in range(rounds):
        for m in (modes if r % 2 else reversed(list(modes))):
            with modes[m]():
                t = time.process_time()
                Simulation(sc, city, r, DoNothing()).run()
                runs[m].append(time.process_time() - t)
            sim = Simulation(sc, city, 200 + r)
            total = 0.0
            while not sim.done:
                t = time.process_time()
                with modes[m]():
                    obs = sim.advance()
                dt = time.process_time() - t
                steps[m].append(dt)
                total += dt
                if obs.done:
                    break
            games[m].append(total)
    return {"runs": runs, "games": games, "steps": steps}


def bench_gc(quick: bool) -> None:
    """One run and one game's play steps on 50,000 assets, with Python's default collector and under engine_gc,
    in turn, in a fresh process (as ``scro-sim run`` or the app's: the city not frozen, the collector's counts as
    loading left them; this process's own freezing would flatter the default)."""
    import subprocess

    say("\n(3b) the cycle collector in a user's process, 50,000 assets: default thresholds vs engine_gc (CPU time)")
    done = subprocess.run([sys.executable, __file__, "--gc-child", str(3 if quick else 8)], capture_output=True,
                          text=True, check=True)
    data = json.loads(done.stdout.strip().splitlines()[-1])
    for m in ("default", "engine_gc"):
        runs, games, steps = data["runs"][m], data["games"][m], data["steps"][m]
        RESULTS[f"gc.{m}.run_ms"] = statistics.median(runs) * 1e3
        RESULTS[f"gc.{m}.game_ms"] = statistics.median(games) * 1e3
        RESULTS[f"gc.{m}.step_median_ms"] = statistics.median(steps) * 1e3
        say(f"  {m:>9}: one run {RESULTS[f'gc.{m}.run_ms']:.1f} ms, a game's {len(steps) // len(games)} play steps "
            f"{RESULTS[f'gc.{m}.game_ms']:.0f} ms (step median {RESULTS[f'gc.{m}.step_median_ms']:.1f} ms, p95 "
            f"{pct(steps, 0.95) * 1e3:.1f} ms; median of {len(runs)})")
    say(f"  -> engine_gc / default: run {RESULTS['gc.engine_gc.run_ms'] / RESULTS['gc.default.run_ms']:.2f}x, "
        f"play steps {RESULTS['gc.engine_gc.game_ms'] / RESULTS['gc.default.game_ms']:.2f}x")


# ----------------------------------------------------------------------------------------
# (4) parallel speedup and per-task overhead


def _spin(n: int) -> int:
    s = 0
    for i in range(n):
        s += i * i
    return s


def _noop(x: int) -> int:
    return x


def raw_speedup(loops: int) -> tuple[float, float, float]:
    """Wall seconds for 4 busy loops in 1 process, then on 2 processes; and the ratio."""
    t1, _ = timed(lambda: [_spin(loops) for _ in range(4)])
    with cf.ProcessPoolExecutor(2) as ex:
        list(ex.map(_spin, [10, 10]))
        t2, _ = timed(lambda: list(ex.map(_spin, [loops] * 4)))
    return t1, t2, t1 / t2


def bench_parallel(quick: bool, scen: dict[int, Scenario]) -> None:
    say("\n(4) parallel speedup on 2 workers vs 1 (500-asset flood, one run + grading per replication)")
    city = city_of(500)
    single = flood_scenario(city, expert=False)
    n = 100 if quick else 1000
    before = raw_speedup(3_000_000)
    one, w1, c1 = _batch(lambda: evaluate(single, city, None, n, 2, executor="process", workers=1))
    two, w2, c2 = _batch(lambda: evaluate(single, city, None, n, 2, executor="process", workers=2))
    after = raw_speedup(3_000_000)
    speed = w1 / w2
    raw = (before[2] + after[2]) / 2
    record("parallel.speedup", speed,
           f"{n} replications: 1 worker {w1:.1f} s, 2 workers {w2:.1f} s -> speedup {speed:.2f}x "
           f"(CPU per replication: {c1 / n * 1e3:.1f} ms with 1 worker, {c2 / n * 1e3:.1f} ms with 2)")
    record("parallel.raw_speedup", raw, f"plain CPU loop on 2 processes in the same run: {before[2]:.2f}x before, "
           f"{after[2]:.2f}x after -> this machine gives {raw:.2f}x; the batch reaches {speed / raw:.0%} of that")
    import pandas as pd

    pd.testing.assert_frame_equal(one.frame, two.frame, check_exact=True)

    with cf.ProcessPoolExecutor(2) as ex:
        list(ex.map(_noop, range(4)))
        k = 400
        dt, _ = timed(lambda: [f.result() for f in [ex.submit(_noop, i) for i in range(k)]])
    record("overhead.process_task_ms", dt / k * 1e3, f"process pool: {dt / k * 1e3:.3f} ms per no-op task ({k} tasks)")
    try:
        import logging

        from distributed import Client, LocalCluster
    except ImportError:
        say("  dask.distributed is not installed: skipped the Dask figures")
        return
    t0 = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as cluster, Client(cluster, timeout="60s") as client:
        client.wait_for_workers(2, timeout=60)
        start = time.perf_counter() - t0
        client.gather(client.map(_noop, range(4), pure=False))
        k = 200 if quick else 1000
        dt, _ = timed(lambda: client.gather(client.map(_noop, range(k), pure=False)))
        ex = client.get_executor()
        dt2, _ = timed(lambda: [f.result() for f in [ex.submit(_noop, i) for i in range(k)]])
        record("overhead.dask_task_ms", dt / k * 1e3,
               f"Dask LocalCluster (2 processes, started in {start:.1f} s): {dt / k * 1e3:.2f} ms per no-op task via "
               f"client.map, {dt2 / k * 1e3:.2f} ms one by one via the concurrent.futures executor ({k} tasks)")
        nd = n
        on_dask, wd, _ = _batch(lambda: evaluate(single, city, None, nd, 2, executor=ex))
        if nd == n:
            ref, wr = two, w2
        else:
            ref, wr, _ = _batch(lambda: evaluate(single, city, None, nd, 2, executor="process", workers=2))
        record("parallel.dask_s", wd, f"{nd} replications on the Dask cluster: {wd:.1f} s vs process pool {wr:.1f} s "
               f"(same frame: {on_dask.frame.equals(ref.frame)})")


# ----------------------------------------------------------------------------------------
# (5) peak memory per replication


def bench_memory(quick: bool, scen: dict[int, Scenario]) -> None:
    say("\n(5) peak memory per replication (tracemalloc; the city is built before and not counted)")
    for n in (5000, 50000):
        city = city_of(n)
        sc = scen.get(n) or flood_scenario(city)
        Simulation(sc, city, 0, DoNothing()).run()  # caches the city builds on first use are not per replication
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        log = Simulation(sc, city, 1, DoNothing()).run()
        card = grade(log, sc)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del card
        record(f"memory.{n}.peak_mb", (peak - base) / 2**20,
               f"{city.n_assets:>6} assets: peak {(peak - base) / 2**20:.1f} MiB during run + grading; "
               f"the log ({len(log)} records) keeps {(current - base) / 2**20:.1f} MiB")


# ----------------------------------------------------------------------------------------


SECTIONS = ("engine", "scaling", "replication", "throughput", "profile", "play", "gc", "parallel", "memory")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (about two minutes)")
    ap.add_argument("--only", help=f"comma-separated sections: {', '.join(SECTIONS)}")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--gc-child", type=int, help=argparse.SUPPRESS)  # section gc's fresh process
    args = ap.parse_args(argv)
    if args.gc_child:
        print(json.dumps(_gc_child(args.gc_child)))
        return 0
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    unknown = only - set(SECTIONS)
    if unknown:
        ap.error(f"unknown sections: {', '.join(sorted(unknown))}")
    t0 = time.perf_counter()
    say(f"scro_sim bench ({'quick' if args.quick else 'full'}) on Python {platform.python_version()}, "
        f"{platform.machine()}, {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} "
        f"CPUs usable, load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "")
    c500 = city_of(500)
    dep = depot_of(c500)
    RESULTS["share_of_core.start"] = share_of_core()
    say(f"  a busy loop got {RESULTS['share_of_core.start']:.0%} of a core (CPU/wall) at the start: less than 100 % means "
        "other work shares this machine and wall-clock figures are inflated")
    say(f"  crews start at {dep} ({c500.asset_type[c500.asset_index[dep]]}"
        + (": synthetic cities have no 'depot' asset here)" if c500.asset_type[c500.asset_index[dep]] != "depot" else ")"))
    scen: dict[int, Scenario] = {}
    if "engine" in only:
        bench_engine(args.quick)
    if "scaling" in only:
        bench_scaling(args.quick)
    if only & {"replication", "throughput", "profile", "play", "memory", "parallel"}:
        scen = bench_replication(args.quick) if "replication" in only else {}
    if "throughput" in only:
        if 5000 not in scen:
            scen[5000] = flood_scenario(city_of(5000))
        bench_throughput(args.quick, scen)
    if "profile" in only and (RESULTS.get("replication.5000.do_nothing_ms", 1e9) > 8.0 or "replication" not in only):
        if 5000 not in scen:
            scen[5000] = flood_scenario(city_of(5000))
        bench_profile(scen)
    if "play" in only:
        bench_play(args.quick, scen)
    if "gc" in only:
        bench_gc(args.quick)
    if "parallel" in only:
        bench_parallel(args.quick, scen)
    if "memory" in only:
        bench_memory(args.quick, scen)
    RESULTS["share_of_core.end"] = share_of_core()
    say(f"\na busy loop got {RESULTS['share_of_core.end']:.0%} of a core at the end")
    say("\ntargets:")
    for name, measured, ok in TARGETS:
        say(f"  [{'met' if ok else 'MISSED'}] {name}: {measured}")
    say(f"\nbench finished in {time.perf_counter() - t0:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"quick": args.quick, "results": RESULTS,
                                               "targets": [{"name": n, "measured": m, "met": ok}
                                                           for n, m, ok in TARGETS]}, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
