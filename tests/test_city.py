"""The city model: loading with file:line errors, cross-checks, served(), dependents, roads, round trips."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scro_sim.city import City, load_city, parse_city, synthetic
from scro_sim.errors import CityModelError, InputError

# --------------------------------------------------------------------------------------------
# Tiny cities built in code


def asset(aid: str, typ: str, **kw: Any) -> dict[str, Any]:
    return {"id": aid, "type": typ, "name": aid, "location": {"x": 0, "y": 0}, "road_node": "N1", **kw}


def district(did: str = "D1", **kw: Any) -> dict[str, Any]:
    return {"id": did, "name": did, "population": 1000, "vulnerable_share": 0.1,
            "location": {"x": 0, "y": 0}, **kw}


def tiny(assets: list[dict[str, Any]], districts: list[dict[str, Any]] | None = None,
         nodes: list[dict[str, Any]] | None = None, edges: list[dict[str, Any]] | None = None,
         **extra: Any) -> dict[str, Any]:
    return {
        "format": "scro-city/1", "id": "tiny", "name": "Tiny",
        "districts": districts if districts is not None else [district()],
        "assets": assets,
        "roads": {"nodes": nodes if nodes is not None else [{"id": "N1", "location": {"x": 0, "y": 0}}],
                  "edges": edges or []},
        **extra,
    }


def hospital_city(**h: Any) -> City:
    """PP1 -> SS1 (and SS2) -> H1 -> D1 (health); D1 power from SS1."""
    needs = h.pop("needs", {"power": ["SS1"]})
    return parse_city(tiny([
        asset("PP1", "power_plant"),
        asset("SS1", "substation", needs={"power": ["PP1"]}),
        asset("SS2", "substation", needs={"power": ["PP1"]}),
        asset("H1", "hospital", needs=needs, **h),
    ], [district(needs={"health": ["H1"], "power": ["SS1"]})]))


def cycle_city() -> City:
    """Allowed interdependency: the plant needs water, the pumps need power."""
    return parse_city(tiny([
        asset("PP1", "power_plant", needs={"water": ["PS1"]}),
        asset("SS1", "substation", needs={"power": ["PP1"]}),
        asset("WT1", "water_treatment", needs={"power": ["SS1"]}),
        asset("PS1", "pumping_station", needs={"power": ["SS1"], "water": ["WT1"]}),
    ], [district(needs={"power": ["SS1"], "water": ["PS1"]})]))


def city_error(data: dict[str, Any]) -> CityModelError:
    with pytest.raises(CityModelError) as info:
        parse_city(data, path="tiny.yaml")
    assert info.value.problems
    return info.value


def load_error(path: Path) -> CityModelError:
    with pytest.raises(CityModelError) as info:
        load_city(path)
    err = info.value
    assert err.problems and all(p.path == str(path) for p in err.problems), err.problems
    return err


# --------------------------------------------------------------------------------------------
# The mini city


def test_mini_city_loads_with_its_parts(mini_city: City) -> None:
    assert (mini_city.n_districts, mini_city.n_assets, len(mini_city.road_ids)) == (3, 13, 6)
    assert mini_city.population == 25_000
    assert mini_city.zone_ids == ["floodplain"]
    assert mini_city.river is not None


def test_mini_city_everything_served_when_nothing_is_damaged(mini_city: City) -> None:
    s = mini_city.served()
    assert all(s.assets.values())
    assert all(all(v.values()) for v in s.districts.values())
    assert s.districts["D1"] == {"power": True, "water": True, "telecom": True, "health": True}


def test_zone_membership_from_polygon_and_declaration(mini_city: City) -> None:
    mask = mini_city.asset_zones["floodplain"]
    inside = {a for a, m in zip(mini_city.asset_ids, mask, strict=True) if m}
    assert {"SS1", "PS1", "H1", "BR1"} <= inside
    assert not {"PP1", "SS2", "TT1", "DEP1"} & inside
    assert list(mini_city.district_zones["floodplain"]) == [True, True, False]


def test_default_supplies_and_backups(mini_city: City) -> None:
    i = mini_city.asset_index
    assert mini_city.supplies[i["SS1"]] == ("power",)
    assert mini_city.supplies[i["DEP1"]] == ()
    assert mini_city.backup_services[i["PS1"]] == ("water",)
    assert mini_city.backup_services[i["H1"]] == ("power",)
    assert mini_city.backup_hours[i["SS1"]] == 0.0


# --------------------------------------------------------------------------------------------
# served(): hand cases


def test_hospital_on_backup_stays_up_when_its_substation_is_damaged() -> None:
    c = hospital_city(backup={"kind": "generator", "hours": 48})
    s = c.served(damaged=["SS1"])
    assert s.assets["H1"] is True
    assert s.districts["D1"] == {"health": True, "power": False}


def test_hospital_goes_down_when_its_backup_is_depleted() -> None:
    c = hospital_city(backup={"kind": "generator", "hours": 48})
    s = c.served(damaged=["SS1"], depleted=["H1"])
    assert s.assets["H1"] is False
    assert s.districts["D1"]["health"] is False


def test_depleted_backup_does_not_matter_while_the_grid_works() -> None:
    c = hospital_city(backup={"kind": "generator", "hours": 48})
    assert c.served(depleted=["H1"]).assets["H1"] is True


@pytest.mark.parametrize(
    "backup",
    [{"kind": "none"}, {"kind": "generator", "hours": 0}, {"kind": "tank", "hours": 24},
     {"kind": "battery", "hours": 8, "services": ["telecom"]}],
    ids=["none", "zero-hours", "tank-bridges-water", "battery-for-telecom"],
)
def test_hospital_without_a_power_backup_goes_down_with_its_substation(backup: dict[str, Any]) -> None:
    c = hospital_city(backup=backup)
    assert c.served(damaged=["SS1"]).assets["H1"] is False


def test_redundant_second_substation_keeps_the_hospital_up() -> None:
    c = hospital_city(needs={"power": ["SS1", "SS2"]})
    assert c.served(damaged=["SS1"]).assets["H1"] is True
    assert c.served(damaged=["SS2"]).assets["H1"] is True
    assert c.served(damaged=["SS1", "SS2"]).assets["H1"] is False


def test_damage_cascades_from_the_plant() -> None:
    c = hospital_city()
    s = c.served(damaged=["PP1"])
    assert s.assets == {"PP1": False, "SS1": False, "SS2": False, "H1": False}
    assert s.districts["D1"] == {"health": False, "power": False}


def test_a_damaged_asset_is_down_even_with_a_full_backup() -> None:
    c = hospital_city(backup={"kind": "generator", "hours": 48})
    assert c.served(damaged=["H1"]).assets["H1"] is False


def test_interdependency_cycle_loads_and_stays_up_when_nothing_is_damaged() -> None:
    s = cycle_city().served()
    assert all(s.assets.values())
    assert s.districts["D1"] == {"power": True, "water": True}


@pytest.mark.parametrize("source", ["PP1", "WT1"])
def test_interdependency_cycle_goes_down_when_a_source_is_damaged(source: str) -> None:
    s = cycle_city().served(damaged=[source])
    assert not any(s.assets.values())
    assert s.districts["D1"] == {"power": False, "water": False}


def test_mini_city_riverside_substation_loss(mini_city: City) -> None:
    s = mini_city.served(damaged=["SS1"])
    assert s.assets["PS1"] is False  # pumps need power; their tank bridges water only
    assert s.assets["H1"] is False  # generator keeps power, but the water is gone
    assert s.assets["SH1"] is False and s.assets["SS2"] is True
    assert s.districts["D1"]["power"] is False
    assert s.districts["D2"]["power"] is True  # also fed by SS2
    assert s.districts["D3"] == {"power": True, "water": False, "telecom": True, "health": False}


# --------------------------------------------------------------------------------------------
# served(): properties


_MINI_IDS = ["PP1", "SS1", "SS2", "WT1", "PS1", "H1", "TT1", "DC1", "SH1", "FS1", "DEP1", "EOC1", "BR1"]


def _assert_no_more_served(fewer: Any, more: Any) -> None:
    for a, up in more.assets.items():
        assert not up or fewer.assets[a], a
    for d, services in more.districts.items():
        for svc, up in services.items():
            assert not up or fewer.districts[d][svc], (d, svc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    damaged=st.sets(st.sampled_from(_MINI_IDS)),
    more_damaged=st.sets(st.sampled_from(_MINI_IDS)),
    depleted=st.sets(st.sampled_from(_MINI_IDS)),
    more_depleted=st.sets(st.sampled_from(_MINI_IDS)),
)
def test_served_is_monotone_damaging_more_never_serves_more(
    mini_city: City, damaged: set[str], more_damaged: set[str], depleted: set[str], more_depleted: set[str]
) -> None:
    fewer = mini_city.served(damaged, depleted)
    more = mini_city.served(damaged | more_damaged, depleted | more_depleted)
    _assert_no_more_served(fewer, more)
    assert not any(more.assets[a] for a in damaged | more_damaged)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), data=st.data())
def test_served_is_monotone_on_synthetic_cities(seed: int, data: st.DataObject) -> None:
    c = synthetic(80, seed=seed)
    ids = st.sampled_from(c.asset_ids)
    a = data.draw(st.sets(ids, max_size=10))
    b = data.draw(st.sets(ids, max_size=10))
    dep = data.draw(st.sets(ids, max_size=10))
    _assert_no_more_served(c.served(a, dep), c.served(a | b, dep))


# --------------------------------------------------------------------------------------------
# dependents


def test_dependents_direct(mini_city: City) -> None:
    assert mini_city.dependents("SS1", transitive=False) == ["PS1", "H1", "D1", "D2"]
    assert mini_city.dependents("DEP1", transitive=False) == []


def test_dependents_transitive(mini_city: City) -> None:
    assert mini_city.dependents("SS1") == ["D1", "D2", "D3", "H1", "PS1", "SH1"]
    everything = set(mini_city.asset_ids) | set(mini_city.district_ids)
    assert set(mini_city.dependents("PP1")) == everything - {"PP1", "DEP1", "BR1"}


def test_dependents_through_a_cycle_do_not_loop() -> None:
    assert set(cycle_city().dependents("WT1")) == {"PS1", "PP1", "SS1", "D1"}


def test_dependency_graph_edges_carry_the_service(mini_city: City) -> None:
    g = mini_city.dependency_graph()
    assert g.edges["WT1", "PS1"]["service"] == "water"
    assert g.edges["SS1", "D1"]["service"] == "power"


# --------------------------------------------------------------------------------------------
# Roads and travel times


def test_travel_time_matches_length_over_speed(mini_city: City) -> None:
    # N1 -> N2 -> N3: two 1 km roads at 50 km/h
    assert mini_city.travel_time("N1", "N3") == pytest.approx(2 * 1.0 / 50)
    # N1 -> N5: via N4 (2 x 1 km at 40 km/h = 0.05 h) beats the bridge (0.02 + 1.2/30 = 0.06 h)
    assert mini_city.travel_time("N1", "N5") == pytest.approx(0.05)
    assert mini_city.travel_time("N5", "N1") == pytest.approx(0.05)
    assert mini_city.travel_time("N1", "N1") == 0.0


def test_travel_time_agrees_with_networkx(mini_city: City) -> None:
    g = mini_city.road_graph()
    for a in mini_city.road_ids:
        lengths = nx.single_source_dijkstra_path_length(g, a, weight="hours")
        for b in mini_city.road_ids:
            assert mini_city.travel_time(a, b) == pytest.approx(lengths[b])


def _closed(city: City, *pairs: tuple[str, str]) -> np.ndarray:
    mask = np.zeros(len(city.edge_u), bool)
    for a, b in pairs:
        ia, ib = city.road_index[a], city.road_index[b]
        mask |= ((city.edge_u == ia) & (city.edge_v == ib)) | ((city.edge_u == ib) & (city.edge_v == ia))
    assert mask.sum() == len(pairs)
    return mask


def test_the_road_matrix_holds_each_road_both_ways_so_a_directed_search_finds_the_same_hours() -> None:
    """The engine searches the road matrix as directed (scipy then skips making its transpose):
    the hours must be those of the undirected search, bit for bit, with and without closures."""
    from scipy.sparse.csgraph import dijkstra

    c = synthetic(300, seed=3)
    rng = np.random.default_rng(0)
    for closed in (None, rng.random(len(c.edge_u)) < 0.2, rng.random(len(c.edge_u)) < 0.5):
        m = c.road_matrix(closed)
        assert (m != m.T).nnz == 0
        sources = [0, len(c.road_ids) // 2, len(c.road_ids) - 1]
        assert np.array_equal(dijkstra(m, directed=True, indices=sources), dijkstra(m, directed=False, indices=sources))


def test_closed_road_forces_the_longer_route(mini_city: City) -> None:
    closed = _closed(mini_city, ("N1", "N4"))
    assert mini_city.travel_time("N1", "N5", closed) == pytest.approx(0.02 + 1.2 / 30)


def test_cut_off_node_is_infinitely_far(mini_city: City) -> None:
    closed = _closed(mini_city, ("N1", "N4"), ("N1", "N2"))
    assert math.isinf(mini_city.travel_time("N1", "N5", closed))
    assert math.isinf(mini_city.travel_time("N6", "N1", closed))


def test_parallel_roads_use_the_fastest_open_one() -> None:
    nodes = [{"id": "N1", "location": {"x": 0, "y": 0}}, {"id": "N2", "location": {"x": 1000, "y": 0}}]
    edges = [{"from": "N1", "to": "N2", "length_m": 1000, "speed_kmh": 50},
             {"from": "N2", "to": "N1", "length_m": 1000, "speed_kmh": 100}]
    c = parse_city(tiny([asset("A1", "depot")], nodes=nodes, edges=edges))
    assert c.travel_time("N1", "N2") == pytest.approx(0.01)
    assert c.travel_time("N1", "N2", np.array([False, True])) == pytest.approx(0.02)


def test_nodes_without_roads_between_them_are_infinitely_far() -> None:
    nodes = [{"id": "N1", "location": {"x": 0, "y": 0}}, {"id": "N2", "location": {"x": 5, "y": 0}}]
    c = parse_city(tiny([asset("A1", "depot")], nodes=nodes))
    assert math.isinf(c.travel_time("N1", "N2"))
    assert c.travel_time("N2", "N2") == 0.0


def test_travel_hours_from_several_sources(mini_city: City) -> None:
    h = mini_city.travel_hours(["N1", "N6"])
    assert h.shape == (2, 6)
    assert h[1, mini_city.road_index["N3"]] == pytest.approx(0.025)


# --------------------------------------------------------------------------------------------
# Round trips


def test_node_link_json_round_trip_keeps_the_model_hash(mini_city: City, tmp_path: Path) -> None:
    p = tmp_path / "mini.json"
    p.write_text(json.dumps(mini_city.to_node_link()))
    assert load_city(p).model_hash() == mini_city.model_hash()


def test_node_link_round_trip_keeps_supplier_order(city_data: dict[str, Any], tmp_path: Path) -> None:
    city_data["districts"][1]["needs"]["power"] = ["SS2", "SS1"]
    c = parse_city(city_data)
    p = tmp_path / "c.json"
    p.write_text(json.dumps(c.to_node_link()))
    back = load_city(p)
    assert back.model.districts[1].needs["power"] == ("SS2", "SS1")
    assert back.model_hash() == c.model_hash()


def test_node_link_round_trip_of_a_synthetic_city(tmp_path: Path) -> None:
    c = synthetic(60, seed=4)
    p = tmp_path / "s.json"
    p.write_text(json.dumps(c.to_node_link()))
    assert load_city(p).model_hash() == c.model_hash()


def test_road_node_sharing_an_asset_id_is_refused_or_round_trips(city_data: dict[str, Any],
                                                                    tmp_path: Path) -> None:
    # One node-link graph holds districts, assets and road nodes; a shared id would merge them.
    city_data["roads"]["nodes"][3]["id"] = "DEP1"  # was N4
    for e in city_data["roads"]["edges"]:
        for end in ("from", "to"):
            if e[end] == "N4":
                e[end] = "DEP1"
    for item in city_data["assets"] + city_data["districts"]:
        if item.get("road_node") == "N4":
            item["road_node"] = "DEP1"
    try:
        c = parse_city(city_data)
    except CityModelError:
        return  # refusing shared ids is a fine answer
    p = tmp_path / "c.json"
    p.write_text(json.dumps(c.to_node_link()))
    assert load_city(p).model_hash() == c.model_hash()


def test_yaml_round_trip_keeps_the_model_hash(mini_city: City, tmp_path: Path) -> None:
    p = tmp_path / "mini.yaml"
    p.write_text(mini_city.to_yaml())
    assert load_city(p).model_hash() == mini_city.model_hash()


def test_yaml_round_trip_keeps_tricky_names(city_data: dict[str, Any], tmp_path: Path) -> None:
    names = ["NO", "010", "1:30", "null", "~", "- x", "#1", "a: b", "Δήμος Ποταμού", "yes", "1e3", ".nan"]
    for d, name in zip(city_data["assets"], names, strict=False):
        d["name"] = name
    c = parse_city(city_data)
    p = tmp_path / "names.yaml"
    p.write_text(c.to_yaml(), encoding="utf-8")
    back = load_city(p)
    assert [a.name for a in back.model.assets][: len(names)] == names
    assert back.model_hash() == c.model_hash()


def test_content_hash_changes_with_content(city_data: dict[str, Any]) -> None:
    a = parse_city(city_data)
    city_data["districts"][0]["population"] += 1
    assert parse_city(city_data).content_hash() != a.content_hash()


def test_a_loaded_city_is_named_by_the_sha256_of_its_file(mini_city: City, tmp_path: Path) -> None:
    import hashlib

    p = tmp_path / "mini.yaml"
    p.write_text(mini_city.to_yaml(), encoding="utf-8")
    assert load_city(p).content_hash() == hashlib.sha256(p.read_bytes()).hexdigest()
    assert load_city(p).content_hash() == load_city(p).content_hash()
    j = tmp_path / "mini.json"
    j.write_text(json.dumps(mini_city.to_node_link()), encoding="utf-8")
    assert load_city(j).content_hash() == hashlib.sha256(j.read_bytes()).hexdigest()


def test_a_byte_order_mark_does_not_change_a_city_files_hash(mini_city: City, tmp_path: Path) -> None:
    plain, marked = tmp_path / "plain.yaml", tmp_path / "marked.yaml"
    plain.write_text(mini_city.to_yaml(), encoding="utf-8")
    marked.write_text(mini_city.to_yaml(), encoding="utf-8-sig")
    assert load_city(marked).content_hash() == load_city(plain).content_hash()


def test_an_edited_city_file_gets_another_hash(mini_city: City, tmp_path: Path) -> None:
    p = tmp_path / "mini.yaml"
    p.write_text(mini_city.to_yaml(), encoding="utf-8")
    before = load_city(p)
    p.write_text("# a comment changes the file, not the model\n" + mini_city.to_yaml(), encoding="utf-8")
    after = load_city(p)
    assert after.content_hash() != before.content_hash()
    assert after.model_hash() == before.model_hash()


def test_a_city_built_in_code_is_named_by_its_model(city_data: dict[str, Any]) -> None:
    c = parse_city(city_data)
    assert c.content_hash() == c.model_hash()
    s = synthetic(40, seed=2)
    assert s.content_hash() == s.model_hash()


# --------------------------------------------------------------------------------------------
# Synthetic cities


def test_synthetic_is_deterministic_per_seed() -> None:
    assert synthetic(200, seed=1).content_hash() == synthetic(200, seed=1).content_hash()
    assert synthetic(200, seed=1).content_hash() != synthetic(200, seed=2).content_hash()


@pytest.mark.parametrize("n", [50, 500, 5000])
def test_synthetic_city_is_sized_connected_and_served(n: int) -> None:
    c = synthetic(n, seed=0)
    assert c.n_assets >= n
    assert nx.is_connected(c.road_graph())
    s = c.served()
    assert all(s.assets.values())
    assert all(all(v.values()) for v in s.districts.values())
    assert all(set(v) == {"power", "water", "telecom", "health"} for v in s.districts.values())


@settings(max_examples=40, deadline=None)
@given(n=st.integers(10, 400), seed=st.integers(0, 2**32 - 1))
def test_synthetic_has_at_least_the_assets_asked_for(n: int, seed: int) -> None:
    c = synthetic(n, seed=seed)
    assert c.n_assets >= n
    assert nx.is_connected(c.road_graph())
    assert all(all(v.values()) for v in c.served().districts.values())


# --------------------------------------------------------------------------------------------
# Coordinates


def test_lat_lon_locations_are_projected_to_metres() -> None:
    nodes = [{"id": "N1", "location": {"lat": 38.0, "lon": 23.7}},
             {"id": "N2", "location": {"lat": 38.01, "lon": 23.7}},
             {"id": "N3", "location": {"lat": 38.0, "lon": 23.71}}]
    edges = [{"from": "N1", "to": "N2", "length_m": 1112, "speed_kmh": 40}]
    c = parse_city(tiny([asset("A1", "depot", location={"lat": 38.0, "lon": 23.7})],
                        [district(location={"lat": 38.005, "lon": 23.705})], nodes=nodes, edges=edges))
    dy = c.road_xy[1] - c.road_xy[0]
    dx = c.road_xy[2] - c.road_xy[0]
    assert dy[0] == pytest.approx(0, abs=1e-6) and dy[1] == pytest.approx(1112, rel=0.01)
    assert dx[1] == pytest.approx(0, abs=1e-6)
    assert dx[0] == pytest.approx(1112 * math.cos(math.radians(38.0033)), rel=0.01)
    assert c.travel_time("N1", "N2") == pytest.approx(1.112 / 40)


@pytest.mark.parametrize(
    "location",
    [{"lat": 38.0}, {"x": 1}, {}, {"x": 1, "y": 2, "lat": 3, "lon": 4}, {"lat": 95, "lon": 0},
     {"lat": 0, "lon": 200}],
    ids=["lat-only", "x-only", "empty", "both-systems", "lat-out-of-range", "lon-out-of-range"],
)
def test_bad_location_is_refused_with_its_field(location: dict[str, Any]) -> None:
    err = city_error(tiny([asset("A1", "depot", location=location)]))
    assert any(p.field.startswith("assets[0].location") for p in err.problems), err.problems


# --------------------------------------------------------------------------------------------
# Bad input: types, numbers, YAML 1.1 surprises


_SMALL = """\
format: scro-city/1
id: t
name: T
districts:
  - id: D1
    name: One
    colour: blue
    population: 10
    vulnerable_share: 0.1
    location: {x: 0, y: 0}
assets:
  - id: A1
    type: depot
    name: Depot
    location: {x: 0, y: 0}
    road_node: N1
roads:
  nodes:
    - {id: N1, location: {x: 0, y: 0}}
"""


def test_unknown_key_on_line_7_reports_line_7(write_yaml) -> None:
    p = write_yaml(_SMALL, "small.yaml")
    err = load_error(p)
    prob = next(x for x in err.problems if x.field == "districts[0].colour")
    assert prob.line == 7
    assert str(prob).startswith(f"{p}:7: districts[0].colour: unknown field")
    assert isinstance(err, InputError)


@pytest.mark.parametrize(
    ("old", "new", "line", "field"),
    [
        ("population: 10", "population: many", 7, "districts[0].population"),
        ("population: 10", "population: NO", 7, "districts[0].population"),
        ("population: 10", "population: 1:30", 7, "districts[0].population"),
        ("population: 10", "population: 10.5", 7, "districts[0].population"),
        ("population: 10", "population: -5", 7, "districts[0].population"),
        ("population: 10", "population: " + "9" * 5000, 7, "districts[0].population"),
        ("vulnerable_share: 0.1", "vulnerable_share: .nan", 8, "districts[0].vulnerable_share"),
        ("vulnerable_share: 0.1", "vulnerable_share: 1.5", 8, "districts[0].vulnerable_share"),
        ("road_node: N1", "road_node: N1\n    capacity: .inf", 16, "assets[0].capacity"),
        ("road_node: N1", "road_node: N1\n    capacity: 1e400", 16, "assets[0].capacity"),
        ("road_node: N1", "road_node: N1\n    elevation: 1:30", 16, "assets[0].elevation"),
        ("road_node: N1", "road_node: N1\n    backup: {kind: generator, hours: .nan}", 16,
         "assets[0].backup.hours"),
        ("road_node: N1", "road_node: N1\n    backup: {kind: generator, hours: -1}", 16,
         "assets[0].backup.hours"),
        ("road_node: N1", "road_node: N1\n    criticality: 9", 16, "assets[0].criticality"),
        ("type: depot", "type: castle", 12, "assets[0].type"),
        ("name: Depot", "name: [a, b]", 13, "assets[0].name"),
        ("    name: One\n", "", 5, "districts[0].name"),
    ],
    ids=["word", "NO", "1:30", "fraction", "negative", "5000-digits", "nan", "share>1", "inf", "1e400",
         "sexagesimal", "backup-nan", "backup-negative", "criticality", "type", "list-name", "missing"],
)
def test_bad_value_is_reported_with_line_and_field(write_yaml, old: str, new: str, line: int,
                                                   field: str) -> None:
    text = _SMALL.replace("    colour: blue\n", "").replace(old, new, 1)
    err = load_error(write_yaml(text, "bad.yaml"))
    assert (line, field) in [(p.line, p.field) for p in err.problems], err.problems


def test_a_bad_item_does_not_also_report_its_list_as_empty(write_yaml) -> None:
    # pydantic adds "Tuple should have at least 1 item after validation, not 0" for a
    # min_length tuple whose only item fails; that problem is false and sorts first.
    text = _SMALL.replace("    colour: blue\n", "").replace("population: 10", "population: many")
    err = load_error(write_yaml(text, "bad.yaml"))
    assert [(p.line, p.field) for p in err.problems] == [(7, "districts[0].population")], err.problems
    assert str(err).startswith(f"{err.problems[0].path}:7: districts[0].population: ")


def test_a_city_that_is_a_list_is_refused(write_yaml) -> None:
    assert load_error(write_yaml("- a\n- b\n")).problems[0].line == 1


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("format: scro-city/1\n\tid: t\n", 2, "not tabs"),
        ("format: scro-city/1\n---\nid: t\n", 2, "more than one"),
        ("id: t\nname: &x t\n", 2, "anchor"),
        ("id: !!python/object/apply:os.system ['ls']\n", 1, "tag"),
        ("id: t\nid: u\n", 2, "duplicate key"),
    ],
    ids=["tab", "two-documents", "anchor", "python-tag", "duplicate-key"],
)
def test_yaml_problems_come_back_as_city_model_errors(write_yaml, text: str, line: int, words: str) -> None:
    err = load_error(write_yaml(text))
    assert err.problems[0].line == line
    assert words in err.problems[0].message


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty"), (b"\x00\x01\x02binary", "binary"), ("name: caf\xe9\n".encode("latin-1"), "UTF-8")],
    ids=["empty", "binary", "latin-1"],
)
def test_unreadable_city_files_are_city_model_errors(tmp_path: Path, content: bytes, words: str) -> None:
    p = tmp_path / "c.yaml"
    p.write_bytes(content)
    assert words in str(load_error(p))


def test_city_file_over_the_city_cap_is_refused_quickly_naming_file_and_cap(tmp_path: Path, guard,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_MAX_CITY_MB", "16")
    p = tmp_path / "huge.yaml"
    with p.open("wb") as f:
        f.truncate(50 * 1024 * 1024)
    with pytest.raises(CityModelError) as info:
        guard(load_city, p)
    prob = info.value.problems[0]
    assert prob.path == str(p)
    assert "the limit is 16 MiB for a city file" in prob.message and "SCRO_SIM_MAX_CITY_MB" in prob.message


def test_city_file_over_the_default_cap_is_refused_by_size(tmp_path: Path, guard,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCRO_SIM_MAX_CITY_MB", raising=False)
    p = tmp_path / "huge.json"
    with p.open("wb") as f:
        f.truncate(257 * 1024 * 1024)  # sparse: nothing is written or read
    with pytest.raises(CityModelError, match="the limit is 256 MiB for a city file"):
        guard(load_city, p)


def test_city_file_larger_than_a_scenario_may_be_loads(tmp_path: Path, mini_city_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # a city bigger than the old 5 MiB cap on every file (a 50,000-asset city is about 26 MB)
    monkeypatch.delenv("SCRO_SIM_MAX_CITY_MB", raising=False)
    p = tmp_path / "big.yaml"
    p.write_text(mini_city_path.read_text() + ("# " + "x" * 1000 + "\n") * 6_500)
    assert p.stat().st_size > 6 * 1024 * 1024
    assert load_city(p).id == "mini"


@pytest.mark.parametrize("value", ["0", "-3", "lots", "nan"])
def test_a_bad_city_cap_setting_falls_back_to_the_default(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.yamlio import CITY_MB, city_limits

    monkeypatch.setenv("SCRO_SIM_MAX_CITY_MB", value)
    assert city_limits().max_bytes == CITY_MB * 1024 * 1024


def test_alias_bomb_city_is_refused_quickly(tmp_path: Path, guard, billion_laughs: str) -> None:
    p = tmp_path / "bomb.yaml"
    p.write_text(billion_laughs)
    with pytest.raises(CityModelError) as info:
        guard(load_city, p)
    assert info.value.problems[0].line == 1


# --------------------------------------------------------------------------------------------
# Cross-checks: references, ids, cycles


def test_two_unknown_suppliers_give_two_problems(city_data: dict[str, Any], write_yaml) -> None:
    city_data["assets"][1]["needs"] = {"power": ["PP9"]}  # SS1
    city_data["assets"][5]["needs"]["power"] = ["SS9"]  # H1
    p = write_yaml(city_data, "two.yaml")
    err = load_error(p)
    msgs = sorted(p.message for p in err.problems)
    assert msgs == ["unknown supplier asset 'PP9'", "unknown supplier asset 'SS9'"]
    assert [p.field for p in err.problems] == ["assets[1].needs.power", "assets[5].needs.power"]
    lines = p.read_text().splitlines()
    for prob in err.problems:
        assert prob.line is not None and "power:" in lines[prob.line - 1], prob


def test_road_edge_to_an_unknown_node_names_the_edge_end(city_data: dict[str, Any], write_yaml) -> None:
    city_data["roads"]["edges"][2]["to"] = "N99"
    p = write_yaml(city_data, "edge.yaml")
    err = load_error(p)
    assert [(x.field, x.message) for x in err.problems] == [("roads.edges[2].to", "unknown road node 'N99'")]
    assert p.read_text().splitlines()[err.problems[0].line - 1].strip().startswith("to: N99")


@pytest.mark.parametrize(
    ("section", "index", "message"),
    [("assets", 2, "duplicate asset id 'SS1'"), ("districts", 1, "duplicate district id 'D1'")],
)
def test_duplicate_ids_are_refused(city_data: dict[str, Any], write_yaml, section: str, index: int,
                                   message: str) -> None:
    dup = city_data[section][index - 1]["id"]
    city_data[section][index]["id"] = dup
    for item in city_data["districts"] + city_data["assets"]:  # keep references resolvable
        for svc, sup in item.get("needs", {}).items():
            item["needs"][svc] = [s for s in sup if s != "SS2"] or [dup]
    if section == "assets":
        city_data["assets"][index]["type"] = "substation"
    p = write_yaml(city_data, "dup.yaml")
    err = load_error(p)
    hits = [x for x in err.problems if x.message.startswith(message)]
    assert hits and hits[0].field == f"{section}[{index}].id"
    assert p.read_text().splitlines()[hits[0].line - 1].strip().endswith(f"id: {dup}")


def test_duplicate_road_node_id_names_roads_nodes(city_data: dict[str, Any], write_yaml) -> None:
    city_data["roads"]["nodes"].append({"id": "N1", "location": {"x": 5, "y": 5}})
    p = write_yaml(city_data, "dup_node.yaml")
    err = load_error(p)
    prob = next(x for x in err.problems if "duplicate road node id" in x.message)
    assert prob.field == "roads.nodes[6].id"
    assert p.read_text().splitlines()[prob.line - 1].strip().endswith("id: N1")


def test_district_and_asset_sharing_an_id_is_refused(city_data: dict[str, Any]) -> None:
    city_data["districts"][0]["id"] = "SS1"
    err = city_error(city_data)
    assert any("used by an asset too" in p.message for p in err.problems)


@pytest.mark.parametrize(
    ("where", "message"),
    [(("districts", 0), "unknown zone 'marsh'"), (("assets", 1), "unknown zone 'marsh'")],
)
def test_unknown_zone_is_refused(city_data: dict[str, Any], where: tuple[str, int], message: str) -> None:
    city_data[where[0]][where[1]]["zones"] = ["marsh"]
    err = city_error(city_data)
    assert [(p.field, p.message) for p in err.problems] == [(f"{where[0]}[{where[1]}].zones", message)]


def test_unknown_road_node_of_an_asset_is_refused(city_data: dict[str, Any]) -> None:
    city_data["assets"][0]["road_node"] = "N42"
    err = city_error(city_data)
    expected = [("assets[0].road_node", "unknown road node 'N42'")]
    assert [(p.field, p.message) for p in err.problems] == expected


def test_supplier_of_the_wrong_service_is_refused(city_data: dict[str, Any]) -> None:
    city_data["assets"][5]["needs"]["water"] = ["SS2"]  # H1 wants water from a substation
    err = city_error(city_data)
    assert err.problems[0].field == "assets[5].needs.water"
    assert "does not supply water" in err.problems[0].message


def test_an_asset_cannot_supply_itself(city_data: dict[str, Any]) -> None:
    city_data["assets"][1]["needs"]["power"] = ["SS1"]
    assert "cannot supply itself" in city_error(city_data).problems[0].message


def test_empty_supplier_list_is_refused(city_data: dict[str, Any]) -> None:
    city_data["assets"][1]["needs"]["power"] = []
    assert "at least one supplier" in city_error(city_data).problems[0].message


@pytest.mark.parametrize(("bridge", "words"), [("BR9", "unknown bridge asset"), ("SS1", "not a bridge")])
def test_road_bridge_must_be_a_bridge_asset(city_data: dict[str, Any], bridge: str, words: str) -> None:
    city_data["roads"]["edges"][6]["bridge"] = bridge
    err = city_error(city_data)
    assert err.problems[0].field == "roads.edges[6].bridge" and words in err.problems[0].message


def test_road_loop_on_one_node_is_refused(city_data: dict[str, Any]) -> None:
    city_data["roads"]["edges"][0]["to"] = "N1"
    assert "same node" in city_error(city_data).problems[0].message


def test_two_substations_feeding_each_other_is_a_sourceless_cycle(write_yaml) -> None:
    data = tiny([asset("SS1", "substation", needs={"power": ["SS2"]}),
                 asset("SS2", "substation", needs={"power": ["SS1"]})],
                [district(needs={"power": ["SS1"]})])
    err = load_error(write_yaml(data, "loop.yaml"))
    assert len(err.problems) == 1
    prob = err.problems[0]
    assert prob.field == "assets[0].needs.power" and prob.line is not None
    assert "supply cycle SS1 -> SS2 -> SS1 has no source" in prob.message


def ring_city() -> City:
    """Two substations in a ring, each also fed by its own plant (a meshed grid)."""
    return parse_city(tiny([asset("PP1", "power_plant"), asset("PP2", "power_plant"),
                            asset("SS1", "substation", needs={"power": ["SS2", "PP1"]}),
                            asset("SS2", "substation", needs={"power": ["SS1", "PP2"]})],
                           [district(needs={"power": ["SS1"]})]))


def test_same_service_loop_with_an_outside_feeder_is_allowed() -> None:
    c = ring_city()
    assert all(c.served().assets.values())
    assert c.served(damaged=["PP1"]).assets == {"PP1": False, "PP2": True, "SS1": True, "SS2": True}


def test_same_service_loop_goes_dark_when_every_feeder_is_damaged() -> None:
    # Two substations cannot keep each other energised: with both plants down there is no power.
    s = ring_city().served(damaged=["PP1", "PP2"])
    assert s.assets["SS1"] is False and s.assets["SS2"] is False
    assert s.districts["D1"]["power"] is False


def test_missing_sections_are_reported_together() -> None:
    err = city_error({"format": "scro-city/1", "id": "x", "name": "X"})
    assert {p.field for p in err.problems} == {"districts", "assets", "roads"}


def test_wrong_format_is_refused() -> None:
    err = city_error(tiny([asset("A1", "depot")], format="scro-city/2"))
    assert err.problems[0].field == "format"


# --------------------------------------------------------------------------------------------
# Bad node-link JSON


@pytest.mark.parametrize(
    "text",
    [
        '{"nodes": [], "links": [{"source": "a", "target": "b", "role": "road"}]}',
        '{"nodes": [], "links": [{"source": "a", "target": "b", "role": "dependency"}]}',
        '{"nodes": 5}',
        '{"nodes": ["x"]}',
        '{"nodes": [{"role": "asset"}]}',
        '{"nodes": [{"id": "x"}]}',
        '{"nodes": [], "links": [], "graph": {"id": ' + "1" * 5000 + "}}",
        "[" * 100_000 + "]" * 100_000,
        '{"nodes": [}',
        "[1]",
        "",
    ],
    ids=["road-without-length", "dependency-without-service", "nodes-not-a-list", "node-not-an-object",
         "node-without-id", "node-without-role", "5000-digit-number", "deep-nesting", "malformed", "array",
         "empty-file"],
)
def test_bad_node_link_json_is_a_city_model_error(tmp_path: Path, text: str, guard) -> None:
    p = tmp_path / "city.json"
    p.write_text(text)
    with pytest.raises(CityModelError) as info:
        guard(load_city, p)
    assert info.value.problems
    assert all(x.path == str(p) for x in info.value.problems), info.value.problems


# --------------------------------------------------------------------------------------------
# Bounds on counts and sizes


def _square(zid: str, n: int) -> dict[str, Any]:
    """A zone whose polygon has ``n`` points on a circle."""
    import math

    return {"id": zid, "polygon": [{"x": 100 * math.cos(2 * math.pi * k / n), "y": 100 * math.sin(2 * math.pi * k / n)}
                                   for k in range(n)]}


def test_the_zones_polygons_are_capped_in_total() -> None:
    from scro_sim.city.model import MAX_POLYGON, MAX_POLYGON_TOTAL

    ok = tiny([asset("PP1", "power_plant")], zones=[_square("Z1", MAX_POLYGON), _square("Z2", MAX_POLYGON)])
    assert MAX_POLYGON * 2 == MAX_POLYGON_TOTAL and parse_city(ok).zone_ids == ["Z1", "Z2"]
    err = city_error(tiny([asset("PP1", "power_plant")],
                          zones=[_square("Z1", MAX_POLYGON), _square("Z2", MAX_POLYGON), _square("Z3", 3)]))
    assert [p.field for p in err.problems] == ["zones[2].polygon"]
    assert "20,000 points" in err.problems[0].message
    err = city_error(tiny([asset("PP1", "power_plant")], zones=[_square("Z1", MAX_POLYGON + 1)]))
    assert [p.field for p in err.problems] == ["zones[0].polygon"]


@pytest.mark.parametrize(("data", "field"), [
    (tiny([asset("PP1", "power_plant"), asset("SS1", "substation", needs={"power": ["PP1"] * 51})]),
     "assets[1].needs.power"),
    (tiny([asset("PP1", "power_plant", zones=["Z"] * 101)]), "assets[0].zones"),
    (tiny([asset("PP1", "power_plant")], description="d" * 20_001), "description"),
    (tiny([asset("PP1", "power_plant", name="n" * 201)]), "assets[0].name"),
    (tiny([asset("PP1", "power_plant", fragility={"flood": [{"median": 1, "beta": 0.5}] * 11})]),
     "assets[0].fragility.flood"),
])
def test_a_count_or_size_past_its_bound_names_the_field(data: dict[str, Any], field: str) -> None:
    err = city_error(data)
    assert any(p.field == field for p in err.problems), err.problems


def test_the_city_bounds_allow_the_largest_synthetic_city() -> None:
    # the 200,000-asset synthetic city: 201,955 assets, 8,000 districts, 8,010 junctions, 15,781 roads
    from scro_sim.city import model

    assert model.MAX_ASSETS >= 201_955 and model.MAX_DISTRICTS >= 8_000
    assert model.MAX_ROAD_NODES >= 8_010 and model.MAX_ROAD_EDGES >= 15_781


def test_a_pickled_city_comes_back_with_the_same_model_and_name(mini_city: City) -> None:
    import pickle

    for c in (mini_city, synthetic(120, seed=3)):
        c.road_graph()  # a cache that is not shipped
        back = pickle.loads(pickle.dumps(c))
        assert back.content_hash() == c.content_hash()
        assert back.asset_ids == c.asset_ids and back.fragility_overrides == c.fragility_overrides
        assert back.model == c.model
        assert back.model_hash() == c.model_hash()
