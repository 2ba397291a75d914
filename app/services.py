"""Cached loaders for the app: the Store (one per database URL) and parsed scenarios (by content hash).

Only shared, read-only things are cached here: the database handle and scenarios parsed
from their text (keyed by the text's SHA-256).  Nothing per learner is cached; pages
read runs and games from the store each time, after checking who may see them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import streamlit as st

from scro_sim import resources
from scro_sim.city import City
from scro_sim.errors import Problem, ScroSimError, Words
from scro_sim.scenario import Scenario, load_scenario, text_in
from scro_sim.store import DEFAULT_URL, Store
from scro_sim.yamlio import readable

__all__ = [
    "MAX_UPLOAD_BYTES",
    "PLAN_JOBS_PER_LEARNER",
    "PLAN_WORK_LIMIT",
    "Loaded",
    "PlanJob",
    "PlanJobs",
    "ScenarioEntry",
    "available_scenarios",
    "bundled_dir",
    "draw",
    "load_text",
    "plan_jobs",
    "store",
]

log = logging.getLogger(__name__)

#: Largest scenario or plan text the app accepts (also ``server.maxUploadSize`` in .streamlit/config.toml).
MAX_UPLOAD_BYTES = 1_000_000


def bundled_dir() -> Path:
    """Folder of the scenarios offered: ``$SCRO_SIM_SCENARIOS_DIR`` or the bundled ones (checkout or wheel)."""
    env = os.environ.get("SCRO_SIM_SCENARIOS_DIR")
    return Path(env) if env else resources.scenarios_dir()


@st.cache_resource(show_spinner=False)
def _store(url: str) -> Store:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    s = Store(url)
    if os.environ.get("SCRO_SIM_DEMO", "").lower() in ("1", "true", "yes"):
        from scro_sim.demo import seed_demo
        from scro_sim.errors import StoreError

        try:
            seed_demo(s)
        except StoreError as exc:  # a real database: no demo accounts, say why in the server log
            log.error("SCRO_SIM_DEMO=1 ignored: %s", exc)
    return s


def store() -> Store:
    """The database for ``$SCRO_SIM_DB`` (one shared handle per URL)."""
    return _store(os.environ.get("SCRO_SIM_DB") or DEFAULT_URL)


@dataclass(frozen=True)
class Loaded:
    """A parsed scenario and its city, or the problems (``file:line: field: message``) that stopped it.

    ``problems`` are the lines in English; ``issues`` the same problems, which :meth:`said` words in
    the reader's language.
    """

    scenario: Scenario | None
    city: City | None
    problems: tuple[str, ...] = ()
    issues: tuple[Problem, ...] = ()

    def said(self, words: Words | None = None) -> list[str]:
        """The problems as ``file:line: field: message`` lines, the messages in the language of ``words``."""
        return [p.say(words) for p in self.issues] or list(self.problems)


@st.cache_resource(show_spinner=False, max_entries=64)
def _parse(sha: str, label: str, base_dir: str, _text: str) -> Loaded:
    # keyed by the text's hash (``_text`` is not hashed by streamlit); Scenario and City are frozen
    try:
        sc, city = load_scenario(label, text=_text, base_dir=Path(base_dir), share_city=True)
    except ScroSimError as exc:
        issues = tuple(readable(exc.problems, _text, label))
        return Loaded(None, None, tuple(str(p) for p in issues) or (str(exc),), issues)
    return Loaded(sc, city)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_text(text: str, label: str, base_dir: Path | None = None) -> Loaded:
    """Parse a scenario text (cached by its hash); a city path is resolved against ``base_dir``."""
    return _parse(sha256(text), label, str(base_dir or bundled_dir()), text)


@st.cache_resource(show_spinner=False, max_entries=8)
def module_titles(lang: str) -> dict[str, str]:
    """Each course module's title in ``lang``, from the course map in use (empty without one)."""
    from scro_sim.course import default_course

    try:
        course = default_course()
    except ScroSimError:
        return {}
    return {m.id: course.module_title(m.id, lang) for _group, m in course.modules()}


@st.cache_resource(show_spinner=False, max_entries=8)
def group_titles(lang: str) -> dict[str, str]:
    """Each module group's name in ``lang`` ("(a) Transversal skills"), from the course map in use (empty without one)."""
    from scro_sim.course import default_course, text_in

    try:
        course = default_course()
    except ScroSimError:
        return {}
    return {g.id: f"({g.id}) {text_in(g.title, lang)}" for g in course.groups}


@dataclass(frozen=True)
class ScenarioEntry:
    """A scenario a learner may play: bundled or published to one of their cohorts."""

    key: str
    label: str
    sha256: str
    text: str
    source: str  # "bundled" or the cohort name
    meta: dict[str, Any]

    def title(self, lang: str) -> str:
        """The title a list shows; a published scenario's with the version its lecturer gave it ("... (v1.1)")."""
        title = str(self.meta.get("title", {}).get(lang) or self.meta.get("title", {}).get("en") or self.key)
        return title if self.source == "bundled" or not self.meta.get("version") else f"{title} (v{self.meta['version']})"


@st.cache_resource(show_spinner=False, max_entries=256)
def _meta(sha: str, label: str, base_dir: str, _text: str) -> dict[str, Any]:
    """Plain facts about a scenario for lists and the briefing (cached by hash; one shared dict, read only:
    st.cache_data unpickled a copy for every scenario at every rerun of the scenario list)."""
    loaded = _parse(sha, label, base_dir, _text)
    sc = loaded.scenario
    if sc is None:
        return {"ok": False, "problems": list(loaded.problems)}
    langs = ("en", "el", "de", "pt")
    return {
        "ok": True, "id": sc.id, "version": sc.version, "level": sc.level, "minutes": sc.expected_minutes,
        "guided": bool(sc.guide),  # a guided exercise: first on the learning path
        "title": {lg: text_in(sc.title, lg) for lg in langs},
        "summary": {lg: text_in(sc.summary, lg) for lg in langs},
        "briefing": {lg: text_in(sc.briefing, lg) for lg in langs},
        "duration_h": sc.duration_h,
        "modules": list(sc.modules),
        "groups": list(sc.groups),  # the module groups it is written for (empty: none given)
        "pass_mark": sc.rubric.pass_mark,
        "criteria": [{"title": {lg: text_in(c.title, lg) for lg in langs}, "kind": c.kind, "weight": c.weight}
                     for c in sc.rubric.criteria],
    }


_LEVELS = {"beginner": 0, "intermediate": 1, "advanced": 2}


def _bundled() -> list[ScenarioEntry]:
    """The bundled scenarios, easiest first (by level, then file name), so a newcomer starts with the gentlest."""
    folder = bundled_dir()
    out = []
    for p in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            text = p.read_text(encoding="utf-8-sig")
        except OSError:
            continue
        sha = sha256(text)
        out.append(ScenarioEntry(f"b:{p.name}", str(p), sha, text, "bundled", _meta(sha, str(p), str(folder), text)))
    out.sort(key=lambda e: _LEVELS.get(str(e.meta.get("level")), len(_LEVELS)))  # stable: file names stay in order
    return out


def available_scenarios(username: str, cohorts: tuple[str, ...]) -> list[ScenarioEntry]:
    """Bundled scenarios plus those published to the user's cohorts, that load without problems."""
    entries = _bundled()
    s = store()
    base = str(bundled_dir())
    for cohort in cohorts:
        for pub in s.published_scenarios(cohort):
            label = f"<{cohort}/{pub.scenario_id} v{_published_version(pub.sha256, pub.yaml_text)}>"
            entries.append(ScenarioEntry(f"p:{cohort}:{pub.scenario_id}", label, pub.sha256, pub.yaml_text, cohort,
                                         _meta(pub.sha256, label, base, pub.yaml_text)))
    return [e for e in entries if e.meta.get("ok")]


@st.cache_resource(show_spinner=False, max_entries=256)
def _published_version(sha: str, _text: str) -> str:
    """The scenario's own version in a published text (cached by its hash): the one number learners see."""
    from scro_sim.publishing import text_version

    return text_version(_text) or "?"


def load_entry(e: ScenarioEntry) -> Loaded:
    """The parsed scenario of a catalogue entry (bundled files resolve their city next to them)."""
    base = str(Path(e.label).parent) if e.source == "bundled" else str(bundled_dir())
    return _parse(e.sha256, e.label, base, e.text)


def text_blocks(text: str) -> list[str]:
    """A scenario text as blocks to show: blank lines separate paragraphs, hand-wrapped lines
    re-flow, and a line that starts a list item (``- ``, ``* ``, ``1. ``) starts a line of its own."""
    import re

    blocks = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        for raw in para.splitlines():
            line = raw.strip()
            if not line:
                continue
            if not lines or re.match(r"([-*\u2022]|\d{1,2}[.)])\s", line):
                lines.append(line)
            else:
                lines[-1] += " " + line
        blocks.append("\n".join(lines))
    return blocks


def show_text(text: str) -> None:
    """Show a scenario text as plain paragraphs (:func:`text_blocks`).

    Plain text only (never markdown or HTML), so nothing a lecturer or learner writes is rendered.
    """
    for block in text_blocks(text):
        st.text(block)


def draw(name: str, *args: Any, fallback: Callable[[], None] | None = None, **kwargs: Any) -> None:
    """Draw ``scro_sim.report.<name>(*args, **kwargs)`` with st.pyplot, then close it; else run ``fallback``."""
    import matplotlib.pyplot as plt

    try:
        from scro_sim import report

        fn = getattr(report, name)
    except (ImportError, AttributeError):  # report.py is optional for the app
        fn = None
    if fn is not None:
        fig = None
        try:
            fig = fn(*args, **kwargs)
            st.pyplot(fig, clear_figure=False)
            return
        except Exception:  # a figure must never take the page down
            log.exception("report.%s failed", name)
        finally:
            if fig is not None:
                plt.close(fig)
    if fallback is not None:
        fallback()


def figure_png(name: str, *args: Any, **kwargs: Any) -> bytes | None:
    """``scro_sim.report.<name>(...)`` as PNG bytes (figure closed), or None if it cannot be drawn.

    For figures a page keeps between reruns (the play page's map changes only at a new decision point).
    """
    import io

    import matplotlib.pyplot as plt

    try:
        from scro_sim import report

        fn = getattr(report, name)
    except (ImportError, AttributeError):
        return None
    fig = None
    try:
        fig = fn(*args, **kwargs)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=90)  # no bbox_inches="tight": it draws the figure twice
        return buf.getvalue()
    except Exception:
        log.exception("report.%s failed", name)
        return None
    finally:
        if fig is not None:
            plt.close(fig)


# -- plan evaluations (the Plan page): off the page's thread, capped per request and per learner

#: Most work one click on the Plan page may ask for, in the units of
#: :func:`scro_sim.batch.replication_cost` (about a microsecond of computing each): about a minute.
PLAN_WORK_LIMIT = 60_000_000
#: Plan evaluations one learner may have running or waiting at once, over all their sessions.
PLAN_JOBS_PER_LEARNER = 1
#: Plan evaluations this server runs at the same time; more wait for a free worker.
PLAN_WORKERS = 2


@dataclass(eq=False)
class PlanJob:
    """One learner's plan evaluation on the server's plan-evaluation threads; the page polls it."""

    owner: str
    n: int
    future: Future[Any] | None = None
    done: int = 0  # replications settled so far (written by the evaluating thread)

    def progress(self, done: int, total: int) -> None:
        """The evaluation's progress callback (runs on its thread: no Streamlit calls here)."""
        self.done = done

    @property
    def finished(self) -> bool:
        return self.future is not None and self.future.done()

    @property
    def started(self) -> bool:
        return self.future is not None and (self.future.running() or self.future.done())


class PlanJobs:
    """Every session's plan evaluations: one small thread pool, at most ``per_learner`` jobs per learner."""

    def __init__(self, workers: int, per_learner: int) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="scro-plan")
        self._lock = threading.Lock()
        self._jobs: dict[str, list[PlanJob]] = {}
        self.per_learner = per_learner

    def active(self, owner: str) -> list[PlanJob]:
        """``owner``'s jobs still running or waiting."""
        with self._lock:
            jobs = self._jobs[owner] = [j for j in self._jobs.get(owner, []) if not j.finished]
            return list(jobs)

    def submit(self, owner: str, n: int, work: Callable[[Callable[[int, int], None]], Any]) -> PlanJob | None:
        """Queue ``work(progress)`` for ``owner``; None if they already have ``per_learner`` jobs under way."""
        with self._lock:
            jobs = self._jobs[owner] = [j for j in self._jobs.get(owner, []) if not j.finished]
            if len(jobs) >= self.per_learner:
                return None
            job = PlanJob(owner, n)
            job.future = self._pool.submit(work, job.progress)
            jobs.append(job)
            return job


@st.cache_resource(show_spinner=False)
def plan_jobs() -> PlanJobs:
    """The server's plan evaluations (one per process, shared by every session)."""
    return PlanJobs(PLAN_WORKERS, PLAN_JOBS_PER_LEARNER)
