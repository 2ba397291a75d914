"""Reading scenario and plan files: safe YAML, type validation, cross-checks, JSON Schema export."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

import scro_sim.engine.hazards as _hazards  # the hazard registry sits below this package

from ..city import City, load_city, shared_city
from ..errors import N_, CityModelError, Msg, PlanError, Problem, ScenarioError, YamlError
from ..resources import city_dirs, city_models_dir
from ..yamlio import PLAN_LIMITS, SCENARIO_LIMITS, Loaded, field_path, load_yaml, read_text, validate_model
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


#: the city models that ship with scro_sim (city_models/ of a checkout, or inside the installed package)
BUNDLED_CITIES = city_models_dir()
_WHERE = N_("the city-model folders (city_models/ and any folder in $SCRO_SIM_CITY_PATH)")


def _line(p: Problem) -> str:
    """A problem's whole ``path:line: field: message`` line as a message: its message said in any language."""
    where = p.path if p.line is None else f"{p.path}:{p.line}"
    head = ": ".join(x for x in (where, p.field) if x)
    return Msg("{head}: {message}", head=head, message=p.message) if head else p.message


def city_folders() -> list[Path]:
    """The published city-model folders: each folder in ``$SCRO_SIM_CITY_PATH`` (separated by
    ``os.pathsep``), then the bundled ``city_models/``.  A scenario's ``city:`` names a file in them."""
    return city_dirs()


def _inside(path: str, roots: list[str]) -> bool:
    return any(os.path.commonpath([root, path]) == root for root in roots)


def resolve_city_path(sc: Scenario, base: Path | None, *, own_folder: Path | None = None) -> Path:
    """The city file a scenario names, found only inside the published city-model folders.

    ``city:`` is a relative name: ``riverton``, ``riverton.yaml``, or a path relative to the
    scenario (``base``) such as ``../city_models/riverton.yaml``.  Whatever it says, the file must
    lie inside :func:`city_folders` (or ``own_folder``, the folder of a scenario read from disk)
    once ``..`` and symbolic links are followed.  An absolute path, a ``..`` that leads out and a
    link that points out are refused alike, and the message never says whether a file outside
    exists.  Raises :class:`ScenarioError` (field ``city``) when there is no such city model.
    """
    name = sc.city
    if ("\x00" in name or os.path.isabs(name) or name.startswith(("/", "\\", "~"))
            or re.match(r"^[A-Za-z]:", name)):
        raise ScenarioError(Msg(N_("{name!r} is not a city model name: give a file in {where}, e.g. riverton or "
                                   "riverton.yaml (an absolute path is not allowed)"), name=name, where=Msg(_WHERE)),
                            field="city")
    roots = [os.path.realpath(r) for r in (*city_folders(), *((own_folder,) if own_folder is not None else ()))]
    starts = ([os.path.realpath(base)] if base is not None else []) + roots
    names = [name] if Path(name).suffix else [name, f"{name}.yaml", f"{name}.json"]
    inside = linked_out = False
    for start in starts:
        for n in names:
            cand = os.path.normpath(os.path.join(start, n))  # ".." is followed here, by the text alone
            if not _inside(cand, roots):
                continue
            # a symbolic link (anywhere on the way) must not lead out of the folders either
            if not _inside(os.path.realpath(cand), roots):
                linked_out = True
                continue
            inside = True
            if os.path.isfile(cand):
                return Path(cand)
    if linked_out or not inside:
        raise ScenarioError(Msg(N_("{name!r} is outside {where}; name a city model in them"), name=name,
                                where=Msg(_WHERE)), field="city")
    raise ScenarioError(Msg(N_("city model {name!r} not found in {where}"), name=name, where=Msg(_WHERE)), field="city")


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
                  base_dir: Path | None = None, share_city: bool = False) -> tuple[Scenario, City]:
    """Load a scenario file and its city; every problem is reported as ``path:line: field: msg``.

    ``text`` loads an in-memory upload (``path`` then only names it, and the city path is
    resolved against ``base_dir``).  ``share_city`` takes the city from
    :func:`~scro_sim.city.shared_city` (one per file content in the process: the app's sessions
    and scenarios share it).
    """
    label = str(path)
    try:
        raw_text = text if text is not None else read_text(path, path=label, limits=SCENARIO_LIMITS)[0]
        loaded = load_yaml(None, path=label, text=raw_text, limits=SCENARIO_LIMITS)
    except YamlError as exc:
        raise ScenarioError(problems=exc.problems) from None
    # without a city first, so type errors come out even if the city is broken
    sc = parse_scenario(loaded.data, loaded, city)
    if city is None:
        base = Path(path).parent if text is None else base_dir
        try:
            city_path = resolve_city_path(sc, base, own_folder=base if text is None else None)
        except ScenarioError as exc:
            raise ScenarioError(exc.problems[0].message, path=label, line=loaded.line_of(("city",)),
                                field="city") from None
        try:
            city = (shared_city(city_path, hazards=_hazards.NAMES) if share_city
                    else load_city(city_path, hazards=_hazards.NAMES))
        except CityModelError as exc:
            # the city named as the scenario names it: the server's folders stay out of the message
            raise ScenarioError(problems=[Problem(loaded.path, loaded.line_of(("city",)), "city",
                                                  Msg(N_("the city file has problems: {problem}"),
                                                      problem=_line(Problem(sc.city, p.line, p.field, p.message))))
                                          for p in exc.problems]) from None
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
        loaded = load_yaml(path if text is None else None, path=str(path), text=text, limits=PLAN_LIMITS)
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
