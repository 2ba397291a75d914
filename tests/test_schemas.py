"""The published file formats keep their contract: the bounds, defaults and choices of every field.

See ``tests/golden_schemas.py``: a change that is meant regenerates ``tests/data/schema_contract.json``.
"""

from __future__ import annotations

import json

from golden_schemas import GOLDEN, compute_all, contract


def test_every_fields_bounds_defaults_and_choices_are_as_published() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = compute_all()
    changed = sorted(k for k in golden.keys() | now.keys() if golden.get(k) != now.get(k))
    shown = [f"{k}: published {golden.get(k)}, now {now.get(k)}" for k in changed[:20]]
    assert not changed, ("the file formats' contract changed (python tests/golden_schemas.py if it is meant):\n"
                         + "\n".join(shown))


def test_the_contract_names_the_bounds_of_a_field_by_its_path() -> None:
    schema = {"$defs": {"Flood": {"properties": {"peak": {"type": "number", "minimum": 0, "description": "m"}},
                                  "required": ["peak"]}}}
    assert contract(schema) == {"/$defs/Flood": {"required": ["peak"]},
                                "/$defs/Flood/properties/peak": {"type": "number", "minimum": 0}}
