"""The cohort dashboard: how a cohort is doing per exercise, criterion and learner, as HTML or CSV.

Pure functions over the store: :func:`cohort_dashboard` reads a cohort's stored runs (their
score cards: ratings, module scores and the expected actions' timeliness the scoring read
from each event log), its members and their games, and returns plain data; :func:`to_html`
and :func:`to_csv` write it.  Who may look is the store's rule (``Store.require_cohort_access``):
admins and assessors every cohort, lecturers the cohorts they belong to.

Exercise statistics read the runs that count toward a grade (played games and learners' own
plans); practice games count toward a learner's time and activity, never toward scores.
"""

from __future__ import annotations

import csv
import html
import io
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import ScroSimError
from ..i18n import translator
from ..store import GRADED_ORIGINS, RATINGS, Store
from ..vocabulary import N_

__all__ = [
    "FLAGS",
    "CohortDashboard",
    "CriterionStats",
    "ExerciseStats",
    "ExpectedStats",
    "LearnerRow",
    "ScoreStats",
    "cohort_dashboard",
    "to_csv",
    "to_html",
    "write_dashboard",
]

FORMATS = ("html", "csv")
#: what a learner may need support for (flag code -> label, translated when shown)
FLAGS: dict[str, str] = {
    "no attempt": "no attempt yet",
    "repeated U": "rated U in several attempts",
    "repeated fail": "failed an exercise several times without passing it",
    "inactive": "inactive for longer than the threshold",
}
_BINS = 10  # score distribution: 0-10, 10-20, ... 90-100
_UNRATED = "—"


# the labels above, marked for the catalogues
_FLAG_WORDS = (N_("no attempt yet"), N_("rated U in several attempts"),
               N_("failed an exercise several times without passing it"),
               N_("inactive for longer than the threshold"))


@dataclass(frozen=True)
class ScoreStats:
    """A distribution of scores (0-100): count, centre, spread, pass rate and ten bins of width 10."""

    n: int
    mean: float | None
    median: float | None
    minimum: float | None
    maximum: float | None
    q1: float | None
    q3: float | None
    pass_rate: float | None
    bins: tuple[int, ...]


@dataclass(frozen=True)
class CriterionStats:
    """How often a criterion of an exercise got each rating (``—``: not rated: awaiting an assessor or not applicable)."""

    criterion_id: str
    title: str
    kind: str
    counts: dict[str, int]


@dataclass(frozen=True)
class ExpectedStats:
    """An expected action of the MSEL across attempts: asked for, never done, done late, done in time."""

    expected_id: str
    asked: int
    missed: int
    late: int
    on_time: int
    mean_late_h: float | None  # over the late ones


@dataclass(frozen=True)
class ExerciseStats:
    """One exercise (scenario) in the cohort."""

    scenario_id: str
    titles: dict[str, str]  # the scenario's title by language (``en`` at least)
    attempts: int
    learners: int
    scores: ScoreStats
    modules: dict[str, ScoreStats]
    criteria: tuple[CriterionStats, ...]
    expected: tuple[ExpectedStats, ...]  # most often missed or late first

    def title(self, lang: str = "en") -> str:
        """The exercise's title in ``lang`` (English, else its id, when the scenario has none in it)."""
        return self.titles.get(lang) or self.titles.get("en") or self.scenario_id


@dataclass(frozen=True)
class LearnerRow:
    """One learner of the cohort: attempts, best score, time spent, last activity and why they may need support.

    ``time_spent_h`` adds up, for each run, the time from its start to its finish (graded and
    practice), and for each game not finished, from its start to its last save: time the game
    was open, pauses included, which is what the store knows.
    """

    username: str
    display_name: str
    attempts: int
    practice: int
    best: float | None
    passed: int  # exercises passed at least once
    u_attempts: int  # graded attempts with at least one criterion rated U
    time_spent_h: float
    last_active: datetime | None
    flags: tuple[str, ...]
    runs: tuple[str, ...]  # run ids, newest first (to open a debrief)


@dataclass(frozen=True)
class CohortDashboard:
    """Everything the dashboard shows of one cohort."""

    cohort: str
    title: str
    generated_at: datetime
    inactive_days: float
    exercises: tuple[ExerciseStats, ...]
    learners: tuple[LearnerRow, ...]
    modules: dict[str, ScoreStats] = field(default_factory=dict)  # module scores over every exercise

    @property
    def need_support(self) -> tuple[LearnerRow, ...]:
        """The learners with at least one flag."""
        return tuple(row for row in self.learners if row.flags)


def _stats(values: Sequence[float], passed: Sequence[bool] | None = None) -> ScoreStats:
    bins = [0] * _BINS
    for v in values:
        bins[min(_BINS - 1, max(0, int(v // (100 / _BINS))))] += 1
    if not values:
        return ScoreStats(0, None, None, None, None, None, None, None, tuple(bins))
    ordered = sorted(values)
    q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive") if len(ordered) > 1 else (ordered[0],) * 3
    rate = None if passed is None else sum(passed) / len(passed)
    return ScoreStats(len(ordered), math.fsum(ordered) / len(ordered), statistics.median(ordered), ordered[0],
                      ordered[-1], q1, q3, rate, tuple(bins))


def _titles(scenario_yaml: str) -> dict[str, str]:
    """A stored scenario text's title by language, read without loading its city (empty if unreadable)."""
    import yaml

    try:
        doc = yaml.safe_load(scenario_yaml)
    except yaml.YAMLError:
        return {}
    title = doc.get("title") if isinstance(doc, dict) else None
    if isinstance(title, str):
        return {"en": title}
    if isinstance(title, dict):
        return {str(k): str(v) for k, v in title.items() if isinstance(v, str)}
    return {}


def cohort_dashboard(store: Store, cohort: str, viewer: str | None = None, *, now: datetime | None = None,
                     inactive_days: float = 14.0, repeat: int = 2) -> CohortDashboard:
    """The dashboard of ``cohort`` as ``viewer`` may see it (None: the server's operator, e.g. the command line).

    ``inactive_days``: a learner with no run or game activity for longer is flagged; ``repeat``:
    how many attempts rated U (or failed without a pass) make a flag.  An unknown cohort, or one
    the viewer may not see, raises :class:`~scro_sim.errors.StoreError`.
    """
    if isinstance(inactive_days, bool) or not isinstance(inactive_days, int | float) \
            or not math.isfinite(inactive_days) or inactive_days <= 0:
        raise ScroSimError(f"must be a positive number of days, got {inactive_days!r}", field="inactive_days")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ScroSimError(f"must be a whole number of at least 1, got {repeat!r}", field="repeat")
    if viewer is not None:
        store.require_cohort_access(viewer, cohort)
    info = next((c for c in store.list_cohorts() if c.name == cohort), None)
    if info is None:
        store.members(cohort)  # raises "unknown cohort"
        raise AssertionError("unreachable")  # pragma: no cover
    now = now or datetime.now(UTC)
    entries = store.gradebook(cohort, origins=(*GRADED_ORIGINS, "practice"))
    graded = [e for e in entries if e.summary.origin in GRADED_ORIGINS]
    members = [u for u in store.members(cohort) if u.role == "learner"]
    names = {u.username: (u.display_name or u.username) for u in members}
    for e in entries:  # runs of people no longer members (an erased learner's pseudonym) still count
        names.setdefault(e.summary.learner, e.summary.learner)

    exercises: list[ExerciseStats] = []
    all_modules: dict[str, list[float]] = {}
    for sid in sorted({e.summary.scenario_id for e in graded}):
        runs = [e for e in graded if e.summary.scenario_id == sid]
        titles = _titles(runs[0].scenario_yaml)
        modules: dict[str, list[float]] = {}
        crit: dict[str, CriterionStats] = {}
        exp: dict[str, list[float | None]] = {}
        for e in runs:
            card = e.scorecard
            for m in card.get("modules") or []:
                if m.get("module") and m.get("score") is not None:
                    modules.setdefault(str(m["module"]), []).append(float(m["score"]))
                    all_modules.setdefault(str(m["module"]), []).append(float(m["score"]))
            for c in card.get("criteria") or []:
                cs = crit.get(c["id"])
                if cs is None:
                    cs = crit[c["id"]] = CriterionStats(c["id"], str(c.get("title", "")), str(c.get("kind", "")),
                                                        {r: 0 for r in (*RATINGS, _UNRATED)})
                cs.counts[c.get("rating") or _UNRATED] = cs.counts.get(c.get("rating") or _UNRATED, 0) + 1
            for name, value in (card.get("metrics") or {}).items():
                if name.startswith("timeliness."):
                    exp.setdefault(name[len("timeliness."):], []).append(value)
        expected = []
        for eid, values in exp.items():
            late = [float(v) for v in values if v is not None and float(v) > 0]
            missed = sum(v is None for v in values)
            expected.append(ExpectedStats(eid, len(values), missed, len(late), len(values) - missed - len(late),
                                          math.fsum(late) / len(late) if late else None))
        expected.sort(key=lambda x: (-(x.missed + x.late), -x.missed, x.expected_id))
        exercises.append(ExerciseStats(
            sid, titles, len(runs), len({e.summary.learner for e in runs}),
            _stats([e.summary.total for e in runs], [e.summary.passed for e in runs]),
            {m: _stats(v) for m, v in sorted(modules.items())}, tuple(crit.values()), tuple(expected)))

    limit = timedelta(days=float(inactive_days))
    learners: list[LearnerRow] = []
    for username in sorted(names):
        mine = [e for e in entries if e.summary.learner == username]
        counted = [e for e in mine if e.summary.origin in GRADED_ORIGINS]
        games = store.list_games(username) if username in {u.username for u in members} else []
        spent = math.fsum(max(0.0, (e.summary.finished_at - e.summary.started_at).total_seconds()) for e in mine)
        spent += math.fsum(max(0.0, (g.updated_at - g.created_at).total_seconds())
                           for g in games if g.status != "finished")  # finished games are their runs
        moments = [e.summary.finished_at for e in mine] + [g.updated_at for g in games]
        last = max(moments) if moments else None
        u_attempts = sum(any(c.get("rating") == "U" for c in e.scorecard.get("criteria") or []) for e in counted)
        passed_ids = {e.summary.scenario_id for e in counted if e.summary.passed}
        fails: dict[str, int] = {}
        for e in counted:
            if not e.summary.passed and e.summary.scenario_id not in passed_ids:
                fails[e.summary.scenario_id] = fails.get(e.summary.scenario_id, 0) + 1
        flags = []
        if not counted:
            flags.append("no attempt")
        if u_attempts >= repeat:
            flags.append("repeated U")
        if any(n >= repeat for n in fails.values()):
            flags.append("repeated fail")
        if last is None or now - last > limit:
            flags.append("inactive")
        learners.append(LearnerRow(username, names[username], len(counted), len(mine) - len(counted),
                                   max((e.summary.total for e in counted), default=None), len(passed_ids), u_attempts,
                                   spent / 3600.0, last, tuple(flags), tuple(e.summary.id for e in mine)))
    return CohortDashboard(cohort, info.title or cohort, now, float(inactive_days), tuple(exercises), tuple(learners),
                           {m: _stats(v) for m, v in sorted(all_modules.items())})


# -- CSV


def _num(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def to_csv(dash: CohortDashboard) -> str:
    """The dashboard as one tidy CSV (``section,exercise,item,measure,value``), for a spreadsheet or pandas."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("section", "exercise", "item", "measure", "value"))

    def stats(section: str, sid: str, item: str, s: ScoreStats) -> None:
        for name in ("n", "mean", "median", "minimum", "maximum", "q1", "q3", "pass_rate"):
            v = getattr(s, name)
            w.writerow((section, sid, item, name, v if name == "n" else _num(v, 3 if name == "pass_rate" else 2)))
        for i, count in enumerate(s.bins):
            w.writerow((section, sid, item, f"scores {i * 10}-{i * 10 + 10}", count))

    for ex in dash.exercises:
        w.writerow(("exercise", ex.scenario_id, "", "attempts", ex.attempts))
        w.writerow(("exercise", ex.scenario_id, "", "learners", ex.learners))
        stats("score", ex.scenario_id, "", ex.scores)
        for module, s in ex.modules.items():
            stats("module", ex.scenario_id, module, s)
        for c in ex.criteria:
            for rating, count in c.counts.items():
                w.writerow(("criterion", ex.scenario_id, c.criterion_id, "unrated" if rating == _UNRATED else rating,
                            count))
        for e in ex.expected:
            for name in ("asked", "missed", "late", "on_time"):
                w.writerow(("expected_action", ex.scenario_id, e.expected_id, name, getattr(e, name)))
            w.writerow(("expected_action", ex.scenario_id, e.expected_id, "mean_late_h", _num(e.mean_late_h)))
    for module, ms in dash.modules.items():
        stats("cohort_module", "", module, ms)
    for row in dash.learners:
        for name, value in (("attempts", row.attempts), ("practice", row.practice), ("best", _num(row.best, 1)),
                            ("exercises_passed", row.passed), ("attempts_rated_u", row.u_attempts),
                            ("time_spent_h", _num(row.time_spent_h)),
                            ("last_active", row.last_active.isoformat(timespec="minutes") if row.last_active else ""),
                            ("flags", ";".join(row.flags))):
            w.writerow(("learner", "", row.username, name, value))
    return out.getvalue()


# -- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;
color:#1a1a1a;line-height:1.45}
h1{font-size:1.6rem}h2{border-bottom:2px solid #0d47a1;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1.2rem;font-size:.92rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}
th,td{border:1px solid #90a4ae;padding:.3rem .55rem;text-align:left;vertical-align:top}th{background:#eceff1}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:.8rem;background:#0d47a1;vertical-align:middle;margin-right:.4rem}
.muted{color:#455a64}.flag{font-weight:600}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(caption: str, header: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """An accessible table: a caption, column headers with scope, every cell escaped (``numeric``: right-aligned)."""
    parts = [f"<table><caption>{_e(caption)}</caption><thead><tr>",
             *(f'<th scope="col">{_e(h)}</th>' for h in header), "</tr></thead><tbody>"]
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            raw = isinstance(cell, _Raw)
            text = cell.html if raw else _e(cell)
            tag = "th scope=\"row\"" if i == 0 else "td"
            cls = ' class="n"' if i in numeric else ""
            cells.append(f"<{tag}{cls}>{text}</{tag.split()[0]}>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


@dataclass(frozen=True)
class _Raw:
    html: str


def _bar(count: int, most: int) -> _Raw:
    width = 0 if most == 0 else round(12 * count / most, 2)
    return _Raw(f'<span class="bar" style="width:{width}rem" aria-hidden="true"></span>{count}')


def _hours(h: float) -> str:
    return f"{h:.1f}"


def to_html(dash: CohortDashboard, lang: str = "en") -> str:
    """The dashboard as one self-contained, accessible HTML page in ``lang`` (headings, captions, text beside bars)."""
    _: Callable[[str], str] = translator(lang)
    when = dash.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = ["<!DOCTYPE html>", f'<html lang="{_e(lang)}"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{_e(_('Cohort dashboard') + ': ' + dash.title)}</title><style>{_CSS}</style></head><body><main>",
             f"<h1>{_e(_('Cohort dashboard'))}: {_e(dash.title)} ({_e(dash.cohort)})</h1>",
             '<p class="muted">' + _e(_("Generated {when}; learners: {n}; exercises: {m}.").format(
                 when=when, n=len(dash.learners), m=len(dash.exercises))) + "</p>"]

    parts.append(f"<h2>{_e(_('Learners who may need support'))}</h2>")
    support = dash.need_support
    if support:
        parts.append(_table(
            _("Learners who may need support"), (_("Learner"), _("Why"), _("Attempts"), _("Last active")),
            [(f"{r.display_name} ({r.username})", "; ".join(_(FLAGS[f]) for f in r.flags), r.attempts,
              r.last_active.strftime("%Y-%m-%d") if r.last_active else _("never")) for r in support], numeric=(2,)))
        parts.append('<p class="muted">' + _e(_("Inactive means no game or run for more than {days} days.").format(
            days=f"{dash.inactive_days:g}")) + "</p>")
    else:
        parts.append(f"<p>{_e(_('No learner is flagged.'))}</p>")

    if dash.modules:
        parts.append(f"<h2>{_e(_('Scores by module'))}</h2>")
        parts.append(_table(_("Scores by module, all exercises"), (_("Module"), _("Attempts"), _("Mean"), _("Median")),
                            [(m, ms.n, _num(ms.mean, 1), _num(ms.median, 1)) for m, ms in dash.modules.items()],
                            numeric=(1, 2, 3)))
    for ex in dash.exercises:
        parts.append(f"<h2>{_e(ex.title(lang))} ({_e(ex.scenario_id)})</h2>")
        s = ex.scores
        parts.append("<p>" + _e(_("{attempts} graded attempts by {learners} learners.").format(
            attempts=ex.attempts, learners=ex.learners)) + "</p>")
        parts.append(_table(_("Scores"), (_("Measure"), _("Value")), [
            (_("Mean"), _num(s.mean, 1)), (_("Median"), _num(s.median, 1)),
            (_("Lowest"), _num(s.minimum, 1)), (_("Highest"), _num(s.maximum, 1)),
            (_("Middle half"), f"{_num(s.q1, 1)} – {_num(s.q3, 1)}"),
            (_("Passed"), "" if s.pass_rate is None else f"{100 * s.pass_rate:.0f} %")], numeric=(1,)))
        most = max(s.bins, default=0)
        parts.append(_table(_("Score distribution"), (_("Score"), _("Attempts")),
                            [(f"{i * 10}–{i * 10 + 10}", _bar(c, most)) for i, c in enumerate(s.bins)]))
        if ex.modules:
            parts.append(_table(_("Scores by module"), (_("Module"), _("Attempts"), _("Mean"), _("Median")),
                                [(m, ms.n, _num(ms.mean, 1), _num(ms.median, 1)) for m, ms in ex.modules.items()],
                                numeric=(1, 2, 3)))
        parts.append(_table(_("Ratings per criterion"),
                            (_("Criterion"), _("Kind"), *RATINGS, _("not rated")),
                            [(f"{c.criterion_id}: {c.title}", _(c.kind), *(c.counts.get(r, 0) for r in RATINGS),
                              c.counts.get(_UNRATED, 0)) for c in ex.criteria], numeric=(2, 3, 4, 5, 6)))
        if ex.expected:
            parts.append(_table(_("Expected actions, most often missed or late first"),
                                (_("Expected action"), _("Asked for"), _("Never done"), _("Done late"),
                                 _("Done in time"), _("Mean hours late")),
                                [(e.expected_id, e.asked, e.missed, e.late, e.on_time, _num(e.mean_late_h, 1))
                                 for e in ex.expected], numeric=(1, 2, 3, 4, 5)))
    if not dash.exercises:
        parts.append(f"<p>{_e(_('No graded attempt yet.'))}</p>")

    parts.append(f"<h2>{_e(_('Time spent per learner'))}</h2>")
    parts.append(_table(_("Time spent per learner"),
                        (_("Learner"), _("Attempts"), _("Practice runs"), _("Best score"), _("Hours spent"),
                         _("Last active")),
                        [(f"{r.display_name} ({r.username})", r.attempts, r.practice, _num(r.best, 1),
                          _hours(r.time_spent_h), r.last_active.strftime("%Y-%m-%d %H:%M") if r.last_active else _("never"))
                         for r in dash.learners], numeric=(1, 2, 3, 4)))
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_dashboard(dash: CohortDashboard, fmt: str, lang: str = "en") -> str:
    """The dashboard in ``fmt`` (``html`` or ``csv``); another format is refused naming the ones there are."""
    if fmt == "html":
        return to_html(dash, lang)
    if fmt == "csv":
        return to_csv(dash)
    raise ScroSimError(f"{fmt!r} is not one of {', '.join(FORMATS)}", field="format")
