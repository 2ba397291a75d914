"""The runtime city: flat arrays for the engine, networkx graphs and scipy road matrices for questions."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .model import (
    DISTRICT_SERVICES,
    FORMAT,
    CityModel,
    Location,
)

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

    def __init__(self, model: CityModel, *, source_sha256: str | None = None) -> None:
        self._model: CityModel | None = model
        self._model_json: bytes | None = None
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
        #: asset type -> what the city says of it (built-in types, then the city's own)
        self.type_specs = types = model.type_specs()
        #: every service the city knows (built-in, then declared), in order
        self.services: tuple[str, ...] = model.service_names()
        #: asset type -> the crew skill that repairs it
        self.type_skill: dict[str, str] = {t: s.skill for t, s in types.items()}
        self.supplies: list[tuple[str, ...]] = [a.supplied(types) for a in model.assets]
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
        # district -> {service: share of its people each supplier feeds, in the order of district_needs};
        # a service absent here is served whole while any supplier works
        self.district_shares: list[dict[str, tuple[float, ...]]] = [
            {s: tuple(float(d.shares[s][self.asset_ids[x]]) for x in sup) for s, sup in needs if s in d.shares}
            for d, needs in zip(model.districts, self.district_needs, strict=True)
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
        # supplier -> flat (district, service) slots d * 4 + k, k indexing DISTRICT_SERVICES: whose service it feeds
        rev_ds: list[set[int]] = [set() for _ in range(na)]
        for c, needs in enumerate(self.district_needs):
            for s, sup in needs:
                if s in DISTRICT_SERVICES:
                    for x in sup:
                        rev_ds[x].add(c * len(DISTRICT_SERVICES) + DISTRICT_SERVICES.index(s))
        self.district_service_dependents: list[tuple[int, ...]] = [tuple(sorted(x)) for x in rev_ds]
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
        #: how the event log names a road edge: "source~target"
        self.edge_names: list[str] = [f"{e.source}~{e.target}" for e in edges]
        by_type: dict[str, list[int]] = {}
        for i, a in enumerate(model.assets):
            by_type.setdefault(a.type, []).append(i)
        #: asset type -> indices of the assets of that type
        self.by_type: dict[str, np.ndarray] = {t: np.array(v, dtype=np.int64) for t, v in sorted(by_type.items())}
        #: critical facilities (life-safety types, or criticality 5), judged on their own downtime
        self.critical: list[int] = [i for i, a in enumerate(model.assets) if types[a.type].critical
                                    or a.criticality >= 5]
        #: asset index -> (type, its own fragility curves by hazard), for the assets that override their type's
        self.fragility_overrides: dict[int, tuple[str, dict[str, Any]]] = {
            i: (a.type, dict(a.fragility)) for i, a in enumerate(model.assets) if a.fragility}
        #: per-process memo for derived arrays (e.g. fragility by scenario); never part of the model
        self.memo: dict[Any, Any] = {}
        self.supply_loops, self.loops_touching = self._find_supply_loops()
        self.river = model.river
        self.gauge_xy = _xy(model.river.gauge_location, ref) if model.river else (0.0, 0.0)
        self._graph_cache: dict[str, Any] = {}
        self._hash: str | None = source_sha256

    def _find_supply_loops(self) -> tuple[list[tuple[str, tuple[int, ...]]], dict[int, tuple[int, ...]]]:
        """Same-service loops (a ring of substations): members pass on only what reaches them from outside.

        Returns the loops as (service, members) and, per asset, the loops it is in or feeds.
        """
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        loops: list[tuple[str, tuple[int, ...]]] = []
        touching: dict[int, set[int]] = {}
        for service in self.services:
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

    # -- the validated model, and pickling ----------------------------------------------
    @property
    def model(self) -> CityModel:
        """The validated city model (remade from JSON on first use in a process that unpickled the city)."""
        m = self._model
        if m is None:
            assert self._model_json is not None
            m = self._model = CityModel.model_validate_json(self._model_json)
            self._model_json = None
        return m

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the model as its JSON: unpickling 5,000 assets' pydantic objects in every batch worker took
        0.3 s, and a worker only reads the arrays above."""
        state = dict(self.__dict__)
        if state["_model"] is not None:
            state["_model_json"] = self._model.model_dump_json(by_alias=True)  # type: ignore[union-attr]
            state["_model"] = None
        state["_graph_cache"] = {}
        return state

    # -- identity ---------------------------------------------------------------------
    def content_hash(self) -> str:
        """SHA-256 naming the exact city a run used (``city_sha256`` in every log's ``run_start``).

        For a city loaded from a file it is the hash of the file's text, taken once at load (what
        ``sha256sum`` prints for a file without a byte-order mark), as a scenario's is; a city
        built in code (:func:`synthetic`, :func:`parse_city` on a dict) falls back to
        :meth:`model_hash`, made on first use.
        """
        if self._hash is None:
            self._hash = self.model_hash()
        return self._hash

    def model_hash(self) -> str:
        """SHA-256 of the canonical JSON of the model: equal for the YAML and node-link JSON of one city.

        Serialising the whole model costs about a second at 50,000 assets, so runs name a loaded
        city by its file's hash instead (:meth:`content_hash`); runs stored by engine 0.3.0 and
        earlier named every city by this hash.
        """
        data = self.model.model_dump(mode="json", by_alias=True)
        for declared in ("asset_types", "services"):  # left out when empty: older cities keep their hash
            if not data.get(declared):
                data.pop(declared, None)
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def population(self) -> int:
        return int(self.district_pop.sum())

    # -- untimed questions --------------------------------------------------------------
    def served(self, damaged: Iterable[str] = (), depleted: Iterable[str] = ()) -> Served:
        """Which assets work and which district services are served.

        An asset works while it is undamaged and every service it needs comes from at least
        one working supplier, or from its backup unless that backup is in ``depleted``.
        Cycles are resolved as the greatest fixpoint (everything works unless forced down).

        >>> from scro_sim.city import synthetic
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
            live = {s: self._delivers(s, ok, dep) for s in self.services}
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
        """scipy CSR matrix of travel hours, with ``closed`` edges (boolean mask) removed; symmetric (each road
        both ways, the fastest of parallel roads)."""
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
        from ..yamlio import dump_yaml

        return dump_yaml(self.model.model_dump(mode="json", by_alias=True, exclude_none=True))
