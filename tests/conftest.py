"""Shared fixtures: the mini city/scenario/plan in tests/data, dict-to-YAML writers, a hang guard."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import Phase, settings

DATA = Path(__file__).resolve().parent / "data"

# Hypothesis profiles.  "ci" (the default, and always under CI) replays the same examples on
# every run, so the suite passes or fails on the code, never on the draw; a failure prints the
# blob that reproduces it.  "explore" draws new examples and keeps a local example database:
# HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/test_scenario.py
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, deadline=None)
settings.register_profile("explore", derandomize=False, max_examples=1000, print_blob=True, deadline=None)
# `make mutation` reruns the tests once per planted bug: a failure only has to be seen, not shrunk
settings.register_profile("mutation", parent=settings.get_profile("ci"),
                          phases=[Phase.explicit, Phase.reuse, Phase.generate])
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# -- every simulation a test plays is pinned whole (tests/pinned_runs.py): the autouse fixture and
# the end-of-session writer of SCRO_SIM_UPDATE_GOLDEN_RUNS=1
from pinned_runs import pinned_runs, write_golden_runs  # noqa: E402, F401


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    write_golden_runs(session)


#: the library's in-process caches (module, name): the reference runs a grade compares with, the expert's
#: log the debrief reads, and the canonical log text's shapes
_CACHES = (("scro_sim.assessment", "_REF_CACHE"), ("scro_sim.debrief", "_LOG_CACHE"),
           ("scro_sim.log", "_DICT_FORMATS"), ("scro_sim.log", "_TEMPLATES"))


@pytest.fixture(autouse=True)
def fresh_caches() -> None:
    """Each test starts with the library's caches empty, as in a fresh process.

    So the runs a test makes do not depend on which tests ran before it in its worker (the pinned
    runs above), and under mutmut, which forks each mutant's run from a process that has already
    run the suite, a planted bug behind a cache is still run rather than served from the cache.
    """
    for module, name in _CACHES:
        mod = sys.modules.get(module)
        if mod is not None:
            getattr(mod, name).clear()


# -- several workers (pytest-xdist; `make test` runs one per CPU with --dist loadgroup): which tests
# share a worker, and why, is in tests/parallelkit.py


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` with the groups of :func:`parallelkit.xdist_group` (any other --dist: xdist's own)."""
    if config.getoption("dist") != "loadgroup":
        return None
    from parallelkit import xdist_group
    from xdist.scheduler import LoadGroupScheduling

    class Groups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            marked = super()._split_scope(nodeid)  # an xdist_group mark, where xdist still sees it
            return marked if marked != nodeid else (xdist_group(nodeid) or nodeid)

    return Groups(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per CPU this process may use (xdist alone would count the machine's cores)."""
    from parallelkit import cpus

    return cpus()


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _plain(path: Path) -> Any:
    from scro_sim.yamlio import load_yaml

    return load_yaml(path).data


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def mini_city_path() -> Path:
    return DATA / "mini_city.yaml"


@pytest.fixture(scope="session")
def mini_scenario_path() -> Path:
    return DATA / "mini_scenario.yaml"


@pytest.fixture(scope="session")
def mini_plan_path() -> Path:
    return DATA / "mini_plan.yaml"


@pytest.fixture(scope="session")
def mini_city(mini_city_path: Path) -> Any:
    """The mini city, loaded once (City is read-only for the tests)."""
    from scro_sim.city import load_city

    return load_city(mini_city_path)


@pytest.fixture(scope="session")
def mini_scenario(mini_scenario_path: Path, mini_city: Any) -> Any:
    """The mini scenario, cross-checked against the mini city."""
    from scro_sim.scenario import load_scenario

    sc, _ = load_scenario(mini_scenario_path, city=mini_city)
    return sc


@pytest.fixture(scope="session")
def _mini_city_plain(mini_city_path: Path) -> Any:
    return _plain(mini_city_path)


@pytest.fixture(scope="session")
def _mini_scenario_plain(mini_scenario_path: Path) -> Any:
    return _plain(mini_scenario_path)


@pytest.fixture(scope="session")
def _mini_plan_plain(mini_plan_path: Path) -> Any:
    return _plain(mini_plan_path)


@pytest.fixture
def city_data(_mini_city_plain: Any) -> dict[str, Any]:
    """A fresh, mutable copy of the mini city as plain data."""
    return copy.deepcopy(_mini_city_plain)


@pytest.fixture
def scenario_data(_mini_scenario_plain: Any) -> dict[str, Any]:
    """A fresh, mutable copy of the mini scenario as plain data."""
    return copy.deepcopy(_mini_scenario_plain)


@pytest.fixture
def plan_data(_mini_plan_plain: Any) -> dict[str, Any]:
    """A fresh, mutable copy of the mini plan as plain data."""
    return copy.deepcopy(_mini_plan_plain)


@pytest.fixture(scope="session")
def to_yaml() -> Callable[[Any], str]:
    """Plain data -> YAML text (block style, so every key has its own line)."""
    return _dump


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[..., Path]:
    """Write plain data (or text) to ``tmp_path/name`` and return the path."""

    def write(data: Any, name: str = "input.yaml") -> Path:
        p = tmp_path / name
        p.write_text(data if isinstance(data, str) else _dump(data), encoding="utf-8")
        return p

    return write


@pytest.fixture(scope="session")
def billion_laughs() -> str:
    """The "billion laughs" alias bomb: ten lines, each nine aliases of the line before; anchor on line 1."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def guard() -> Callable[..., Any]:
    """Run ``fn(*args)`` in a daemon thread with a generous cap; fail if it has not finished.

    Proves "no hang" only: the cap is 10 s, far above the normal answer time.  Returns the
    result, or re-raises what ``fn`` raised, so ``pytest.raises`` can wrap the call.
    """

    def run(fn: Callable[..., Any], *args: Any, timeout: float = 10.0, **kwargs: Any) -> Any:
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = fn(*args, **kwargs)
            except BaseException as exc:
                box["error"] = exc

        t = threading.Thread(target=target, daemon=True)
        t.start()
        t.join(timeout)
        if t.is_alive():
            pytest.fail(f"{getattr(fn, '__name__', fn)} did not answer within {timeout:g} s (hang)")
        if "error" in box:
            raise box["error"]
        return box.get("result")

    return run


@pytest.fixture(scope="session")
def guard_process() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run Python ``code`` (with ``args`` as sys.argv[1:]) in a child process, killed after ``timeout`` s.

    For inputs whose overrun would keep eating CPU or memory in a thread; fails the test on a
    timeout and otherwise returns the finished process (stdout, stderr, returncode).
    """
    root = Path(__file__).resolve().parents[1]

    def run(code: str, *args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(root)}
        try:
            return subprocess.run([sys.executable, "-c", code, *args], cwd=root, env=env, capture_output=True,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no answer within {timeout:g} s (hang)")

    return run
