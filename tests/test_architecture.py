"""The design's import direction (docs/design.md, "Import direction"), pinned so it stays true.

cli, app -> report, store, batch, lms, assessment -> engine, scoring -> policy -> scenario
-> hazards, city -> log, errors.  engine and scoring never import each other; no library
module imports streamlit or the app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "scro_sim"

#: module -> the scro_sim modules it may import (directly or inside functions)
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "log": set(),
    "yamlio": {"errors"},
    "i18n": set(),
    "vocabulary": {"i18n"},
    "lms": set(),
    "city": {"errors", "yamlio"},
    "hazards": {"city"},
    "scenario": {"city", "errors", "yamlio", "hazards", "resources"},
    "policy": {"scenario"},
    "engine": {"city", "errors", "hazards", "log", "policy", "scenario"},
    "scoring": {"log", "scenario"},
    "store": {"errors"},
    "report": {"batch", "city", "debrief", "log", "scenario", "scoring", "vocabulary"},
    "debrief": {"city", "engine", "i18n", "log", "policy", "scenario", "scoring", "vocabulary"},
    "assessment": {"city", "engine", "errors", "lms", "log", "policy", "resources", "scenario", "scoring", "store"},
    "batch": {"city", "engine", "errors", "policy", "scenario", "scoring", "store"},
    "demo": {"errors", "store"},
    "resources": {"errors"},
    "privacy": {"log", "store"},
    "calibration": {"batch", "city", "engine", "policy", "scenario", "scoring"},
    "game": {"assessment", "city", "engine", "errors", "policy", "scenario", "store"},
    "batch_cli": {"batch", "errors", "scenario", "store", "report", "city", "policy", "scoring"},
    "cli": {"assessment", "batch_cli", "calibration", "city", "demo", "engine", "errors", "game", "lms", "log", "policy",
            "privacy",
            "report", "resources", "scenario", "scoring", "store"},
}


def _imports(module: str) -> set[str]:
    """What a module (or a package: all its files) imports; ``.x`` is scro_sim's module x."""
    path = PKG / f"{module}.py"
    files = [path] if path.exists() else sorted((PKG / module).glob("*.py"))
    out: set[str] = set()
    for f in files:
        depth = 1 if f.parent == PKG else 2  # a package's own files import the library with ..
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level == depth and node.module:
                    out.add("." + node.module.split(".")[0])
                elif node.level == 0 and node.module:
                    out.add(node.module)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
    return out


MODULES = sorted([p.stem for p in PKG.glob("*.py") if p.stem != "__init__"]
                 + [p.parent.name for p in PKG.glob("*/__init__.py") if p.parent.name != "migrations"])


def test_every_module_has_a_place_in_the_layering() -> None:
    assert set(MODULES) <= set(ALLOWED), f"add {sorted(set(MODULES) - set(ALLOWED))} to ALLOWED"


@pytest.mark.parametrize("module", MODULES)
def test_imports_go_down_the_layers_only(module: str) -> None:
    found = _imports(module)
    internal = {m[1:] for m in found if m.startswith(".")} | {m.split(".")[1] for m in found
                                                             if m.startswith("scro_sim.")}
    assert internal <= ALLOWED[module], f"{module} imports {sorted(internal - ALLOWED[module])}"


@pytest.mark.parametrize("module", MODULES)
def test_no_library_module_imports_streamlit_or_the_app(module: str) -> None:
    found = _imports(module)
    assert not {m for m in found if m.split(".")[0] in ("streamlit", "app")}


def test_engine_and_scoring_never_import_each_other() -> None:
    assert "scoring" not in ALLOWED["engine"] and "engine" not in ALLOWED["scoring"]
    assert ".scoring" not in _imports("engine")
    assert ".engine" not in _imports("scoring")


def test_the_public_api_is_pinned() -> None:
    import scro_sim.city
    import scro_sim.engine
    import scro_sim.log
    import scro_sim.policy
    import scro_sim.scenario
    import scro_sim.scoring

    assert set(scro_sim.engine.__all__) == {"ENGINE_VERSION", "Simulation", "run", "replay"}
    assert {"Simulation", "advance", "apply", "check", "observe", "run"} <= {"Simulation", *dir(scro_sim.engine.Simulation)}
    assert {"EventRecord", "EventLog", "canonical"} <= set(scro_sim.log.__all__)
    assert {"City", "load_city", "parse_city", "synthetic"} <= set(scro_sim.city.__all__)
    assert {"Scenario", "Plan", "load_scenario", "load_plan", "scenario_schema"} <= set(scro_sim.scenario.__all__)
    assert {"grade", "compute_metrics", "ScoreCard"} <= set(scro_sim.scoring.__all__)
    assert {"Observation", "Decision", "DoNothing", "Greedy", "PlanPolicy", "RecordedDecisions"} <= set(
        scro_sim.policy.__all__)
    for mod in (scro_sim.city, scro_sim.engine, scro_sim.log, scro_sim.policy, scro_sim.scenario, scro_sim.scoring):
        for name in mod.__all__:
            assert hasattr(mod, name), f"{mod.__name__}.__all__ names missing {name}"
