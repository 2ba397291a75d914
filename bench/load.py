"""A class pressing Start together: N real browser sessions against `scro-sim app`, with the server's CPU.

    python bench/load.py                          # spawn 1 app server on a temp SQLite database; N = 10
    python bench/load.py -n 10 25 50              # several class sizes, one after the other
    python bench/load.py --servers 2 -n 50        # 2 app processes sharing the database, sessions spread over them
    python bench/load.py --port 8501 --port 8502 --db "$SCRO_SIM_DB" --password "$LONG_PASSWORD"
                                                  # servers already running; learners load-000... made in --db
                                                  # (a real database: erase them after, `scro-sim user erase load-000 --yes`...)

Each of the N sessions is a browser context of one headless chromium (Debian's, as the
real-browser tests use), signed in as its own learner and kept on one server (sticky, as a
proxy would).  Then, all at once, every session presses "Start the exercise" and waits until
its first decision point is drawn; then all press "Continue without acting" and wait until
the clock has moved on.  For each phase it prints the wall time per session (p50, p95, max),
the errors, and the CPU seconds the server processes themselves used (from /proc via psutil)
divided by N: the browsers run on the same cores, so wall times measure the machine while CPU
per session measures the server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-renderer-backgrounding", "--disable-background-timer-throttling"]
PASSWORD = "bench-load-demo-password"  # a demo database's learners (the spawned servers' database)
TIMEOUT_MS = 600_000


@dataclass
class Phase:
    """One phase's figures: wall seconds per session, errors, server CPU seconds over the phase."""

    name: str
    walls: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cpu_s: float = 0.0
    span_s: float = 0.0

    def line(self, n: int) -> str:
        w = sorted(self.walls)
        if w:
            p95 = w[min(len(w) - 1, max(0, round(0.95 * len(w)) - 1))]
            walls = f"wall p50 {statistics.median(w):6.2f} s  p95 {p95:6.2f} s  max {w[-1]:6.2f} s"
        else:
            walls = "wall -"
        return (f"{self.name:<9} N={n:<3} {walls}  errors {len(self.errors)}  "
                f"server CPU {self.cpu_s:6.2f} s = {self.cpu_s / n:5.3f} s per session  (phase {self.span_s:.1f} s)")


# -- the servers


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(port: int, proc: subprocess.Popen[bytes] | None, timeout_s: float = 180.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"the app on port {port} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no answer from port {port} within {timeout_s:.0f} s")


def _server_pids(port: int) -> list[int]:
    """The process listening on ``port`` (the Streamlit server), with its children."""
    import psutil

    for c in psutil.net_connections(kind="tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            p = psutil.Process(c.pid)
            return [p.pid, *(ch.pid for ch in p.children(recursive=True))]
    raise SystemExit(f"no process listens on port {port} (run as the servers' user, or as root)")


def _cpu(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _accounts(db: str, n: int, password: str) -> list[str]:
    """Learners ``load-000`` ... in ``db`` (made if missing; in a real database they need a strong --password)."""
    sys.path.insert(0, str(ROOT))
    from scro_sim.errors import ScroSimError
    from scro_sim.store import Store

    names = [f"load-{i:03d}" for i in range(n)]
    try:
        with Store(db) as s:
            demo = s.is_demo_database()
            for name in names:
                if s.get_user(name) is None:
                    s.add_user(name, password, "learner", language="en", demo_account=demo)
                else:
                    s.set_language(name, "en")
    except ScroSimError as exc:
        raise SystemExit(f"bench/load.py: cannot make the learners in {db}: {exc}") from None
    return names


def _spawn(k: int, tmp: Path) -> tuple[str, list[int], list[subprocess.Popen[bytes]]]:
    """``k`` `scro-sim app` processes on free ports sharing one new demo SQLite database."""
    sys.path.insert(0, str(ROOT))
    from scro_sim.store import Store

    db = f"sqlite:///{tmp / 'load.sqlite'}"
    with Store(db) as s:
        s.mark_demo_database()
    env = {**os.environ, "SCRO_SIM_DB": db, "SCRO_SIM_CACHE": str(tmp / "cache"),
           "SCRO_SIM_SECRET": "bench-load-secret-" + secrets.token_hex(8)}
    env.pop("SCRO_SIM_DEMO", None)
    ports, procs = [], []
    for _ in range(k):
        port = _free_port()
        log = (tmp / f"app-{port}.log").open("wb")
        procs.append(subprocess.Popen([sys.executable, "-m", "scro_sim.cli", "app", "--port", str(port)],
                                      cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))
        ports.append(port)
    for port, proc in zip(ports, procs, strict=True):
        _wait_healthy(port, proc)
    return db, ports, procs


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()


# -- the sessions


_SETTLED = ("() => !document.querySelector('[data-testid=stStatusWidget]')"
            " && !document.querySelector('[data-stale=true]')")


async def _idle(page) -> None:
    """Until the app has finished its rerun: no "running" widget and no stale element, twice 300 ms apart."""
    for _ in range(2):
        await page.wait_for_timeout(300)
        await page.wait_for_function(_SETTLED, timeout=TIMEOUT_MS)


async def _sign_in(page, url: str, user: str, password: str) -> None:
    await page.goto(url, timeout=TIMEOUT_MS)
    await page.get_by_role("textbox", name="Username").fill(user)
    await page.get_by_role("textbox", name="Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Start the exercise").wait_for(timeout=TIMEOUT_MS)
    await _idle(page)


async def _start(page) -> None:
    await page.get_by_role("button", name="Start the exercise").click()
    await page.get_by_role("button", name="Continue without acting").wait_for(timeout=TIMEOUT_MS)
    await _idle(page)


async def _decide(page) -> None:
    before = await page.get_by_test_id("stMetricValue").nth(1).inner_text()
    await page.get_by_role("button", name="Continue without acting").click()
    await page.wait_for_function(
        "([h]) => document.body.innerText.includes('Your score') || (() => {"
        " const v = document.querySelectorAll('[data-testid=stMetricValue]');"
        " return v.length > 1 && v[1].innerText !== h; })()", arg=[before], timeout=TIMEOUT_MS)
    await _idle(page)


async def _timed(step, page, phase: Phase, who: str, gate: asyncio.Event) -> None:
    await gate.wait()
    t = time.perf_counter()
    try:
        await step(page)
        phase.walls.append(time.perf_counter() - t - 0.6)  # less _idle's two pauses
    except Exception as exc:  # every failure is counted and shown, the others go on
        phase.errors.append(f"{who}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


async def _phase(name: str, step, pages, users, pids: list[int]) -> Phase:
    phase = Phase(name)
    gate = asyncio.Event()
    tasks = [asyncio.create_task(_timed(step, p, phase, u, gate)) for p, u in zip(pages, users, strict=True)]
    await asyncio.sleep(0.5)
    cpu0, t0 = _cpu(pids), time.perf_counter()
    gate.set()  # all at once
    await asyncio.gather(*tasks)
    span = time.perf_counter() - t0
    phase.cpu_s, phase.span_s = await _settled_cpu(pids) - cpu0, span
    return phase


async def _settled_cpu(pids: list[int]) -> float:
    """The servers' CPU once they have stopped working (what a page draws after it looks done counts too)."""
    last = _cpu(pids)
    for _ in range(20):
        await asyncio.sleep(1.0)
        now = _cpu(pids)
        if now - last < 0.03:
            return now
        last = now
    return last


def _renice_browsers(niceness: int) -> None:
    """Chromium raises its own priority; give it this script's, so the servers are not starved by it."""
    import psutil

    for ch in psutil.Process().children(recursive=True):
        try:
            if ch.nice() < niceness:
                ch.nice(niceness)
        except psutil.Error:
            pass


async def _class(n: int, urls: list[str], users: list[str], password: str, pids: list[int],
                 warm: list[Phase] | None = None) -> list[Phase]:
    """Sign ``n`` sessions in, then all start a game at once, then all decide at once.

    With ``warm`` (a list to fill), the first session on each server starts and decides first,
    before the class: what the first learner after a server's start pays (imports, parsing the
    scenario and city) is reported there, apart from the class's marginal cost.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            contexts = [await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(n)]
            pages = [await c.new_page() for c in contexts]
            _renice_browsers(os.nice(0))
            signin = Phase("sign in")
            gate = asyncio.Event()
            gate.set()
            cpu0, t0 = _cpu(pids), time.perf_counter()
            # sign in a few at a time: that is not what is measured, and scrypt is slow on purpose
            sem = asyncio.Semaphore(5)

            async def one(i: int) -> None:
                async with sem:
                    await _timed(lambda p: _sign_in(p, urls[i % len(urls)], users[i], password), pages[i], signin,
                                 users[i], gate)

            await asyncio.gather(*(one(i) for i in range(n)))
            span = time.perf_counter() - t0
            signin.cpu_s, signin.span_s = await _settled_cpu(pids) - cpu0, span
            _renice_browsers(os.nice(0))
            if signin.errors:
                return [signin]
            if warm is not None:  # a process's first start pays for imports and shared caches: apart
                k = len(urls)  # sessions 0..k-1: one on each server
                start0 = await _phase("1st start", _start, pages[:k], users[:k], pids)
                decide0 = await _phase("1st decide", _decide, pages[:k], users[:k], pids)
                pages, users = pages[k:], users[k:]
                warm.extend([start0, decide0])
            start = await _phase("start", _start, pages, users, pids)
            decide = await _phase("decide", _decide, pages, users, pids)
            return [signin, start, decide]
        finally:
            await browser.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, nargs="+", default=[10], help="class sizes, run one after the other")
    ap.add_argument("--servers", type=int, default=1, help="app processes to spawn (ignored with --port)")
    ap.add_argument("--port", type=int, action="append", default=[],
                    help="a running server on 127.0.0.1 (repeat for several); needs --db")
    ap.add_argument("--db", help="the running servers' database URL, where the learners load-NNN are made")
    ap.add_argument("--no-warm-up", action="store_true",
                    help="no lone first start and decision before the first class (they pay the server's warm-up)")
    ap.add_argument("--password", default=PASSWORD, help="the load-NNN learners' password (a strong one for a real database)")
    args = ap.parse_args()
    if not Path(CHROMIUM).is_file():
        raise SystemExit(f"{CHROMIUM} is missing: run `bash .ci/install_browser.sh` first")
    if args.port and not args.db:
        raise SystemExit("--port needs --db: the servers' database, where the learners are made")
    tmp = Path(tempfile.mkdtemp(prefix="scro-load-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if args.port:
            db, ports = args.db, list(args.port)
            for p in ports:
                _wait_healthy(p, None, 10)
        else:
            db, ports, procs = _spawn(args.servers, tmp)
        pids = [pid for p in ports for pid in _server_pids(p)]
        users = _accounts(db, max(args.n) + len(ports), args.password)
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        print(f"servers: {', '.join(urls)} (pids {pids}); nice {os.nice(0)}; load average {os.getloadavg()[0]:.2f}; "
              f"{os.cpu_count()} CPUs", flush=True)
        k = len(urls)
        for i, n in enumerate(args.n):
            warm: list[Phase] | None = [] if i == 0 and not args.no_warm_up else None
            who = users[:n + k] if warm is not None else users[k:n + k]
            phases = asyncio.run(_class(len(who), urls, who, args.password, pids, warm))
            for ph in warm or []:
                print(ph.line(k), flush=True)
            for ph in phases:
                print(ph.line(len(who) if ph.name == "sign in" else n), flush=True)
                for e in ph.errors[:5]:
                    print("   ", e)
            print(f"load average after N={n}: {os.getloadavg()[0]:.2f}", flush=True)
    finally:
        _stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
