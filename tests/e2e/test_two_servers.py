"""A class on two app servers sharing one PostgreSQL, in real browsers (issue: a game never gets stuck).

Two ``streamlit`` processes serve the same database; one learner plays in two browser windows,
one on each server, as a learner with two tabs behind a load balancer would:

* the second window resumes the game at the same clock the first one shows;
* a decision taken in a window that fell behind is refused and the window is reloaded: nothing is
  lost and nothing is applied twice;
* one server is killed (SIGKILL): the learner signs in on the other and finds the game where
  it was;
* both windows finishing together store one scored run for the game.

Needs Debian's chromium and ``SCRO_SIM_TEST_PG`` (``bash .ci/start_postgres.sh``); skipped,
saying which, without them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgkit import private_schema
from serverkit import ARGS, CHROMIUM, idle, mini_exercises, need_browser, start_app, stop_app, wait_app

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
PG_URL = os.environ.get("SCRO_SIM_TEST_PG")
MOVED_ON = "This game moved on in another window; it was reloaded."


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], list[subprocess.Popen], str]]:
    """Two app servers on one private PostgreSQL schema holding the demo accounts and the mini exercise."""
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set SCRO_SIM_TEST_PG (bash .ci/start_postgres.sh)")
    need_browser()
    from scro_sim.demo import seed_demo
    from scro_sim.store import Store

    tmp = tmp_path_factory.mktemp("two_servers")
    scen = mini_exercises(tmp)
    with private_schema(PG_URL, "e2e") as url:
        with Store(url) as s:
            seed_demo(s)
        env = {**os.environ, "SCRO_SIM_DB": url, "SCRO_SIM_DEMO": "1", "SCRO_SIM_SCENARIOS_DIR": str(scen),
               "SCRO_SIM_CITY_PATH": str(DATA), "SCRO_SIM_SECRET": "two-servers-one-secret"}
        procs: list[subprocess.Popen] = []
        urls: list[str] = []
        try:
            for k in range(2):  # both start at once; then each must answer
                url_k, proc = start_app({**env, "SCRO_SIM_CACHE": str(tmp / f"cache{k}")}, tmp / f"server{k}.log")
                urls.append(url_k)
                procs.append(proc)
            for k, (url_k, proc) in enumerate(zip(urls, procs, strict=True)):
                wait_app(url_k, proc, tmp / f"server{k}.log")
            yield urls, procs, url
        finally:
            for proc in procs:
                stop_app(proc)


def _sign_in(browser, url: str):
    page = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    idle(page)
    page.get_by_role("textbox", name="Username").fill("learner")
    page.get_by_role("textbox", name="Password").fill("learner-demo")
    page.get_by_role("button", name="Sign in", exact=True).click()
    idle(page)
    return page


def _clock(page) -> str:
    return page.locator("[data-testid=stMetric]").filter(has_text="Clock").locator(
        "[data-testid=stMetricValue]").inner_text()


def _continue(page, wait: bool = True, rationale: str = "") -> None:
    """Press "Continue without acting" (with a rationale: a decision that differs from another window's)."""
    if rationale:
        page.get_by_role("textbox", name="Rationale (why you decide this)").fill(rationale)
    page.get_by_role("button", name="Continue without acting").click(no_wait_after=not wait)
    if wait:
        idle(page)


def _shown(page) -> str:
    return page.locator("body").inner_text()


@pytest.mark.unpinned  # the app draws the game's seed afresh
def test_one_learner_on_two_servers_loses_nothing_and_scores_once(servers) -> None:
    from playwright.sync_api import sync_playwright

    from scro_sim.store import Store

    urls, procs, db = servers
    with sync_playwright() as p, Store(db) as store:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            a = _sign_in(browser, urls[0])
            a.get_by_role("button", name="Start the exercise").click()
            a.get_by_text("Your decision").wait_for()
            _continue(a)  # one decision saved on server 0
            (game,) = store.list_games("learner", status="playing")
            assert len(game.decisions) == 1

            b = _sign_in(browser, urls[1])
            b.get_by_role("button", name="Resume").click()
            b.get_by_text("Your decision").wait_for()
            idle(b)
            assert _clock(b) == _clock(a), "the other server resumed the game elsewhere"

            _continue(a)  # window a moves on; window b has fallen behind
            _continue(b, rationale="I would wait for the next gauge reading.")  # another decision, same point
            assert MOVED_ON in _shown(b)
            assert _clock(b) == _clock(a)
            assert len(store.load_game(game.id).decisions) == 2, "the stale window's decision was applied"

            procs[0].kill()  # server 0 dies mid-game: its sessions go with it
            procs[0].wait(10)
            a.context.close()
            a = _sign_in(browser, urls[1])
            a.get_by_role("button", name="Resume").click()
            a.get_by_text("Your decision").wait_for()
            idle(a)
            assert _clock(a) == _clock(b)
            assert len(store.load_game(game.id).decisions) == 2

            last = _decision_points(game.seed) - 1
            while len(store.load_game(game.id).decisions) < last:  # window a decides; b follows by being told
                _continue(a)
                _continue(b, rationale="Not yet.")
                assert MOVED_ON in _shown(b) and _clock(b) == _clock(a)
            _continue(a, wait=False)  # the last point: both windows press at once
            _continue(b, wait=False, rationale="Done.")
            idle(a)
            idle(b)
            a.get_by_text("Your score").wait_for()
            b.get_by_text("Your score").wait_for()  # the window that lost is shown the run the other stored
            runs = store.list_runs(learner="learner")
            assert len(runs) == 1, f"{len(runs)} runs stored for one game"
            assert store.load_game(game.id).status == "finished" and store.load_game(game.id).run_id == runs[0].id
            assert a.get_by_test_id("stException").count() == 0 and b.get_by_test_id("stException").count() == 0
        finally:
            browser.close()


def _decision_points(seed: int) -> int:
    """How many decision points the mini exercise has on the game's seed (messages add points)."""
    from scro_sim.engine import Simulation
    from scro_sim.scenario import load_scenario

    sc, city = load_scenario(DATA / "mini_scenario.yaml")
    seen: list[int] = []

    class Count:
        name, check_every_h = "count", None

        def decide(self, obs):
            seen.append(obs.point)

    Simulation(sc, city, seed, Count()).run()
    return len(seen)
