"""The design's import direction (docs/design.md, "Import direction"), pinned so it stays true.

cli, app -> report, store, batch, lms, assessment -> engine, scoring -> policy -> scenario
-> course, hazards, city -> log, errors.  engine and scoring never import each other; no library
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
    "gc_tuning": set(),
    "vocabulary": {"i18n"},
    # what a person reads: numbers and clock times in their locale, names for ids, orders, beds
    "formatting": {"i18n"},
    "cause_chain": {"city", "names", "vocabulary"},
    "names": {"city", "scenario", "scoring", "vocabulary"},
    "orders": {"engine.actions", "log", "vocabulary"},
    "hospitals": {"log"},
    "lms": set(),
    "openedx_map": {"errors", "yamlio"},
    "lrs": {"errors", "store"},
    "transcript": {"lms"},
    "credentials": {"errors", "transcript"},
    "city": {"errors", "yamlio"},
    "hazards": {"city"},
    # the action registry's declarations build the scenario schema, so it sits below scenario
    "engine.actions": {"city", "errors", "hazards", "i18n"},
    # so does the hazard registry's (each kind's fields build its hazard model)
    "engine.hazards": {"city", "errors", "hazards"},
    # the course map (modules, outcomes) sits below scenario: the scenario checks resolve criteria against it
    "course": {"errors", "resources", "yamlio"},
    "scenario": {"city", "course", "engine.actions", "engine.hazards", "errors", "yamlio", "hazards", "resources"},
    "policy": {"scenario"},
    "engine": {"city", "errors", "hazards", "log", "policy", "scenario"},
    "scoring": {"log", "scenario"},
    "store": {"errors"},
    # the cohort dashboard (report/cohort.py) reads the store; the run report does not
    "report": {"batch", "city", "course", "debrief", "errors", "formatting", "i18n", "log", "scenario", "scoring",
               "store", "vocabulary"},
    "debrief": {"city", "course", "engine", "errors", "formatting", "i18n", "log", "policy", "scenario", "scoring",
                "vocabulary"},
    "lint": {"calibration", "course", "engine.actions", "errors", "scenario", "yamlio"},
    "assessment": {"city", "course", "debrief", "engine", "errors", "gc_tuning", "lms", "log", "lti", "openedx_map",
                   "policy",
                   "resources", "scenario", "scoring", "store"},
    # LTI 1.3 launches and grade passback: below assessment, which tells it when a grade changed
    "lti": {"errors", "i18n", "lms", "resources", "store", "yamlio"},
    "batch": {"city", "engine", "errors", "policy", "scenario", "scoring", "store"},
    "demo": {"errors", "store"},
    # publishing under the scenario's own version: the rule reads scenarios, so it sits above the store
    "publishing": {"errors", "scenario", "store", "yamlio"},
    "feedback": {"assessment", "errors", "scenario", "scoring", "store"},
    "resources": {"errors"},
    "glossary": {"errors", "i18n", "yamlio"},
    "stored_report": {"assessment", "feedback", "log", "report", "scoring", "store"},
    "privacy": {"log", "store"},
    "calibration": {"batch", "city", "engine", "policy", "scenario", "scoring"},
    # a guided exercise's coach texts; practice hints (from the expert's log, as the debrief reads it)
    "guide": {"scenario"},
    "hints": {"city", "debrief", "formatting", "i18n", "log", "names", "scenario", "vocabulary"},
    # a learner's path through the exercises, from their runs and games
    "learning_path": {"store"},
    "game": {"assessment", "city", "engine", "errors", "gc_tuning", "policy", "scenario", "store", "vocabulary"},
    "batch_cli": {"batch", "errors", "scenario", "store", "report", "city", "policy", "scoring"},
    "cli": {"assessment", "batch_cli", "calibration", "city", "course", "credentials", "debrief", "demo", "engine",
            "errors", "feedback", "formatting", "game", "gc_tuning", "hints", "i18n", "lint", "lms", "log", "lrs", "lti",
            "openedx_map",
            "policy", "privacy", "report", "resources", "scenario", "scoring", "store", "transcript", "vocabulary"},
}


def _layer(dotted: str) -> str:
    """The layer a module path belongs to: ``engine.actions.x`` -> ``engine.actions`` (and the same for
    ``engine.hazards``), ``engine.x`` -> ``engine``."""
    for sub in ("engine.actions", "engine.hazards"):
        if dotted.startswith(sub):
            return sub
    return dotted.split(".")[0]


def _imports(module: str) -> set[str]:
    """What a module (or a package: all its files) imports; ``.x`` is scro_sim's module x."""
    path = PKG / f"{module.replace('.', '/')}.py"
    files = [path] if path.exists() else sorted((PKG / module.replace(".", "/")).glob("*.py"))
    out: set[str] = set()
    for f in files:
        depth = len(f.relative_to(PKG).parts)  # a package's own files import the library with .. (...)
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level == depth and node.module:
                    out.add("." + _layer(node.module))
                elif node.level == 0 and node.module:
                    out.add(node.module)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
    return out


MODULES = sorted([p.stem for p in PKG.glob("*.py") if p.stem != "__init__"]
                 + [p.parent.name for p in PKG.glob("*/__init__.py") if p.parent.name != "migrations"]
                 + ["engine.actions", "engine.hazards"])


def test_every_module_has_a_place_in_the_layering() -> None:
    assert set(MODULES) <= set(ALLOWED), f"add {sorted(set(MODULES) - set(ALLOWED))} to ALLOWED"


#: the one way down past a layer: scoring's metric catalogue imports only the log (and its
#: own log pass), so the scenario checks read metric names from it although scoring is above
CATALOGUE = ("scoring/metrics.py", "scoring/logpass.py")


def _dotted_imports(path: Path) -> set[str]:
    """Every ``from ..x.y import`` of one file of a package, as ``x.y`` (``.y`` for its own)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level:
            out.add(("" if node.level == 2 else ".") + node.module)
    return out


@pytest.mark.parametrize("module", MODULES)
def test_imports_go_down_the_layers_only(module: str) -> None:
    found = _imports(module)
    internal = {m[1:] for m in found if m.startswith(".")} | {_layer(m.split(".", 1)[1]) for m in found
                                                             if m.startswith("scro_sim.")}
    allowed = ALLOWED[module] | ({"engine.actions", "engine.hazards"} if "engine" in ALLOWED[module] else set())
    if module == "scenario":  # the catalogue only, see CATALOGUE
        reaching = {m for f in (PKG / "scenario").glob("*.py") for m in _dotted_imports(f) if m.startswith("scoring")}
        assert reaching <= {"scoring.metrics"}, f"scenario imports {sorted(reaching)} of scoring"
        internal -= {"scoring"}
    assert internal <= allowed, f"{module} imports {sorted(internal - allowed)}"


def test_the_metric_catalogue_imports_only_the_log() -> None:
    for name in CATALOGUE:
        found = _dotted_imports(PKG / name)
        assert found <= {"log", ".logpass"}, f"{name} imports {sorted(found - {'log', '.logpass'})}"


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
