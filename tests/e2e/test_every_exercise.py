"""Every bundled exercise played to its score in a real browser, in the learner's language.

A learner signs in, chooses the exercise, starts it and presses "Continue without acting" at
every decision point (answering the discussion questions on the way) until the score shows.
At every screen: no exception, and no catalogue message left in English.

The whole matrix (every exercise in all four languages) takes a quarter of an hour on two cores,
so by default each exercise is played once, the languages taking turns (every language plays
at least one exercise; with five or more exercises, each language more than one).
``SCRO_SIM_E2E_FULL=1`` (``make e2e-full``) plays every exercise in every language.

Needs Debian's chromium (``bash .ci/install_browser.sh``); skipped, saying so, without it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverkit import ARGS, CHROMIUM, app_server, english_left, idle, need_browser

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
LANGS = ("en", "de", "el", "pt")
EXERCISES = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
FULL = os.environ.get("SCRO_SIM_E2E_FULL", "") not in ("", "0")
MAX_POINTS = 80  # no bundled exercise has half as many decision points: more means the game is stuck


def _cases() -> list[tuple[str, str]]:
    if FULL:
        return [(x, lang) for x in EXERCISES for lang in LANGS]
    return [(x, LANGS[i % len(LANGS)]) for i, x in enumerate(EXERCISES)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """The app on the bundled exercises over a fresh demo database."""
    need_browser()
    from scro_sim.demo import seed_demo
    from scro_sim.store import Store

    tmp = tmp_path_factory.mktemp("every_exercise")
    db = f"sqlite:///{tmp / 'e2e.sqlite'}"
    with Store(db) as s:
        seed_demo(s)
    env = {**os.environ, "SCRO_SIM_DB": db, "SCRO_SIM_CACHE": str(tmp / "cache")}
    env.pop("SCRO_SIM_SCENARIOS_DIR", None)
    with app_server(env, tmp / "streamlit.log") as (url, _proc):
        yield url, db


def _idle(page) -> None:
    # 250 ms for the rerun to start and show its status widget (shorter waits raced the last point)
    idle(page, before_ms=250, after_ms=150)


def _check(page, lang: str, where: str) -> None:
    _idle(page)
    assert page.get_by_test_id("stException").count() == 0, f"{where} ({lang}): an exception is shown"
    left = english_left(page.locator("[data-testid=stMain]").inner_text(), lang) if lang != "en" else []
    assert not left, f"{where} ({lang}): left in English: {left}"


def _decisions(db: str, game: str) -> tuple[int, str]:
    from scro_sim.store import Store

    with Store(db) as s:
        g = s.load_game(game)
    assert g is not None, f"game {game} is gone from the store"
    return len(g.decisions), g.status


def _wait_stored(db: str, game: str, before: tuple[int, str], timeout_s: float = 90.0) -> None:
    """Wait until the click has reached the store: one decision more, or the game ended.

    A fixed pause raced the rerun on a loaded machine: the old page was read again and its
    vanished button waited for. The store says when the app has taken the decision.
    """
    end = time.monotonic() + timeout_s
    while (now := _decisions(db, game)) == before:
        if time.monotonic() > end:
            raise AssertionError(f"the decision did not reach the store in {timeout_s:.0f} s (still {now})")
        time.sleep(0.1)


@pytest.mark.parametrize(("exercise", "lang"), _cases(), ids=[f"{x}-{lang}" for x, lang in _cases()])
def test_the_exercise_plays_to_its_score_in_the_learners_language(server: tuple[str, str], exercise: str,
                                                                  lang: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from scro_sim.i18n import translator
    from scro_sim.scenario import load_scenario, text_in
    from scro_sim.store import Store

    url, db = server
    _ = translator(lang)
    sc, _city = load_scenario(ROOT / "scenarios" / f"{exercise}.yaml")
    title = text_in(sc.title, lang)
    with Store(db) as s:
        s.set_language("learner", lang)
        for g in s.list_games("learner", status="playing"):  # each case starts from the list of exercises
            s.save_game(g.id, g.learner, g.scenario_id, g.scenario_hash, g.seed, g.decisions, "abandoned")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = None
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 2200}).new_page()
            page.set_default_timeout(90_000)
            page.goto(url)
            _idle(page)
            en = translator("en")
            page.get_by_role("textbox", name=en("Username")).fill("learner")
            page.get_by_role("textbox", name=en("Password")).fill("learner-demo")
            page.get_by_role("button", name=en("Sign in"), exact=True).click()
            page.get_by_role("button", name=_("Start the exercise")).wait_for()
            _check(page, lang, "exercise list")
            page.locator("[data-testid=stMain] [data-testid=stSelectbox]").first.click()
            page.get_by_role("option").filter(has_text=title).first.click()
            _idle(page)
            page.get_by_role("button", name=_("Start the exercise")).click()
            page.get_by_text(_("Your decision")).first.wait_for()
            with Store(db) as s:
                game = s.list_games("learner", status="playing")[0].id
            for point in range(MAX_POINTS):
                _check(page, lang, f"decision point {point + 1}")
                if page.get_by_text(_("Your score")).count():
                    break
                for box in page.get_by_role("textbox").all():  # the discussion questions of this point
                    label = box.get_attribute("aria-label") or ""
                    if label.startswith(_("Discussion question: {q}").split("{q}")[0]):
                        box.fill("Life safety first; then the services the hospitals need.")
                before = _decisions(db, game)
                page.get_by_role("button", name=_("Continue without acting")).click()
                _wait_stored(db, game, before)
            else:
                pytest.fail(f"{exercise} ({lang}): no score after {MAX_POINTS} decision points")
            page.get_by_text(_("Your score")).first.wait_for()
            _check(page, lang, "score")
        except Exception as e:
            if page is None:
                raise
            shot = tmp_path / f"e2e_{exercise}_{lang}.png"
            page.screenshot(path=str(shot), full_page=True)
            raise AssertionError(f"{exercise} ({lang}) failed: {type(e).__name__}: {str(e)[:500]}\n"
                                 f"the page: {shot}\n"
                                 + page.locator("[data-testid=stMain]").inner_text()[:1500]) from None
        finally:
            browser.close()
