"""The learner's glossary: the exercises' words explained in plain language, in the four course languages.

The terms live in ``glossary.yaml`` beside this module (package data); the app's Glossary page
shows them and :func:`search` finds them.  Every term must carry all four languages, and every
``see_also`` must name a term of the file: :func:`load_glossary` refuses anything else with
``file:line: field: message``.
"""

from __future__ import annotations

import functools
import unicodedata
from importlib.resources import files
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from .errors import InputError, Problem
from .i18n import LANGUAGES, normalize
from .yamlio import load_yaml, validate_model

__all__ = ["Glossary", "GlossaryError", "Term", "glossary", "load_glossary", "search"]


class GlossaryError(InputError):
    """A glossary file that does not validate."""


def _four_languages(v: dict[str, str]) -> dict[str, str]:
    missing = [lg for lg in LANGUAGES if not str(v.get(lg, "")).strip()]
    if missing:
        raise ValueError(f"missing or empty in {', '.join(missing)} (every term is written in {', '.join(LANGUAGES)})")
    extra = sorted(set(v) - set(LANGUAGES))
    if extra:
        raise ValueError(f"unknown language {', '.join(extra)} (the course's languages: {', '.join(LANGUAGES)})")
    return v


class Term(BaseModel):
    """One term: its id, its name and its explanation in every language, and related terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    term: dict[str, str]
    text: dict[str, str]
    see_also: tuple[str, ...] = ()

    _langs = field_validator("term", "text")(_four_languages)


class Glossary(BaseModel):
    """The glossary file: a list of terms with unique ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: tuple[Term, ...]

    def by_id(self) -> dict[str, Term]:
        return {t.id: t for t in self.terms}

    def in_order(self, lang: str) -> list[Term]:
        """The terms sorted as a reader of ``lang`` expects (accents and case ignored)."""
        lg = normalize(lang)
        return sorted(self.terms, key=lambda t: _fold(t.term[lg]))


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s.casefold()) if not unicodedata.combining(c))


def load_glossary(path: str | Path) -> Glossary:
    """Read and check a glossary file; problems come back as :class:`GlossaryError` with lines."""
    loaded = load_yaml(path, path=str(path))
    g = validate_model(Glossary, loaded, GlossaryError, "glossary", "terms")
    problems: list[Problem] = []
    ids: dict[str, int] = {}
    for i, t in enumerate(g.terms):
        if t.id in ids:
            problems.append(Problem(str(path), loaded.line_of(("terms", i, "id")), f"terms[{i}].id",
                                    f"duplicate id {t.id!r} (first at terms[{ids[t.id]}])"))
        ids.setdefault(t.id, i)
    for i, t in enumerate(g.terms):
        for j, ref in enumerate(t.see_also):
            if ref not in ids:
                problems.append(Problem(str(path), loaded.line_of(("terms", i, "see_also", j)),
                                        f"terms[{i}].see_also[{j}]", f"no term with id {ref!r}"))
    if problems:
        raise GlossaryError(problems=problems)
    return g


@functools.cache
def glossary() -> Glossary:
    """The bundled glossary (read once per process)."""
    return load_glossary(Path(str(files("scro_sim") / "glossary.yaml")))


def search(query: str, lang: str, g: Glossary | None = None) -> list[Term]:
    """Terms whose name or explanation in ``lang`` contains every word of ``query`` (accents and case ignored)."""
    g = g or glossary()
    lg = normalize(lang)
    words = _fold(query).split()
    return [t for t in g.in_order(lg) if all(w in _fold(t.term[lg] + " " + t.text[lg]) for w in words)]
