"""One exception tree for scro_sim; every error can say where (file, line) and what (field).

Lecturers meet these errors, so ``str(err)`` is the one-line ``path:line: field: message``
form that editors and CI logs understand.  A message made as a :class:`Msg` is English text
that also keeps its template (the gettext msgid) and arguments, so :meth:`Problem.say` can
word it in the reader's language while ``file:line: field`` stays the file's own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = [
    "N_",
    "CityModelError",
    "Count",
    "CourseError",
    "DecisionError",
    "InputError",
    "Msg",
    "PlanError",
    "Problem",
    "ScenarioError",
    "ScroSimError",
    "StoreError",
    "VerificationError",
    "Words",
    "WorkBudgetExceeded",
    "YamlError",
    "did_you_mean",
    "joined",
    "print_problems",
    "say",
    "word",
]

#: a gettext ``_`` function: msgid -> the text in the reader's language
Words = Callable[[str], str]


class Msg(str):
    """A message that is its English text and can be said in another language.

    ``Msg("unknown inject {id!r}", id="I9")`` is the string ``unknown inject 'I9'``; its
    ``template`` is the msgid the catalogues translate and ``args`` fill it in any language.
    An argument may be a Msg itself (a "did you mean" part, a word like "inject"): it is said
    in the same language.  Being a ``str``, it goes wherever a message went before.
    """

    template: str
    args: dict[str, Any]

    def __new__(cls, template: str, /, **args: Any) -> Msg:
        self = super().__new__(cls, template.format(**args))
        self.template, self.args = template, args
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.template, self.args)

    def say(self, words: Words | None = None) -> str:
        """The message in the language of ``words`` (English without); English if the translation is unusable."""
        if words is None:
            return str(self)
        args = {k: (v.say(words) if isinstance(v, Msg) else v) for k, v in self.args.items()}
        try:
            return words(self.template).format(**args)
        except (KeyError, IndexError, ValueError):  # a broken translation must not hide the problem
            return str(self)


class Count(Msg):
    """A whole number for a message, its thousands separated as the reader writes them: "500,000" in English,
    "500.000" in German (the catalogues' ``thousands separator``)."""

    def __new__(cls, n: float) -> Count:
        return super().__new__(cls, "{n}", n=f"{n:,.0f}")

    def __reduce__(self) -> tuple[Any, ...]:
        return _count, (float(self.args["n"].replace(",", "")),)

    def say(self, words: Words | None = None) -> str:
        sep = words(_THOUSANDS) if words is not None else ","
        return str(self).replace(",", sep if sep != _THOUSANDS else ",")


def _count(n: float) -> Count:
    return Count(n)


def N_(template: str) -> str:
    """Marks a message template (or a word a :class:`Msg` fills in) for the catalogues, scro_sim.pot."""
    return template


#: the catalogues' thousands separator for :class:`Count` ("," in English)
_THOUSANDS = N_("thousands separator")


def did_you_mean(close: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` after a misspelt name (``'x' or 'y'`` for two), or "" when nothing is close."""
    if not close:
        return ""
    names = [repr(x) for x in close]
    shown: str = names[0] if len(names) == 1 else Msg(N_("{choices} or {last}"), choices=", ".join(names[:-1]),
                                                         last=names[-1])
    return Msg(N_(" (did you mean {names}?)"), names=shown)


def joined(parts: Sequence[str], sep: str = "; ") -> str:
    """``parts`` joined by ``sep``: a :class:`Msg` (each part said in the reader's language) when any part is one."""
    if not any(isinstance(p, Msg) for p in parts):
        return sep.join(parts)
    braces = {ord("{"): "{{", ord("}"): "}}"}
    return Msg(sep.translate(braces).join(f"{{p{i}}}" for i in range(len(parts))),
               **{f"p{i}": p for i, p in enumerate(parts)})


def word(w: str) -> str:
    """A word the catalogues translate (an asset type, a service, an action's name) to fill a :class:`Msg`:
    itself in English, the catalogue's word in the reader's language."""
    return Msg(w) if w and "{" not in w and "}" not in w else w


def _rebuild(template: str, args: dict[str, Any]) -> Msg:
    return Msg(template, **args)


def say(message: str, words: Words | None = None) -> str:
    """``message`` in the language of ``words`` when it is a :class:`Msg`; a plain string stays as it is."""
    return message.say(words) if isinstance(message, Msg) else str(message)


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem: where it is and what is wrong."""

    path: str = ""
    line: int | None = None
    field: str = ""
    message: str = ""

    def __str__(self) -> str:
        return self.say()

    def say(self, words: Words | None = None) -> str:
        """``path:line: field: message`` with the message in the language of ``words`` (English without)."""
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        parts = [p for p in (where, self.field, say(self.message, words)) if p]
        return ": ".join(parts)


class ScroSimError(Exception):
    """Base of every error scro_sim raises on purpose."""

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        line: int | None = None,
        field: str = "",
        problems: list[Problem] | None = None,
    ) -> None:
        if problems is None:
            problems = [Problem(path or "", line, field, message)] if message else []
        self.problems: list[Problem] = list(problems)
        self.path = path if path is not None else (self.problems[0].path if self.problems else None)
        self.line = line if line is not None else (self.problems[0].line if self.problems else None)
        self.field = field or (self.problems[0].field if self.problems else "")
        super().__init__("\n".join(str(p) for p in self.problems) or message)


class InputError(ScroSimError):
    """A file a person wrote is malformed or inconsistent."""


class YamlError(InputError):
    """The text is not acceptable YAML (syntax, duplicate keys, aliases, tags, size caps)."""


class ScenarioError(InputError):
    """A scenario file breaks the scenario language or does not fit its city."""


class CityModelError(InputError):
    """A city model file is malformed or inconsistent."""


class CourseError(InputError):
    """A course map (modules and learning outcomes) is malformed, or a scenario cites an outcome it lacks."""


class PlanError(InputError):
    """A response plan is malformed or does not fit its scenario."""


class DecisionError(ScroSimError):
    """A learner's action is not allowed now; the simulation state is unchanged.

    ``reasons`` are the refusal's reasons one by one (each a :class:`Msg` where the engine made it, so a front end
    can :func:`say` it in the learner's language); ``str(err)`` stays the English ``actions: a; b``.
    """

    def __init__(self, message: str = "", *, reasons: Sequence[str] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reasons: list[str] = list(reasons) if reasons is not None else ([message] if message else [])


class StoreError(ScroSimError):
    """The database refused an operation (unknown run, bad credentials, conflict)."""


class VerificationError(ScroSimError):
    """A stored run could not be re-simulated at all (as opposed to differing)."""


class WorkBudgetExceeded(ScroSimError):
    """A run did more work than its budget allows and was stopped (a runaway scenario, never a hang).

    ``budget`` names what ran over ("records": event-log records, "steps": simulation steps),
    ``limit`` its size, ``time_h`` the simulated hour reached and ``scenario`` the scenario's id.
    """

    def __init__(self, budget: str, limit: int, *, time_h: float, duration_h: float, scenario: str,
                 path: str | None = None, detail: str = "") -> None:
        self.budget = budget
        self.limit = int(limit)
        self.time_h = float(time_h)
        self.scenario = scenario
        what = {"records": "event-log records", "steps": "simulation steps"}.get(budget, budget)
        because = f" ({detail})" if detail else ""
        super().__init__(
            f"scenario {scenario!r}: the run was stopped at hour {time_h:g} of {duration_h:g}: it needs more than "
            f"{self.limit:,} {what}, its work budget{because}; look for a huge count or a tiny step in the scenario",
            path=path, field="work budget")


def print_problems(exc: ScroSimError, stream: TextIO | None = None, words: Words | None = None) -> None:
    """Write an error's problems, one ``path:line: field: message`` line each (to stderr by default),
    the messages in the language of ``words`` (English without)."""
    out = stream if stream is not None else sys.stderr
    for p in exc.problems or []:
        print(p.say(words), file=out)
    if not exc.problems:
        print(str(exc), file=out)
