"""The play, debrief and review pages have no serious or critical axe-core findings, and a game plays by keyboard.

axe-core runs in Debian's chromium through Playwright (axe-playwright-python carries axe's script);
skipped, saying so, without the browser or the package.
"""

from __future__ import annotations

from typing import Any

import pytest
from serverkit import ARGS, CHROMIUM, idle, sign_in
from test_browser import server  # noqa: F401  (the app fixture the browser test uses)

pytestmark = pytest.mark.e2e


def _settled(page: Any) -> None:
    """Idle, and no element still faded as stale from the last rerun (axe would measure its faded colour)."""
    idle(page, stale=False)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")


def _serious(page: Any, where: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    _settled(page)
    found = Axe().run(page).response["violations"]
    return [f"{where}: {v['id']} ({v['impact']}): {v['help']}: {[n['target'] for n in v['nodes'][:3]]}"
            for v in found if v["impact"] in ("serious", "critical")]


def test_play_debrief_and_review_have_no_serious_accessibility_findings(server: tuple[str, str]) -> None:  # noqa: F811
    pytest.importorskip("axe_playwright_python")
    from playwright.sync_api import expect, sync_playwright

    url, _db = server
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)
            sign_in(page, url, "learner", "learner-demo")
            problems += _serious(page, "exercise list")
            page.get_by_role("button", name="Start the exercise").first.click()
            expect(page.get_by_text("Your decision")).to_be_visible()
            problems += _serious(page, "play")
            # by keyboard alone: focus the button that lets the clock run, press Enter until the score shows
            go_on = page.get_by_role("button", name="Continue without acting")
            score = page.get_by_text("Your score")
            for _ in range(30):
                _settled(page)
                score.or_(go_on).first.wait_for()
                if score.count():
                    break
                go_on.first.focus()
                page.keyboard.press("Enter")
            expect(score).to_be_visible()
            problems += _serious(page, "score")
            page.locator("[data-testid=stSidebarNav] a[href$='/debrief']").first.click()
            expect(page.get_by_text("After-action report")).to_be_visible()
            problems += _serious(page, "debrief")
            page = browser.new_page()
            page.set_default_timeout(60_000)
            sign_in(page, url, "assessor", "assessor-demo")
            expect(page.get_by_role("heading", name="Review")).to_be_visible()
            problems += _serious(page, "review")
        finally:
            browser.close()
    assert not problems, "\n".join(problems)
