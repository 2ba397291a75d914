"""The chain of causes behind a failed asset, from what the player sees (scro_sim.cause_chain)."""

from __future__ import annotations

import pytest
from enginekit import asset, cyber, make_city, make_scenario

from scro_sim.cause_chain import cause_chain, chain_edges, chain_lines, dependents, feeds_line
from scro_sim.engine import Simulation
from scro_sim.i18n import translator
from scro_sim.names import Names
from scro_sim.report.map_spec import city_map_spec


def _city():
    """Plant A and B feed substation S (either will do); S powers pump P; P fills tank T; a district needs T."""
    return make_city([
        asset("PA", "power_plant"), asset("PB", "power_plant", x=100),
        asset("SS", "substation", needs={"power": ["PA", "PB"]}, x=200),
        asset("PS", "pumping_station", needs={"power": ["SS"]}, x=300),
        asset("TK", "water_tank", needs={"water": ["PS"]}, x=400),
    ], districts=[{"id": "Z", "name": "Zone", "population": 1000, "vulnerable_share": 0.2,
                   "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                   "needs": {"water": ["TK"], "power": ["SS"]}}])


def _lines(root, lang: str = "en") -> list[str]:
    city = _city()
    return [" " * depth + line for depth, line in chain_lines(root, Names(city, None, lang, translator(lang)),
                                                              translator(lang))]


def test_a_cascade_is_followed_back_to_the_damage_that_started_it() -> None:
    state = {"PA": "down", "PB": "down", "SS": "down", "PS": "down"}
    causes = {"PA": "damage", "PB": "flooded", "SS": "no power", "PS": "no power"}
    root = cause_chain(_city(), "PS", state, causes)
    assert chain_edges(root) == [("PS", "SS"), ("SS", "PA"), ("SS", "PB")]
    text = _lines(root)
    assert text[0] == "PS (PS): down, no power"
    assert text[1] == " needs power from SS (SS)"
    assert text[3] == "   needs power from PA (PA), PB (PB): all of them are down"
    assert "PA (PA): down, damaged" in text[4] and "PB (PB): down, under water" in text[5]


def test_a_supplier_that_still_delivers_is_not_blamed() -> None:
    """With plant B up, S is fed: only what actually failed appears in the chain."""
    state = {"PA": "down", "PS": "down"}
    causes = {"PA": "damage", "PS": "no power"}
    root = cause_chain(_city(), "PS", state, causes)
    assert chain_edges(root) == []  # S is up: the chain stops at what the player is told
    assert root.missing == ("power",) and root.suppliers == (("power", ()),)


def test_an_asset_on_backup_shows_the_services_it_runs_without_and_why() -> None:
    state = {"TK": "backup", "PS": "down", "SS": "down", "PA": "down", "PB": "down"}
    causes = {"PS": "no power", "SS": "no power", "PA": "damage", "PB": "damage"}
    root = cause_chain(_city(), "TK", state, causes, {"TK": ("water",)})
    assert chain_edges(root)[:2] == [("TK", "PS"), ("PS", "SS")]
    assert _lines(root)[0] == "TK (TK): on backup, without water"


def test_a_supply_loop_ends_the_chain_instead_of_repeating() -> None:
    city = make_city([asset("SX", "substation", needs={"power": ["SY", "PG"]}),
                      asset("SY", "substation", needs={"power": ["SX"]}), asset("PG", "power_plant")])
    state = {"SX": "down", "SY": "down", "PG": "down"}
    root = cause_chain(city, "SX", state, {"SX": "no power", "SY": "no power", "PG": "damage"})
    assert chain_edges(root) == [("SX", "SY"), ("SY", "SX"), ("SX", "PG")]
    assert root.suppliers[0][1][0].suppliers[0][1][0].repeat


def test_an_unknown_asset_is_refused() -> None:
    with pytest.raises(KeyError):
        cause_chain(_city(), "NOPE", {}, {})


def test_a_hidden_attack_reads_unknown_in_the_chain_until_it_comes_to_light() -> None:
    """The chain is built from the observation: an attack not yet detected is not revealed by it."""
    city = _city()
    sc = make_scenario([cyber("PS", start_h=1.0, detection_delay_h=5.0)], times_h=(2.0, 8.0))
    seen: list[str] = []

    class Look:
        name, check_every_h = "look", None

        def decide(self, obs):
            causes = {a["id"]: str(a["cause"]) for a in obs.assets_down}
            root = cause_chain(city, "TK", obs.asset_state, causes,
                               {a["id"]: tuple(a["missing"]) for a in obs.assets_on_backup})
            seen.append(" | ".join(line for _d, line in chain_lines(root, Names(city))))

    Simulation(sc, city, 1, Look()).run()
    assert seen[0] == "TK (TK): working"  # before the attack
    assert "PS (PS): down, unknown cause" in seen[1] and "cyber" not in seen[1]
    assert "PS (PS): down, cyber attack" in seen[2]


def test_what_an_asset_feeds_names_assets_and_districts_by_service() -> None:
    city = _city()
    assert dependents(city, "SS") == (("PS",), {"power": ("Z",)})
    assert feeds_line(city, "SS", Names(city)) == "SS (SS) feeds PS (PS) and the power of Zone (Z)"
    assert feeds_line(city, "TK", Names(city)) == "TK (TK) feeds the water of Zone (Z)"
    assert feeds_line(city, "DEP", Names(city)) == "DEP (DEP) feeds nothing another asset or a district needs"


@pytest.mark.parametrize("lang", ["de", "el", "pt"])
def test_the_chain_is_worded_in_the_readers_language(lang: str) -> None:
    state = {"PA": "down", "PB": "down", "SS": "down", "PS": "down"}
    causes = {"PA": "damage", "PB": "damage", "SS": "no power", "PS": "no power"}
    english = _lines(cause_chain(_city(), "PS", state, causes))
    local = _lines(cause_chain(_city(), "PS", state, causes), lang)
    assert len(local) == len(english)
    assert all(a != b for a, b in zip(local, english, strict=True))


def test_the_map_rings_the_picked_asset_draws_its_chain_and_lets_a_click_pick() -> None:
    city = _city()
    spec = city_map_spec(city, asset_state={"PS": "down", "SS": "down"}, selected="PS",
                         links=[("PS", "SS"), ("SS", "GONE")], pickable=True)
    rules = [la for la in spec["layer"] if la["mark"].get("color") == "#b71c1c" and la["mark"]["type"] == "rule"]
    assert len(rules) == 1 and len(rules[0]["data"]["values"]) == 1  # an unknown id draws nothing
    ring = [la for la in spec["layer"] if la["mark"].get("filled") is False]
    assert [r["id"] for r in ring[0]["data"]["values"]] == ["PS"]
    picks = [la["params"] for la in spec["layer"] if "params" in la]
    assert picks == [[{"name": "pick", "select": {"type": "point", "fields": ["id"]}}]]
    plain = city_map_spec(city)
    assert not any("params" in la for la in plain["layer"]) and len(plain["layer"]) == len(spec["layer"]) - 2
