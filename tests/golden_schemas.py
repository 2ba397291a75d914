"""Golden contract of the file formats lecturers write: every field's bounds, defaults and choices.

The JSON Schemas of the scenario, plan and city languages (what ``scro-sim schema`` writes for
editors) are reduced to the keywords that decide what a file may say: ``default``, the numeric
and length bounds, the range of an uncertain number (``x-scro-range``), ``enum``/``const``,
``pattern``, ``type`` and each object's ``required`` fields, by their path in the schema.
``tests/test_schemas.py`` compares them with
``tests/data/schema_contract.json``, so a bound or a default cannot change by accident (many are
built when the package is imported, where no run-time test reaches them).  A change that is
meant regenerates the file with ``python tests/golden_schemas.py`` and says why in its commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from scro_sim.city import CityModel
from scro_sim.scenario import plan_schema, scenario_schema

GOLDEN = Path(__file__).resolve().parent / "data" / "schema_contract.json"
KEYWORDS = ("type", "default", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
            "minLength", "maxLength", "minProperties", "maxProperties", "enum", "const", "pattern", "required",
            "x-scro-range")


def contract(node: Any, path: str = "") -> dict[str, dict[str, Any]]:
    """``{path: {keyword: value}}`` for every schema node that constrains a value, in path order."""
    out: dict[str, dict[str, Any]] = {}
    if isinstance(node, dict):
        own = {k: node[k] for k in KEYWORDS if k in node}
        if own:
            out[path or "/"] = own
        for key in sorted(node):
            if key not in KEYWORDS:
                out.update(contract(node[key], f"{path}/{key}"))
    elif isinstance(node, list):
        for k, item in enumerate(node):
            out.update(contract(item, f"{path}/{k}"))
    return out


def compute_all() -> dict[str, dict[str, Any]]:
    """``{"language:path": {keyword: value}}`` for the three languages, as JSON would hold it."""
    schemas = {"scenario": scenario_schema(), "plan": plan_schema(), "city": CityModel.model_json_schema()}
    flat = {f"{name}:{path}": rule for name, s in schemas.items() for path, rule in contract(s).items()}
    return json.loads(json.dumps(flat))


def dumps(table: dict[str, Any]) -> str:
    """One path to a line, so that a change of contract reads as a one-line diff."""
    lines = [f"{json.dumps(k)}: {json.dumps(table[k], sort_keys=True)}" for k in sorted(table)]
    return "{\n" + ",\n".join(lines) + "\n}\n"


if __name__ == "__main__":
    GOLDEN.write_text(dumps(compute_all()), encoding="utf-8")
    print(f"wrote {GOLDEN}", file=sys.stderr)
