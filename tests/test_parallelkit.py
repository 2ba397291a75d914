"""Under pytest-xdist, tests that share something costly go to one worker, and a test's own pool fits its share."""

from __future__ import annotations

import importlib
from pathlib import Path

import parallelkit
import pytest
from parallelkit import GROUPED_BY_FIRST_PARAM, pool_size, xdist_group

TESTS = Path(__file__).resolve().parent


def test_each_browser_test_file_is_a_group_of_its_own() -> None:
    files = sorted(p.relative_to(TESTS.parent).as_posix() for p in (TESTS / "e2e").glob("test_*.py"))
    groups = [xdist_group(f"{f}::test_x[en]") for f in files]
    assert None not in groups and len(set(groups)) == len(files)
    assert xdist_group(f"{files[0]}::test_x") == xdist_group(f"{files[0]}::test_y[de]")


def test_the_packaging_tests_share_the_wheel_and_other_tests_go_alone() -> None:
    assert xdist_group("tests/test_packaging.py::test_the_wheel_runs_x") == xdist_group("tests/test_packaging.py::test_y")
    assert xdist_group("tests/test_packaging.py::test_y") is not None
    assert xdist_group("tests/test_store.py::test_y[sqlite]") is None


@pytest.mark.parametrize("function", sorted(GROUPED_BY_FIRST_PARAM))
def test_the_cases_of_one_exercise_share_a_group_and_exercises_do_not(function: str) -> None:
    path, name = function.split("::")
    module = importlib.import_module(Path(path).stem)
    cases = module._cases()
    assert hasattr(module, name) and cases, f"{function} is gone: update parallelkit.GROUPED_BY_FIRST_PARAM"
    groups: dict[object, set[str | None]] = {}
    for case in cases:
        groups.setdefault(case.values[0], set()).add(xdist_group(f"{function}[{case.id}]"))
    assert all(len(g) == 1 and None not in g for g in groups.values()), groups
    assert len(set().union(*groups.values())) == len(groups)


@pytest.mark.parametrize(("cpus", "workers", "pool"), [(2, None, 2), (2, "2", 1), (1, "2", 1), (8, "2", 4)])
def test_a_tests_pool_gets_its_workers_share_of_the_cpus(cpus: int, workers: str | None, pool: int,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallelkit, "cpus", lambda: cpus)
    if workers is None:
        monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    else:
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", workers)
    assert pool_size() == pool
