"""Reading scenario and plan files: safe YAML, type validation, cross-checks, JSON Schema export."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..city import City, load_city
from ..errors import CityModelError, PlanError, Problem, ScenarioError, YamlError
from ..resources import city_dirs
from ..yamlio import Loaded, field_path, load_yaml, read_text, validate_model
from .checks import (
    _plan_problems,
    _scenario_problems,
)
from .models import (
    Plan,
    Scenario,
)

# --------------------------------------------------------------------------------------------
# Loading


def _locate(problems: list[tuple[tuple[Any, ...], str]], loaded: Loaded, prefix: tuple[Any, ...] = ()
            ) -> list[Problem]:
    out = []
    for loc, msg in problems:
        loc = tuple(x for x in prefix + loc if x is not None)
        out.append(Problem(loaded.path, loaded.line_of(loc), field_path(loc), msg))
    return sorted(set(out), key=lambda p: (p.line or 0, p.field, p.message))


def resolve_city_path(sc: Scenario, base: Path | None) -> Path:
    """Where the scenario's city file is: a path relative to the scenario, or an id in city_models/."""
    p = Path(sc.city)
    candidates = []
    if base is not None and not p.is_absolute():
        candidates.append(base / p)
    candidates.append(p)
    # then by name in the city folders: $SCRO_SIM_CITY_PATH (os.pathsep-separated), bundled city_models/
    for here in city_dirs():
        candidates += [here / p.name, here / f"{sc.city}.yaml", here / f"{sc.city}.json"]
    for c in candidates:
        if c.is_file():
            return c
    return candidates[0]


def parse_scenario(data: Any, loaded: Loaded, city: City | None = None) -> Scenario:
    """Validate plain data as a scenario and cross-check it (with ``city`` if given)."""
    sc = validate_model(Scenario, Loaded(data=data, path=loaded.path, lines=loaded.lines), ScenarioError,
                        "scenario", "id, title, city, ...")
    return _cross_checked(sc, loaded, city)


def _cross_checked(sc: Scenario, loaded: Loaded, city: City | None) -> Scenario:
    problems = _locate(_scenario_problems(sc, city), loaded)
    if problems:
        raise ScenarioError(problems=problems)
    sc._source_path = loaded.path
    sc._lines = loaded.lines
    return sc


def load_scenario(path: str | Path, *, city: City | None = None, text: str | None = None,
                  base_dir: Path | None = None) -> tuple[Scenario, City]:
    """Load a scenario file and its city; every problem is reported as ``path:line: field: msg``.

    ``text`` loads an in-memory upload (``path`` then only names it, and the city path is
    resolved against ``base_dir``).
    """
    label = str(path)
    try:
        raw_text = text if text is not None else read_text(path, path=label)[0]
        loaded = load_yaml(None, path=label, text=raw_text)
    except YamlError as exc:
        raise ScenarioError(problems=exc.problems) from None
    # without a city first, so type errors come out even if the city is broken
    sc = parse_scenario(loaded.data, loaded, city)
    if city is None:
        base = Path(path).parent if text is None else base_dir
        city_path = resolve_city_path(sc, base)
        if not city_path.is_file():
            raise ScenarioError(f"city file {sc.city!r} not found (looked for {city_path})", path=label,
                                line=loaded.line_of(("city",)), field="city")
        try:
            city = load_city(city_path)
        except CityModelError as exc:
            raise ScenarioError(problems=[Problem(loaded.path, loaded.line_of(("city",)), "city",
                                                  f"the city file has problems: {p}") for p in exc.problems]) from None
        sc = _cross_checked(sc, loaded, city)
    sc._source_text = raw_text
    sc._source_sha256 = hashlib.sha256(raw_text.encode("utf-8")).hexdigest()
    return sc, city


def parse_plan(data: Any, loaded: Loaded, scenario: Scenario | None = None, city: City | None = None) -> Plan:
    plan = validate_model(Plan, Loaded(data=data, path=loaded.path, lines=loaded.lines), PlanError,
                          "plan", "prepositioning, priorities, rules")
    if scenario is not None:
        problems = _locate(_plan_problems(plan, scenario, city), loaded)
        if problems:
            raise PlanError(problems=problems)
    return plan


def load_plan(path: str | Path, scenario: Scenario | None = None, city: City | None = None, *,
              text: str | None = None) -> Plan:
    """Load a response plan and check it against its scenario and city."""
    try:
        loaded = load_yaml(path if text is None else None, path=str(path), text=text)
    except YamlError as exc:
        raise PlanError(problems=exc.problems) from None
    return parse_plan(loaded.data, loaded, scenario, city)


def check_plan(plan: Plan, scenario: Scenario, city: City | None) -> list[str]:
    """Problems with a plan built in code, as ``field: message`` strings."""
    return [f"{field_path(tuple(x for x in loc if x is not None))}: {m}" for loc, m in _plan_problems(plan, scenario, city)]


def check_scenario_city(sc: Scenario, city: City) -> list[str]:
    """Problems with a scenario built in code against ``city``."""
    return [f"{field_path(tuple(x for x in loc if x is not None))}: {m}" for loc, m in _scenario_problems(sc, city)]


def scenario_schema() -> dict[str, Any]:
    """JSON Schema of the scenario language, for editors (yaml-language-server)."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "scro_sim scenario (scro-scenario/1)"
    return schema


def plan_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "scro_sim response plan (scro-plan/1)"
    return schema
