"""End to end in a real browser: a learner plays the mini scenario to its score, an assessor verifies the run.

Needs Debian's chromium (``bash .ci/install_browser.sh``); skipped, saying so, without it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing: run `bash .ci/install_browser.sh` to install Debian's chromium")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("e2e")
    scen = tmp / "scenarios"
    scen.mkdir()
    text = (DATA / "mini_scenario.yaml").read_text(encoding="utf-8")
    (scen / "mini.yaml").write_text(text, encoding="utf-8")  # its city: tests/data, named in SCRO_SIM_CITY_PATH
    db = f"sqlite:///{tmp / 'e2e.sqlite'}"
    sys.path.insert(0, str(ROOT))
    from scro_sim.demo import seed_demo
    from scro_sim.store import Store

    with Store(db) as s:
        seed_demo(s)
        for name in ("learner", "assessor"):
            s.set_language(name, "en")
    port = _free_port()
    env = {**os.environ, "SCRO_SIM_DB": db, "SCRO_SIM_SCENARIOS_DIR": str(scen), "SCRO_SIM_CACHE": str(tmp / "cache"),
           "SCRO_SIM_CITY_PATH": str(DATA)}
    log = (tmp / "streamlit.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "streamlit_app.py"),
                             "--server.address", "127.0.0.1", "--server.port", str(port), "--server.headless", "true"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not start: " + (tmp / "streamlit.log").read_text(errors="replace")[-2000:])
        yield url, db
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _idle(page) -> None:
    """Wait until the app has finished its rerun (no "running" widget, stale elements gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')")
    page.wait_for_timeout(200)


def _sign_in(page, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    _idle(page)


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
            _sign_in(page, url, "learner", "learner-demo")
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
            _sign_in(page, url, "assessor", "assessor-demo")
            expect(page.get_by_role("button", name="Verify by re-simulation")).to_be_visible()
            page.get_by_role("button", name="Verify by re-simulation").click()
            _idle(page)
            expect(page.get_by_text("verified: re-simulating")).to_be_visible()
        finally:
            browser.close()
    sys.path.insert(0, str(ROOT))
    from scro_sim.store import Store

    with Store(db) as s:
        assert len(s.list_runs(learner="learner")) == 1
