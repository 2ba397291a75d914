"""The city map as a Vega-Lite specification: drawn by the reader's browser, not on the server.

:func:`city_map_spec` says what :func:`scro_sim.report.figures.city_map` draws (roads, flood
plains, districts coloured by the share served, assets by type and state, crews) as data and
marks; a browser renders it (the app's play page passes it to ``st.vega_lite_chart``), so the
server only builds a small dict instead of rasterising a figure (about a CPU-second each time).
Everything about the city that does not change during a game is built once per city and
language and shared (:func:`_static`, a bounded cache); a call adds only the current states.
Coordinates are the city's metres, drawn with an identity projection, north up, aspect kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from ..city import City
from ..vocabulary import asset_type, word
from .figures import STATE_COLOURS

__all__ = ["STATE_ORDER", "VEGA_SHAPES", "city_map_spec"]

#: asset states in the legend's order
STATE_ORDER: tuple[str, ...] = ("up", "backup", "overloaded", "down", "damaged")
#: asset type -> Vega symbol (the figure's matplotlib markers, as near as Vega's shapes go)
VEGA_SHAPES: dict[str, str] = {
    "power_plant": "square", "substation": "diamond", "water_treatment": "circle", "pumping_station": "circle",
    "water_tank": "circle", "telecom_tower": "triangle-up", "data_centre": "square", "hospital": "cross",
    "shelter": "square", "fire_station": "cross", "depot": "triangle-down", "eoc": "diamond",
    "bridge": "diamond", "traffic_control": "triangle-left",
}
_SIZE = 520  # pixels across the longer side


@lru_cache(maxsize=16)  # keyed by the City object and the language: a server plays a handful of cities
def _static(city: City, words: Callable[[str], str] | None) -> dict[str, Any]:
    """What never changes during a game: roads, flood plains, district and asset positions and names."""
    model = city.model
    names = {a.id: a.name for a in model.assets}
    dnames = {d.id: d.name for d in model.districts}
    axy, dxy, rxy = city.asset_xy.tolist(), city.district_xy.tolist(), city.road_xy.tolist()
    roads = [{"x": rxy[u][0], "y": rxy[u][1], "x2": rxy[v][0], "y2": rxy[v][1]}
             for u, v in zip(city.edge_u.tolist(), city.edge_v.tolist(), strict=True)]
    kinds = {z.id: z.kind for z in model.zones}
    zones = [{"type": "Feature", "properties": {"id": zid},
              "geometry": {"type": "Polygon", "coordinates": [[*poly.tolist(), poly[0].tolist()]]}}
             for zid, poly in city.zone_polygons.items() if kinds.get(zid) == "flood_plain" and len(poly) >= 3]
    types = sorted(set(city.asset_type))
    assets = [{"id": a, "name": names.get(a, a), "type": asset_type(t, words), "x": xy[0], "y": xy[1]}
              for a, t, xy in zip(city.asset_ids, city.asset_type, axy, strict=True)]
    districts = [{"id": d, "name": dnames.get(d, d), "x": xy[0], "y": xy[1]}
                 for d, xy in zip(city.district_ids, dxy, strict=True)]
    xs = [p[0] for p in axy + dxy + rxy] or [0.0]
    ys = [p[1] for p in axy + dxy + rxy] or [0.0]
    w, h = max(xs) - min(xs) or 1.0, max(ys) - min(ys) or 1.0
    width, height = (_SIZE, round(_SIZE * h / w)) if w >= h else (round(_SIZE * w / h), _SIZE)
    return {
        "roads": roads, "zones": zones, "assets": assets, "districts": districts,
        "type_domain": [asset_type(t, words) for t in types],
        "type_range": [VEGA_SHAPES.get(t, "circle") for t in types],
        "width": max(width, 240), "height": max(height, 240),
    }


def city_map_spec(city: City, *, asset_state: Mapping[str, str] | None = None,
                  district_service: Mapping[str, float] | None = None,
                  crews: Sequence[Mapping[str, Any]] | None = None,
                  words: Callable[[str], str] | None = None, title: str = "",
                  selected: str | None = None, links: Sequence[tuple[str, str]] = (),
                  pickable: bool = False) -> dict[str, Any]:
    """A Vega-Lite spec of the city now: the arguments mean what they mean for ``figures.city_map``.

    ``words`` (a gettext function, English by default) names types, states and legends in the
    reader's language; hovering a marker shows the asset's or district's name and id.
    ``selected`` rings one asset and ``links`` draws (consumer, supplier) lines, the chain of
    causes of :mod:`scro_sim.cause_chain`; ``pickable`` adds a point selection named ``pick``
    on the assets (by ``id``), so a click can choose the asset whose causes are shown.
    """
    base = _static(city, words)
    states = asset_state or {}
    label = {s: word(f"map:{s}", words) for s in STATE_ORDER}
    assets = [{**a, "state": label.get(states.get(a["id"], "up"), states.get(a["id"], "up"))} for a in base["assets"]]
    served = district_service or {}
    districts = [{**d, "served": None if d["id"] not in served else round(float(served[d["id"]]), 4)}
                 for d in base["districts"]]
    at: dict[str, int] = {}
    for cr in crews or ():
        node = str(cr.get("node", ""))
        if node in city.road_index:
            at[node] = at.get(node, 0) + 1
    rxy = city.road_xy
    crew_rows = [{"node": n, "crews": k, "x": float(rxy[city.road_index[n]][0]), "y": float(rxy[city.road_index[n]][1])}
                 for n, k in sorted(at.items())]
    shown = [s for s in STATE_ORDER if s != "overloaded" or "overloaded" in states.values()]
    lon = {"field": "x", "type": "quantitative"}
    lat = {"field": "y", "type": "quantitative"}
    tr = words or (lambda s: s)  # the play page's own words ("Asset", "Type"...): in every catalog already
    layers: list[dict[str, Any]] = []
    if base["zones"]:
        layers.append({"data": {"values": base["zones"]}, "mark": {
            "type": "geoshape", "fill": "#d6e6f5", "stroke": "#7fa7cf", "strokeDash": [4, 3], "fillOpacity": 0.5,
            "aria": False}})  # decorative: the flooded zones are named in the tooltips and messages
    layers.append({"data": {"values": base["roads"]}, "mark": {"type": "rule", "color": "#9e9e9e", "strokeWidth": 1.2},
                   "encoding": {"longitude": lon, "latitude": lat, "longitude2": {"field": "x2"},
                                "latitude2": {"field": "y2"}}})
    layers.append({"data": {"values": districts},
                   "mark": {"type": "circle", "size": 900, "opacity": 0.55, "stroke": "#424242", "strokeWidth": 0.6},
                   "encoding": {"longitude": lon, "latitude": lat,
                                "color": {"field": "served", "type": "quantitative", "title": word("map:share_served", words),
                                          "scale": {"scheme": "redyellowgreen", "domain": [0, 1]},
                                          "legend": {"format": ".0%", "orient": "bottom"}},
                                "tooltip": [{"field": "name", "title": tr("District")}, {"field": "id", "title": "id"},
                                            {"field": "served", "format": ".0%", "title": word("map:share_served", words)}]}})
    layers.append({"data": {"values": districts}, "mark": {"type": "text", "fontSize": 11, "color": "#212121"},
                   "encoding": {"longitude": lon, "latitude": lat, "text": {"field": "name"}}})
    layers.append({"data": {"values": assets},
                   "mark": {"type": "point", "filled": True, "size": 70, "stroke": "#212121", "strokeWidth": 0.6,
                            "opacity": 1},
                   "encoding": {"longitude": lon, "latitude": lat,
                                "shape": {"field": "type", "type": "nominal", "title": tr("Type"),
                                          "scale": {"domain": base["type_domain"], "range": base["type_range"]},
                                          "legend": {"orient": "bottom", "columns": 3}},
                                "color": {"field": "state", "type": "nominal", "title": tr("State"),
                                          "scale": {"domain": [label[s] for s in shown],
                                                    "range": [STATE_COLOURS[s] for s in shown]},
                                          # below the map, in columns: a row across the top ran off narrow screens
                                          "legend": {"orient": "bottom", "columns": 3}},
                                "tooltip": [{"field": "name", "title": tr("Asset")}, {"field": "id", "title": "id"},
                                            {"field": "type", "title": tr("Type")},
                                            {"field": "state", "title": tr("State")}]}})
    where = {a["id"]: (a["x"], a["y"]) for a in base["assets"]}
    link_rows = [{"x": where[u][0], "y": where[u][1], "x2": where[v][0], "y2": where[v][1]}
                 for u, v in links if u in where and v in where]
    if link_rows:  # under the markers: the lines run from the asset picked back to the failures behind it
        layers.insert(len(layers) - 1, {
            "data": {"values": link_rows},
            "mark": {"type": "rule", "color": "#b71c1c", "strokeWidth": 2.5, "strokeDash": [6, 3], "aria": False},
            "encoding": {"longitude": lon, "latitude": lat, "longitude2": {"field": "x2"}, "latitude2": {"field": "y2"}}})
    if pickable:
        layers[-1]["params"] = [{"name": "pick", "select": {"type": "point", "fields": ["id"]}}]
    if selected in where:
        chosen = [a for a in assets if a["id"] == selected]
        layers.append({"data": {"values": chosen},
                       "mark": {"type": "point", "shape": "circle", "filled": False, "size": 420, "color": "#b71c1c",
                                "strokeWidth": 3},
                       "encoding": {"longitude": lon, "latitude": lat,
                                    "tooltip": [{"field": "name", "title": tr("Asset")},
                                                {"field": "state", "title": tr("State")}]}})
    if crew_rows:
        layers.append({"data": {"values": crew_rows},
                       "mark": {"type": "point", "shape": "triangle-up", "filled": True, "color": "#0d47a1",
                                "size": 80, "stroke": "white", "strokeWidth": 0.5},
                       "encoding": {"longitude": lon, "latitude": lat,
                                    "tooltip": [{"field": "crews", "title": word("map:crew", words)},
                                                {"field": "node", "title": "id"}]}})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title or city.name,
        # read out for the chart as a whole (a screen reader cannot read a map's marks one by one)
        "description": f"{title or city.name}: {len(districts)} districts, {len(assets)} assets"
                       + (f", {len(crew_rows)} crew positions" if crew_rows else ""),
        "width": base["width"], "height": base["height"],
        "autosize": {"type": "pad"},  # legends add to the size: the map itself keeps width x height
        "projection": {"type": "identity", "reflectY": True},
        "layer": layers,
        "resolve": {"scale": {"color": "independent"}, "legend": {"color": "independent"}},
        "config": {"view": {"stroke": None},
                   # the legends below the map stacked, not side by side: a row of three ran off the page
                   "legend": {"labelLimit": 260, "titleLimit": 320,
                              "layout": {"bottom": {"anchor": "start", "direction": "vertical", "margin": 8}}}},
    }
