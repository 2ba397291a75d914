"""End to end in a real browser: a learner plays the mini scenario to its score, an assessor verifies the run.

Needs Debian's chromium (``bash .ci/install_browser.sh``); skipped, saying so, without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverkit import ARGS, CHROMIUM, app_server, idle, mini_exercises, need_browser, sign_in

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    need_browser()
    tmp = tmp_path_factory.mktemp("e2e")
    scen = mini_exercises(tmp)  # its city: tests/data, named in SCRO_SIM_CITY_PATH
    db = f"sqlite:///{tmp / 'e2e.sqlite'}"
    from scro_sim.demo import seed_demo
    from scro_sim.store import Store

    with Store(db) as s:
        seed_demo(s)
        for name in ("learner", "assessor"):
            s.set_language(name, "en")
    env = {**os.environ, "SCRO_SIM_DB": db, "SCRO_SIM_SCENARIOS_DIR": str(scen), "SCRO_SIM_CACHE": str(tmp / "cache"),
           "SCRO_SIM_CITY_PATH": str(DATA)}
    with app_server(env, tmp / "streamlit.log") as (url, _proc):
        yield url, db


def _idle(page) -> None:
    """Wait until the app has finished its rerun (no "running" widget)."""
    idle(page, stale=False)


def test_learner_plays_and_assessor_verifies(server: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, db = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            # assertions wait as long as actions do: the first page of a game takes seconds on a loaded machine
            expect.set_options(timeout=30_000)
            sign_in(page, url, "learner", "learner-demo")
            page.get_by_role("button", name="Start the exercise").click()
            _idle(page)
            expect(page.get_by_text("Your decision")).to_be_visible()
            score = page.get_by_text("Your score")
            go_on = page.get_by_role("button", name="Continue without acting")
            for _ in range(30):
                _idle(page)
                score.or_(go_on).first.wait_for()  # one of them is there once the rerun has drawn
                if score.count():
                    break
                before = page.get_by_test_id("stMetricValue").nth(1).inner_text()
                go_on.first.click()
                # the click is taken once the hour moves on (or the score appears)
                page.wait_for_function(
                    "([h]) => document.body.innerText.includes('Your score') || (() => {"
                    " const v = document.querySelectorAll('[data-testid=stMetricValue]');"
                    " return v.length > 1 && v[1].innerText !== h; })()", arg=[before])
            expect(page.get_by_text("Your score")).to_be_visible()
            expect(page.get_by_text("/ 100").first).to_be_visible()

            page = browser.new_page()
            page.set_default_timeout(60_000)
            sign_in(page, url, "assessor", "assessor-demo")
            expect(page.get_by_role("button", name="Verify by re-simulation")).to_be_visible()
            page.get_by_role("button", name="Verify by re-simulation").click()
            _idle(page)
            expect(page.get_by_text("verified: re-simulating")).to_be_visible()
        finally:
            browser.close()
    from scro_sim.store import Store

    with Store(db) as s:
        assert len(s.list_runs(learner="learner")) == 1
