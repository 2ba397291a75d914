"""A run is a pure function of (scenario, city, seed, decisions): same inputs, same log, bit for bit.

Also: replay reproduces recorded runs, resuming mid-game changes nothing, invariants hold
on random small cities (hypothesis), and non-finite numbers never reach the clock.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from enginekit import flood, make_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scro_sim.city import City, synthetic
from scro_sim.engine import ENGINE_VERSION, Simulation, _finite_delay, replay
from scro_sim.errors import ScenarioError
from scro_sim.log import EventLog
from scro_sim.policy import Decision, Greedy, Observation, PlanPolicy
from scro_sim.scenario import Plan, Scenario, load_plan, load_scenario

ROOT = Path(__file__).resolve().parent.parent


def greedy_run(sc: Scenario, city: City, seed: int) -> Simulation:
    sim = Simulation(sc, city, seed, Greedy())
    sim.run()
    return sim


# a plan whose rules fire between the scenario's decision points (plan checks every hour)
OFF_GRID_PLAN = {
    "title": "Off-grid rules",
    "priorities": ["SS1", "PS1", "H1"],
    "rules": [
        {"when": {"after_h": 3}, "do": [{"action": "warn_public", "target": "D2", "message": "Rising water."}]},
        {"when": {"asset_down": "SS1"}, "do": [{"action": "dispatch_crew", "target": "SS1"}]},
        {"when": {"asset_on_backup": "H1"}, "do": [{"action": "deploy_generator", "target": "H1"}]},
    ],
    "check_every_h": 1,
}


def plan_run(sc: Scenario, city: City, seed: int, plan: Plan) -> Simulation:
    sim = Simulation(sc, city, seed, PlanPolicy(plan))
    sim.run()
    return sim


@pytest.fixture(scope="module")
def mini(mini_scenario: Scenario, mini_city: City) -> tuple[Scenario, City]:
    return mini_scenario, mini_city


# --------------------------------------------------------------------------------------------
# same inputs, same log


def test_same_inputs_give_identical_digest_and_jsonl(mini: tuple[Scenario, City]) -> None:
    a, b = greedy_run(*mini, 7).log, greedy_run(*mini, 7).log
    assert a.digest() == b.digest()
    assert a.to_jsonl() == b.to_jsonl()
    assert EventLog.from_jsonl(a.to_jsonl()).digest() == a.digest()  # the stored form keeps the digest


def test_different_seeds_give_different_logs(mini: tuple[Scenario, City]) -> None:
    digests = {greedy_run(*mini, s).log.digest() for s in (1, 2, 3)}
    assert len(digests) == 3


def _plain_problems(value: Any, path: str) -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _plain_problems(v, f"{path}.{k}")]
    if isinstance(value, list | tuple):
        return [p for v in value for p in _plain_problems(v, path)]
    if value is None or type(value) in (bool, int, float, str):
        return []
    return [f"{path}: {type(value).__module__}.{type(value).__name__}"]


def test_log_records_hold_plain_python_values(mini: tuple[Scenario, City]) -> None:
    """The log is the plain record everything downstream reads: ``json.dumps`` must take every record.

    Regression: exposure records carried numpy values (``warned`` is a numpy bool, which
    ``json.dumps`` refuses; ``warning_lead_h`` a numpy float), from ``engine._expose``.
    """
    log = greedy_run(*mini, 1).log
    assert log.of_kind("exposure")
    problems = sorted({p for r in log for p in _plain_problems({"time": r.time, **r.data}, r.kind)})
    assert problems == []
    for r in log:
        json.dumps(r.to_dict(), allow_nan=False)


def test_run_start_names_its_inputs(mini: tuple[Scenario, City]) -> None:
    sc, city = mini
    start = greedy_run(sc, city, 4).log.first("run_start")
    assert start is not None
    assert (start.data["seed"], start.data["engine"], start.data["city_sha256"]) == (4, ENGINE_VERSION, city.content_hash())
    assert start.data["scenario_sha256"] == sc.source_sha256


_CHILD = """
from scro_sim.engine import Simulation
from scro_sim.policy import Greedy
from scro_sim.scenario import load_scenario
sc, city = load_scenario({path!r})
print(Simulation(sc, city, 11, Greedy()).run().digest())
"""


def test_digest_is_identical_in_separate_processes(mini: tuple[Scenario, City]) -> None:
    """Two fresh interpreters with different hash seeds (set/dict order of strings) give this digest too."""
    code = _CHILD.format(path=str(ROOT / "tests" / "data" / "mini_scenario.yaml"))
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONHASHSEED": str(h)}) for h in (1, 2)]
    outs = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    here = greedy_run(*mini, 11).log.digest()
    assert [out.strip() for out, _ in outs] == [here, here]


# --------------------------------------------------------------------------------------------
# replay


@pytest.fixture(scope="module")
def plans(mini: tuple[Scenario, City], mini_plan_path: Path) -> dict[str, Plan]:
    sc, city = mini
    return {"mini_plan": load_plan(mini_plan_path, sc, city), "off_grid": Plan.model_validate(OFF_GRID_PLAN)}


@pytest.mark.parametrize("who", ["greedy", "mini_plan", "off_grid"])
@pytest.mark.parametrize("seed", [0, 5])
def test_replay_of_recorded_decisions_reproduces_the_digest(mini: tuple[Scenario, City], plans: dict[str, Plan],
                                                             who: str, seed: int) -> None:
    sc, city = mini
    orig = greedy_run(sc, city, seed) if who == "greedy" else plan_run(sc, city, seed, plans[who])
    assert orig.decisions, "the run made no decisions: nothing would be tested"
    if who == "off_grid":  # the plan really decided between the scenario's decision points
        assert {round(d["time_h"], 9) for d in orig.decisions} - set(sc.decision_times())
    sim, obs = replay(sc, city, seed, orig.decisions)
    assert obs.done
    assert sim.log.digest() == orig.log.digest()
    assert sim.log.to_jsonl() == orig.log.to_jsonl()


@pytest.mark.parametrize("who", ["greedy", "off_grid"])
def test_replay_to_a_mid_game_point_then_continuing_equals_the_straight_run(
        mini: tuple[Scenario, City], plans: dict[str, Plan], who: str) -> None:
    sc, city = mini
    orig = greedy_run(sc, city, 3) if who == "greedy" else plan_run(sc, city, 3, plans[who])
    by_time = {round(d["time_h"], 9): Decision.from_dict(d) for d in orig.decisions}
    sim, obs = replay(sc, city, 3, orig.decisions, until_point=2)
    assert obs.point == 2 and not obs.done
    by_time = {t: d for t, d in by_time.items() if t >= obs.time_h - 1e-9}  # the rest is replayed already
    n_before = len(sim.log)
    assert sim.log.records == orig.log.records[:n_before]  # the prefix is the straight run's prefix
    while not obs.done:  # the player carries on, making the same decisions by hand
        d = by_time.pop(round(obs.time_h, 9), None)
        if d is not None:
            sim.apply(d)
        obs = sim.advance()
    assert by_time == {}
    assert sim.log.digest() == orig.log.digest()


def test_replay_stops_before_deciding_at_the_requested_point(mini: tuple[Scenario, City]) -> None:
    sc, city = mini
    orig = greedy_run(sc, city, 2)
    sim, obs = replay(sc, city, 2, orig.decisions, until_point=1)
    assert obs.point == 1
    assert [d["point"] for d in sim.decisions] == [0]


# --------------------------------------------------------------------------------------------
# invariants on random small cities


@functools.lru_cache(maxsize=16)
def small_city(n: int, seed: int) -> City:
    return synthetic(n, seed)


def flood_on(city: City, peak: float, seed: int) -> Scenario:
    depot = next(a for a in city.asset_ids if city.asset_type[city.asset_index[a]] == "fire_station")
    return make_scenario([flood(peak, time_to_peak_h=8, recession_h=16, zone="floodplain")], duration_h=36,
                         decision_points={"every_h": 6}, resources={
                             "budget": 1e9, "generators": {"count": 2},
                             "crews": [{"id": "pc", "count": 2, "depot": depot, "skills": ["power", "water", "general"]}]})


class Checker:
    """Greedy plus evacuations, checking invariants at every observation (hourly)."""

    check_every_h = 1.0

    def __init__(self, sim_ref: list[Simulation]) -> None:
        self.sim_ref = sim_ref
        self.greedy = Greedy()
        self.evacuated = False
        self.seen = 0

    def decide(self, obs: Observation) -> Decision | None:
        sim = self.sim_ref[0]
        c = sim.city
        self.seen += 1
        for d, shares in obs.services.items():
            for s, v in shares.items():
                assert 0.0 <= v <= 1.0, (obs.time_h, d, s, v)
        assert all(0.0 <= v <= 1.0 for v in obs.service_totals.values())
        for i in np.nonzero(sim.damage > 0)[0].tolist():
            assert obs.asset_state.get(c.asset_ids[i]) == "down", (obs.time_h, c.asset_ids[i])
        assert obs.asset_counts["up"] + obs.asset_counts["backup"] + obs.asset_counts["down"] == c.n_assets
        d = self.greedy.decide(obs) if obs.kind != "check" else None
        acts = list(d.actions) if d else []
        if not self.evacuated and obs.kind != "check":
            self.evacuated = True
            shelters = [a for a in c.asset_ids if c.asset_type[c.asset_index[a]] == "shelter"]
            for k, dist in enumerate(c.district_ids[:2]):
                acts.append(_action("evacuate", dist, shelter=shelters[k % len(shelters)]))
        return Decision(acts) if acts else None


def _action(kind: str, target: str, **kw: Any) -> Any:
    from scro_sim.scenario import Action

    return Action(action=kind, target=target, **kw)


def checked_run(sc: Scenario, city: City, seed: int) -> tuple[Simulation, Checker]:
    ref: list[Simulation] = []
    pol = Checker(ref)
    sim = Simulation(sc, city, seed, pol)
    ref.append(sim)
    sim.run()
    return sim, pol


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(40, 90), city_seed=st.integers(0, 5), seed=st.integers(0, 2**32 - 1),
       peak=st.floats(2.0, 6.0, allow_nan=False))
def test_invariants_hold_on_random_small_flooded_cities(n: int, city_seed: int, seed: int, peak: float) -> None:
    city = small_city(n, city_seed)
    sc = flood_on(city, peak, seed)
    sim, pol = checked_run(sc, city, seed)
    log = sim.log
    assert pol.seen >= 36  # hourly checks really ran
    # time never goes backwards
    ts = [r.time for r in log]
    assert all(b >= a for a, b in itertools.pairwise(ts))
    assert [r.seq for r in log] == list(range(len(log)))
    # population is conserved under evacuation
    pops = log.of_kind("population")
    assert pops, "no evacuation happened"
    for r in pops:
        assert r.data["residents"] + r.data["evacuees"] == r.data["population"]
        assert r.data["population"] == int(city.district_pop[city.district_index[r.subject]])
    # served people never exceed the district's population
    for r in log.of_kind("service"):
        assert 0 <= r.data["unserved"] <= r.data["population"]
    # a damaged asset is never up: replay damage/repair/up/down from the log, checking each hour's end
    damaged: set[str] = set()
    down: set[str] = set()
    now = 0.0
    for r in [*log, None]:
        if r is None or r.time > now:
            assert damaged <= down, (now, sorted(damaged - down))
            if r is None:
                break
            now = r.time
        if r.kind == "damage" and r.data.get("state") in ("degraded", "failed"):
            damaged.add(r.subject)
        elif r.kind == "repair" and r.data["state"] == "finished":
            damaged.discard(r.subject)
        elif r.kind == "asset_down" and not r.data.get("overload"):
            down.add(r.subject)
        elif r.kind == "asset_up" and not r.data.get("overload"):
            down.discard(r.subject)
    # and the digest is stable on a re-run
    again, _ = checked_run(sc, city, seed)
    assert again.log.digest() == log.digest()


# --------------------------------------------------------------------------------------------
# non-finite numbers


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -1.0, -1e-12])
def test_nan_inf_and_negative_delays_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="finite, non-negative"):
        _finite_delay(bad, "test")


def test_finite_delays_pass_through() -> None:
    assert _finite_delay(0, "x") == 0.0
    assert _finite_delay(2.5, "x") == 2.5


@pytest.mark.parametrize("field, value", [
    (("duration_h",), math.nan),
    (("hazards", 0, "recession_h"), math.nan),
    (("hazards", 0, "peak_stage_m"), {"dist": "fixed", "value": math.inf}),
    (("hazards", 0, "time_to_peak_h"), {"dist": "uniform", "low": 1.0, "high": math.nan}),
    (("resources", "mutual_aid", "delay_h"), math.nan),
    (("actions", "evacuate"), {"lead_time_h": math.nan}),
])
def test_nan_in_a_scenario_is_refused_at_validation(scenario_data: dict[str, Any], field: tuple[Any, ...],
                                                     value: Any) -> None:
    node: Any = scenario_data
    for k in field[:-1]:
        node = node.setdefault(k, {}) if isinstance(k, str) else node[k]
    node[field[-1]] = value
    with pytest.raises(ValidationError):
        Scenario.model_validate(scenario_data)


def test_nan_in_a_scenario_file_is_refused(write_yaml: Any, scenario_data: dict[str, Any],
                                                         mini_city: City) -> None:
    text = (ROOT / "tests" / "data" / "mini_scenario.yaml").read_text(encoding="utf-8")
    assert "    recession_h: 24\n" in text
    path = write_yaml(text.replace("    recession_h: 24\n", "    recession_h: .nan\n"), "nan.yaml")
    with pytest.raises(ScenarioError, match="finite") as err:
        load_scenario(path, city=mini_city)
    assert err.value.line is not None


def test_negative_or_fractional_seed_is_refused(mini: tuple[Scenario, City]) -> None:
    for bad in (-1, 1.5):
        with pytest.raises(ValueError, match="seed"):
            Simulation(*mini, bad)  # type: ignore[arg-type]


def test_each_random_stream_is_a_spawned_child_of_the_run_seed(mini: tuple[Scenario, City]) -> None:
    """Streams are made on first use; each must still be child k of SeedSequence(seed), as spawn() makes it."""
    sim = Simulation(*mini, 1234)
    children = np.random.SeedSequence(1234).spawn(6)
    for k, name in enumerate(("rng_hazard", "rng_damage", "rng_repair", "rng_aid")):
        seq = getattr(sim, name).bit_generator.seed_seq
        assert (seq.entropy, seq.spawn_key, seq.pool_size) == (1234, (k,), 4) == (
            children[k].entropy, children[k].spawn_key, children[k].pool_size), name
    fresh = Simulation(*mini, 1234)
    assert np.array_equal(fresh.rng_repair.standard_normal(5), np.random.default_rng(children[2]).standard_normal(5))
    assert sim.rng_damage is sim.rng_damage  # one generator per stream and run


# -- rounding the numbers that go into the log ----------------------------------------------------------

def _bits(x: float) -> bytes:
    return np.float64(x).tobytes() if x == x else b"nan"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50), st.integers(0, 15))
def test_rounded_gives_what_round_gives_bit_for_bit(values: list[float], ndigits: int) -> None:
    from scro_sim.engine._common import rounded

    assert [_bits(x) for x in rounded(np.array(values), ndigits)] == [_bits(round(x, ndigits)) for x in values]


@pytest.mark.parametrize("ndigits", [0, 3, 4, 6, 9, 12])
def test_rounded_matches_round_on_and_next_to_decimal_ties(ndigits: int) -> None:
    """Halfway cases (k + 0.5) / 10**n and their neighbours, where scaling can round across the tie."""
    from scro_sim.engine._common import rounded

    ties = (np.arange(-3000, 3000) + 0.5) / 10.0**ndigits
    values = np.concatenate([ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf),
                             [0.0078125, -0.0, 5e-324, 2.0**60, 1e300]])
    assert [_bits(x) for x in rounded(values, ndigits)] == [_bits(round(float(x), ndigits)) for x in values]


def test_rounding_infinities_and_nan_gives_them_back_without_a_numpy_warning() -> None:
    import warnings

    from scro_sim.engine._common import rounded

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning per log line would bury a real one
        out = rounded(np.array([np.inf, -np.inf, np.nan, 1e300, 2.5]), 3)
    assert out[:2] == [np.inf, -np.inf] and out[2] != out[2] and out[3:] == [1e300, 2.5]


def test_the_same_run_logs_the_same_bytes_in_english_and_in_greek() -> None:
    """The engine takes no language: a game played in English and one played in Greek (the flood, seed 3,
    the same decisions) log the same bytes, and inject records carry the inject's id, not its words."""
    from scro_sim.game import GameSession
    from scro_sim.policy import Decision

    sc, city = load_scenario(ROOT / "scenarios" / "riverton_flood.yaml")
    digests = {}
    for lang in ("en", "el"):
        g = GameSession.start(sc, city, 3, lang=lang)
        assert g.obs.injects and all(set(i) == {"time_h", "id", "channel", "pause", "contingency", "asks"}
                                     for i in g.obs.injects)
        assert all(set(a) == {"id", "action", "targets", "criticality", "deadline_h"}
                   for i in g.obs.injects for a in i["asks"])
        assert g.decide(Decision.from_dict({"actions": [{"action": "warn_public", "target": "all"}]})).ok
        assert g.skip_to_end().kind == "finished"
        digests[lang] = g.sim.log.digest()
        injects = g.sim.log.of_kind("inject")
        assert injects and all("text" not in r.data and "sender" not in r.data for r in injects)
    assert digests["en"] == digests["el"]
