"""The course map: modules in groups, each with learning outcomes, EQF level and ECVET points.

Rubric criteria cite a module outcome by id (``outcome: C3.1``); the scenario checks resolve
it here, and the debrief, report and exports name each module by its title in the reader's
language.  The bundled map (``scenarios/course/crisis.yaml``) is an example a lecturer adapts;
``$SCRO_SIM_COURSE`` names another (:func:`scro_sim.resources.course_file`).  A map is read
like every file people write (:mod:`scro_sim.yamlio`): problems come back as
``path:line: field: message``.

Score cards store only the ids (``module``, ``outcome``): a lecturer who rewords a title does
not change a stored run's card, so its verification still holds.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .errors import CourseError, Problem, YamlError
from .resources import course_file
from .yamlio import Limits, Loaded, field_path, load_yaml, validate_model

__all__ = [
    "COURSE_FORMAT",
    "Course",
    "CourseText",
    "Group",
    "Module",
    "Outcome",
    "OutcomeRef",
    "course_problems",
    "coverage",
    "default_course",
    "load_course",
    "parse_course",
    "text_in",
]

COURSE_FORMAT = "scro-course/1"
#: the languages the course is taught in (the scenario language's, see scenario/basics.py)
LANGUAGES: tuple[str, ...] = ("en", "el", "de", "pt")
COURSE_LIMITS = Limits(max_bytes=1024 * 1024, max_nodes=50_000, kind="course")

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CourseText(_Model):
    """A title or outcome in the course's languages; English is required, the others fall back to it."""

    en: str = Field(min_length=1, max_length=2000)
    el: str | None = Field(default=None, min_length=1, max_length=2000)
    de: str | None = Field(default=None, min_length=1, max_length=2000)
    pt: str | None = Field(default=None, min_length=1, max_length=2000)

    def missing(self) -> list[str]:
        """The course languages this text is not given in."""
        return [lang for lang in LANGUAGES if getattr(self, lang) is None]


def text_in(text: CourseText | str, lang: str) -> str:
    """``text`` in ``lang``, else in English."""
    if isinstance(text, str):
        return text
    return getattr(text, lang, None) or text.en


class Outcome(_Model):
    """One learning outcome of a module: its id starts with the module's (``C3.1`` of ``C3``)."""

    id: Id
    text: CourseText


class Module(_Model):
    id: Id
    title: CourseText
    #: the European Qualifications Framework level the module is certified at (1..8)
    eqf_level: int = Field(ge=1, le=8)
    #: ECVET credit points of the module
    ecvet_points: float = Field(gt=0, le=240, allow_inf_nan=False)
    outcomes: tuple[Outcome, ...] = Field(min_length=1, max_length=50)


class Group(_Model):
    """A module group of the course, e.g. (a) transversal skills."""

    id: Id
    title: CourseText
    modules: tuple[Module, ...] = Field(min_length=1, max_length=100)


class Course(_Model):
    """A course map: groups of modules, each with learning outcomes, EQF level and ECVET points."""

    format: Literal["scro-course/1"] = COURSE_FORMAT
    id: Id
    title: CourseText
    #: true for a map made up as an example (the bundled one): tools say so
    example: bool = False
    certification: str = Field(default="", max_length=200)
    groups: tuple[Group, ...] = Field(min_length=1, max_length=20)
    _lookup: Any = PrivateAttr(default=None)

    def modules(self) -> Iterator[tuple[Group, Module]]:
        """Every module with its group, in the map's order."""
        for g in self.groups:
            for m in g.modules:
                yield g, m

    def module(self, module_id: str) -> Module | None:
        return self._index()[0].get(module_id)

    def group_of(self, module_id: str) -> Group | None:
        return self._index()[1].get(module_id)

    def group(self, group_id: str) -> Group | None:
        """The module group with this id (None if the map has none)."""
        return next((g for g in self.groups if g.id == group_id), None)

    def suggest_group(self, wrong: str) -> list[str]:
        """The group ids a wrong one may have meant: the same id in another case, one whose title
        (in any language) contains it, or the closest ids (for "did you mean")."""
        ids = [g.id for g in self.groups]
        low = wrong.strip().lower()
        same = [i for i in ids if i.lower() == low]
        if same:
            return same
        named = [g.id for g in self.groups
                 if len(low) >= 3 and any(low in (t or "").lower() for t in (g.title.en, g.title.de, g.title.el, g.title.pt))]
        return named[:3] or difflib.get_close_matches(wrong, ids, n=3, cutoff=0.5)

    def outcome(self, outcome_id: str) -> OutcomeRef | None:
        """The outcome with this id, with its module and group (None if the map has none)."""
        return self._index()[2].get(outcome_id)

    def outcome_ids(self) -> list[str]:
        return list(self._index()[2])

    def suggest(self, wrong: str, n: int = 3) -> list[str]:
        """The outcome ids closest to a wrong one (for "did you mean")."""
        ids = self.outcome_ids()
        close = difflib.get_close_matches(wrong, ids, n=n, cutoff=0.5)
        if not close:  # C3 (a module id) or c3.1: the module's outcomes
            prefix = wrong.upper().split(".")[0] + "."
            close = [i for i in ids if i.upper().startswith(prefix)][:n]
        return close

    def module_title(self, module_id: str, lang: str = "en") -> str:
        """A module's title in ``lang`` ("" for a module the map does not have)."""
        m = self.module(module_id)
        return text_in(m.title, lang) if m is not None else ""

    def _index(self) -> tuple[dict[str, Module], dict[str, Group], dict[str, OutcomeRef]]:
        """Modules, their groups and outcomes by id, made once (the model is frozen)."""
        if self._lookup is None:
            modules: dict[str, Module] = {}
            groups: dict[str, Group] = {}
            outcomes: dict[str, OutcomeRef] = {}
            for g, m in self.modules():
                modules.setdefault(m.id, m)
                groups.setdefault(m.id, g)
                for o in m.outcomes:
                    outcomes.setdefault(o.id, OutcomeRef(o, m, g))
            self._lookup = (modules, groups, outcomes)
        return self._lookup


@dataclass(frozen=True)
class OutcomeRef:
    """A course outcome with the module and group it belongs to."""

    outcome: Outcome
    module: Module
    group: Group


def course_problems(course: Course) -> list[tuple[tuple[Any, ...], str]]:
    """Cross-checks a valid-typed map needs: unique ids, outcome ids that start with their module's."""
    out: list[tuple[tuple[Any, ...], str]] = []
    groups: set[str] = set()
    modules: set[str] = set()
    outcomes: set[str] = set()
    for gi, g in enumerate(course.groups):
        if g.id in groups:
            out.append((("groups", gi, "id"), f"duplicate group id {g.id!r}"))
        groups.add(g.id)
        for mi, m in enumerate(g.modules):
            if m.id in modules:
                out.append((("groups", gi, "modules", mi, "id"), f"duplicate module id {m.id!r}"))
            modules.add(m.id)
            for oi, o in enumerate(m.outcomes):
                loc = ("groups", gi, "modules", mi, "outcomes", oi, "id")
                if o.id in outcomes:
                    out.append((loc, f"duplicate outcome id {o.id!r}"))
                elif not o.id.startswith(m.id + "."):
                    out.append((loc, f"outcome id {o.id!r} must start with its module's id and a dot "
                                     f"({m.id}.1, {m.id}.2, ...)"))
                outcomes.add(o.id)
    return out


def parse_course(data: Any, path: str = "<course>", lines: dict[tuple[Any, ...], int] | None = None) -> Course:
    """Validate plain data as a course map and cross-check its ids; problems come back as
    :class:`CourseError`, each ``path:line: field: message``."""
    loaded = Loaded(data=data, path=path, lines=lines or {})
    course = validate_model(Course, loaded, CourseError, "course", "format, id, title, groups")
    problems = course_problems(course)
    if problems:
        raise CourseError(problems=[Problem(path, loaded.line_of(loc), field_path(loc), msg) for loc, msg in problems])
    return course


def load_course(path: str | Path | None = None) -> Course:
    """Read a course map (default: :func:`~scro_sim.resources.course_file`), made once per file content."""
    p = Path(path) if path is not None else course_file()
    try:
        st = os.stat(p)
    except OSError:
        raise CourseError(f"no course map at {p}: set SCRO_SIM_COURSE to a course file, or leave it unset "
                          "for the bundled example", path=str(p)) from None
    key = (str(p), st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    try:
        loaded = load_yaml(p, path=str(p), limits=COURSE_LIMITS)
    except YamlError as exc:
        raise CourseError(problems=exc.problems) from None
    course = parse_course(loaded.data, loaded.path, loaded.lines)
    _CACHE.clear()  # one map at a time in practice; a changed file replaces it
    _CACHE[key] = course
    return course


_CACHE: dict[tuple[str, int, int], Course] = {}


def default_course() -> Course:
    """The course map in use (``$SCRO_SIM_COURSE`` or the bundled example)."""
    return load_course()


def coverage(course: Course, citations: Iterable[tuple[str, str, str]]) -> dict[str, list[tuple[str, str]]]:
    """Module id -> the (exercise, criterion) pairs citing one of its outcomes, for every module of
    the map in its order; ``citations`` are (exercise, criterion, outcome id) triples.  Outcome ids
    the map does not have are left out."""
    out: dict[str, list[tuple[str, str]]] = {m.id: [] for _, m in course.modules()}
    for exercise, criterion, outcome in citations:
        ref = course.outcome(outcome)
        if ref is not None:
            out[ref.module.id].append((exercise, criterion))
    return out
