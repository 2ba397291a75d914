"""The engine's words and event sentences in the learner's language (scro_sim/vocabulary.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scro_sim import vocabulary
from scro_sim.city import ASSET_TYPES
from scro_sim.engine import Simulation
from scro_sim.i18n import translator
from scro_sim.policy import Greedy, PlanPolicy
from scro_sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent

#: the kinds the play page's "what changed" list shows (engine/observation.py)
FEED_KINDS = ("damage", "asset_down", "asset_up", "backup_start", "backup_exhausted", "inject", "repair", "road",
              "exposure", "population", "action", "water_refill", "boil_water", "cause_revealed")


def test_ids_read_as_words_in_english_and_in_the_learners_language() -> None:
    de = translator("de")
    assert vocabulary.asset_type("pumping_station") == "pumping station"
    assert vocabulary.asset_type("pumping_station", de) == "Pumpwerk"
    assert vocabulary.cause("no power") == "no power"
    assert vocabulary.cause("no power", de) == "kein Strom"
    assert vocabulary.cause("flooded", translator("pt")) == "inundado"


@pytest.mark.parametrize("lang", ["en", "el", "de", "pt"])
def test_every_asset_type_has_a_word_in_every_language(lang: str) -> None:
    _ = translator(lang)
    for kind in ASSET_TYPES:
        word = vocabulary.asset_type(kind, _)
        assert word and "_" not in word, (lang, kind, word)


def test_sentences_name_the_asset_and_read_in_german() -> None:
    de = translator("de")
    names = {"PS1": "Northgate booster pumping station (PS1)"}.get
    text = vocabulary.describe("asset_down", "PS1", {"cause": "no power", "type": "pumping_station"}, de,
                               lambda x: names(x, x))
    assert text == "Northgate booster pumping station (PS1) ausgefallen: kein Strom"
    assert vocabulary.describe("boil_water", "D2", {"status": "issued", "until_h": 113.5, "people": 7800}) == (
        "Boil-water notice for D2 until hour 113.5")


@pytest.fixture(scope="module")
def logs() -> list:
    """Greedy and expert runs of seven bundled crises: warnings, evacuations, crews, backups, refills..."""
    out = []
    for name in ("flood", "earthquake", "water_cyber", "hospital_surge", "heatwave_blackout", "heat_cyber", "short_handed"):
        sc, city = load_scenario(ROOT / "scenarios" / f"riverton_{name}.yaml")
        out.append(Simulation(sc, city, 1, Greedy()).run())
        out.append(Simulation(sc, city, 1, PlanPolicy(sc.reference_plans.expert, "expert")).run())
    return out


@pytest.mark.parametrize("lang", ["en", "el", "de", "pt"])
def test_every_change_a_player_sees_gets_a_sentence(logs: list, lang: str) -> None:
    _ = translator(lang)
    seen = set()
    for log in logs:
        for r in log:
            if r.kind in FEED_KINDS:
                text = vocabulary.describe(r.kind, r.subject, r.data, _)
                assert text and "=" not in text and "{" not in text, (r.kind, r.data, text)
                seen.add(r.kind)
    assert seen == set(FEED_KINDS)


def test_metric_values_read_as_plain_numbers_not_scientific_notation() -> None:
    assert vocabulary.number(12_400.0) == "12,400"
    assert vocabulary.number(561_600.4) == "561,600"
    assert vocabulary.number(0.25) == "0.25" and vocabulary.number(47.5) == "47.5"
    assert vocabulary.number(None) == "—" and vocabulary.number(float("nan")) == "—"
    assert vocabulary.number(3) == "3"


def test_an_inject_is_worded_from_the_scenario_in_the_readers_language() -> None:
    sc, _city = load_scenario(ROOT / "scenarios" / "riverton_flood.yaml")
    inj = sc.msel[0]
    el = translator("el")
    said = vocabulary.describe("inject", inj.id, {"channel": inj.channel}, el, words_of=sc.inject_words("el"))
    assert inj.sender.el in said  # type: ignore[union-attr]
    assert vocabulary.describe("inject", inj.id, {"channel": inj.channel}).endswith(inj.id)  # no scenario: the id
    assert sc.inject_words("el")("no such inject") == {}


def test_an_action_is_named_as_the_scenario_labels_it_in_the_readers_language() -> None:
    sc, _city = load_scenario(ROOT / "scenarios" / "riverton_water_cyber.yaml")
    de = translator("de")
    own = sc.action_label("dispatch_crew", "de")
    assert own is not None and own.startswith("Trupp schicken (IT-Team")
    assert sc.action_label("dispatch_crew", "en").startswith("Send a crew (the IT team")  # type: ignore[union-attr]
    assert sc.action_label("refuel", "de") is None  # no label of its own: the catalogue's name applies
    label_of = lambda k: sc.action_label(k, "de")  # noqa: E731
    assert vocabulary.action_name("dispatch_crew", de, label_of) == own
    assert vocabulary.action_name("refuel", de, label_of) == de("refuel") != "refuel"
    assert vocabulary.describe("action", "WT1", {"action": "dispatch_crew", "target": "WT1"}, de, label_of=label_of) \
        == de("Took effect: {action} ({target})").format(action=own, target="WT1")
    assert own not in vocabulary.describe("action", "WT1", {"action": "dispatch_crew", "target": "WT1"}, de)
    assert vocabulary.action_name("", de, label_of) == ""  # not the catalogue's header
