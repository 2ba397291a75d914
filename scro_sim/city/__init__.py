"""The city model: districts, assets, dependencies and roads as plain graphs plus functions.

A city is untimed and deterministic: it answers "which assets and districts are served if
these assets are damaged and these backups are spent", "who depends on this asset" and
"how long does a crew drive from here to there".  Time and randomness live in the engine.

File format (``format: scro-city/1``, YAML for hand-written cities, networkx node-link JSON
for generated ones) is documented in ``city_models/README.md``.
"""

from __future__ import annotations

from .files import (
    load_city,
    parse_city,
    shared_city,
)
from .model import (
    ASSET_TYPES,
    BUILTIN_TYPES,
    CRITICAL_TYPES,
    DEFAULT_SUPPLIES,
    DISTRICT_SERVICES,
    FORMAT,
    SERVICES,
    SKILL_FOR_TYPE,
    AssetSpec,
    AssetTypeSpec,
    Backup,
    CityModel,
    DistrictSpec,
    FragilityCurve,
    Hazard,
    Location,
    River,
    RoadEdge,
    RoadNode,
    Roads,
    Zone,
    cross_check,
    curve_problems,
)
from .network import (
    City,
    Served,
)
from .synthetic import (
    synthetic,
)

__all__ = [
    "ASSET_TYPES",
    "BUILTIN_TYPES",
    "CRITICAL_TYPES",
    "DEFAULT_SUPPLIES",
    "DISTRICT_SERVICES",
    "FORMAT",
    "SERVICES",
    "SKILL_FOR_TYPE",
    "AssetSpec",
    "AssetTypeSpec",
    "Backup",
    "City",
    "CityModel",
    "DistrictSpec",
    "FragilityCurve",
    "Hazard",
    "Location",
    "River",
    "RoadEdge",
    "RoadNode",
    "Roads",
    "Served",
    "Zone",
    "cross_check",
    "curve_problems",
    "load_city",
    "parse_city",
    "shared_city",
    "synthetic",
]
