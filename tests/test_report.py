"""Figures and the after-action report: figures are freed, text is escaped, numbers match the metrics."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from scro_sim import report
from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.policy import Decision
from scro_sim.scenario import Action, text_in
from scro_sim.scoring import SERVICES, compute_metrics, grade
from scro_sim.vocabulary import number

RATIONALE = "<script>alert('x')</script> & we act"


@pytest.fixture(scope="module")
def played(mini_scenario: Any, mini_city: Any) -> EventLog:
    """The mini flood played with one warning decision whose rationale holds markup."""
    sim = Simulation(mini_scenario, mini_city, seed=3)
    decided = False
    while not sim.done:
        obs = sim.advance()
        if obs.done:
            break
        if not decided:
            sim.apply(Decision([Action(action="warn_public", target="all", message="<b>Leave</b> now")],
                               rationale=RATIONALE, answers={"Q1": "<i>life</i> safety first"}))
            decided = True
    return sim.log


@pytest.fixture(scope="module")
def card(played: EventLog, mini_scenario: Any) -> Any:
    return grade(played, mini_scenario, judgements={"C3": {"rating": "S", "comment": "<b>ok</b>", "by": "a"}})


@pytest.fixture
def no_pyplot_figures() -> Any:
    import matplotlib.pyplot as plt

    report.close_all()
    yield plt
    assert plt.get_fignums() == []


def _figures(log: EventLog, city: Any) -> list[Any]:
    return [
        report.city_map(city, **report.state_at(log), flooded_zones=list(city.zone_polygons),
                        crews=[{"id": "c1", "node": city.road_ids[0]}, {"id": "c2", "node": city.road_ids[0]}],
                        title="mini"),
        report.service_chart(log),
        report.timeline(log),
        report.outcome_histogram({"plan": [1.0, 2.0, 3.0], "baseline": [4.0, 5.0, 9.0], "expert": [0.5, 1.0]},
                                 "resilience loss"),
    ]


def test_plotting_not_imported_at_module_level() -> None:
    import importlib
    import subprocess

    code = ("import sys, scro_sim.report; "
            "bad = [m for m in ('matplotlib',) if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
    assert importlib.import_module("scro_sim.report") is report


def test_figures_are_created_and_closed(played: EventLog, mini_city: Any, no_pyplot_figures: Any) -> None:
    from matplotlib.figure import Figure

    figs = _figures(played, mini_city)
    assert all(isinstance(f, Figure) for f in figs)
    assert all(f.axes for f in figs)
    for f in figs:
        report.close(f)
    report.close_all()
    assert no_pyplot_figures.get_fignums() == []


def test_save_writes_and_closes(played: EventLog, mini_city: Any, tmp_path: Path, no_pyplot_figures: Any) -> None:
    for k, f in enumerate(_figures(played, mini_city)):
        p = report.save(f, tmp_path / f"fig{k}.png")
        assert p.stat().st_size > 1000
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f.axes == []  # freed
    assert no_pyplot_figures.get_fignums() == []


def test_close_all_closes_pyplot_figures(no_pyplot_figures: Any) -> None:
    plt = no_pyplot_figures
    plt.figure()
    assert plt.get_fignums()
    report.close_all()
    assert plt.get_fignums() == []


def test_service_chart_person_hours_equal_resilience_loss(played: EventLog, no_pyplot_figures: Any) -> None:
    loss = compute_metrics(played).resilience_loss
    assert any(v > 0 for v in loss.values())  # the run lost service, so the check is not vacuous
    areas = report.resilience_areas(played)
    for s in SERVICES:
        assert areas[s] == pytest.approx(loss[s], rel=1e-9, abs=1e-6)
    fig = report.service_chart(played)
    try:
        (box,) = [t for ax in fig.axes for t in ax.texts if t.get_gid() == "person-hours"]
        written = {m[1]: float(m[2].replace(",", "")) for m in re.finditer(r"(\w+): ([\d,]+) person-hours",
                                                                            box.get_text())}
        assert set(written) == set(SERVICES)
        for s in SERVICES:
            assert abs(written[s] - loss[s]) <= 0.5 + 1e-9 * loss[s]
    finally:
        report.close(fig)


def test_timeline_table_in_time_order(played: EventLog) -> None:
    df = report.timeline_table(played)
    assert list(df.columns) == ["time", "clock", "kind", "subject", "text"]
    assert len(df) > 3
    assert df["time"].is_monotonic_increasing
    assert df.index.is_unique
    kinds = set(df["kind"])
    assert {"inject", "decision_point", "decision"} <= kinds
    assert df["clock"].iloc[0] == "2024-03-01 06:00"
    full = report.timeline_table(played, key_only=False)
    assert len(full) == len(played)
    assert full["time"].is_monotonic_increasing


def test_report_escapes_rationale(played: EventLog, card: Any, mini_scenario: Any) -> None:
    page = report.after_action_report(played, card, mini_scenario, charts=False)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; we act" in page
    assert "<b>" not in page and "<i>" not in page  # warning text, answers and assessor comments too
    assert "&lt;b&gt;Leave&lt;/b&gt;" in page


def test_report_has_score_and_every_criterion(played: EventLog, card: Any, mini_scenario: Any) -> None:
    page = report.after_action_report(played, card, mini_scenario)
    assert f"{card.total:.1f}" in page
    assert f"pass mark {card.pass_mark:g}" in page
    for c in card.criteria:
        assert f"{c.id} {c.title}" in page
    for heading in ("Exercise overview", "Analysis of capabilities", "Improvement plan", "Timeline"):
        assert heading in page
    assert "Seed</td><td>3<" in page
    boil = compute_metrics(played).boil_water
    assert f"<td>boil_water</td><td>{number(boil)}</td><td>person-hours</td><td>Person-hours under boil-water" in page
    assert page.count("data:image/png;base64,") == 2
    # the improvement plan holds the M/U criteria with their feedback as the corrective action
    plan = page.split("4. Improvement plan", 1)[1].split("<h2>", 1)[0]
    for c in card.criteria:
        if c.rating in ("M", "U"):
            assert f"{c.id} {c.title}" in plan and c.feedback in plan
        elif c.rating in ("P", "S"):
            assert f"{c.id} {c.title}" not in plan


def test_strengths_and_areas(played: EventLog, card: Any, mini_scenario: Any) -> None:
    page = report.after_action_report(played, card, mini_scenario, charts=False)
    analysis = page.split("3. Analysis of capabilities", 1)[1].split("4. Improvement plan", 1)[0]
    for c in card.criteria:
        if c.rating is None:
            continue
        section = "Strengths" if c.rating in ("P", "S") else "Areas for improvement"
        before = analysis.split(f"<li>{c.id} ", 1)[0]
        last = max(("Strengths", "Areas for improvement", "Awaiting judgement"), key=before.rfind)
        assert last == section, c.id


def test_write_report_html_and_pdf(played: EventLog, card: Any, mini_scenario: Any, mini_city: Any,
                                   tmp_path: Path, no_pyplot_figures: Any) -> None:
    h = report.write_report(tmp_path / "aar.html", played, card, mini_scenario, city=mini_city)
    text = h.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count("data:image/png;base64,") == 3
    p = report.write_report(tmp_path / "aar.pdf", played, card, mini_scenario)
    assert p.read_bytes()[:5] == b"%PDF-"


def test_city_map_on_a_large_city(no_pyplot_figures: Any, tmp_path: Path) -> None:
    from scro_sim.city import synthetic

    city = synthetic(2000, seed=1)
    state = {a: ("down" if k % 7 == 0 else "backup" if k % 11 == 0 else "up") for k, a in enumerate(city.asset_ids)}
    served = {d: (k % 10) / 10 for k, d in enumerate(city.district_ids)}
    fig = report.city_map(city, asset_state=state, district_service=served, flooded_zones=city.zone_ids[:1],
                          crews=[{"node": n} for n in city.road_ids[:20]])
    ax = fig.axes[0]
    # one collection per asset type present, not one artist per asset
    assert len(ax.collections) < 40
    assert sum(len(c.get_offsets()) for c in ax.collections) >= city.n_assets
    assert ax.get_aspect() == 1.0
    assert ax.get_legend() is not None
    report.save(fig, tmp_path / "big.png")


def test_state_at(played: EventLog) -> None:
    end = report.state_at(played)
    assert set(end) == {"asset_state", "district_service"}
    assert all(v in report.STATE_COLOURS for v in end["asset_state"].values())
    assert all(0.0 <= v <= 1.0 for v in end["district_service"].values())
    start = report.state_at(played, 0.0)
    assert start["asset_state"] == {} or all(v != "damaged" for v in start["asset_state"].values())


def test_cvar_and_histogram_marks(no_pyplot_figures: Any) -> None:
    from scro_sim.batch import cvar  # the one CVaR, which the histogram marks

    assert cvar([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], alpha=0.2) == pytest.approx(9.5)
    assert cvar([1, 2, 3, 4], alpha=0.5, higher_is_better=True) == pytest.approx(1.5)
    fig = report.outcome_histogram({"plan": [1.0, 2.0, 3.0, 10.0]}, "cost", alpha=0.25)
    xs = sorted(float(line.get_xdata()[0]) for line in fig.axes[0].lines)
    assert xs == pytest.approx([4.0, 10.0])  # mean and CVaR
    report.close(fig)
    empty = report.outcome_histogram({"plan": []}, "cost")
    report.close(empty)


def test_city_map_legend_speaks_the_readers_language(mini_city: Any, no_pyplot_figures: Any) -> None:
    from scro_sim.i18n import translator
    from scro_sim.vocabulary import asset_type

    de = translator("de")
    fig = report.city_map(mini_city, asset_state={mini_city.asset_ids[0]: "down"}, words=de)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    report.close(fig)
    for typ in set(mini_city.type_names):
        assert asset_type(typ, de) in legend
    assert {"in Betrieb", "ausgefallen"} <= set(legend)
    assert "substation" not in legend and "down" not in legend


def test_charts_speak_the_readers_language(played: EventLog, no_pyplot_figures: Any) -> None:
    from scro_sim.i18n import translator

    de = translator("de")
    fig = report.service_chart(played, words=de)
    ax = fig.axes[0]
    assert ax.get_title() == "Versorgungsgrad Q(t) und Resilienzverlust" and ax.get_xlabel() == "Stunden seit Beginn"
    assert any("Strom (" in t.get_text() for t in ax.get_legend().get_texts())
    report.close(fig)
    fig = report.timeline(played, words=de)
    assert "Entscheidungspunkte" in [t.get_text() for t in fig.axes[0].get_yticklabels()]
    report.close(fig)
    fig = report.service_chart(played)  # English without a reader
    assert fig.axes[0].get_title() == "Service levels Q(t) and resilience loss"
    report.close(fig)


def test_report_says_what_the_expert_did_differently(played: EventLog, card: Any, mini_scenario: Any,
                                                    mini_city: Any) -> None:
    from scro_sim import debrief

    expert = debrief.expert_log(mini_scenario, mini_city, 3)
    lessons = debrief.lessons(played, expert, mini_scenario, card)
    assert lessons  # the learner warned, but never protected the substation as the expert did
    page = report.after_action_report(played, card, mini_scenario, charts=False, city=mini_city)
    section = page.split("5. What the expert did differently", 1)[1].split("<h2>", 1)[0]
    texts = debrief.render(lessons, "en", name_of=debrief.names(mini_city), start=mini_scenario.start,
                           scenario=mini_scenario)
    for ls, text in zip(lessons, texts, strict=True):
        assert html.escape(text, quote=True) in section
        assert ", ".join(f"#{s}" for s in ls.expert_events) in section
    german = report.after_action_report(played, card, mini_scenario, charts=False, city=mini_city, lang="de")
    assert "5. What the expert did differently" not in german  # the headings are German too
    assert "wählte der Expertenplan" in german.split("5. Was der Expertenplan anders gemacht hat", 1)[1].split("<h2>", 1)[0]
    # the expert's own run has nothing to learn from the expert; without the city the run is not re-simulated
    same = report.after_action_report(played, card, mini_scenario, charts=False, expert=played)
    assert "did as well as the expert plan" in same
    assert "needs the city model" in report.after_action_report(played, card, mini_scenario, charts=False)


def test_timeline_reads_an_inject_in_the_readers_language(played: EventLog, mini_scenario: Any) -> None:
    """The log names the inject; the timeline looks its words up in the scenario in the reader's language."""
    first = played.of_kind("inject")[0]
    inj = mini_scenario.inject(first.subject)
    df = report.timeline_table(played, words_of=mini_scenario.inject_words("de"))
    row = df.loc[first.seq, "text"]
    assert text_in(inj.text, "de") in row and text_in(inj.sender, "de") in row
    bare = report.timeline_table(played).loc[first.seq, "text"]
    assert bare.startswith(first.subject)  # no scenario at hand: the inject is named by its id


def test_the_report_in_greek_has_no_english_heading_or_table_header(played: Any, card: Any, mini_scenario: Any,
                                                                    mini_city: Any) -> None:
    from scro_sim.i18n import translator

    el = translator("el")
    greek = report.after_action_report(played, card, mini_scenario, charts=False, city=mini_city, lang="el")
    for english in ("After-action report / improvement plan", "Exercise overview", "Key results",
                    "Analysis of capabilities", "Improvement plan", "Decisions and rationales", "Timeline",
                    "Event log digest", "Scenario start", "Corrective action", "Lesson"):
        assert all(w not in greek for w in (f"{english}</h1>", f"{english}</h2>", f"<th>{english}</th>",
                                            f"<td>{english}</td>")), english
    assert "Generated by scro_sim from the event log" not in greek
    assert el("Key results") in greek and el("Exercise overview") in greek
    assert "Exercise starts: scenario" not in greek
    assert el("Exercise starts: scenario {scenario}, seed {seed}").split(":")[0] in greek


def test_outcome_histogram_speaks_the_readers_language(no_pyplot_figures: Any) -> None:
    from scro_sim.i18n import translator

    de = translator("de")
    fig = report.outcome_histogram({"plan": [1.0, 2.0, 3.0], "expert": [0.5, 1.0]}, "Punktzahl", words=de,
                                   names={"plan": "Ihr Plan", "expert": "der Expertenplan"})
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("Ihr Plan: Mittelwert") and labels[1].startswith("der Expertenplan: Mittelwert")
    assert de("mean") in labels and ax.get_ylabel() == de("replications") == "Wiederholungen"
    assert ax.get_title() == "Punktzahl über die Wiederholungen"
    report.close(fig)
