"""``scro-sim calibrate``: the random legal player, the rating tables, the discrimination targets, the exit code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scro_sim import calibration
from scro_sim.assessment import score
from scro_sim.calibration import RATINGS, Calibration, Flag, calibrate, check, run_seed
from scro_sim.cli import main
from scro_sim.engine import Simulation
from scro_sim.policy import RandomLegal
from scro_sim.scenario import ACTION_KINDS, load_scenario

REPO = Path(__file__).resolve().parent.parent
BUNDLED = sorted((REPO / "scenarios").glob("*.yaml"))


def _random_run(sc: Any, city: Any, seed: int) -> Simulation:
    pol = RandomLegal.for_run(sc, city, seed)
    sim = Simulation(sc, city, seed, pol)
    pol.check = sim.check
    sim.run()
    return sim


def test_random_player_takes_the_same_decisions_on_the_same_seed(mini_scenario_path: Path) -> None:
    sc, city = load_scenario(mini_scenario_path)
    a, b, c = _random_run(sc, city, 7), _random_run(sc, city, 7), _random_run(sc, city, 8)
    assert a.decisions == b.decisions and a.log.digest() == b.log.digest()
    assert a.decisions, "the random player should act at some decision point"
    assert a.decisions != c.decisions


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_random_player_never_has_a_decision_refused(path: Path) -> None:
    sc, city = load_scenario(path)
    kinds: set[str] = set()
    for seed in range(6):
        sim = _random_run(sc, city, seed)
        assert sim.skipped == [], f"seed {seed}: the simulation refused {sim.skipped[:2]}"
        assert sim.spent <= sc.resources.budget + 1e-6
        kinds |= {a["action"] for d in sim.decisions for a in d["actions"]}
    enabled = {k for k in ACTION_KINDS if sc.actions.get(k).enabled}
    assert kinds <= enabled
    assert len(kinds) >= min(3, len(enabled)), f"only {sorted(kinds)} of {sorted(enabled)} over six seeds"


def test_random_player_moves_a_random_number_of_patients_between_two_hospitals_where_transfers_are_allowed() -> None:
    sc, city = load_scenario(REPO / "scenarios" / "riverton_hospital_surge.yaml")
    moves = [a for seed in range(4) for d in _random_run(sc, city, seed).decisions for a in d["actions"]
             if a["action"] == "transfer_patients"]
    assert moves, "four seeds of random decisions should move patients at least once"
    assert all({a["target"], a["to"]} == {"H1", "H2"} and a["patients"] >= 1 for a in moves)
    assert len({a["patients"] for a in moves}) > 1


def test_random_player_without_the_check_stays_legal_on_what_it_can_see(mini_scenario_path: Path) -> None:
    """Even unchecked, it keeps within budget, generators and its own closures (the check is the last guard)."""
    sc, city = load_scenario(mini_scenario_path)
    for seed in range(10):
        sim = Simulation(sc, city, seed, RandomLegal.for_run(sc, city, seed))
        sim.run()
        assert not [s for d in sim.skipped for s in d["skipped"]
                    if any("budget" in p or "generator left" in p or "not closed by you" in p for p in s["problems"])]


def test_each_run_is_graded_as_a_stored_run_is(mini_scenario_path: Path) -> None:
    sc, city = load_scenario(mini_scenario_path)
    rows = {r["policy"]: r for r in run_seed(sc, city, 3)}
    assert set(rows) == {"do_nothing", "random", "greedy", "expert"}
    sim = _random_run(sc, city, 3)
    card = score(sc, city, 3, sim.log)
    assert rows["random"]["total"] == card.total
    assert rows["random"]["passed"] == card.passed
    assert {c.id: c.computed_rating or "NA" for c in card.criteria if c.kind == "computed"} == {
        c: rows["random"][c] for c in ("C1", "C2")}


def test_rating_shares_sum_to_one_per_criterion_and_policy(mini_scenario_path: Path) -> None:
    sc, city = load_scenario(mini_scenario_path)
    cal = calibrate(sc, city, n=5, seed_base=11, workers=1)
    shares = cal.shares()
    assert len(shares) == len(cal.computed) * 4 and cal.computed == ["C1", "C2"] and cal.judged == ["C3", "C4"]
    assert (shares[list(RATINGS)].sum(axis=1) - 1.0).abs().max() < 1e-12
    assert set(cal.runs["seed"].groupby(cal.runs["index"]).nunique()) == {1}  # every policy on the same seed
    totals = cal.totals()
    assert list(totals["policy"]) == ["do_nothing", "random", "greedy", "expert"]
    assert (totals["p10"] <= totals["mean"] + 1e-9).all() and (totals["mean"] <= totals["p90"] + 1e-9).all()


def test_a_process_pool_gives_the_same_runs_as_one_process(mini_scenario_path: Path) -> None:
    sc, city = load_scenario(mini_scenario_path)
    inline = calibrate(sc, city, n=4, seed_base=2, workers=1)
    pooled = calibrate(sc, city, n=4, seed_base=2, workers=2)
    pd.testing.assert_frame_equal(inline.runs, pooled.runs)


def _calibration(ratings: dict[str, dict[str, list[str]]], totals: dict[str, list[float]]) -> Calibration:
    """A calibration made by hand: per policy, each criterion's ratings and the totals, seed by seed."""
    rows = []
    for p, tot in totals.items():
        for i, t in enumerate(tot):
            rows.append({"index": i, "seed": i, "policy": p, "total": t, "passed": t >= 60, "refused": 0,
                         **{c: ratings[c][p][i] for c in ratings}})
    return Calibration(scenario="hand", n=len(next(iter(totals.values()))), seed_base=0, pass_mark=60,
                       computed=list(ratings), judged=[], relative=[], policies=list(totals),
                       runs=pd.DataFrame(rows))


def test_check_flags_a_criterion_that_do_nothing_passes_and_passes_one_that_discriminates() -> None:
    n = 20
    good = {"do_nothing": ["U"] * n, "random": ["M"] * n, "greedy": ["S"] * n, "expert": ["P"] * n}
    lax = {"do_nothing": ["P"] * 2 + ["U"] * (n - 2), "random": ["M"] * n, "greedy": ["S"] * n, "expert": ["P"] * n}
    totals = {"do_nothing": [10.0] * n, "random": [30.0] * n, "greedy": [50.0 + i % 3 for i in range(n)],
              "expert": [90.0 + i % 5 for i in range(n)]}
    assert check(_calibration({"C_good": good}, totals)) == []
    flags = check(_calibration({"C_good": good, "C_lax": lax}, totals))
    assert [(f.target, f.criterion) for f in flags] == [("do_nothing_criteria", "C_lax")]
    assert "10 %" in str(flags[0])


def test_check_flags_luck_and_policies_out_of_order() -> None:
    n = 10
    crit = {"C": {"do_nothing": ["U"] * n, "random": ["M"] * n, "greedy": ["M"] * n, "expert": ["P"] * n}}
    totals = {"do_nothing": [10.0] * n, "random": [40.0] * n, "greedy": [5.0] * n,
              "expert": [50.0 + 4 * i for i in range(n)]}  # passes in 7 of 10 seeds, spreads over 36 points
    flags = check(_calibration(crit, totals))
    assert {f.target for f in flags} == {"random_below_greedy", "expert_spread", "expert_passes", "in_between"}
    assert [str(f) for f in flags if f.target == "in_between"] == [
        "greedy scores 5.0 on average, not between do-nothing (10.0) and the expert (68.0)"]


def test_check_flags_a_cost_criterion_that_doing_nothing_meets(mini_scenario_path: Path, scenario_data: dict[str, Any],
                                                               write_yaml: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: a rubric that rewards spending nothing is caught."""
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(mini_scenario_path.parent))  # mini_city.yaml, published
    scenario_data["city"] = "mini_city.yaml"
    scenario_data["rubric"]["criteria"].append({
        "id": "C_cost", "title": "Money kept", "kind": "computed", "weight": 1, "outcome": "LO1",
        "metric": "cost_share", "lower_is_better": True, "thresholds": {"P": 0.2, "S": 0.4, "M": 0.8},
        "feedback": {"P": "a", "S": "b", "M": "c", "U": "d"}})
    sc, city = load_scenario(write_yaml(scenario_data))
    cal = calibrate(sc, city, n=3, workers=1)
    assert (cal.runs.loc[cal.runs["policy"] == "do_nothing", "C_cost"] == "P").all()
    flag = next(f for f in check(cal) if f.criterion == "C_cost")
    assert (flag.target, flag.value, flag.limit, flag.policy) == ("do_nothing_criteria", 100, 5, "do_nothing")
    assert str(flag) == "C_cost: do-nothing is rated P or S in 100 % of seeds (target ≤ 5 %)"


@pytest.mark.parametrize(("flags", "code"), [([], 0), ([Flag("expert_spread", "too wide")], 1)])
def test_the_command_exits_1_exactly_when_a_target_is_flagged(mini_scenario_path: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, flags: list[Flag],
                                                              code: int, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(calibration, "check", lambda cal: flags)
    out = tmp_path / "table.json"
    assert main(["calibrate", str(mini_scenario_path), "-n", "2", "--workers", "1", "--out", str(out)]) == code
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["n"] == 2 and [f["target"] for f in data["flags"]] == [f.target for f in flags]
    printed = capsys.readouterr().out
    assert "C1" in printed and "expert" in printed and ("FLAG" in printed) == bool(flags)


def test_the_command_writes_csv_and_markdown_and_refuses_other_files(mini_scenario_path: Path, tmp_path: Path) -> None:
    csv, md = tmp_path / "t.csv", tmp_path / "t.md"
    for out in (csv, md):
        assert main(["calibrate", str(mini_scenario_path), "-n", "2", "--workers", "1", "--out", str(out)]) in (0, 1)
    table = pd.read_csv(csv)
    assert set(table["criterion"]) == {"C1", "C2", "TOTAL"} and set(table["policy"]) >= {"do_nothing", "expert"}
    assert "| criterion | policy |" in md.read_text(encoding="utf-8")
    assert main(["calibrate", str(mini_scenario_path), "-n", "2", "--out", str(tmp_path / "t.xlsx")]) == 2
    assert main(["calibrate", str(mini_scenario_path), "-n", "0"]) == 2


def test_the_author_page_checks_that_a_rubric_discriminates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("streamlit")
    import sys

    from streamlit.testing.v1 import AppTest

    from scro_sim.demo import seed_demo
    from scro_sim.store import Store

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    data = REPO / "tests" / "data"
    db = f"sqlite:///{tmp_path / 'app.sqlite'}"
    (tmp_path / "scenarios").mkdir()
    monkeypatch.setenv("SCRO_SIM_DB", db)
    monkeypatch.setenv("SCRO_SIM_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    monkeypatch.setenv("SCRO_SIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SCRO_SIM_DEMO", raising=False)
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(data))  # the mini scenario names mini_city.yaml
    with Store(db) as s:
        seed_demo(s)
        s.set_language("lecturer", "de")
    at = AppTest.from_file(str(REPO / "app" / "streamlit_app.py"), default_timeout=120).run()
    at.text_input(key="w.sign_in.username").input("lecturer")
    at.text_input(key="w.sign_in.password").input("lecturer-demo")
    at.button[0].click().run()
    at.switch_page("app_pages/author.py").run()
    text = (data / "mini_scenario.yaml").read_text(encoding="utf-8")  # mini_city.yaml: see SCRO_SIM_CITY_PATH
    at.text_area(key="w.author.text").input(text).run()
    at.button(key="w.author.calibrate").click().run()
    assert not at.exception, at.exception
    shown = "\n".join(str(e.value) for e in [*at.markdown, *at.warning, *at.success, *at.caption])
    assert "Bewertungen je Kriterium (% der Seeds)" in shown and "Gesamtpunktzahlen" in shown
    assert "Diese Ziele werden nicht erreicht:" in shown or "Alle Trennschärfe-Ziele werden erreicht." in shown
    ratings, totals = at.dataframe[-2].value, at.dataframe[-1].value
    assert len(ratings) == 2 * 4 and list(totals["Strategie"]) == [
        "Nichtstun", "Zufallsentscheidungen", "der gierige Einsatzleiter", "der Expertenplan"]
