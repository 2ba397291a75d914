"""The exercises a course platform may link to: the bundled scenarios, by id."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


@lru_cache(maxsize=1)
def exercises() -> tuple[Exercise, ...]:
    """The bundled exercises, by file name (read once per process)."""
    out = []
    for path in sorted(scenarios_dir().glob("*.yaml")):
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
