"""The city file format (scro-city/1) as pydantic models, and the checks that need the whole file."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import N_, Count, Msg, Problem, did_you_mean

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
#: Which crew skill repairs which asset type (``general`` crews repair anything, slower).
SKILL_FOR_TYPE: dict[str, str] = {
    "power_plant": "power", "substation": "power",
    "water_treatment": "water", "pumping_station": "water", "water_tank": "water",
    "telecom_tower": "telecom", "data_centre": "telecom",
    "hospital": "health", "bridge": "transport", "traffic_control": "transport",
    "shelter": "general", "fire_station": "general", "depot": "general", "eoc": "general",
}
#: the most asset types and services a city may declare beyond the built-in ones
MAX_DECLARED = 200

#: Upper bounds on the counts and sizes of a city file (city_models/README.md, "Limits"): above the
#: 200,000-asset synthetic city (scro_sim.city.synthetic), and bounded work to load and run.
MAX_ASSETS = 250_000
MAX_DISTRICTS = 50_000
MAX_ROAD_NODES = 250_000
MAX_ROAD_EDGES = 1_000_000
MAX_ZONES = 1_000
#: points in one zone's polygon, and in all zones together: every point is tested against every
#: asset, district and road, so the total is what costs.
MAX_POLYGON = 10_000
MAX_POLYGON_TOTAL = 20_000
MAX_SUPPLIERS = 50  # assets listed for one service in needs
MAX_ZONE_REFS = 100  # zones listed by one asset or district
MAX_CURVES = 4  # fragility curves for one hazard: one per damage state of the four-state scale
MAX_NAME = 200
MAX_DESCRIPTION = 20_000

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Suppliers = Annotated[tuple[Id, ...], Field(max_length=MAX_SUPPLIERS)]
ZoneRefs = Annotated[tuple[Id, ...], Field(max_length=MAX_ZONE_REFS)]
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
            raise ValueError(Msg(N_("give either x and y (metres) or lat and lon (degrees)")))
        return self


class Backup(_Model):
    """A local supply that bridges a lost service for a limited time."""

    kind: Literal["none", "generator", "battery", "tank", "ups"] = "none"
    hours: NonNeg = 0.0
    #: services it bridges; a generator or battery bridges power, a tank bridges water.
    services: tuple[Literal["power", "water", "telecom"], ...] | None = Field(default=None, max_length=3)

    def bridged(self) -> tuple[str, ...]:
        if self.kind == "none" or self.hours <= 0:
            return ()
        if self.services is not None:
            return self.services
        return ("water",) if self.kind == "tank" else ("power",)


#: the two damage states every default curve uses: ``degraded`` (out of service, a quick fix) and
#: ``failed`` (a real repair)
TWO_STATES: tuple[str, ...] = ("degraded", "failed")
#: the four HAZUS damage states a lecturer may use instead, from the least to the worst
FOUR_STATES: tuple[str, ...] = ("slight", "moderate", "extensive", "complete")


class FragilityCurve(_Model):
    """Lognormal fragility: P(damage >= state | x) = Phi(ln(x/median)/beta)."""

    median: float = Field(gt=0, le=1e6, allow_inf_nan=False)
    beta: float = Field(gt=0, le=5, allow_inf_nan=False)
    state: Literal["degraded", "failed", "slight", "moderate", "extensive", "complete"] = "failed"


def curve_problems(curves: FragilityCurve | Sequence[FragilityCurve]) -> list[str]:
    """What is wrong with one asset type's (or asset's) curves for one hazard: a state named twice
    (the second would silently win), or the two-state and four-state scales mixed."""
    items = (curves,) if isinstance(curves, FragilityCurve) else tuple(curves)
    out: list[str] = []
    seen: list[str] = []
    for c in items:
        if c.state in seen:
            out.append(Msg(N_("two curves name the damage state {state!r}; give each state one curve (a curve "
                              "without 'state' is 'failed')"), state=c.state))
        seen.append(c.state)
    if set(seen) & set(TWO_STATES) and set(seen) & set(FOUR_STATES):
        out.append(Msg(N_("curves mix the damage states {two} with {four}; use one scale"), two=", ".join(TWO_STATES),
                       four=", ".join(FOUR_STATES)))
    return out


#: a hazard's name in a fragility table: checked against the hazard registry (``engine/hazards``)
#: by the loaders, which hand its names to :func:`cross_check`
Hazard = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


class DistrictSpec(_Model):
    id: Id
    name: str = Field(min_length=1, max_length=MAX_NAME)
    population: int = Field(ge=0, le=50_000_000)
    vulnerable_share: float = Field(ge=0, le=1, allow_inf_nan=False)
    location: Location
    elevation: Finite = Field(default=0.0, ge=-500, le=9000)
    #: share of the district's people living below the flood line's reach (0..1).
    flood_exposed_share: float = Field(default=1.0, ge=0, le=1, allow_inf_nan=False)
    road_node: Id | None = None
    zones: ZoneRefs = ()
    #: service -> its suppliers (a built-in service or one the city declares under ``services``)
    needs: dict[Id, Suppliers] = Field(default_factory=dict)
    #: service -> {supplier: share of the district's people it feeds}; the shares of a service
    #: add up to 1 and name every supplier in ``needs``.  A service without shares is served
    #: whole as long as any one of its suppliers works (redundant feeds).
    shares: dict[Id, dict[Id, Share]] = Field(default_factory=dict)


class AssetSpec(_Model):
    id: Id
    #: a built-in asset type (ASSET_TYPES) or one the city declares under ``asset_types``
    type: Id
    name: str = Field(min_length=1, max_length=MAX_NAME)
    location: Location
    elevation: Finite = Field(default=0.0, ge=-500, le=9000)
    road_node: Id
    #: type-dependent: MW for power, m3/h for water, beds for hospitals, people for shelters.
    capacity: NonNeg = 0.0
    backup: Backup = Backup()
    criticality: int = Field(default=3, ge=1, le=5)
    supplies: tuple[Id, ...] | None = Field(default=None, max_length=20)
    needs: dict[Id, Suppliers] = Field(default_factory=dict)
    zones: ZoneRefs = ()
    #: metres of flood defence already in place (raises the depth it takes to flood it).
    flood_protection: NonNeg = 0.0
    fragility: dict[Hazard, FragilityCurve | Annotated[tuple[FragilityCurve, ...], Field(max_length=MAX_CURVES)]] = Field(
        default_factory=dict)

    def supplied(self, types: dict[str, AssetTypeSpec] | None = None) -> tuple[str, ...]:
        """The services it supplies: its own list, else its type's (``types``: the city's, see
        :meth:`CityModel.type_specs`)."""
        if self.supplies is not None:
            return self.supplies
        spec = (types or BUILTIN_TYPES).get(self.type)
        return spec.supplies if spec is not None else ()


class AssetTypeSpec(_Model):
    """An asset type a city declares (a port, a gas network, a 911 centre...), or a built-in one it redefines."""

    #: the services an asset of this type supplies when its own entry does not say
    supplies: tuple[Id, ...] = Field(default=(), max_length=20)
    #: the crew skill that repairs it (a crew team's ``skills``; ``general`` crews repair anything, slower)
    skill: Id = "general"
    #: a life-safety facility: its downtime is judged on its own (critical_downtime)
    critical: bool = False
    description: str = Field(default="", max_length=MAX_NAME)


#: today's asset types, what every city knows without declaring them
BUILTIN_TYPES: dict[str, AssetTypeSpec] = {
    t: AssetTypeSpec(supplies=DEFAULT_SUPPLIES.get(t, ()), skill=SKILL_FOR_TYPE[t],
                     critical=t in CRITICAL_TYPES and t not in ("shelter", "fire_station"))
    for t in ASSET_TYPES
}


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
    nodes: tuple[RoadNode, ...] = Field(min_length=1, max_length=MAX_ROAD_NODES)
    edges: tuple[RoadEdge, ...] = Field(default=(), max_length=MAX_ROAD_EDGES)


class Zone(_Model):
    """A named area (flood plain, old town...) as a polygon of x/y or lat/lon points."""

    id: Id
    name: str = Field(default="", max_length=MAX_NAME)
    kind: Literal["flood_plain", "coastal", "urban", "industrial", "other"] = "other"
    polygon: tuple[Location, ...] = Field(min_length=3, max_length=MAX_POLYGON)


class River(_Model):
    """The river gauge that flood scenarios drive: stage 0 m is at ``datum`` elevation."""

    name: str = Field(default="river", max_length=MAX_NAME)
    gauge_location: Location
    datum: Finite = Field(ge=-500, le=9000)
    #: water surface falls this many metres per km downstream along ``flow_axis``.
    slope_m_per_km: float = Field(default=0.0, ge=0, le=50, allow_inf_nan=False)
    flow_axis: Literal["x", "-x", "y", "-y"] = "x"


class CityModel(_Model):
    """The whole city file, validated field by field (cross-checks in :func:`cross_check`)."""

    format: Literal["scro-city/1"] = FORMAT
    id: Id
    name: str = Field(min_length=1, max_length=MAX_NAME)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    river: River | None = None
    zones: tuple[Zone, ...] = Field(default=(), max_length=MAX_ZONES)
    #: asset types beyond the built-in ones (or built-in ones redefined), by name
    asset_types: dict[Id, AssetTypeSpec] = Field(default_factory=dict, max_length=MAX_DECLARED)
    #: services beyond the built-in ones (power, water, telecom, transport, health)
    services: tuple[Id, ...] = Field(default=(), max_length=MAX_DECLARED)
    districts: tuple[DistrictSpec, ...] = Field(min_length=1, max_length=MAX_DISTRICTS)
    assets: tuple[AssetSpec, ...] = Field(min_length=1, max_length=MAX_ASSETS)
    roads: Roads

    def type_specs(self) -> dict[str, AssetTypeSpec]:
        """Every asset type this city knows: the built-in ones, then its own (which win)."""
        if not self.asset_types:
            return BUILTIN_TYPES
        return {**BUILTIN_TYPES, **self.asset_types}

    def service_names(self) -> tuple[str, ...]:
        """Every service this city knows: the built-in ones, then its own, in order."""
        return SERVICES + tuple(s for s in self.services if s not in SERVICES)


# --------------------------------------------------------------------------------------------
# Cross-checks: references resolve, ids unique, supply chains have sources.


def cross_check(model: CityModel, hazards: Sequence[str] | None = None) -> list[Problem]:
    """Problems that need the whole file: duplicate ids, dangling references, sourceless cycles,
    asset types and services nobody declared, and (given the hazard registry's ``hazards``)
    fragility for an unknown hazard.

    Each problem's ``field`` is a field path; :func:`located_problems` adds file and line.
    """
    return [Problem("", None, _fp(loc), msg) for loc, msg in _check(model, hazards)]


def _unknown(what: str, name: str, known: Sequence[str], hint: str) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(known), n=1)
    return Msg(N_("unknown {what} {name!r}{mean}; known: {known}; {hint}"), what=Msg(what), name=name,
               mean=did_you_mean(close), known=", ".join(known), hint=Msg(hint))


def _vocabulary(model: CityModel, hazards: Sequence[str] | None) -> list[tuple[tuple[Any, ...], str]]:
    """Asset types, services and hazard names the file uses but nobody declared."""
    out: list[tuple[tuple[Any, ...], str]] = []
    types = model.type_specs()
    services = model.service_names()
    type_hint = N_("declare it under asset_types")
    svc_hint = N_("declare it under services")
    for name, spec in model.asset_types.items():
        for k, s in enumerate(spec.supplies):
            if s not in services:
                out.append((("asset_types", name, "supplies", k), _unknown(N_("service"), s, services, svc_hint)))
    for k, s in enumerate(model.services):
        if s in SERVICES:
            out.append((("services", k), Msg(N_("{name!r} is a built-in service; list only new ones"), name=s)))
    for key, items in (("districts", model.districts), ("assets", model.assets)):
        for i, it in enumerate(items):
            if key == "assets":
                if it.type not in types:
                    out.append((("assets", i, "type"), _unknown(N_("asset type"), it.type, list(types), type_hint)))
                for k, s in enumerate(it.supplies or ()):
                    if s not in services:
                        out.append((("assets", i, "supplies", k), _unknown(N_("service"), s, services, svc_hint)))
                for hz, curves in it.fragility.items():
                    if hazards is not None and hz not in hazards:
                        out.append((("assets", i, "fragility", hz), _unknown(N_("hazard"), hz, hazards,
                                                                              N_("see scenarios/README.md"))))
                    out.extend((("assets", i, "fragility", hz), msg) for msg in curve_problems(curves))
            for s in it.needs:
                if s not in services:
                    out.append(((key, i, "needs", s), _unknown(N_("service"), s, services, svc_hint)))
    return out


def _check(model: CityModel, hazards: Sequence[str] | None = None) -> list[tuple[tuple[Any, ...], str]]:
    """The cross-check problems as (location in the file's data, message)."""
    out: list[tuple[tuple[Any, ...], str]] = _vocabulary(model, hazards)
    if out:
        return out
    types = model.type_specs()
    road_ids = [n.id for n in model.roads.nodes]
    road_set = set(road_ids)
    zone_ids = {z.id for z in model.zones}

    def dup(kind: str, items: Sequence[Any], *key: str) -> None:
        seen: dict[str, int] = {}
        for i, it in enumerate(items):
            if it.id in seen:
                out.append(((*key, i, "id"), Msg(N_("duplicate {kind} id {id!r} (first at {first})"), kind=Msg(kind),
                                                 id=it.id, first=f"{_fp(key)}[{seen[it.id]}]")))
            else:
                seen[it.id] = i

    points = 0
    for i, z in enumerate(model.zones):
        points += len(z.polygon)
        if points > MAX_POLYGON_TOTAL:
            out.append((("zones", i, "polygon"), Msg(N_("the zones' polygons have more than {limit} points together; "
                                                        "simplify them"), limit=Count(MAX_POLYGON_TOTAL))))
            break
    dup(N_("district"), model.districts, "districts")
    dup(N_("asset"), model.assets, "assets")
    dup(N_("road node"), model.roads.nodes, "roads", "nodes")
    dup(N_("zone"), model.zones, "zones")
    asset_by_id = {a.id: a for a in model.assets}
    district_ids = {d.id for d in model.districts}
    for i, n in enumerate(model.roads.nodes):
        if n.id in asset_by_id or n.id in district_ids:
            out.append((("roads", "nodes", i, "id"), Msg(N_("id {id!r} is used by an asset or district too; ids must be "
                                                            "unique"), id=n.id)))
    for i, d in enumerate(model.districts):
        if d.id in asset_by_id:
            out.append((("districts", i, "id"), Msg(N_("id {id!r} is used by an asset too; ids must be unique"), id=d.id)))
    for key, items in (("districts", model.districts), ("assets", model.assets)):
        for i, it in enumerate(items):
            if it.road_node is not None and it.road_node not in road_set:
                out.append(((key, i, "road_node"), Msg(N_("unknown road node {id!r}"), id=it.road_node)))
            for z in it.zones:
                if z not in zone_ids:
                    out.append(((key, i, "zones"), Msg(N_("unknown zone {id!r}"), id=z)))
            for service, suppliers in it.needs.items():
                if not suppliers:
                    out.append(((key, i, "needs", service), Msg(N_("list at least one supplier"))))
                for s in suppliers:
                    sup = asset_by_id.get(s)
                    if sup is None:
                        out.append(((key, i, "needs", service), Msg(N_("unknown supplier asset {id!r}"), id=s)))
                    elif s == it.id:
                        out.append(((key, i, "needs", service), Msg(N_("an asset cannot supply itself"))))
                    elif service not in sup.supplied(types):
                        supplied = ", ".join(sup.supplied(types))
                        out.append(((key, i, "needs", service),
                                    Msg(N_("{id!r} is a {type} and does not supply {service} (it supplies: {supplied})"),
                                        id=s, type=sup.type, service=service,
                                        supplied=supplied or Msg(N_("nothing")))))
    for i, d in enumerate(model.districts):
        for service, shares in d.shares.items():
            loc = ("districts", i, "shares", service)
            sup = d.needs.get(service)
            if sup is None:
                out.append((loc, Msg(N_("shares for {service}, but the district does not need {service}"),
                                     service=service)))
                continue
            for s in shares:
                if s not in sup:
                    out.append((loc, Msg(N_("{id!r} is not one of the district's {service} suppliers ({suppliers})"),
                                         id=s, service=service, suppliers=", ".join(sup))))
            missing = [s for s in sup if s not in shares]
            if missing:
                out.append((loc, Msg(N_("give every {service} supplier a share; missing: {missing}"), service=service,
                                     missing=", ".join(missing))))
            total = math.fsum(shares.values())
            if abs(total - 1.0) > 1e-6:
                out.append((loc, Msg(N_("the shares add up to {total}, not 1"), total=f"{total:g}")))
    for i, e in enumerate(model.roads.edges):
        for end, val in (("from", e.source), ("to", e.target)):
            if val not in road_set:
                out.append((("roads", "edges", i, end), Msg(N_("unknown road node {id!r}"), id=val)))
        if e.source == e.target:
            out.append((("roads", "edges", i), Msg(N_("a road cannot start and end at the same node"))))
        if e.bridge is not None:
            b = asset_by_id.get(e.bridge)
            if b is None:
                out.append((("roads", "edges", i, "bridge"), Msg(N_("unknown bridge asset {id!r}"), id=e.bridge)))
            elif b.type != "bridge":
                out.append((("roads", "edges", i, "bridge"), Msg(N_("{id!r} is a {type}, not a bridge"), id=e.bridge,
                                                                 type=b.type)))
    if not out:
        out.extend(_sourceless_cycles(model))
    return out


def _fp(loc: tuple[Any, ...]) -> str:
    from ..yamlio import field_path

    return field_path(loc)


def _sourceless_cycles(model: CityModel) -> list[tuple[tuple[Any, ...], str]]:
    """A same-service chain that loops without any source can never carry that service."""
    import networkx as nx

    out: list[tuple[tuple[Any, ...], str]] = []
    index = {a.id: i for i, a in enumerate(model.assets)}
    types = model.type_specs()
    for service in model.service_names():
        g = nx.DiGraph()
        for a in model.assets:
            if service in a.supplied(types):
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
                            Msg(N_("{service} supply cycle {chain} has no source: no asset outside the loop feeds it"),
                                service=service, chain=" -> ".join([*members, first]))))
    return out
