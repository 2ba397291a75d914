"""Helpers for tests that start a real ``scro-sim app``: free ports, the health check, child processes,
and for the browser (e2e) tests: the app under Streamlit on a free port, Debian's chromium, page waits.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app" / "streamlit_app.py"
DATA = ROOT / "tests" / "data"
CHROMIUM = "/usr/bin/chromium"
#: chromium headless, without anything that reaches out to the network on its own
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_healthy(port: int, proc: subprocess.Popen, timeout_s: float = 90.0) -> None:
    """Poll Streamlit's health check until it answers 200 (fail if the process dies or time runs out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the app exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no answer from /_stcore/health on port {port} within {timeout_s:.0f} s")


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (from Linux /proc; empty elsewhere)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie awaiting its parent counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def wait_gone(pid: int, timeout_s: float = 15.0) -> bool:
    """Wait until ``pid`` has ended; whether it did within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.1)
    return gone(pid)


# -- the app under Streamlit, for the browser tests ----------------------------------------------------


def need_browser() -> None:
    """Skip the calling test, saying what to install, without Debian's chromium or Playwright."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing: run `bash .ci/install_browser.sh` to install Debian's chromium")
    pytest.importorskip("playwright.sync_api")


def mini_exercises(tmp: Path) -> Path:
    """``tmp/scenarios`` holding the mini exercise as ``mini.yaml``: the app's exercises with
    ``SCRO_SIM_SCENARIOS_DIR`` naming it (and ``SCRO_SIM_CITY_PATH`` tests/data, where its city is)."""
    scen = tmp / "scenarios"
    scen.mkdir()
    (scen / "mini.yaml").write_text((DATA / "mini_scenario.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return scen


def start_app(env: Mapping[str, str], log: Path) -> tuple[str, subprocess.Popen]:
    """Start ``streamlit run app/streamlit_app.py`` headless on a free loopback port, its output to ``log``.

    Returns the app's URL and the process at once (it is not answering yet: :func:`wait_app`).
    """
    port = free_port()
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", "127.0.0.1",
                                 "--server.port", str(port), "--server.headless", "true"],
                                cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    return f"http://127.0.0.1:{port}", proc


def wait_app(url: str, proc: subprocess.Popen, log: Path) -> None:
    """Wait for the app's health check; fail with the end of its log if it does not answer."""
    try:
        wait_healthy(int(url.rsplit(":", 1)[1]), proc)
    except AssertionError as exc:
        pytest.fail(f"the app did not start ({exc}): " + log.read_text(errors="replace")[-2000:])


def stop_app(proc: subprocess.Popen) -> None:
    """Terminate the app (kill it if it has not ended within 10 s); nothing if it has ended already."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextmanager
def app_server(env: Mapping[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """The app answering on a free port for the ``with`` block (URL and process); stopped afterwards."""
    url, proc = start_app(env, log)
    try:
        wait_app(url, proc, log)
        yield url, proc
    finally:
        stop_app(proc)


# -- page helpers (Playwright pages) --------------------------------------------------------------------


def idle(page: Any, *, stale: bool = True, before_ms: int = 300, after_ms: int = 200) -> None:
    """Wait until the app has finished its rerun: no "running" widget and (``stale``) no element left faded.

    ``before_ms`` lets a rerun that a click started show its status widget before it is looked for.
    """
    page.wait_for_timeout(before_ms)
    gone = "!document.querySelector('[data-testid=stStatusWidget]')"
    if stale:
        gone += " && !document.querySelector('[data-stale=true]')"
    page.wait_for_function(f"() => {gone}")
    page.wait_for_timeout(after_ms)


def sign_in(page: Any, url: str, user: str, password: str) -> None:
    """Open the app's sign-in page and sign in with the English labels; wait for the rerun."""
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    idle(page, stale=False)


def english_left(text: str, lang: str) -> list[str]:
    """Catalogue messages that should read differently in ``lang`` but appear verbatim in ``text``.

    A message counts when its id is longer than 12 characters and has no placeholder.
    """
    from babel.messages.pofile import read_po

    from scro_sim.i18n import LOCALE_DIR

    with (LOCALE_DIR / lang / "LC_MESSAGES" / "scro_sim.po").open("rb") as f:
        cat = read_po(f, locale=lang)
    return sorted(m.id for m in cat if isinstance(m.id, str) and len(m.id) > 12 and "{" not in m.id
                  and m.string != m.id and m.id in text)
