"""Grade exports for the course's learning platform: gradebook CSVs and xAPI statements.

This module takes plain :class:`GradeRow` records (the caller reads them from the store,
with assessor overrides already applied) and never imports the engine or the store.

Formats
-------
``moodle``
    Moodle's *Import grades from CSV* (gradeimport_csv): UTF-8, comma separated, one
    header row.  The first column identifies the learner (``Email address`` when every
    learner has a distinct email, else ``Username``; map it to the matching *Map to*
    field), then one grade column per scenario (``<title> (scro_sim)``), ordered by
    scenario id, grades 0..100 with two decimals.  A learner with no run for a scenario
    gets ``-``, the value Moodle's own exports use and its importer reads as "no grade"
    both for existing and for new grade items (an empty cell means "no grade" only for an
    existing item; for a *new grade item* Moodle stores it as a grade value).  Note that
    "no grade" for an existing item clears a grade entered in Moodle by hand.
``openedx-sheet``
    A flat Open edX style grade sheet, for reading (Open edX cannot import it): ``username,email``
    and one column per scenario with the grade as a fraction 0..1 (four decimals), as in the Open
    edX grade report.
``openedx`` (also ``openedx-bulk``)
    :func:`openedx_bulk_csv`, the CSV Open edX's Gradebook *Bulk Management > Import grades* reads
    (``edx-bulk-grades``' ``GradeCSVProcessor``).  It needs Open edX ids scro_sim cannot know
    (numeric ``user_id``, subsection block ids, possible points), passed as arguments (the
    CLI and app read them from a mapping file, :mod:`scro_sim.openedx_map`).  Columns
    ``user_id, username, student_key, course_id, track, cohort`` then, per subsection,
    ``name-<id>, grade-<id>, original_grade-<id>,
    previous_override-<id>, new_override-<id>`` where ``<id>`` is the first 8 characters
    of the subsection's block id.  Only ``user_id``, ``course_id`` and ``new_override-*``
    are read on import; ``new_override`` holds earned points (not a fraction).
``xapi``
    One xAPI 1.0.3 ``completed`` statement per run and one ``passed``/``failed`` statement per module
    outcome it evidences (:func:`xapi_statements`), as a JSON
    array (:func:`xapi_json`) ready to POST to an LRS's ``/statements`` resource.  The
    statement id is a UUID5 of the run and its grade version, so re-exporting is
    idempotent.  An LRS refuses a statement whose id it holds with different content (409),
    so a run re-graded after an export (an assessor's judgement or override) gets a new
    statement id, and ``voided`` statements for each earlier version come first.

Attempts and provisional grades
-------------------------------
The rows are a learner's *graded* attempts only: the caller leaves out practice games and
reference, baseline and command-line runs.  The gradebooks (``moodle``, ``openedx-sheet``,
``openedx``) send one grade per learner and scenario, made by the scenario's grading
method (:func:`graded_rows`): the ``highest`` score, the ``average``, the ``first`` attempt or
the ``last``.  A provisional grade (judged criteria not yet rated) is either *marked*
(``provisional="mark"``, the default: a ``<title> (scro_sim) feedback`` column after the
grade, which Moodle maps to the grade item's feedback, says so; xAPI statements carry the
``provisional`` extension) or *held back* until rated (``provisional="hold"``: no grade, or no
statement, for it).  ``openedx`` cannot carry a mark, so it always holds them back.

Every function is deterministic: the same rows give the same text, whatever their order.
CSV text uses the csv module's CRLF line ends (RFC 4180); write it with
``open(path, "w", encoding="utf-8", newline="")``.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import math
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal
from urllib.parse import quote, urlsplit

__all__ = [
    "FORMATS",
    "GRADING_METHODS",
    "PROVISIONAL_MODES",
    "XAPI_ACTIVITY_SIMULATION",
    "XAPI_VERB_COMPLETED",
    "XAPI_VERB_VOIDED",
    "GradeRow",
    "OutcomeEvidence",
    "best_rows",
    "export",
    "graded_rows",
    "moodle_csv",
    "openedx_bulk_csv",
    "openedx_csv",
    "outcome_evidence",
    "pseudonymise",
    "xapi_json",
    "xapi_settings",
    "xapi_statements",
]

#: Export formats understood by :func:`export`.
FORMATS: tuple[str, ...] = ("moodle", "openedx", "openedx-sheet", "xapi")
#: How repeated attempts make a grade (the scenario's ``grading.method``).
GRADING_METHODS: tuple[str, ...] = ("highest", "average", "first", "last")
#: What an export does with a provisional grade: mark it, or hold it back until rated.
PROVISIONAL_MODES: tuple[str, ...] = ("mark", "hold")
PROVISIONAL_NOTE = "provisional: judged criteria not yet rated"

XAPI_VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
XAPI_VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"
XAPI_ACTIVITY_SIMULATION = "http://adlnet.gov/expapi/activities/simulation"
XAPI_VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
XAPI_VERB_FAILED = "http://adlnet.gov/expapi/verbs/failed"
XAPI_ACTIVITY_MODULE = "http://adlnet.gov/expapi/activities/module"
XAPI_ACTIVITY_COURSE = "http://adlnet.gov/expapi/activities/course"
XAPI_ACTIVITY_OBJECTIVE = "http://adlnet.gov/expapi/activities/objective"
#: Placeholders: set real addresses with $SCRO_SIM_XAPI_HOMEPAGE and $SCRO_SIM_XAPI_ACTIVITY_BASE (:func:`xapi_settings`).
DEFAULT_HOMEPAGE = "https://crisis-scro.example/scro_sim"
DEFAULT_ACTIVITY_BASE = "https://crisis-scro.example/scro_sim/"
HOMEPAGE_ENV = "SCRO_SIM_XAPI_HOMEPAGE"
ACTIVITY_BASE_ENV = "SCRO_SIM_XAPI_ACTIVITY_BASE"
#: Ratings that evidence an outcome (U does not), best first.
EVIDENCING_RATINGS: tuple[str, ...] = ("P", "S", "M")
_RATING_ORDER = {"P": 0, "S": 1, "M": 2, "U": 3}

_COLUMN_SUFFIX = " (scro_sim)"
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")


@dataclass(frozen=True)
class OutcomeEvidence:
    """One learning outcome of one course module as a run evidences it (from the rubric's criteria).

    ``rating`` is the weakest rating among the run's criteria serving the outcome (P, S, M or U),
    or None while one of them awaits an assessor (criteria not applicable are left out).
    """

    module: str
    outcome: str
    rating: str | None
    criteria: tuple[str, ...] = ()


def outcome_evidence(criteria: Iterable[Mapping[str, Any]]) -> tuple[OutcomeEvidence, ...]:
    """Roll a scorecard's criteria (dicts with ``module``, ``outcome``, ``rating``, ``status``, ``id``)
    up to one :class:`OutcomeEvidence` per (module, outcome), sorted."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for c in criteria:
        if c.get("module") and c.get("outcome") and c.get("status") != "not applicable":
            groups[(str(c["module"]), str(c["outcome"]))].append(c)
    out = []
    for (module, outcome), lines in sorted(groups.items()):
        ratings = [c.get("rating") for c in lines]
        rating = None if any(r is None for r in ratings) else max(ratings, key=lambda r: _RATING_ORDER[r])
        out.append(OutcomeEvidence(module, outcome, rating, tuple(sorted(str(c.get("id", "")) for c in lines))))
    return tuple(out)


@dataclass(frozen=True)
class GradeRow:
    """One graded run of one learner, as the LMS exports need it (plain data, no engine)."""

    username: str  # learner's login in scro_sim (= LMS username)
    email: str | None
    display_name: str | None
    scenario_id: str
    scenario_title: str
    run_id: str
    score: float  # 0..100, with assessor overrides applied by the caller
    passed: bool
    provisional: bool  # judged criteria not yet rated
    started_at: datetime  # tz-aware
    finished_at: datetime  # tz-aware
    language: str = "en"
    modules: tuple[str, ...] = ()  # course modules evidenced, e.g. ("C3",)
    #: per module of ``modules``: (id, title in ``language``, score 0..100 or None while unrated)
    module_results: tuple[tuple[str, str, float | None], ...] = ()
    revised_at: tuple[datetime, ...] = ()  # when each earlier grade of the run was replaced, oldest first (tz-aware)
    grading: str = "highest"  # the scenario's grading method for repeated attempts (GRADING_METHODS)
    pass_mark: float | None = None  # the scenario's pass mark (decides ``passed`` of an averaged grade)
    outcomes: tuple[OutcomeEvidence, ...] = ()  # the module outcomes the run evidences, at what rating

    def __post_init__(self) -> None:
        for name in ("username", "scenario_id", "run_id"):
            if not getattr(self, name):
                raise ValueError(f"GradeRow.{name} must not be empty")
        if not math.isfinite(self.score):
            raise ValueError(
                f"GradeRow.score must be a finite number, not {self.score!r} (run {self.run_id})"
            )
        for name in ("started_at", "finished_at"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"GradeRow.{name} must be timezone-aware (run {self.run_id})")
        if self.finished_at < self.started_at:
            raise ValueError(f"GradeRow.finished_at is before started_at (run {self.run_id})")
        if self.grading not in GRADING_METHODS:
            raise ValueError(f"GradeRow.grading {self.grading!r} is not one of {', '.join(GRADING_METHODS)} "
                             f"(run {self.run_id})")
        if not _LANGUAGE_TAG.match(self.language):
            raise ValueError(f"GradeRow.language {self.language!r} is not a language tag (run {self.run_id})")
        if not isinstance(self.modules, tuple):  # accept any sequence, store a tuple (frozen, hashable)
            object.__setattr__(self, "modules", tuple(self.modules))
        if not isinstance(self.module_results, tuple):
            object.__setattr__(self, "module_results", tuple(tuple(m) for m in self.module_results))
        if not isinstance(self.outcomes, tuple):
            object.__setattr__(self, "outcomes", tuple(self.outcomes))
        if not isinstance(self.revised_at, tuple):
            object.__setattr__(self, "revised_at", tuple(self.revised_at))
        for moment in self.revised_at:
            if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"GradeRow.revised_at must hold timezone-aware datetimes (run {self.run_id})")


# --------------------------------------------------------------------------- helpers


def _round_half_up(value: float, places: int) -> float:
    """Round as a person does on paper (55.555 -> 55.56), not as binary floats do (55.55).

    >>> _round_half_up(55.555, 2), round(55.555, 2)
    (55.56, 55.55)
    """
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _clamped_score(row: GradeRow) -> float:
    """Return the score in 0..100, rounded half up to 2 decimals (what every export writes)."""
    return _round_half_up(min(100.0, max(0.0, float(row.score))), 2)


def _order_key(row: GradeRow) -> tuple[float, datetime, str]:
    """Preference between runs of one scenario: higher score, then later finish, then run id."""
    return (float(row.score), row.finished_at.astimezone(UTC), row.run_id)


def _scenario_titles(rows: Sequence[GradeRow]) -> dict[str, str]:
    """One column title per scenario id, unique, in scenario-id order.

    A scenario can be played in several languages, so rows may carry different titles for
    one scenario: an English title wins, then the alphabetically first.  Titles that two
    scenarios share get the scenario id appended, so every column is unambiguous.
    """
    candidates: dict[str, set[tuple[bool, str]]] = defaultdict(set)
    for row in rows:
        title = row.scenario_title.strip() or row.scenario_id
        candidates[row.scenario_id].add((not row.language.lower().startswith("en"), title))
    chosen = {sid: min(options)[1] for sid, options in sorted(candidates.items())}
    counts: dict[str, int] = defaultdict(int)
    for title in chosen.values():
        counts[title.casefold()] += 1
    return {
        sid: (f"{title} [{sid}]" if counts[title.casefold()] > 1 else title) for sid, title in chosen.items()
    }


def _latest_by_user(rows: Sequence[GradeRow]) -> dict[str, GradeRow]:
    """Each learner's most recent row (for their current email and display name)."""
    latest: dict[str, GradeRow] = {}
    for row in rows:
        held = latest.get(row.username)
        if held is None or (row.finished_at, row.run_id) > (held.finished_at, held.run_id):
            latest[row.username] = row
    return latest


def _emails(rows: Sequence[GradeRow]) -> dict[str, str] | None:
    """Map username -> email, or None if some learner has no email or two learners share one."""
    emails: dict[str, str] = {}
    if not rows:
        return None
    for username, row in _latest_by_user(rows).items():
        email = (row.email or "").strip()
        if not email:
            return None
        emails[username] = email
    if len({e.casefold() for e in emails.values()}) != len(emails):
        return None
    return emails


def _grid(rows: Sequence[GradeRow], provisional: str = "mark") -> tuple[list[str], dict[str, dict[str, GradeRow]]]:
    """Usernames in order (every learner with an attempt), and username -> scenario_id -> graded row."""
    grid: dict[str, dict[str, GradeRow]] = {row.username: {} for row in rows}
    for row in graded_rows(rows, provisional=provisional):
        grid[row.username][row.scenario_id] = row
    return sorted(grid), grid


def _check_mode(provisional: str) -> str:
    if provisional not in PROVISIONAL_MODES:
        raise ValueError(f"provisional grades are marked or held back: {provisional!r} is not one of "
                         f"{', '.join(PROVISIONAL_MODES)}")
    return provisional


def _attempt_key(row: GradeRow) -> tuple[datetime, datetime, str]:
    """The order of attempts: by finish, then start, then run id (never by input order)."""
    return (row.finished_at.astimezone(UTC), row.started_at.astimezone(UTC), row.run_id)


def _write_csv(header: list[str], body: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")  # comma, '"' quoting, \r\n: RFC 4180
    writer.writerow(header)
    writer.writerows(body)
    return buffer.getvalue()


def _format_duration(delta: timedelta) -> str:
    """ISO 8601 duration in hours, minutes and seconds (0.01 s precision, as xAPI compares).

    >>> _format_duration(timedelta(hours=1, minutes=2, seconds=3))
    'PT1H2M3S'
    >>> _format_duration(timedelta(days=1, seconds=0.5))
    'PT24H0.5S'
    >>> _format_duration(timedelta(0))
    'PT0S'
    """
    if delta < timedelta(0):
        raise ValueError(f"negative duration {delta}")
    centis = round(delta / timedelta(milliseconds=10))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    seconds, hundredths = divmod(rest, 100)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if seconds or hundredths or text == "PT":
        text += f"{seconds}.{hundredths:02d}".rstrip("0").rstrip(".") + "S"
    return text


def _format_timestamp(moment: datetime) -> str:
    """ISO 8601 UTC timestamp with millisecond precision and ``Z``.

    >>> _format_timestamp(datetime(2025, 3, 1, 9, 30, tzinfo=UTC))
    '2025-03-01T09:30:00.000Z'
    """
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}Z"


def _language_map_key(language: str) -> str:
    """Language-map key for text in ``language``: en -> en-US (the xAPI convention)."""
    return "en-US" if language.lower() == "en" else language


def _check_iri(value: str, what: str) -> None:
    """Refuse anything but an absolute http(s) IRI with a host (an xAPI account homePage is an IRL)."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if (parts is None or not _ABSOLUTE_IRI.match(value) or parts.scheme not in ("http", "https")
            or not parts.netloc or parts.fragment or parts.query):
        raise ValueError(f"{what} must be an absolute IRI: http(s), with a host, no query or fragment "
                         f"(e.g. https://lms.example.edu/scro_sim), not {value!r}")


def xapi_settings(homepage: str | None = None, activity_base: str | None = None,
                  env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The xAPI addresses to use: each given value (a command-line option), else its environment
    variable (``$SCRO_SIM_XAPI_HOMEPAGE``, ``$SCRO_SIM_XAPI_ACTIVITY_BASE``), else the placeholder.

    Returns ``{"homepage": ..., "activity_base": ...}`` (the base ends with ``/``); a value that is
    not an absolute http(s) IRI is refused with a ``ValueError`` naming where it came from.
    """
    env = os.environ if env is None else env
    out = {}
    for key, given, var, default in (("homepage", homepage, HOMEPAGE_ENV, DEFAULT_HOMEPAGE),
                                     ("activity_base", activity_base, ACTIVITY_BASE_ENV, DEFAULT_ACTIVITY_BASE)):
        where = "--xapi-" + key.replace("_", "-")
        value = given
        if value is None:
            value, where = (env.get(var, "").strip() or None), "$" + var
        value = default if value is None else value
        try:
            _check_iri(value, where)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        out[key] = value
    if not out["activity_base"].endswith("/"):
        out["activity_base"] += "/"
    return out


# --------------------------------------------------------------------------- public API


def best_rows(rows: Iterable[GradeRow]) -> list[GradeRow]:
    """One row per (username, scenario_id): the best run, sorted by (username, scenario_id).

    The best run has the highest score; ties go to the latest ``finished_at``, then to the
    greatest ``run_id``, so the choice never depends on input order.
    """
    best: dict[tuple[str, str], GradeRow] = {}
    for row in rows:
        key = (row.username, row.scenario_id)
        held = best.get(key)
        if held is None or _order_key(row) > _order_key(held):
            best[key] = row
    return [best[key] for key in sorted(best)]


def graded_rows(rows: Iterable[GradeRow], *, provisional: str = "mark") -> list[GradeRow]:
    """One row per (username, scenario_id): the grade the scenario's method makes of the attempts.

    The method is the ``grading`` of the learner's latest attempt (the scenario as last played):
    ``highest`` is :func:`best_rows`' choice, ``first`` and ``last`` the first and last attempt
    by finish time, ``average`` the mean score (its ``passed`` from ``pass_mark`` when known, else
    whether every attempt passed), carried by the last attempt's row.  A grade is provisional when
    an attempt it is made of is.  With ``provisional="hold"`` no provisional grade is given:
    ``highest`` takes the best *rated* attempt (a provisional one can only raise it later), while
    ``average``, ``first`` and ``last`` give no grade until the attempts they are made of are rated.
    Sorted by (username, scenario_id); the result never depends on input order.
    """
    hold = _check_mode(provisional) == "hold"
    groups: dict[tuple[str, str], list[GradeRow]] = defaultdict(list)
    for row in rows:
        groups[(row.username, row.scenario_id)].append(row)
    out: list[GradeRow] = []
    for key in sorted(groups):
        attempts = sorted(groups[key], key=_attempt_key)
        method = attempts[-1].grading
        if method == "highest":
            pool = [r for r in attempts if not (hold and r.provisional)]
            chosen = best_rows(pool)[0] if pool else None
        elif method in ("first", "last"):
            chosen = attempts[0] if method == "first" else attempts[-1]
        else:  # average
            last = attempts[-1]
            mean = math.fsum(float(r.score) for r in attempts) / len(attempts)
            passed = mean >= last.pass_mark if last.pass_mark is not None else all(r.passed for r in attempts)
            chosen = replace(last, score=mean, passed=passed, provisional=any(r.provisional for r in attempts))
        if chosen is not None and not (hold and chosen.provisional):
            out.append(chosen)
    return out


def _with_feedback(grid: Mapping[str, Mapping[str, GradeRow]]) -> bool:
    """Whether a gradebook needs feedback columns: some grade in it is provisional (and so marked)."""
    return any(row.provisional for cells in grid.values() for row in cells.values())


def moodle_csv(rows: Iterable[GradeRow], *, missing: str = "-", provisional: str = "mark") -> str:
    """Moodle "Import grades from CSV" text: identifier column, then one column per scenario.

    The identifier is ``Email address`` if every learner has a (distinct) email, else
    ``Username``.  Grades are what the scenario's grading method makes of the learner's
    attempts (0..100, two decimals, see :func:`graded_rows`); a learner with no grade for a
    scenario gets ``missing`` (``-`` is Moodle's "no grade").  When a grade is provisional and
    ``provisional="mark"``, each grade column is followed by ``<title> (scro_sim) feedback``
    (map it to the grade item's feedback) saying so; ``"hold"`` leaves such grades out.
    """
    rows = list(rows)
    usernames, grid = _grid(rows, provisional)
    titles = _scenario_titles(rows)
    emails = _emails(rows)
    feedback = _with_feedback(grid)
    header = ["Email address" if emails is not None else "Username"]
    for title in titles.values():
        header += [title + _COLUMN_SUFFIX] + ([title + _COLUMN_SUFFIX + " feedback"] if feedback else [])
    body = []
    for username in usernames:
        line = [emails[username] if emails is not None else username]
        for sid in titles:
            row = grid[username].get(sid)
            line.append(f"{_clamped_score(row):.2f}" if row is not None else missing)
            if feedback:
                line.append(PROVISIONAL_NOTE if row is not None and row.provisional else "")
        body.append(line)
    return _write_csv(header, body)


def openedx_csv(rows: Iterable[GradeRow], *, provisional: str = "mark") -> str:
    """Open edX style grade sheet: ``username,email`` then one 0..1 grade column per scenario.

    Grades are fractions with four decimals (as in the Open edX grade report), made by the
    scenario's grading method; missing grades are empty.  Provisional grades are marked in a
    ``<title> (scro_sim) feedback`` column after the grade, or held back (``provisional="hold"``).
    For Open edX's own bulk import use :func:`openedx_bulk_csv`.
    """
    rows = list(rows)
    usernames, grid = _grid(rows, provisional)
    titles = _scenario_titles(rows)
    latest = _latest_by_user(rows)
    feedback = _with_feedback(grid)
    header = ["username", "email"]
    for title in titles.values():
        header += [title + _COLUMN_SUFFIX] + ([title + _COLUMN_SUFFIX + " feedback"] if feedback else [])
    body = []
    for username in usernames:
        line = [username, (latest[username].email or "").strip()]
        for sid in titles:
            row = grid[username].get(sid)
            line.append(f"{_round_half_up(_clamped_score(row) / 100, 4):.4f}" if row is not None else "")
            if feedback:
                line.append(PROVISIONAL_NOTE if row is not None and row.provisional else "")
        body.append(line)
    return _write_csv(header, body)


def openedx_bulk_csv(
    rows: Iterable[GradeRow],
    *,
    course_id: str,
    user_ids: Mapping[str, int | str],
    block_ids: Mapping[str, str],
    points_possible: float | Mapping[str, float],
    provisional: str = "hold",
) -> str:
    """Open edX Gradebook *Bulk Management* import CSV (``new_override-<block>`` columns).

    The import reads only the override, so it cannot carry a mark: provisional grades are
    always held back (``provisional="mark"`` is refused).

    ``user_ids`` maps scro_sim usernames to Open edX numeric user ids; ``block_ids`` maps
    scenario ids to the graded subsection's usage key (or bare block id);
    ``points_possible`` is the subsection's possible points (one number, or per scenario).
    The override written is ``score / 100 * points_possible``.  A learner or scenario with
    no mapping raises ``ValueError``: Open edX would reject or misfile the row.
    """
    # Columns as edx-bulk-grades reads them (openedx/edx-bulk-grades, bulk_grades/api.py, GradeCSVProcessor:
    # required_columns ['user_id', 'course_id'], subsection_prefixes name/grade/original_grade/previous_override/
    # new_override, short id = block_id[:8]; only non-empty new_override-* cells are read, as earned points >= 0;
    # a row whose course_id differs or whose user_id repeats is refused).  super-csv's CSVProcessor
    # (openedx/super-csv, super_csv/csv_processor.py, validate_file) refuses a file missing a required column.
    if _check_mode(provisional) != "hold":
        raise ValueError("the Open edX bulk import cannot mark a grade provisional: it holds them back "
                         "(provisional='hold')")
    rows = list(rows)
    usernames, grid = _grid(rows, provisional)
    titles = _scenario_titles(rows)
    if not course_id:
        raise ValueError("course_id is required (e.g. 'course-v1:Org+Course+Run')")
    unmapped_users = [u for u in usernames if u not in user_ids]
    unmapped_scenarios = [s for s in titles if s not in block_ids]
    if unmapped_users or unmapped_scenarios:
        raise ValueError(
            "openedx_bulk_csv needs Open edX ids for every learner and scenario; missing "
            f"user_ids for {unmapped_users or 'none'}, block_ids for {unmapped_scenarios or 'none'}"
        )
    short_ids: dict[str, str] = {}
    for sid in titles:
        short = block_ids[sid].rsplit("@", 1)[-1][:8]
        if not short:
            raise ValueError(f"empty block id for scenario {sid!r}")
        if short in short_ids.values():
            raise ValueError(f"block ids of two scenarios share the short id {short!r} (first 8 characters)")
        short_ids[sid] = short
    possible: dict[str, float] = {}
    for sid in titles:
        value = points_possible[sid] if isinstance(points_possible, Mapping) else points_possible
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"points_possible for scenario {sid!r} must be a positive number, not {value!r}")
        possible[sid] = float(value)
    prefixes = ("name", "grade", "original_grade", "previous_override", "new_override")
    header = ["user_id", "username", "student_key", "course_id", "track", "cohort"]
    header += [f"{prefix}-{short_ids[sid]}" for sid in titles for prefix in prefixes]
    body = []
    for username in usernames:
        line = [str(user_ids[username]), username, "", course_id, "", ""]
        for sid, title in titles.items():
            row = grid[username].get(sid)
            points = (
                "" if row is None else f"{_round_half_up(_clamped_score(row) / 100 * possible[sid], 2):.2f}"
            )
            line += [title, "", "", "", points]
        body.append(line)
    return _write_csv(header, body)


def xapi_statements(
    rows: Iterable[GradeRow],
    *,
    homepage: str = DEFAULT_HOMEPAGE,
    activity_base: str = DEFAULT_ACTIVITY_BASE,
    provisional: str = "mark",
) -> list[dict[str, Any]]:
    """xAPI 1.0.3 statements for graded runs, sorted by (username, scenario, finish, run).

    Per run, in this order: one ``voided`` statement per earlier grade of the run (and of each of its
    outcome statements), the run's ``completed`` statement, then one ``passed`` (rating P, S or M) or
    ``failed`` (U) statement per module outcome the run evidences at a rating.  Every graded attempt
    is sent (an LRS records attempts; the gradebook applies the grading method).  A provisional
    run's statements say so in their ``provisional`` extension, or with ``provisional="hold"`` are
    left out until the run is rated; an outcome still awaiting an assessor is never sent.

    Activities (under ``activity_base``, a folder IRI): the scenario ``scenario/<id>``, the module
    ``module/<id>``, the outcome ``module/<id>/outcome/<id>`` and the course ``course``.  The
    ``completed`` statement has the modules it evidences as ``contextActivities.parent`` and the
    course as ``grouping``; an outcome statement has its module as parent, the course and the
    scenario as grouping, and refers to the run's statement (``context.statement``).  So an LRS
    rolls exercises up to modules and the course by their activity ids.

    The actor is an ``account`` on ``homepage`` (name = username).  Statement ids are UUID5 of
    ``<homepage>/run/<run_id>`` (plus ``/outcome/<module>/<outcome>``), with ``/grade/<n>`` for the
    n-th re-grade: stable across re-exports, so sending twice never duplicates.  Context extensions
    (keys under ``<homepage>/xapi/extensions/``) carry the run id, grade version, provisional flag,
    modules, each module's result (``module-results``: id, title in the learner's language, score)
    and, for outcomes, the rating and criteria.  Voiding statements (actor: the ``scro_sim``
    account; timestamp: when the grade was replaced) make an LRS that received an earlier grade
    drop it; an LRS accepts voiding a statement it never received.
    """
    _check_iri(homepage, "homepage")
    _check_iri(activity_base, "activity_base")
    hold = _check_mode(provisional) == "hold"
    home = homepage.rstrip("/")
    base = activity_base if activity_base.endswith("/") else activity_base + "/"
    extension = f"{home}/xapi/extensions/"
    course = {"objectType": "Activity", "id": base + "course",
              "definition": {"type": XAPI_ACTIVITY_COURSE, "name": {"en-US": "scro_sim course"}}}
    unique: dict[str, GradeRow] = {}
    for row in rows:
        held = unique.setdefault(row.run_id, row)
        if held != row:
            raise ValueError(f"two different rows share run_id {row.run_id!r}")
    ordered = sorted(
        (r for r in unique.values() if not (hold and r.provisional)),
        key=lambda r: (r.username, r.scenario_id, r.finished_at.astimezone(UTC), r.run_id),
    )
    statements = []
    for row in ordered:
        run_iri = f"{home}/run/{quote(row.run_id, safe='')}"
        version = len(row.revised_at)
        outcome_keys = {o: f"{run_iri}/outcome/{quote(o.module, safe='')}/{quote(o.outcome, safe='')}"
                        for o in row.outcomes}
        for earlier, replaced_at in enumerate(row.revised_at):
            statements.append(_voiding(homepage, f"{run_iri}/void/{earlier}", _statement_id(run_iri, earlier),
                                       replaced_at))
            for key in outcome_keys.values():
                statements.append(_voiding(homepage, f"{key}/void/{earlier}", _statement_id(key, earlier),
                                           replaced_at))
        raw = _clamped_score(row)
        actor: dict[str, Any] = {
            "objectType": "Agent",
            "account": {"homePage": homepage, "name": row.username},
        }
        if row.display_name:
            actor["name"] = row.display_name
        modules = sorted(set(row.modules) | {o.module for o in row.outcomes})
        extensions: dict[str, Any] = {
            extension + "run-id": row.run_id,
            extension + "grade-version": version,
            extension + "provisional": row.provisional,
        }
        if modules:
            extensions[extension + "modules"] = modules
        if row.module_results:  # the grade by course module, each named in the learner's language
            extensions[extension + "module-results"] = [
                {"id": mid, "title": {_language_map_key(row.language): title or mid},
                 "score": None if score is None else _round_half_up(score, 2)}
                for mid, title, score in row.module_results]
        scenario = {
            "objectType": "Activity",
            "id": base + "scenario/" + quote(row.scenario_id, safe="-._~"),
            "definition": {
                "name": {_language_map_key(row.language): row.scenario_title or row.scenario_id},
                "type": XAPI_ACTIVITY_SIMULATION,
            },
        }
        context_activities: dict[str, Any] = {"grouping": [course]}
        if modules:
            context_activities["parent"] = [_module_activity(base, m) for m in modules]
        run_statement_id = _statement_id(run_iri, version)
        statements.append(
            {
                "id": run_statement_id,
                "actor": actor,
                "verb": {"id": XAPI_VERB_COMPLETED, "display": {"en-US": "completed"}},
                "object": scenario,
                "result": {
                    "score": {
                        "scaled": min(1.0, max(0.0, _round_half_up(raw / 100, 4))),
                        "raw": raw,
                        "min": 0,
                        "max": 100,
                    },
                    "success": bool(row.passed),
                    "completion": True,
                    "duration": _format_duration(row.finished_at - row.started_at),
                },
                "timestamp": _format_timestamp(row.finished_at),
                "context": {"language": row.language, "extensions": extensions,
                            "contextActivities": context_activities},
            }
        )
        for outcome, key in outcome_keys.items():
            if outcome.rating is None:
                continue
            success = outcome.rating in EVIDENCING_RATINGS
            verb = XAPI_VERB_PASSED if success else XAPI_VERB_FAILED
            statements.append({
                "id": _statement_id(key, version),
                "actor": actor,
                "verb": {"id": verb, "display": {"en-US": "passed" if success else "failed"}},
                "object": {
                    "objectType": "Activity",
                    "id": f"{_module_activity(base, outcome.module)['id']}/outcome/{quote(outcome.outcome, safe='-._~')}",
                    "definition": {"type": XAPI_ACTIVITY_OBJECTIVE,
                                   "name": {"en-US": f"{outcome.module} {outcome.outcome}"}},
                },
                "result": {"success": success, "extensions": {extension + "rating": outcome.rating}},
                "timestamp": _format_timestamp(row.finished_at),
                "context": {
                    "language": row.language,
                    "contextActivities": {"parent": [_module_activity(base, outcome.module)],
                                          "grouping": [course, scenario]},
                    "statement": {"objectType": "StatementRef", "id": run_statement_id},
                    "extensions": {extension + "run-id": row.run_id, extension + "grade-version": version,
                                   extension + "provisional": row.provisional,
                                   extension + "criteria": list(outcome.criteria)},
                },
            })
    return statements


def _module_activity(base: str, module: str) -> dict[str, Any]:
    return {"objectType": "Activity", "id": base + "module/" + quote(module, safe="-._~"),
            "definition": {"type": XAPI_ACTIVITY_MODULE, "name": {"en-US": module}}}


def _statement_id(run_iri: str, version: int) -> str:
    """The id of a run's statement for its ``version``-th grade (0: the first, as before re-grades existed)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, run_iri if version == 0 else f"{run_iri}/grade/{version}"))


def _voiding(homepage: str, key: str, target: str, moment: datetime) -> dict[str, Any]:
    """A statement voiding statement ``target`` (its id is a UUID5 of ``key``)."""
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, key)),
        "actor": {"objectType": "Agent", "account": {"homePage": homepage, "name": "scro_sim"}},
        "verb": {"id": XAPI_VERB_VOIDED, "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
        "timestamp": _format_timestamp(moment),
    }


def xapi_json(
    rows: Iterable[GradeRow],
    *,
    homepage: str = DEFAULT_HOMEPAGE,
    activity_base: str = DEFAULT_ACTIVITY_BASE,
    provisional: str = "mark",
) -> str:
    """Return :func:`xapi_statements` as a JSON array (UTF-8 text, sorted keys, 2-space indent)."""
    statements = xapi_statements(rows, homepage=homepage, activity_base=activity_base, provisional=provisional)
    return json.dumps(statements, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def pseudonymise(rows: Iterable[GradeRow], key: bytes) -> list[GradeRow]:
    """The rows for analysis: each learner's username becomes a keyed-hash pseudonym (``p-`` and 16 hex
    digits of HMAC-SHA256 under ``key``), name and e-mail are dropped.

    The same learner gets the same pseudonym wherever the same key is used (a fresh random key
    per export keeps exports unlinkable; a kept secret key links them); without the key a
    pseudonym cannot be turned back into a name by hashing candidate names.
    """
    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ValueError("the pseudonym key must be at least 16 random bytes")
    out = []
    for row in rows:
        alias = "p-" + hmac.new(bytes(key), row.username.encode("utf-8"), hashlib.sha256).hexdigest()[:16]
        out.append(replace(row, username=alias, email=None, display_name=None))
    return out


def export(
    rows: Iterable[GradeRow],
    fmt: Literal["moodle", "openedx", "openedx-sheet", "openedx-bulk", "xapi"],
    **options: Any,
) -> str:
    """Export ``rows`` in format ``fmt`` (one of :data:`FORMATS`); ``options`` go to that exporter.

    ``openedx`` is the importable bulk-management CSV (:func:`openedx_bulk_csv`, which needs the
    course's Open edX ids; ``openedx-bulk`` is another name for it); ``openedx-sheet`` the flat,
    readable grade sheet (:func:`openedx_csv`), which Open edX cannot import.
    """
    exporters = {
        "moodle": moodle_csv,
        "openedx": openedx_bulk_csv,
        "openedx-bulk": openedx_bulk_csv,
        "openedx-sheet": openedx_csv,
        "xapi": xapi_json,
    }
    exporter = exporters.get(fmt)
    if exporter is None:
        raise ValueError(f"unknown export format {fmt!r}; expected one of: {', '.join(FORMATS)}")
    return exporter(rows, **options)
