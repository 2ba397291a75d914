"""Where the bundled files are: the app, the scenarios, the city models and the example plans.

The one place that knows the two layouts.  In a checkout (and its editable install) they are
the repository's top-level ``app/``, ``scenarios/``, ``city_models/`` and ``plans/``; a wheel
carries the same folders as ``scro_sim/bundled/`` (pyproject.toml maps them there), so a
scenario's ``city: ../city_models/riverton.yaml`` resolves the same way in both.  Every
module that needs a bundled file asks here, never ``Path(__file__)``.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

from .errors import InputError

__all__ = [
    "app_script",
    "bundle_root",
    "bundled_scenarios",
    "city_dirs",
    "city_models_dir",
    "course_file",
    "find_plan",
    "find_scenario",
    "plans_dir",
    "scenarios_dir",
]

#: env var with extra folders (os.pathsep-separated) searched for a scenario's ``city:`` by name
CITY_PATH_ENV = "SCRO_SIM_CITY_PATH"


def bundle_root() -> Path:
    """The folder holding app/, scenarios/, city_models/ and plans/.

    ``scro_sim/bundled`` when installed from a wheel, else the checkout the package sits in.
    """
    package = Path(str(files("scro_sim")))
    installed = package / "bundled"
    return installed if (installed / "scenarios").is_dir() else package.parent


def app_script() -> Path:
    """The Streamlit entry script (``app/streamlit_app.py``)."""
    return bundle_root() / "app" / "streamlit_app.py"


def scenarios_dir() -> Path:
    """Folder of the bundled scenarios."""
    return bundle_root() / "scenarios"


def city_models_dir() -> Path:
    """Folder of the bundled city models."""
    return bundle_root() / "city_models"


def plans_dir() -> Path:
    """Folder of the bundled example response plans."""
    return bundle_root() / "plans"


#: env var naming the course map (modules and learning outcomes) instead of the bundled example
COURSE_ENV = "SCRO_SIM_COURSE"


def course_file() -> Path:
    """The course map rubric criteria cite: ``$SCRO_SIM_COURSE``, else the bundled example
    ``scenarios/course/crisis.yaml`` (in a subfolder, so it is never listed as a scenario)."""
    env = os.environ.get(COURSE_ENV, "").strip()
    return Path(env) if env else scenarios_dir() / "course" / "crisis.yaml"


def city_dirs() -> list[Path]:
    """Folders searched for a scenario's ``city:`` by name: ``$SCRO_SIM_CITY_PATH``, then the bundled city models."""
    extra = [Path(x) for x in os.environ.get(CITY_PATH_ENV, "").split(os.pathsep) if x]
    return [*extra, city_models_dir()]


def bundled_scenarios() -> list[Path]:
    """The bundled scenario files, by file name."""
    folder = scenarios_dir()
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def _find(ref: str | Path, folder: Path, what: str) -> Path:
    path = Path(ref)
    if path.is_file() or path.parent != Path(".") or path.suffix not in ("", ".yaml", ".yml"):
        return path  # a path: the loader reports it if it is missing
    for candidate in (folder / path.name, folder / f"{path.name}.yaml", folder / f"{path.name}.yml"):
        if candidate.is_file():
            return candidate
    known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    raise InputError(f"no {what} file {str(ref)!r} and no bundled {what} of that name "
                     f"(bundled: {', '.join(known) or 'none'})", field=what)


def find_scenario(ref: str | Path) -> Path:
    """A scenario given as a path, or by the name of a bundled one (``riverton_flood``, ``riverton_flood.yaml``)."""
    return _find(ref, scenarios_dir(), "scenario")


def find_plan(ref: str | Path) -> Path:
    """A plan given as a path, or by the name of a bundled one (``riverton_cautious``)."""
    return _find(ref, plans_dir(), "plan")
