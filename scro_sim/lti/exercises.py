"""The exercises a course platform may link to: the scenarios the app offers, by id."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ScroSimError
from ..resources import scenarios_dir
from ..yamlio import load_yaml

__all__ = ["Exercise", "exercise_ids", "exercises"]


@dataclass(frozen=True)
class Exercise:
    """A bundled exercise as a platform sees it: its id, title and summary (English)."""

    id: str
    title: str
    summary: str


def _english(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("en") or next(iter(value.values()), "")
    return " ".join(str(value or "").split())


def exercises() -> tuple[Exercise, ...]:
    """The exercises the app offers: the bundled ones, or those in ``$SCRO_SIM_SCENARIOS_DIR`` (as the app)."""
    return _read(os.environ.get("SCRO_SIM_SCENARIOS_DIR") or str(scenarios_dir()))


@lru_cache(maxsize=4)
def _read(folder: str) -> tuple[Exercise, ...]:
    """The exercises of one folder, by file name (read once per process)."""
    out = []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            data = load_yaml(path).data
        except ScroSimError:
            continue
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            out.append(Exercise(data["id"], _english(data.get("title")) or data["id"], _english(data.get("summary"))))
    return tuple(out)


def exercise_ids() -> frozenset[str]:
    """The ids a launch's ``exercise`` may name."""
    return frozenset(e.id for e in exercises())
