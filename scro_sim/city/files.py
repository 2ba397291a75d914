"""Reading and writing city files: YAML, and networkx node-link JSON."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import CityModelError, Problem, YamlError
from ..yamlio import Loaded, city_limits, field_path, load_yaml, read_text, validate_model
from .model import (
    CityModel,
    _check,
)
from .network import (
    City,
)


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
    out: dict[str, Any] = {k: g[k] for k in ("format", "id", "name", "description", "river", "zones", "asset_types",
                                             "services") if k in g}
    out.update(districts=districts, assets=assets,
               roads={"nodes": nodes, "edges": [e for _, e in sorted(edges, key=lambda t: t[0])]})
    return out


def parse_city(data: dict[str, Any], loaded: Loaded | None = None, path: str = "<city>", *,
               source_sha256: str | None = None, hazards: Sequence[str] | None = None) -> City:
    """Validate a plain dict (from YAML or JSON) and build a :class:`City`.

    ``source_sha256`` names the file the dict came from (:meth:`City.content_hash`); without it
    the city is named by the hash of its model.  ``hazards``: the hazard registry's names, which
    the assets' own fragility curves must name (the scenario loader and ``validate`` pass them).
    """
    if loaded is None:
        loaded = Loaded(data=data, path=path)
    model = validate_model(CityModel, Loaded(data=data, path=loaded.path, lines=loaded.lines), CityModelError,
                           "city", "format, id, districts, ...")
    problems = _check(model, hazards)
    if problems:
        located = [Problem(loaded.path, loaded.line_of(loc), field_path(loc), msg) for loc, msg in problems]
        raise CityModelError(problems=sorted(located, key=lambda p: (p.line or 0, p.field)))
    return City(model, source_sha256=source_sha256)


def _sha256(text: str) -> str:
    """The hash a loaded city file is named by: its text as read (UTF-8, a leading BOM dropped)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_city(path: str | Path, *, hazards: Sequence[str] | None = None) -> City:
    """Load a city from ``.yaml``/``.yml`` or node-link ``.json``; raise errors with file:line.

    The file may be as large as :func:`scro_sim.yamlio.city_limits` allows (256 MiB unless
    ``$SCRO_SIM_MAX_CITY_MB`` says otherwise): generated cities are big.  ``hazards`` as in
    :func:`parse_city`.
    """
    p = Path(path)
    text, label = _read(p)
    return _parse_text(p, text, label, hazards)


#: Most cities :func:`shared_city` keeps (least recently used dropped first): a server plays a handful.
SHARED_CITIES_MAX = 8
_shared: OrderedDict[tuple[bool, str, tuple[str, ...] | None], City] = OrderedDict()
_shared_lock = threading.Lock()


def shared_city(path: str | Path, *, hazards: Sequence[str] | None = None) -> City:
    """:func:`load_city`, but one City per file content in this process (keyed by the text's SHA-256).

    A server's sessions and every scenario on the same city then share one parsed city and its
    memo of derived arrays (travel times, fragility tables) instead of parsing it again; the file
    is still read each time, so an edited file is parsed afresh.  At most
    :data:`SHARED_CITIES_MAX` are kept.  A City is never changed by a run, so sharing it is safe.
    """
    p = Path(path)
    text, label = _read(p)
    key = (p.suffix.lower() == ".json", _sha256(text), tuple(hazards) if hazards is not None else None)
    with _shared_lock:
        hit = _shared.get(key)
        if hit is not None:
            _shared.move_to_end(key)
            return hit
    city = _parse_text(p, text, label, hazards)  # outside the lock: parsing a large city takes seconds
    with _shared_lock:
        city = _shared.setdefault(key, city)  # another thread may have parsed it meanwhile: keep the first
        _shared.move_to_end(key)
        while len(_shared) > SHARED_CITIES_MAX:
            _shared.popitem(last=False)
    return city


def _read(p: Path) -> tuple[str, str]:
    try:
        return read_text(p, limits=city_limits())
    except YamlError as exc:
        raise CityModelError(problems=exc.problems) from None


def _parse_text(p: Path, text: str, label: str, hazards: Sequence[str] | None = None) -> City:
    if p.suffix.lower() == ".json":
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
        return parse_city(data, Loaded(data=None, path=label), source_sha256=_sha256(text), hazards=hazards)
    try:
        loaded = load_yaml(None, path=label, text=text, limits=city_limits())
    except YamlError as exc:
        raise CityModelError(problems=exc.problems) from None
    return parse_city(loaded.data, loaded, source_sha256=_sha256(text), hazards=hazards)
