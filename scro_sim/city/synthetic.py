"""Seeded synthetic cities of any size with Riverton's structure, for tests and benchmarks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .files import (
    parse_city,
)
from .model import (
    FORMAT,
)
from .network import (
    City,
)

# --------------------------------------------------------------------------------------------
# Synthetic cities for tests and benchmarks.


def synthetic(n_assets: int = 500, seed: int = 0, *, people_per_district: int = 8_000,
              assets_per_district: int = 25) -> City:
    """A seeded city of about ``n_assets`` assets with Riverton's structure, any size.

    A river runs along y=0 with a flood plain either side; districts sit on a grid with
    elevation rising away from the river; each district has its own substation, pumping
    station and towers fed by shared plants, so failures cascade the way they do in
    Riverton.  Same ``seed`` gives the same city.

    >>> synthetic(100, seed=3).n_assets >= 100
    True
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n_d = max(2, math.ceil(n_assets / assets_per_district))
    cols = max(1, math.ceil(math.sqrt(n_d)))
    rows = math.ceil(n_d / cols)
    spacing = 1500.0
    width = cols * spacing
    # regional supply
    n_plants = max(1, n_d // 40 + 1)
    n_wtp = max(1, n_d // 30 + 1)
    n_hosp = max(1, n_d // 8 + 1)
    n_dc = max(1, n_d // 60 + 1)
    assets: list[dict[str, Any]] = []
    districts: list[dict[str, Any]] = []
    road_nodes: list[dict[str, Any]] = []
    road_edges: list[dict[str, Any]] = []

    def elev_at(y: float) -> float:
        return round(2.0 + abs(y) / 350.0 + float(rng.normal(0, 0.4)), 2)

    grid: dict[tuple[int, int], str] = {}
    for r in range(rows):
        for c in range(cols):
            nid = f"N{r}_{c}"
            y = (r - (rows - 1) / 2) * spacing
            x = c * spacing
            road_nodes.append({"id": nid, "location": {"x": x, "y": y}, "elevation": elev_at(y)})
            grid[(r, c)] = nid
    bridge_rows = (rows - 1) // 2  # road between this row and the next crosses the river
    n_bridges = 0
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                road_edges.append({"from": grid[(r, c)], "to": grid[(r, c + 1)], "length_m": spacing,
                                   "speed_kmh": 40.0})
            if r + 1 < rows:
                e: dict[str, Any] = {"from": grid[(r, c)], "to": grid[(r + 1, c)], "length_m": spacing,
                                     "speed_kmh": 40.0}
                if r == bridge_rows and c % 3 == 0:
                    n_bridges += 1
                    bid = f"BR{n_bridges}"
                    e["bridge"] = bid
                    assets.append({"id": bid, "type": "bridge", "name": f"Bridge {n_bridges}",
                                   "location": {"x": c * spacing, "y": 0.0}, "elevation": 4.0,
                                   "road_node": grid[(r, c)], "criticality": 4})
                elif r == bridge_rows:
                    continue  # the river: only bridges cross it
                road_edges.append(e)

    def node_near(x: float, y: float) -> str:
        c = min(cols - 1, max(0, round(x / spacing)))
        r = min(rows - 1, max(0, round(y / spacing + (rows - 1) / 2)))
        return grid[(r, c)]

    def add(aid: str, typ: str, x: float, y: float, **kw: Any) -> str:
        d = {"id": aid, "type": typ, "name": f"{typ.replace('_', ' ').title()} {aid}",
             "location": {"x": round(x, 1), "y": round(y, 1)}, "elevation": elev_at(y),
             "road_node": node_near(x, y)}
        d.update(kw)
        assets.append(d)
        return aid

    def spot() -> tuple[float, float]:
        return float(rng.uniform(0, width - spacing)), float(rng.uniform(-rows * spacing / 2, rows * spacing / 2))

    plants = [add(f"PP{i}", "power_plant", *spot(), criticality=5, capacity=400.0) for i in range(n_plants)]
    # crews and the emergency operations centre sit on high ground, away from the river
    top = rows * spacing / 2
    for i in range(max(1, n_d // 25 + 1)):
        add(f"DEP{i}", "depot", float(rng.uniform(0, width - spacing)), top - 100.0, criticality=3)
    add("EOC", "eoc", width / 2, top - 200.0, criticality=5)
    dcs = [add(f"DC{i}", "data_centre", *spot(), criticality=4,
               backup={"kind": "generator", "hours": 48.0}, needs={"power": [plants[i % n_plants]]})
           for i in range(n_dc)]
    wtps = [add(f"WT{i}", "water_treatment", *spot(), criticality=5, capacity=2000.0,
                backup={"kind": "generator", "hours": 12.0}, needs={"power": [plants[i % n_plants]]})
            for i in range(n_wtp)]
    hosp_positions = [spot() for _ in range(n_hosp)]
    hospitals: list[str] = []
    district_subs: list[str] = []
    for k in range(n_d):
        r, c = divmod(k, cols)
        x, y = c * spacing, (r - (rows - 1) / 2) * spacing
        did = f"D{k}"
        ss = add(f"SS{k}", "substation", x + 200, y + 150, criticality=4, capacity=40.0,
                 needs={"power": sorted({plants[k % n_plants], plants[(k + 1) % n_plants]})})
        district_subs.append(ss)
        ps = add(f"PS{k}", "pumping_station", x - 200, y + 150, criticality=3,
                 backup={"kind": "tank", "hours": 24.0},
                 needs={"power": [ss], "water": [wtps[k % n_wtp]]})
        towers = [add(f"TT{k}_{j}", "telecom_tower", x + 100 * j, y - 200, criticality=2,
                      backup={"kind": "battery", "hours": 8.0},
                      needs={"power": [ss], "telecom": [dcs[k % n_dc]]}) for j in range(2)]
        local: list[str] = []
        n_local = max(0, assets_per_district - 4)
        types = ("substation", "telecom_tower", "pumping_station", "fire_station", "shelter", "traffic_control")
        for j in range(n_local):
            typ = types[j % len(types)]
            aid = f"X{k}_{j}"
            ax, ay = x + float(rng.uniform(-600, 600)), y + float(rng.uniform(-600, 600))
            if typ == "substation":
                add(aid, typ, ax, ay, criticality=2, needs={"power": [plants[(k + j) % n_plants]]})
            elif typ == "telecom_tower":
                add(aid, typ, ax, ay, criticality=2, backup={"kind": "battery", "hours": 8.0},
                    needs={"power": [ss], "telecom": [dcs[k % n_dc]]})
            elif typ == "pumping_station":
                add(aid, typ, ax, ay, criticality=2, needs={"power": [ss], "water": [ps]})
            elif typ == "shelter":
                add(aid, typ, ax, ay, criticality=3, capacity=500.0, needs={"power": [ss], "water": [ps]})
            else:
                add(aid, typ, ax, ay, criticality=2, needs={"power": [ss]})
            local.append(aid)
        if k < n_hosp:
            hx, hy = hosp_positions[k]
            hospitals.append(add(f"H{k}", "hospital", hx, hy, criticality=5, capacity=300.0,
                                 backup={"kind": "generator", "hours": 96.0},
                                 needs={"power": [district_subs[k]], "water": [ps], "telecom": [towers[0]]}))
        pop = int(rng.integers(people_per_district // 2, people_per_district * 3 // 2))
        districts.append({
            "id": did, "name": f"District {k}", "population": pop,
            "vulnerable_share": round(float(rng.uniform(0.08, 0.3)), 3),
            "location": {"x": x, "y": y}, "elevation": elev_at(y), "road_node": grid[(r, c)],
            "flood_exposed_share": round(float(np.clip(1.2 - abs(y) / 2500, 0, 1)), 3),
            "needs": {"power": [ss], "water": [ps], "telecom": towers},
        })
    for k, d in enumerate(districts):
        d["needs"]["health"] = sorted({hospitals[k % len(hospitals)], hospitals[(k + 1) % len(hospitals)]})
    half = rows * spacing / 2
    zones = [{"id": "floodplain", "name": "Flood plain", "kind": "flood_plain",
              "polygon": [{"x": -spacing, "y": -min(half, 2500.0)}, {"x": width, "y": -min(half, 2500.0)},
                          {"x": width, "y": min(half, 2500.0)}, {"x": -spacing, "y": min(half, 2500.0)}]}]
    data = {
        "format": FORMAT, "id": f"synthetic-{n_assets}-{seed}", "name": f"Synthetic city ({n_assets} assets)",
        "river": {"name": "Synthetic river", "gauge_location": {"x": 0.0, "y": 0.0}, "datum": 1.0},
        "zones": zones, "districts": districts, "assets": assets,
        "roads": {"nodes": road_nodes, "edges": road_edges},
    }
    return parse_city(data, path=f"<synthetic {n_assets}>")
