"""The city model: districts, assets, dependencies and roads as plain graphs plus functions.

A city is untimed and deterministic: it answers "which assets and districts are served if
these assets are damaged and these backups are spent", "who depends on this asset" and
"how long does a crew drive from here to there".  Time and randomness live in the engine.

File format (``format: scro-city/1``, YAML for hand-written cities, networkx node-link JSON
for generated ones) is documented in ``city_models/README.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import CityModelError, Problem, YamlError
from .yamlio import Loaded, load_yaml, problems_from_pydantic

__all__ = [
    "ASSET_TYPES",
    "DEFAULT_SUPPLIES",
    "DISTRICT_SERVICES",
    "SERVICES",
    "AssetSpec",
    "Backup",
    "City",
    "CityModel",
    "DistrictSpec",
    "FragilityCurve",
    "Location",
    "RoadEdge",
    "RoadNode",
    "Zone",
    "load_city",
    "parse_city",
    "synthetic",
]

FORMAT = "scro-city/1"

#: Infrastructure the language knows.  ``eoc`` is the emergency operations centre.
ASSET_TYPES: tuple[str, ...] = (
    "power_plant",
    "substation",
    "water_treatment",
    "pumping_station",
    "water_tank",
    "telecom_tower",
    "data_centre",
    "hospital",
    "shelter",
    "fire_station",
    "depot",
    "eoc",
    "bridge",
    "traffic_control",
)
#: Services that flow along dependencies.
SERVICES: tuple[str, ...] = ("power", "water", "telecom", "transport", "health")
#: Services whose loss people feel, counted per district (resilience loss is per service).
DISTRICT_SERVICES: tuple[str, ...] = ("power", "water", "telecom", "health")
#: What an asset supplies when its file does not say.
DEFAULT_SUPPLIES: dict[str, tuple[str, ...]] = {
    "power_plant": ("power",),
    "substation": ("power",),
    "water_treatment": ("water",),
    "pumping_station": ("water",),
    "water_tank": ("water",),
    "telecom_tower": ("telecom",),
    "data_centre": ("telecom",),
    "hospital": ("health",),
    "bridge": ("transport",),
}
#: Assets whose loss endangers life; their downtime is judged on its own.
CRITICAL_TYPES: frozenset[str] = frozenset({"hospital", "water_treatment", "eoc", "shelter", "fire_station"})

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
NonNeg = Annotated[float, Field(ge=0, allow_inf_nan=False, le=1e12)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Location(_Model):
    """A point: ``x``/``y`` in metres, or ``lat``/``lon`` in degrees (projected on load)."""

    x: Finite | None = Field(default=None, ge=-1e8, le=1e8)
    y: Finite | None = Field(default=None, ge=-1e8, le=1e8)
    lat: Finite | None = Field(default=None, ge=-90, le=90)
    lon: Finite | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _one_system(self) -> Location:
        xy = self.x is not None and self.y is not None
        ll = self.lat is not None and self.lon is not None
        if xy == ll:
            raise ValueError("give either x and y (metres) or lat and lon (degrees)")
        return self


class Backup(_Model):
    """A local supply that bridges a lost service for a limited time."""

    kind: Literal["none", "generator", "battery", "tank", "ups"] = "none"
    hours: NonNeg = 0.0
    #: services it bridges; a generator or battery bridges power, a tank bridges water.
    services: tuple[Literal["power", "water", "telecom"], ...] | None = None

    def bridged(self) -> tuple[str, ...]:
        if self.kind == "none" or self.hours <= 0:
            return ()
        if self.services is not None:
            return self.services
        return ("water",) if self.kind == "tank" else ("power",)


class FragilityCurve(_Model):
    """Lognormal fragility: P(damage >= state | x) = Phi(ln(x/median)/beta)."""

    median: float = Field(gt=0, le=1e6, allow_inf_nan=False)
    beta: float = Field(gt=0, le=5, allow_inf_nan=False)
    state: Literal["degraded", "failed"] = "failed"


Hazard = Literal["flood", "earthquake", "heatwave", "storm", "cyber", "surge"]


class DistrictSpec(_Model):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    population: int = Field(ge=0, le=50_000_000)
    vulnerable_share: float = Field(ge=0, le=1, allow_inf_nan=False)
    location: Location
    elevation: Finite = Field(default=0.0, ge=-500, le=9000)
    #: share of the district's people living below the flood line's reach (0..1).
    flood_exposed_share: float = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)
    road_node: Id | None = None
    zones: tuple[Id, ...] = ()
    needs: dict[Literal["power", "water", "telecom", "transport", "health"], tuple[Id, ...]] = Field(
        default_factory=dict
    )


class AssetSpec(_Model):
    id: Id
    type: Literal[
        "power_plant", "substation", "water_treatment", "pumping_station", "water_tank", "telecom_tower",
        "data_centre", "hospital", "shelter", "fire_station", "depot", "eoc", "bridge", "traffic_control",
    ]
    name: str = Field(min_length=1, max_length=200)
    location: Location
    elevation: Finite = Field(default=0.0, ge=-500, le=9000)
    road_node: Id
    #: type-dependent: MW for power, m3/h for water, beds for hospitals, people for shelters.
    capacity: NonNeg = 0.0
    backup: Backup = Backup()
    criticality: int = Field(default=3, ge=1, le=5)
    supplies: tuple[Literal["power", "water", "telecom", "transport", "health"], ...] | None = None
    needs: dict[Literal["power", "water", "telecom", "transport", "health"], tuple[Id, ...]] = Field(
        default_factory=dict
    )
    zones: tuple[Id, ...] = ()
    #: metres of flood defence already in place (raises the depth it takes to flood it).
    flood_protection: NonNeg = 0.0
    fragility: dict[Hazard, FragilityCurve | tuple[FragilityCurve, ...]] = Field(default_factory=dict)

    def supplied(self) -> tuple[str, ...]:
        return self.supplies if self.supplies is not None else DEFAULT_SUPPLIES.get(self.type, ())


class RoadNode(_Model):
    id: Id
    location: Location
    elevation: Finite = Field(default=0.0, ge=-500, le=9000)


class RoadEdge(_Model):
    source: Id = Field(alias="from")
    target: Id = Field(alias="to")
    length_m: float = Field(gt=0, le=1e7, allow_inf_nan=False)
    speed_kmh: float = Field(default=40.0, gt=0, le=200, allow_inf_nan=False)
    bridge: Id | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)


class Roads(_Model):
    nodes: tuple[RoadNode, ...] = Field(min_length=1)
    edges: tuple[RoadEdge, ...] = ()


class Zone(_Model):
    """A named area (flood plain, old town...) as a polygon of x/y or lat/lon points."""

    id: Id
    name: str = ""
    kind: Literal["flood_plain", "coastal", "urban", "industrial", "other"] = "other"
    polygon: tuple[Location, ...] = Field(min_length=3)


class River(_Model):
    """The river gauge that flood scenarios drive: stage 0 m is at ``datum`` elevation."""

    name: str = "river"
    gauge_location: Location
    datum: Finite = Field(ge=-500, le=9000)
    #: water surface falls this many metres per km downstream along ``flow_axis``.
    slope_m_per_km: float = Field(default=0.0, ge=0, le=50, allow_inf_nan=False)
    flow_axis: Literal["x", "-x", "y", "-y"] = "x"


class CityModel(_Model):
    """The whole city file, validated field by field (cross-checks in :func:`cross_check`)."""

    format: Literal["scro-city/1"] = FORMAT
    id: Id
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    river: River | None = None
    zones: tuple[Zone, ...] = ()
    districts: tuple[DistrictSpec, ...] = Field(min_length=1)
    assets: tuple[AssetSpec, ...] = Field(min_length=1)
    roads: Roads


# --------------------------------------------------------------------------------------------
# Cross-checks: references resolve, ids unique, supply chains have sources.


def cross_check(model: CityModel) -> list[Problem]:
    """Problems that need the whole file: duplicate ids, dangling references, sourceless cycles.

    Each problem's ``field`` is a tuple-path string; callers add file and line.
    """
    out: list[tuple[tuple[Any, ...], str]] = []
    road_ids = [n.id for n in model.roads.nodes]
    road_set = set(road_ids)
    zone_ids = {z.id for z in model.zones}

    def dup(kind: str, items: Sequence[Any], *key: str) -> None:
        seen: dict[str, int] = {}
        for i, it in enumerate(items):
            if it.id in seen:
                out.append(((*key, i, "id"), f"duplicate {kind} id {it.id!r} (first at {_fp(key)}[{seen[it.id]}])"))
            else:
                seen[it.id] = i

    dup("district", model.districts, "districts")
    dup("asset", model.assets, "assets")
    dup("road node", model.roads.nodes, "roads", "nodes")
    dup("zone", model.zones, "zones")
    asset_by_id = {a.id: a for a in model.assets}
    district_ids = {d.id for d in model.districts}
    for i, n in enumerate(model.roads.nodes):
        if n.id in asset_by_id or n.id in district_ids:
            out.append((("roads", "nodes", i, "id"), f"id {n.id!r} is used by an asset or district too; ids must be unique"))
    for i, d in enumerate(model.districts):
        if d.id in asset_by_id:
            out.append((("districts", i, "id"), f"id {d.id!r} is used by an asset too; ids must be unique"))
    for key, items in (("districts", model.districts), ("assets", model.assets)):
        for i, it in enumerate(items):
            if it.road_node is not None and it.road_node not in road_set:
                out.append(((key, i, "road_node"), f"unknown road node {it.road_node!r}"))
            for z in it.zones:
                if z not in zone_ids:
                    out.append(((key, i, "zones"), f"unknown zone {z!r}"))
            for service, suppliers in it.needs.items():
                if not suppliers:
                    out.append(((key, i, "needs", service), "list at least one supplier"))
                for s in suppliers:
                    sup = asset_by_id.get(s)
                    if sup is None:
                        out.append(((key, i, "needs", service), f"unknown supplier asset {s!r}"))
                    elif s == it.id:
                        out.append(((key, i, "needs", service), "an asset cannot supply itself"))
                    elif service not in sup.supplied():
                        out.append(((key, i, "needs", service),
                                    f"{s!r} is a {sup.type} and does not supply {service} "
                                    f"(it supplies: {', '.join(sup.supplied()) or 'nothing'})"))
    for i, e in enumerate(model.roads.edges):
        for end, val in (("from", e.source), ("to", e.target)):
            if val not in road_set:
                out.append((("roads", "edges", i, end), f"unknown road node {val!r}"))
        if e.source == e.target:
            out.append((("roads", "edges", i), "a road cannot start and end at the same node"))
        if e.bridge is not None:
            b = asset_by_id.get(e.bridge)
            if b is None:
                out.append((("roads", "edges", i, "bridge"), f"unknown bridge asset {e.bridge!r}"))
            elif b.type != "bridge":
                out.append((("roads", "edges", i, "bridge"), f"{e.bridge!r} is a {b.type}, not a bridge"))
    if not out:
        out.extend(_sourceless_cycles(model))
    return [Problem("", None, _fp(loc), msg) for loc, msg in out] if out else []


def _fp(loc: tuple[Any, ...]) -> str:
    from .yamlio import field_path

    return field_path(loc)


def _sourceless_cycles(model: CityModel) -> list[tuple[tuple[Any, ...], str]]:
    """A same-service chain that loops without any source can never carry that service."""
    import networkx as nx

    out: list[tuple[tuple[Any, ...], str]] = []
    index = {a.id: i for i, a in enumerate(model.assets)}
    for service in SERVICES:
        g = nx.DiGraph()
        for a in model.assets:
            if service in a.supplied():
                g.add_node(a.id)
                for s in a.needs.get(service, ()):
                    g.add_edge(s, a.id)
        for comp in nx.strongly_connected_components(g):
            if len(comp) < 2:
                continue
            members = sorted(comp)
            feeds = any(s not in comp for m in members for s in model.assets[index[m]].needs.get(service, ()))
            if not feeds:
                first = members[0]
                out.append((("assets", index[first], "needs", service),
                            f"{service} supply cycle {' -> '.join([*members, first])} has no source: "
                            "no asset outside the loop feeds it"))
    return out


# --------------------------------------------------------------------------------------------
# The runtime city: flat arrays for the engine, graphs for questions.


def _project(model: CityModel) -> tuple[float, float]:
    """Reference lat/lon for an equirectangular projection of lat/lon points to metres."""
    lats: list[float] = []
    lons: list[float] = []
    for loc in _all_locations(model):
        if loc.lat is not None and loc.lon is not None:
            lats.append(loc.lat)
            lons.append(loc.lon)
    return (float(np.mean(lats)), float(np.mean(lons))) if lats else (0.0, 0.0)


def _all_locations(model: CityModel) -> Iterable[Location]:
    for d in model.districts:
        yield d.location
    for a in model.assets:
        yield a.location
    for n in model.roads.nodes:
        yield n.location
    for z in model.zones:
        yield from z.polygon
    if model.river is not None:
        yield model.river.gauge_location


def _xy(loc: Location, ref: tuple[float, float]) -> tuple[float, float]:
    if loc.x is not None and loc.y is not None:
        return float(loc.x), float(loc.y)
    r = 6_371_000.0
    assert loc.lat is not None and loc.lon is not None
    x = math.radians(loc.lon - ref[1]) * r * math.cos(math.radians(ref[0]))
    y = math.radians(loc.lat - ref[0]) * r
    return x, y


def _points_in_polygon(px: np.ndarray, py: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """Even-odd ray casting, vectorised over points."""
    inside = np.zeros(px.shape, dtype=bool)
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        cond = (y1 > py) != (y2 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xint = (x2 - x1) * (py - y1) / (y2 - y1) + x1
        inside ^= cond & (px < xint)
    return inside


@dataclass(frozen=True)
class Served:
    """Answer of :meth:`City.served`: per asset working or not; per district, served services."""

    assets: dict[str, bool]
    districts: dict[str, dict[str, bool]]


class City:
    """A validated city with index-based arrays (for the engine) and networkx graphs.

    Build one with :func:`load_city`, :func:`parse_city` or :func:`synthetic`.
    """

    def __init__(self, model: CityModel) -> None:
        self.model = model
        self.id = model.id
        self.name = model.name
        ref = _project(model)
        self.asset_ids: list[str] = [a.id for a in model.assets]
        self.district_ids: list[str] = [d.id for d in model.districts]
        self.road_ids: list[str] = [n.id for n in model.roads.nodes]
        self.asset_index = {a: i for i, a in enumerate(self.asset_ids)}
        self.district_index = {d: i for i, d in enumerate(self.district_ids)}
        self.road_index = {r: i for i, r in enumerate(self.road_ids)}
        na, nd = len(self.asset_ids), len(self.district_ids)
        self.n_assets, self.n_districts = na, nd

        axy = np.array([_xy(a.location, ref) for a in model.assets], dtype=float).reshape(na, 2)
        dxy = np.array([_xy(d.location, ref) for d in model.districts], dtype=float).reshape(nd, 2)
        rxy = np.array([_xy(n.location, ref) for n in model.roads.nodes], dtype=float).reshape(-1, 2)
        self.asset_xy, self.district_xy, self.road_xy = axy, dxy, rxy
        self.asset_type = np.array([a.type for a in model.assets], dtype=object)
        self.type_names: list[str] = [a.type for a in model.assets]
        self.asset_elev = np.array([a.elevation for a in model.assets], dtype=float)
        self.asset_protection = np.array([a.flood_protection for a in model.assets], dtype=float)
        self.asset_crit = np.array([a.criticality for a in model.assets], dtype=np.int64)
        self.asset_capacity = np.array([a.capacity for a in model.assets], dtype=float)
        self.asset_road = np.array([self.road_index[a.road_node] for a in model.assets], dtype=np.int64)
        self.backup_hours = np.array([a.backup.hours if a.backup.bridged() else 0.0 for a in model.assets])
        self.backup_services: list[tuple[str, ...]] = [a.backup.bridged() for a in model.assets]
        self.supplies: list[tuple[str, ...]] = [a.supplied() for a in model.assets]
        self.district_pop = np.array([d.population for d in model.districts], dtype=np.int64)
        self.district_vuln = np.array([d.vulnerable_share for d in model.districts], dtype=float)
        self.district_elev = np.array([d.elevation for d in model.districts], dtype=float)
        self.district_exposed_share = np.array([d.flood_exposed_share for d in model.districts], dtype=float)
        self.district_road = np.array(
            [self.road_index[d.road_node] if d.road_node else -1 for d in model.districts], dtype=np.int64
        )
        # needs: consumer -> ((service, supplier indices), ...); consumers are assets then districts.
        self.asset_needs: list[tuple[tuple[str, tuple[int, ...]], ...]] = [
            tuple((s, tuple(self.asset_index[x] for x in sup)) for s, sup in sorted(a.needs.items()))
            for a in model.assets
        ]
        self.district_needs: list[tuple[tuple[str, tuple[int, ...]], ...]] = [
            tuple((s, tuple(self.asset_index[x] for x in sup)) for s, sup in sorted(d.needs.items()))
            for d in model.districts
        ]
        # reverse adjacency: supplier -> consumer assets / districts (sorted, no duplicates)
        rev_a: list[set[int]] = [set() for _ in range(na)]
        rev_d: list[set[int]] = [set() for _ in range(na)]
        for c, needs in enumerate(self.asset_needs):
            for _, sup in needs:
                for s in sup:
                    rev_a[s].add(c)
        for c, needs in enumerate(self.district_needs):
            for _, sup in needs:
                for s in sup:
                    rev_d[s].add(c)
        self.asset_dependents: list[tuple[int, ...]] = [tuple(sorted(x)) for x in rev_a]
        self.district_dependents: list[tuple[int, ...]] = [tuple(sorted(x)) for x in rev_d]
        # zones
        self.zone_ids = [z.id for z in model.zones]
        self.zone_polygons = {z.id: np.array([_xy(p, ref) for p in z.polygon]) for z in model.zones}
        self.asset_zones = self._zone_membership(axy, [a.zones for a in model.assets])
        self.district_zones = self._zone_membership(dxy, [d.zones for d in model.districts])
        # roads
        edges = model.roads.edges
        self.edge_u = np.array([self.road_index[e.source] for e in edges], dtype=np.int64)
        self.edge_v = np.array([self.road_index[e.target] for e in edges], dtype=np.int64)
        self.edge_len = np.array([e.length_m for e in edges], dtype=float)
        self.edge_hours = np.array([e.length_m / 1000.0 / e.speed_kmh for e in edges], dtype=float)
        self.edge_bridge = np.array([self.asset_index[e.bridge] if e.bridge else -1 for e in edges], dtype=np.int64)
        road_elev = np.array([n.elevation for n in model.roads.nodes], dtype=float)
        self.road_elev = road_elev
        self.edge_elev = (
            np.minimum(road_elev[self.edge_u], road_elev[self.edge_v]) if len(edges) else np.zeros(0)
        )
        self.edge_xy = (rxy[self.edge_u] + rxy[self.edge_v]) / 2 if len(edges) else np.zeros((0, 2))
        self.edge_zones = self._zone_membership(self.edge_xy, [() for _ in edges])
        by_type: dict[str, list[int]] = {}
        for i, a in enumerate(model.assets):
            by_type.setdefault(a.type, []).append(i)
        #: asset type -> indices of the assets of that type
        self.by_type: dict[str, np.ndarray] = {t: np.array(v, dtype=np.int64) for t, v in sorted(by_type.items())}
        #: critical facilities (life-safety types, or criticality 5), judged on their own downtime
        self.critical: list[int] = [i for i, a in enumerate(model.assets) if a.type in CRITICAL_TYPES - {"shelter",
                                    "fire_station"} or a.criticality >= 5]
        #: per-process memo for derived arrays (e.g. fragility by scenario); never part of the model
        self.memo: dict[Any, Any] = {}
        self.supply_loops, self.loops_touching = self._find_supply_loops()
        self.river = model.river
        self.gauge_xy = _xy(model.river.gauge_location, ref) if model.river else (0.0, 0.0)
        self._graph_cache: dict[str, Any] = {}
        self._hash: str | None = None

    def _find_supply_loops(self) -> tuple[list[tuple[str, tuple[int, ...]]], dict[int, tuple[int, ...]]]:
        """Same-service loops (a ring of substations): members pass on only what reaches them from outside.

        Returns the loops as (service, members) and, per asset, the loops it is in or feeds.
        """
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        loops: list[tuple[str, tuple[int, ...]]] = []
        touching: dict[int, set[int]] = {}
        for service in SERVICES:
            rows, cols = [], []
            for i, needs in enumerate(self.asset_needs):
                if service not in self.supplies[i]:
                    continue
                for s, sup in needs:
                    if s == service:
                        for x in sup:
                            if service in self.supplies[x]:
                                rows.append(x)
                                cols.append(i)
            if not rows:
                continue
            m = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.n_assets, self.n_assets))
            n_comp, labels = connected_components(m, directed=True, connection="strong")
            sizes = np.bincount(labels, minlength=n_comp)
            for comp in np.nonzero(sizes > 1)[0].tolist():
                members = tuple(np.nonzero(labels == comp)[0].tolist())
                lid = len(loops)
                loops.append((service, members))
                for mem in members:
                    touching.setdefault(mem, set()).add(lid)
                    for s, sup in self.asset_needs[mem]:
                        if s == service:
                            for x in sup:
                                touching.setdefault(x, set()).add(lid)
        return loops, {a: tuple(sorted(v)) for a, v in sorted(touching.items())}

    def _zone_membership(self, xy: np.ndarray, declared: Sequence[tuple[str, ...]]) -> dict[str, np.ndarray]:
        """zone id -> boolean mask of members (declared or inside the polygon)."""
        out: dict[str, np.ndarray] = {}
        for zid in self.zone_ids:
            mask = (
                _points_in_polygon(xy[:, 0], xy[:, 1], self.zone_polygons[zid]) if len(xy) else np.zeros(0, bool)
            )
            for i, zs in enumerate(declared):
                if zid in zs:
                    mask[i] = True
            out[zid] = mask
        return out

    # -- identity ---------------------------------------------------------------------
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the model: names the exact city a run used."""
        if self._hash is None:
            text = json.dumps(self.model.model_dump(mode="json", by_alias=True), sort_keys=True, separators=(",", ":"))
            self._hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return self._hash

    @property
    def population(self) -> int:
        return int(self.district_pop.sum())

    # -- untimed questions --------------------------------------------------------------
    def served(self, damaged: Iterable[str] = (), depleted: Iterable[str] = ()) -> Served:
        """Which assets work and which district services are served.

        An asset works while it is undamaged and every service it needs comes from at least
        one working supplier, or from its backup unless that backup is in ``depleted``.
        Cycles are resolved as the greatest fixpoint (everything works unless forced down).

        >>> c = synthetic(30, seed=1)
        >>> all(c.served().assets.values())
        True
        """
        dmg = np.zeros(self.n_assets, bool)
        for a in damaged:
            dmg[self.asset_index[a]] = True
        dep = np.zeros(self.n_assets, bool)
        for a in depleted:
            dep[self.asset_index[a]] = True
        ok = ~dmg
        while True:
            live = {s: self._delivers(s, ok, dep) for s in SERVICES}
            new = ok.copy()
            for i in range(self.n_assets):
                if new[i] and not self._needs_met_live(i, live, dep):
                    new[i] = False
            if (new == ok).all():
                break
            ok = new
        districts = {
            d: {s: any(ok[x] for x in sup) for s, sup in self.district_needs[j]}
            for j, d in enumerate(self.district_ids)
        }
        return Served({a: bool(ok[i]) for i, a in enumerate(self.asset_ids)}, districts)

    def _delivers(self, service: str, ok: np.ndarray, depleted: np.ndarray) -> np.ndarray:
        """Working suppliers of ``service`` that a source reaches (least fixpoint: loops need a feed)."""
        out = np.zeros(self.n_assets, bool)
        cand = [i for i in range(self.n_assets) if ok[i] and service in self.supplies[i]]
        changed = True
        while changed:
            changed = False
            for i in cand:
                if out[i]:
                    continue
                sup = next((s for svc, s in self.asset_needs[i] if svc == service), None)
                if (sup is None or any(out[x] for x in sup)
                        or (service in self.backup_services[i] and not depleted[i])):
                    out[i] = True
                    changed = True
        return out

    def _needs_met_live(self, i: int, live: dict[str, np.ndarray], depleted: np.ndarray) -> bool:
        for service, sup in self.asset_needs[i]:
            if any(live[service][s] for s in sup):
                continue
            if service in self.backup_services[i] and not depleted[i]:
                continue
            return False
        return True

    def _needs_met(self, i: int, ok: np.ndarray, depleted: np.ndarray) -> bool:
        for service, sup in self.asset_needs[i]:
            if any(ok[s] for s in sup):
                continue
            if service in self.backup_services[i] and not depleted[i]:
                continue
            return False
        return True

    def dependency_graph(self) -> Any:
        """networkx DiGraph supplier -> consumer (assets and districts), edge attr ``service``."""
        import networkx as nx

        g = self._graph_cache.get("dep")
        if g is None:
            g = nx.DiGraph()
            for _i, a in enumerate(self.model.assets):
                g.add_node(a.id, kind="asset", type=a.type)
            for d in self.model.districts:
                g.add_node(d.id, kind="district")
            for c, needs in enumerate(self.asset_needs):
                for s, sup in needs:
                    for x in sup:
                        g.add_edge(self.asset_ids[x], self.asset_ids[c], service=s)
            for c, needs in enumerate(self.district_needs):
                for s, sup in needs:
                    for x in sup:
                        g.add_edge(self.asset_ids[x], self.district_ids[c], service=s)
            self._graph_cache["dep"] = g
        return g

    def dependents(self, asset_id: str, transitive: bool = True) -> list[str]:
        """Assets and districts that need ``asset_id``, directly or (default) through others."""
        i = self.asset_index[asset_id]
        if not transitive:
            return [self.asset_ids[c] for c in self.asset_dependents[i]] + [
                self.district_ids[d] for d in self.district_dependents[i]
            ]
        import networkx as nx

        return sorted(nx.descendants(self.dependency_graph(), asset_id))

    def road_graph(self) -> Any:
        """networkx Graph of roads; edge attrs ``length_m``, ``hours``, ``bridge``."""
        import networkx as nx

        g = self._graph_cache.get("road")
        if g is None:
            g = nx.Graph()
            for k, n in enumerate(self.road_ids):
                g.add_node(n, x=float(self.road_xy[k, 0]), y=float(self.road_xy[k, 1]),
                           elevation=float(self.road_elev[k]))
            for k in range(len(self.edge_u)):
                g.add_edge(self.road_ids[self.edge_u[k]], self.road_ids[self.edge_v[k]],
                           length_m=float(self.edge_len[k]), hours=float(self.edge_hours[k]),
                           bridge=self.asset_ids[self.edge_bridge[k]] if self.edge_bridge[k] >= 0 else None)
            self._graph_cache["road"] = g
        return g

    def road_matrix(self, closed: np.ndarray | None = None) -> Any:
        """scipy CSR matrix of travel hours, with ``closed`` edges (boolean mask) removed."""
        from scipy.sparse import csr_matrix

        keep = np.ones(len(self.edge_u), bool) if closed is None else ~closed
        u, v, w = self.edge_u[keep], self.edge_v[keep], self.edge_hours[keep]
        # parallel roads: csr sums duplicates, so keep the fastest of each pair first
        key = np.minimum(u, v) * len(self.road_ids) + np.maximum(u, v)
        order = np.lexsort((w, key))
        first = np.ones(len(order), bool)
        first[1:] = key[order][1:] != key[order][:-1]
        sel = order[first]
        u, v, w = u[sel], v[sel], w[sel]
        n = len(self.road_ids)
        return csr_matrix((np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n))

    def travel_hours(self, sources: Sequence[str] | str, closed: np.ndarray | None = None,
                     limit: float = np.inf) -> np.ndarray:
        """Hours from each source road node to every road node (``inf`` if cut off)."""
        from scipy.sparse.csgraph import dijkstra

        if isinstance(sources, str):
            sources = [sources]
        idx = [self.road_index[s] for s in sources]
        return dijkstra(self.road_matrix(closed), directed=False, indices=idx, limit=limit)

    def travel_time(self, a: str, b: str, closed: np.ndarray | None = None) -> float:
        """Hours by road from node ``a`` to node ``b`` (``inf`` when no route is open)."""
        return float(self.travel_hours(a, closed)[0, self.road_index[b]])

    # -- conversions ----------------------------------------------------------------------
    def to_node_link(self) -> dict[str, Any]:
        """The city as networkx node-link JSON: one graph, nodes tagged ``district``/``asset``/``road``."""
        import networkx as nx

        g = nx.MultiDiGraph(format=FORMAT, id=self.id, name=self.name, description=self.model.description)
        if self.model.river is not None:
            g.graph["river"] = self.model.river.model_dump(mode="json", exclude_none=True)
        if self.model.zones:
            g.graph["zones"] = [z.model_dump(mode="json", exclude_none=True) for z in self.model.zones]
        for d in self.model.districts:
            g.add_node(d.id, role="district", **d.model_dump(mode="json", exclude={"id", "needs"}, exclude_none=True))
        for a in self.model.assets:
            g.add_node(a.id, role="asset", **a.model_dump(mode="json", exclude={"id", "needs"}, exclude_none=True))
        for n in self.model.roads.nodes:
            g.add_node(n.id, role="road", **n.model_dump(mode="json", exclude={"id"}, exclude_none=True))
        for item in (*self.model.assets, *self.model.districts):
            for s, sup in sorted(item.needs.items()):
                for x in sup:
                    g.add_edge(x, item.id, role="dependency", service=s, rank=sup.index(x))
        for k, e in enumerate(self.model.roads.edges):
            data = {"role": "road", "length_m": e.length_m, "speed_kmh": e.speed_kmh, "index": k}
            if e.bridge:
                data["bridge"] = e.bridge
            g.add_edge(e.source, e.target, **data)
        return nx.node_link_data(g, edges="links")

    def to_yaml(self) -> str:
        """The city as a ``scro-city/1`` YAML document."""
        from .yamlio import dump_yaml

        return dump_yaml(self.model.model_dump(mode="json", by_alias=True, exclude_none=True))


def _from_node_link(data: dict[str, Any]) -> dict[str, Any]:
    """Node-link JSON (as written by :meth:`City.to_node_link`) back to the YAML dict shape."""
    g = data.get("graph", {})
    if not isinstance(g, dict) or not isinstance(data.get("nodes", []), list) or not isinstance(
        data.get("links", data.get("edges", [])), list
    ):
        raise CityModelError("node-link JSON needs 'graph' (an object), 'nodes' and 'links' (lists)", field="nodes")
    districts: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    nodes: list[dict[str, Any]] = []
    needs: dict[str, dict[str, list[str]]] = {}
    for n in data.get("nodes", []):
        if not isinstance(n, dict) or "id" not in n:
            raise CityModelError(f"node {n!r} is not an object with an id", field="nodes")
        n = dict(n)
        role = n.pop("role", None)
        target = {"district": districts, "asset": assets, "road": nodes}.get(role)
        if target is None:
            raise CityModelError(f"node {n.get('id')!r} has no role (district, asset or road)", field="nodes")
        target.append(n)
    edges: list[tuple[int, dict[str, Any]]] = []
    ranked: dict[str, dict[str, list[tuple[int, str]]]] = {}
    for k, e in enumerate(data.get("links", data.get("edges", []))):
        if not isinstance(e, dict):
            raise CityModelError(f"link {k} is not an object", field=f"links[{k}]")
        e = dict(e)
        role = e.pop("role", None)
        e.pop("key", None)
        try:
            if role == "dependency":
                ranked.setdefault(e["target"], {}).setdefault(e["service"], []).append((e.get("rank", k), e["source"]))
            elif role == "road":
                edge = {"from": e["source"], "to": e["target"], "length_m": e["length_m"]}
                for key in ("speed_kmh", "bridge"):
                    if key in e:
                        edge[key] = e[key]
                edges.append((e.get("index", k), edge))
        except KeyError as exc:
            raise CityModelError(f"{role} link {k} has no {exc.args[0]!r}", field=f"links[{k}]") from None
    for tgt, by_service in ranked.items():
        needs[tgt] = {s: [x for _, x in sorted(v, key=lambda t: t[0])] for s, v in by_service.items()}
    for item in (*districts, *assets):
        if item["id"] in needs:
            item["needs"] = needs[item["id"]]
    out: dict[str, Any] = {k: g[k] for k in ("format", "id", "name", "description", "river", "zones") if k in g}
    out.update(districts=districts, assets=assets,
               roads={"nodes": nodes, "edges": [e for _, e in sorted(edges, key=lambda t: t[0])]})
    return out


def parse_city(data: dict[str, Any], loaded: Loaded | None = None, path: str = "<city>") -> City:
    """Validate a plain dict (from YAML or JSON) and build a :class:`City`."""
    if loaded is None:
        loaded = Loaded(data=data, path=path)
    if not isinstance(data, dict):
        raise CityModelError("a city file must be a mapping of fields (format, id, districts, ...)",
                             path=loaded.path, line=1)
    try:
        model = CityModel.model_validate(data)
    except ValidationError as exc:
        raise CityModelError(problems=problems_from_pydantic(exc, loaded)) from None
    problems = cross_check(model)
    if problems:
        located = []
        for p in problems:
            loc = _loc_from_field(p.field)
            located.append(Problem(loaded.path, loaded.line_of(loc), p.field, p.message))
        raise CityModelError(problems=sorted(located, key=lambda p: (p.line or 0, p.field)))
    return City(model)


def _loc_from_field(field: str) -> tuple[Any, ...]:
    import re

    out: list[Any] = []
    for name, idx in re.findall(r"([^.\[\]]+)|\[(\d+)\]", field):
        out.append(int(idx) if idx else name)
    # roads.edges lives under roads in the file
    return tuple(out)


def load_city(path: str | Path) -> City:
    """Load a city from ``.yaml``/``.yml`` or node-link ``.json``; raise errors with file:line."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        from .yamlio import read_text

        try:
            text, label = read_text(p)
        except YamlError as exc:
            raise CityModelError(problems=exc.problems) from None
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CityModelError(f"malformed JSON: {exc.msg}", path=label, line=exc.lineno) from None
        except (ValueError, RecursionError) as exc:
            raise CityModelError(f"malformed JSON: {exc}", path=label) from None
        if not isinstance(raw, dict):
            raise CityModelError("node-link JSON must be an object", path=label, line=1)
        try:
            data = _from_node_link(raw)
        except CityModelError as exc:
            raise CityModelError(problems=[Problem(label, None, p.field, p.message) for p in exc.problems]) from None
        return parse_city(data, Loaded(data=None, path=label))
    try:
        loaded = load_yaml(p)
    except YamlError as exc:
        raise CityModelError(problems=exc.problems) from None
    return parse_city(loaded.data, loaded)


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
