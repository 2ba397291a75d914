"""The one catalogue of metrics: complete words in every language, the only list of names, and in the guide."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from enginekit import asset, cyber, make_city, make_scenario
from golden import bundled

from scro_sim import i18n
from scro_sim.cli import main
from scro_sim.engine import Simulation
from scro_sim.errors import ScroSimError
from scro_sim.log import KINDS
from scro_sim.policy import baseline_policy
from scro_sim.scenario import load_scenario
from scro_sim.scoring import (
    CATALOGUE,
    compute_metrics,
    describe,
    lookup,
    lower_is_better,
    markdown,
    metric_problem,
    metric_value,
    rows,
)

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "scro_sim" / "locales"


def _translations(lang: str) -> dict[str, str]:
    with (LOCALES / lang / "LC_MESSAGES" / "scro_sim.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f, locale=lang) if m.id}


@pytest.mark.parametrize("lang", ["en", "de", "el", "pt"])
def test_every_metric_has_a_unit_and_a_meaning_in_every_language(lang: str) -> None:
    have = _translations(lang)
    with (LOCALES / "scro_sim.pot").open("rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    for m in CATALOGUE.values():
        for msgid in (m.unit, m.text):
            assert msgid and msgid in pot, f"{m.name}: {msgid!r} is not in scro_sim.pot"
            assert (have.get(msgid) or "").strip(), f"{lang}: {m.name}: {msgid!r} untranslated"
        assert m.kinds or m.value is None, f"{m.name} names no log record kinds"
        assert set(m.kinds) <= set(KINDS), f"{m.name} reads unknown kinds {set(m.kinds) - set(KINDS)}"


@pytest.mark.parametrize("path", bundled(), ids=lambda p: p.stem)
def test_every_bundled_rubric_names_catalogue_metrics(path: Path) -> None:
    sc, city = load_scenario(path)
    expected = sorted(ea.id for inj in sc.msel for ea in inj.expected_actions)
    for c in sc.rubric.criteria:
        if c.kind == "computed":
            assert c.metric is not None and describe(c.metric) is not None, c.metric
            assert metric_problem(c.metric, assets=city.asset_index, expected=expected) is None, c.metric


def test_a_run_yields_every_catalogue_metric_and_nothing_else() -> None:
    sc, city = load_scenario(bundled()[0])
    m = compute_metrics(Simulation(sc, city, 1, baseline_policy("greedy")).run())
    flat = m.flat()
    assert all(lookup(name) is not None for name in flat), [n for n in flat if lookup(n) is None]
    produced = {describe(name).name for name in flat}  # type: ignore[union-attr]
    assert produced == {n for n, e in CATALOGUE.items() if e.value is not None and not e.optional}
    assert all(metric_value(m, name) == v for name, v in flat.items())
    assert set(m.links) <= set(flat) and all(m.links[k] == sorted(set(m.links[k])) for k in m.links)
    table = rows(m)
    assert [n for n, _e, _v in table if n.startswith("downtime.")] == [f"downtime.{a}" for a in m.critical]


def test_relative_metrics_read_the_references_and_are_higher_is_better() -> None:
    sc, city = load_scenario(bundled()[0])
    runs = {p: compute_metrics(Simulation(sc, city, 2, baseline_policy(p)).run()) for p in ("do_nothing", "greedy")}
    ref = {"baseline": runs["do_nothing"], "expert": runs["greedy"]}
    assert runs["do_nothing"].flat()["resilience_loss.total"] != runs["greedy"].flat()["resilience_loss.total"]
    assert metric_value(runs["greedy"], "relative.resilience_loss.total", ref) == 1.0
    assert metric_value(runs["do_nothing"], "relative.resilience_loss.total", ref) == 0.0
    assert metric_value(runs["greedy"], "relative.resilience_loss.total") is None  # no references
    assert not lower_is_better("relative.cost") and not lower_is_better("expected_done_share")
    assert lower_is_better("cost") and lower_is_better("downtime.H1")


@pytest.mark.parametrize(
    ("metric", "words"),
    [
        ("resilence_loss.water", "unknown metric 'resilence_loss.water'; did you mean 'resilience_loss.water'?"),
        ("resilience_loss.watr", "takes a service (power, water, telecom, health), not 'watr'; "
                                 "did you mean 'resilience_loss.water'?"),
        ("timeliness.EA_wran", "unknown expected action 'EA_wran' in 'timeliness.EA_wran'; "
                               "did you mean 'timeliness.EA_warn'?"),
        ("relative.peple_at_risk", "unknown metric 'relative.peple_at_risk'; did you mean 'relative.people_at_risk'?"),
        ("downtime.H99", "unknown asset 'H99' in 'downtime.H99'"),
        ("relative.downtime.H99", "unknown asset 'H99' in 'relative.downtime.H99'"),
        ("relative.timeliness.EA_wran", "unknown expected action 'EA_wran' in 'relative.timeliness.EA_wran'; "
                                        "did you mean 'relative.timeliness.EA_warn'?"),
        ("happiness", "unknown metric 'happiness'; known (see `scro-sim metrics`): resilience_loss.<service>, "
                      "resilience_loss.total, "),
        ("relative.relative.cost", "not itself relative"),
    ],
)
def test_a_misspelled_metric_is_refused_with_file_line_field_and_a_suggestion(metric: str, words: str) -> None:
    path = ROOT / "scenarios" / "riverton_flood.yaml"
    _sc, city = load_scenario(path)
    text = path.read_text(encoding="utf-8")
    text = text.replace("metric: timeliness.EA_warn ", f"metric: {metric} ", 1)
    if metric.startswith("relative."):  # higher is better: thresholds the other way round
        text = text.replace("thresholds: {P: 0, S: 1, M: 3}", "thresholds: {P: 1, S: 0.6, M: 0.3}", 1)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if f"metric: {metric} " in ln)
    with pytest.raises(ScroSimError) as err:
        load_scenario(str(path), city=city, text=text)
    assert f"{path}:{line}: rubric.criteria[1].metric: " in str(err.value)
    assert words in str(err.value)


def _metric_name(s: str) -> bool:
    """Whether a string is a metric name (or a family's prefix) that is not also a log kind."""
    if s in KINDS:
        return False
    return lookup(s) is not None or any(s == m.prefix + "." for m in CATALOGUE.values() if m.family)


def _listed_names(path: Path) -> list[tuple[int, list[str]]]:
    """Tuple, list, set and dict displays holding two or more metric names, by line."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        items = node.keys if isinstance(node, ast.Dict) else node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else []
        names = [x.value for x in items if isinstance(x, ast.Constant) and isinstance(x.value, str) and _metric_name(x.value)]
        if len(names) >= 2:
            out.append((node.lineno, names))
    return out


def test_no_module_outside_scoring_lists_metric_names() -> None:
    files = [p for p in sorted((ROOT / "scro_sim").rglob("*.py")) if "scoring" not in p.relative_to(ROOT).parts]
    files += sorted((ROOT / "app").rglob("*.py"))
    found = {f"{p.relative_to(ROOT)}:{line}": names for p in files for line, names in _listed_names(p)}
    assert not found, f"read these from scro_sim.scoring (CATALOGUE, SUMMARY, HEADLINE...): {found}"


def test_the_detector_finds_a_list_of_names_but_not_one_name_or_a_log_kind(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text('A = ("score", "resilience_loss.total", "critical_downtime")\n'
                   'B = "people_at_risk"\nC = {"cost": 1, "boil_water": 2}\nD = ("downtime.", "timeliness.")\n')
    assert _listed_names(src) == [(1, ["resilience_loss.total", "critical_downtime"]), (4, ["downtime.", "timeliness."])]


def test_the_guide_holds_the_catalogue_table() -> None:
    guide = (ROOT / "scenarios" / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- metrics table: [^\n]*-->\n(.*?)<!-- end of metrics table -->", guide, flags=re.S)
    assert m, "scenarios/README.md lost its metrics table markers"
    assert m.group(1) == markdown(), "regenerate the table with `scro-sim metrics`"


def test_scro_sim_metrics_prints_the_catalogue(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # this checkout's catalogs, not a compiled copy another checkout left in the shared cache
    monkeypatch.setenv("SCRO_SIM_CACHE", str(tmp_path))
    i18n._translations.cache_clear()
    assert main(["metrics"]) == 0
    assert capsys.readouterr().out == markdown()
    assert main(["metrics", "--lang", "de"]) == 0
    out = capsys.readouterr().out
    assert "Personenstunden" in out and "`relative.<metric>`" in out
    i18n._translations.cache_clear()


def test_metrics_of_a_log_with_whole_hour_times_are_floats_like_validated_ones() -> None:
    from scro_sim.log import EventLog, EventRecord

    recs = [EventRecord(0, 0, "run_start", "", {"duration_h": 10, "population": 100, "critical": ["H1"], "budget": 0}),
            EventRecord(1, 1, "asset_down", "H1", {}),
            EventRecord(2, 2, "service", "D1", {"service": "power", "unserved": 50, "unserved_vulnerable": 5}),
            EventRecord(4, 3, "service", "D1", {"service": "power", "unserved": 0, "unserved_vulnerable": 0}),
            EventRecord(5, 4, "asset_up", "H1", {}),
            EventRecord(10, 5, "run_end", "", {})]
    m = compute_metrics(EventLog(recs))
    # the unvalidated build holds what validation would have made of it, type for type
    assert m.model_dump_json() == type(m).model_validate(m.model_dump()).model_dump_json()
    assert m.downtime == {"H1": 4.0} and m.recovery_95["power"] == 4.0 and m.resilience_loss["power"] == 100.0
    assert all(isinstance(v, float) for v in (m.duration_h, m.downtime["H1"], m.recovery_95["power"]))


def test_an_asset_that_never_went_down_is_listed_with_no_downtime() -> None:
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]})])
    m = compute_metrics(Simulation(make_scenario([cyber("SS", start_h=2, recovery_h=3)], duration_h=12), city, 0).run())
    table = {n: v for n, _e, v in rows(m, assets=["PP", "SS"]) if n.startswith("downtime.")}
    assert table == {"downtime.PP": 0.0, "downtime.SS": 3.5}


@pytest.mark.parametrize("seed", [1, 2])
def test_metrics_without_their_records_have_the_same_values_and_no_links(seed: int) -> None:
    sc, city = load_scenario(bundled()[0])
    log = Simulation(sc, city, seed, baseline_policy("greedy")).run()
    full, bare = compute_metrics(log), compute_metrics(log, links=False)
    assert full.links and bare.links == {}
    assert bare.model_dump(exclude={"links"}) == full.model_dump(exclude={"links"})
    assert bare.flat() == full.flat() and list(bare.flat()) == list(full.flat())


def test_flat_metrics_of_some_assets_keep_only_their_downtime_in_catalogue_order() -> None:
    sc, city = load_scenario(bundled()[0])
    m = compute_metrics(Simulation(sc, city, 1, baseline_policy("do_nothing")).run())
    down = sorted(m.downtime)
    assert len(down) >= 2
    kept = {down[-1], down[0], "NOT-AN-ASSET"}
    want = {k: v for k, v in m.flat().items() if not k.startswith("downtime.") or k[9:] in kept}
    assert m.flat(assets=kept) == want and list(m.flat(assets=kept)) == list(want)
    assert [k for k in want if k.startswith("downtime.")] == [f"downtime.{down[0]}", f"downtime.{down[-1]}"]


def test_an_unknown_metric_counts_as_lower_is_better_and_a_relative_one_never() -> None:
    from scro_sim.scoring.metrics import lower_is_better

    assert lower_is_better("no_such_metric") is True
    assert lower_is_better("relative.cost") is False
    assert lower_is_better("cost") is True
