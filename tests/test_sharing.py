"""What a server's sessions share: one parsed city per file content, one static map layer per city.

Shared things must be the same object for every session, bounded in number, and give the
same results (the same event log, bit for bit) as an unshared copy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scro_sim.city import files as city_files
from scro_sim.city import load_city, shared_city
from scro_sim.engine import Simulation
from scro_sim.errors import CityModelError
from scro_sim.report import map_spec
from scro_sim.report.map_spec import city_map_spec
from scro_sim.scenario import load_scenario
from scro_sim.vocabulary import word

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """The mini scenario and its city in a folder of their own (so a test may edit the city)."""
    shutil.copy(DATA / "mini_city.yaml", tmp_path / "mini_city.yaml")
    shutil.copy(DATA / "mini_scenario.yaml", tmp_path / "mini_scenario.yaml")
    return tmp_path


def test_a_city_file_is_parsed_once_and_shared(mini: Path) -> None:
    a, b = shared_city(mini / "mini_city.yaml"), shared_city(mini / "mini_city.yaml")
    assert a is b
    assert a.content_hash() == load_city(mini / "mini_city.yaml").content_hash()
    assert load_city(mini / "mini_city.yaml") is not a  # the plain loader still gives a city of its own


def test_an_edited_city_file_is_parsed_again(mini: Path) -> None:
    path = mini / "mini_city.yaml"
    before = shared_city(path)
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after = shared_city(path)
    assert after is not before and after.content_hash() != before.content_hash()


def test_shared_cities_are_bounded_least_recently_used_first(mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(city_files, "SHARED_CITIES_MAX", 2)
    text = (mini / "mini_city.yaml").read_text(encoding="utf-8")
    paths = []
    for i in range(3):  # three different contents
        p = mini / f"city{i}.yaml"
        p.write_text(text + f"\n# copy {i}\n", encoding="utf-8")
        paths.append(p)
    first = shared_city(paths[0])
    shared_city(paths[1])
    assert shared_city(paths[0]) is first  # used again: now the most recent
    shared_city(paths[2])  # drops paths[1], the least recently used
    assert len(city_files._shared) <= 2
    assert shared_city(paths[0]) is first


def test_a_broken_city_file_is_reported_and_not_kept(mini: Path) -> None:
    bad = mini / "bad_city.yaml"
    bad.write_text("name: [unclosed\n", encoding="utf-8")
    kept = len(city_files._shared)
    with pytest.raises(CityModelError) as exc:
        shared_city(bad)
    assert "bad_city.yaml" in str(exc.value)
    assert len(city_files._shared) == kept


def test_scenarios_on_one_city_share_it_and_play_the_same_log(mini: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(mini))  # an uploaded text finds its city in the city folders
    text = (mini / "mini_scenario.yaml").read_text(encoding="utf-8")
    sc1, shared1 = load_scenario("a.yaml", text=text, base_dir=mini, share_city=True)
    sc2, shared2 = load_scenario("b.yaml", text=text, base_dir=mini, share_city=True)  # another load, as another session
    sc3, own = load_scenario("c.yaml", text=text, base_dir=mini)
    assert shared1 is shared2 and own is not shared1
    digests = {Simulation(sc, c, 11).run().digest() for sc, c in ((sc1, shared1), (sc2, shared2), (sc3, own))}
    assert len(digests) == 1


def test_the_map_is_a_vega_lite_spec_with_every_asset_in_its_state(mini: Path) -> None:
    city = load_city(mini / "mini_city.yaml")
    down = city.asset_ids[0]
    spec = city_map_spec(city, asset_state={down: "down"}, district_service={city.district_ids[0]: 0.25},
                         crews=[{"node": city.road_ids[0]}, {"node": city.road_ids[0]}])
    json.dumps(spec)  # what the browser receives
    layers = {json.dumps(layer["mark"], sort_keys=True): layer for layer in spec["layer"]}
    assets = next(layer for layer in layers.values() if layer["mark"].get("type") == "point"
                  and "shape" in layer.get("encoding", {}))
    rows = {r["id"]: r for r in assets["data"]["values"]}
    assert set(rows) == set(city.asset_ids)
    assert rows[down]["state"] == word("map:down")
    assert all(r["state"] == word("map:up") for a, r in rows.items() if a != down)
    districts = next(layer for layer in spec["layer"] if layer["mark"].get("type") == "circle")
    assert {r["id"]: r["served"] for r in districts["data"]["values"]}[city.district_ids[0]] == 0.25
    crews = next(layer for layer in spec["layer"] if layer["mark"].get("shape") == "triangle-up")
    assert crews["data"]["values"][0]["crews"] == 2


def test_the_maps_legends_speak_the_readers_language(mini: Path) -> None:
    from scro_sim.i18n import translator

    city = load_city(mini / "mini_city.yaml")
    de = translator("de")
    spec = city_map_spec(city, asset_state={city.asset_ids[0]: "down"}, words=de)
    assets = next(layer for layer in spec["layer"] if "shape" in layer.get("encoding", {}))
    assert de("Type") == assets["encoding"]["shape"]["title"] != "Type"
    assert de("map:down") in assets["encoding"]["color"]["scale"]["domain"]


def test_the_maps_unchanging_layers_are_made_once_per_city_and_bounded(mini: Path) -> None:
    city = load_city(mini / "mini_city.yaml")
    map_spec._static.cache_clear()
    one = city_map_spec(city)
    two = city_map_spec(city, asset_state={city.asset_ids[0]: "down"})
    info = map_spec._static.cache_info()
    assert info.misses == 1 and info.hits == 1 and info.maxsize is not None and info.maxsize <= 16
    roads = [layer for layer in one["layer"] if layer["mark"].get("type") == "rule"]
    again = next(layer for layer in two["layer"] if layer["mark"].get("type") == "rule")
    assert roads[0]["data"]["values"] is again["data"]["values"]
    assert len(roads[0]["data"]["values"]) == len(city.edge_u)
