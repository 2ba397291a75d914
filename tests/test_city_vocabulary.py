"""Asset types and services a city declares (city_models/README.md, "Asset types and services"):
today's as defaults, the city's own next to them, and every name checked with file:line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from enginekit import make_scenario, records, times

from scro_sim.city import BUILTIN_TYPES, City, load_city
from scro_sim.engine import Simulation
from scro_sim.errors import CityModelError
from scro_sim.scenario import HAZARD_TYPES, check_scenario_city

PORT = Path(__file__).resolve().parent / "data" / "port_city.yaml"


@pytest.fixture(scope="module")
def port() -> City:
    return load_city(PORT, hazards=HAZARD_TYPES)


def test_a_city_declares_asset_types_and_services_next_to_the_built_in_ones(port: City) -> None:
    assert set(BUILTIN_TYPES) < set(port.type_specs)
    assert {"gas_network", "port", "psap_911", "school", "rail_yard"} <= set(port.type_specs)
    assert port.services[-1] == "gas" and port.services[:5] == ("power", "water", "telecom", "transport", "health")
    assert port.type_skill["gas_network"] == "gas" and port.type_skill["school"] == "general"
    assert port.supplies[port.asset_index["GAS"]] == ("gas",)
    assert port.supplies[port.asset_index["PORT"]] == ("transport",)


def test_a_declared_critical_type_is_judged_as_a_critical_facility(port: City) -> None:
    assert port.asset_index["PSAP"] in port.critical
    assert port.asset_index["SCH"] not in port.critical


def test_a_declared_service_carries_a_cascade(port: City) -> None:
    served = port.served(damaged=["GAS"])
    assert not served.assets["PP"] and not served.assets["SS1"] and not served.assets["PSAP"]
    assert served.districts["HARBOUR"]["power"] is False


def test_losing_the_gas_network_takes_the_power_and_the_911_centre_down_until_a_gas_crew_repairs_it(
        port: City) -> None:
    crews = {"crews": [{"id": "G", "skills": ["gas"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    sc = make_scenario([{"id": "leak", "type": "outage", "targets": ["GAS"], "start_h": 1}], city="port_town",
                       resources=crews, repair_times={"gas_network": {"degraded": [2, 0], "failed": [6, 0]}})
    assert check_scenario_city(sc, port) == []
    sim = Simulation(sc, port, seed=1)
    sim.run()
    assert [r.data["cause"] for r in records(sim, "asset_down", "PP")] == ["no gas"]
    assert times(sim, "asset_down", "PSAP") == [1.0]
    [started] = records(sim, "repair", "GAS", state="started")
    assert started.data["crew"].startswith("G") and started.data["hours"] == 6.0
    assert times(sim, "asset_up", "PSAP") == [pytest.approx(started.time + 6.0)]


def test_a_city_type_without_repair_times_is_repaired_in_the_default_12_and_72_hours(port: City) -> None:
    """No repair time given for gas_network (nor built in for it): a crew takes the general default."""
    crews = {"crews": [{"id": "G", "skills": ["gas"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    logs = []
    for repair_times in ({}, {"gas_network": {"degraded": [12, 6], "failed": [72, 36]}}):
        sc = make_scenario([{"id": "leak", "type": "outage", "targets": ["GAS"], "start_h": 1}], city="port_town",
                           resources=crews, repair_times=repair_times, duration_h=200)
        logs.append(Simulation(sc, port, seed=1).run())
    [started] = records(logs[0], "repair", "GAS", state="started")
    assert started.data["hours"] >= 0.2 * 72  # a failed asset's repair, never under a fifth of the mean
    assert [(r.time, r.data) for r in records(logs[0], "repair")] == [(r.time, r.data) for r in records(logs[1], "repair")]


def test_a_scenario_may_name_the_citys_own_types_in_conditions_fragility_and_repair_times(port: City) -> None:
    sc = make_scenario([{"id": "q", "type": "earthquake", "epicentre": [0, 0], "magnitude": 6}], city="port_town",
                       fragility={"earthquake": {"port": [{"median": 0.3, "beta": 0.5}]}},
                       repair_times={"school": {"degraded": [2, 1], "failed": [9, 2]}},
                       msel=[{"id": "I1", "when": {"any_down": "psap_911"}, "sender": "a", "text": "b",
                              "channel": "phone"}])
    assert check_scenario_city(sc, port) == []
    bad = make_scenario([{"id": "q", "type": "earthquake", "epicentre": [0, 0], "magnitude": 6}], city="port_town",
                        repair_times={"prot": {"degraded": [2, 1], "failed": [9, 2]}})
    assert any("unknown asset type 'prot' (did you mean 'port'?)" in p for p in check_scenario_city(bad, port))


def _write(tmp_path: Path, edit: Any) -> Path:
    data = yaml.safe_load(PORT.read_text(encoding="utf-8"))
    edit(data)
    p = tmp_path / "city.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def _line_of(path: Path, needle: str) -> int:
    return next(k for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


@pytest.mark.parametrize(("edit", "field", "needle", "message"), [
    (lambda d: d["assets"][5].update(type="prot"), "assets[5].type", "type: prot",
     "unknown asset type 'prot' (did you mean 'port'?)"),
    (lambda d: d["assets"][1]["needs"].update(gaz=["GAS"]), "assets[1].needs.gaz", "gaz:",
     "unknown service 'gaz' (did you mean 'gas'?)"),
    (lambda d: d["districts"][0]["needs"].update(steam=["GAS"]), "districts[0].needs.steam", "steam:",
     "unknown service 'steam'"),
    (lambda d: d["asset_types"]["port"].update(supplies=["cargo"]), "asset_types.port.supplies[0]", "- cargo",
     "unknown service 'cargo'"),
    (lambda d: d.update(services=["gas", "power"]), "services[1]", "- power",
     "'power' is a built-in service; list only new ones"),
    (lambda d: d["assets"][1].update(fragility={"floood": {"median": 1, "beta": 0.4}}), "assets[1].fragility.floood",
     "floood:", "unknown hazard 'floood' (did you mean 'flood'?)"),
])
def test_unknown_types_services_and_hazards_are_refused_with_file_line_and_field(
        tmp_path: Path, edit: Any, field: str, needle: str, message: str) -> None:
    p = _write(tmp_path, edit)
    with pytest.raises(CityModelError) as err:
        load_city(p, hazards=HAZARD_TYPES)
    assert f"{p}:{_line_of(p, needle)}: {field}: {message}" in str(err.value)


def test_a_type_the_city_does_not_declare_is_refused_without_a_traceback(tmp_path: Path) -> None:
    p = _write(tmp_path, lambda d: d.pop("asset_types"))
    with pytest.raises(CityModelError, match="declare it under asset_types"):
        load_city(p)


def test_declaring_nothing_keeps_a_citys_model_hash(port: City) -> None:
    from scro_sim.city import parse_city

    data = yaml.safe_load(PORT.read_text(encoding="utf-8"))
    plain = {k: v for k, v in data.items() if k not in ("asset_types", "services")}
    plain["assets"] = [a for a in plain["assets"] if a["type"] in BUILTIN_TYPES]
    for a in plain["assets"]:
        a.get("needs", {}).pop("gas", None)
    plain["districts"][0]["needs"].pop("gas")
    explicit = {**plain, "asset_types": {}, "services": []}
    assert parse_city(plain).model_hash() == parse_city(explicit).model_hash()
