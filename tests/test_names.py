"""Names, not ids, for what a person reads (scro_sim/names.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scro_sim.i18n import translator
from scro_sim.names import Names, plain
from scro_sim.scenario import load_scenario

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def mini():
    return load_scenario(DATA / "mini_scenario.yaml")


def names(mini, lang: str = "en") -> Names:
    sc, city = mini
    return Names(city, sc, lang, translator(lang))


def test_assets_and_districts_read_name_then_id(mini) -> None:
    n = names(mini)
    assert n("SS1") == "Riverside substation (SS1)" and n("D2") == "Old Town (D2)"
    assert n("SH1") == "School shelter (SH1)"  # a shelter, as the evacuate action names it


def test_a_road_over_a_bridge_takes_the_bridges_name_any_other_its_districts(mini) -> None:
    _sc, city = mini
    bridge = next(a.name for a in city.model.assets if a.id == "BR1")
    n = names(mini)
    assert n("N2~N5") == f"{bridge} (N2~N5)" and n("N5~N2") == f"{bridge} (N5~N2)"
    road = n("N1~N2")
    assert road.endswith("(N1~N2)") and road.startswith("road ") and "N1" not in road.split(" (")[0]
    assert n("N9~N10") == "N9~N10"  # a road the city does not have stays as it is


def test_crews_and_teams_read_as_words_in_the_readers_language(mini) -> None:
    n, de = names(mini), names(mini, "de")
    assert n.crew("power_crew#2") == "Power crew 2"  # no catalog entry: the id made readable
    assert n.team("power_crews") == "Power crews" and de.team("power_crews") == "Stromtrupps"
    assert de.crew("power_crews#3") == "Stromtrupps 3"
    assert n.crew("mutual_aid1#2") == "mutual-aid crew 2" and de.crew("mutual_aid1#2") != "mutual-aid crew 2"
    assert plain("field_crews") == "Field crews"


def test_a_team_the_scenario_names_reads_that_name(tmp_path: Path) -> None:
    text = (DATA / "mini_scenario.yaml").read_text(encoding="utf-8").replace(
        "    - {id: power_crew, count: 2,", "    - {id: power_crew, name: {en: Line crews, de: Freileitungstrupps}, count: 2,")
    assert "Freileitungstrupps" in text
    (tmp_path / "mini_city.yaml").write_text((DATA / "mini_city.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "named.yaml").write_text(text, encoding="utf-8")
    sc, city = load_scenario(tmp_path / "named.yaml")
    assert Names(city, sc, "de", translator("de")).crew("power_crew#1") == "Freileitungstrupps 1"
    assert Names(city, sc, "pt", translator("pt")).team("power_crew") == "Line crews"  # English is the fallback


def test_actions_read_as_a_sentence_not_an_id_and_all(mini) -> None:
    n, de = names(mini), names(mini, "de")
    assert n.action_text({"action": "warn_public", "target": "all"}) == "Warn the public: every district"
    assert de.action_text({"action": "warn_public", "target": "all"}) == "Bevölkerung warnen: alle Bezirke"
    sent = n.action_text({"action": "dispatch_crew", "target": "SS1", "crew": "power_crew"})
    assert sent.endswith("Riverside substation (SS1), Power crew") and "dispatch_crew" not in sent
    assert n.action_text({"action": "set_priorities", "order": ["SS1", "PS1"]}).endswith(
        "Riverside substation (SS1) > Riverside pumps (PS1)")


def test_injects_criteria_metrics_and_modules_have_readable_names(mini) -> None:
    sc, _city = mini
    n = names(mini)
    inj = sc.msel[0]
    assert n.inject(inj.id).startswith(str(inj.sender if isinstance(inj.sender, str) else inj.sender["en"]))
    assert n.inject("nope") == "nope"
    crit = sc.rubric.criteria[0]
    assert n.criterion(crit.id) != crit.id and n.criterion("CR_none") == "CR_none"
    assert n.metric("cost") != "cost" and n.metric("no_such_metric") == "no_such_metric" and n.metric(None) == ""
    assert n.module("M1") == "M1: Keep critical services running. Warn the public in time."


def test_without_a_city_or_scenario_ids_stay_as_they_are() -> None:
    n = Names()
    assert n("SS1") == "SS1" and n("N1~N2") == "N1~N2" and n.criterion("CR_x") == "CR_x" and n.inject("I1") == "I1"
    assert n.action("warn_public") == "Warn the public"
