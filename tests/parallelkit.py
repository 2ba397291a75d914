"""The suite on several pytest-xdist workers: which tests share a worker, and how large a test's own pool may be.

``make test`` runs the suite on one worker per CPU with ``--dist loadgroup``; tests/conftest.py
hands the work out by :func:`xdist_group`.  Tests go to the workers one by one, except the groups
below, each of which one worker runs whole, in order:

* each browser test file (tests/e2e/): its tests share one app server, started once.  Two files
  may run at once on two workers, each with its own server, database and chromium;
* the packaging tests (tests/test_packaging.py): they share one wheel build;
* each bundled exercise's calibration cases: they share one calibration.

Everything else a test uses is its own: PostgreSQL tests each get a private schema (pgkit),
servers a free port (serverkit), files go under tmp_path, module-wide fixtures and caches are
per process, and a test's own process pool gets its worker's share of the CPUs
(:func:`pool_size`: a pool as large as the machine on every worker would put twice as many
processes on the CPUs as they hold).  Tests that check the pools themselves ask for their own size.

The groups are read from the test ids, in the process that hands out the work, and not from
xdist_group marks: on pytest 9.2 xdist no longer sees those (pytest-dev/pytest-xdist#1386) and
spreads the tests as if they were not marked, without a word.
"""

from __future__ import annotations

import os

#: folders whose test files are a group each
GROUPED_FILES_UNDER = ("tests/e2e/",)
#: files whose tests are one group, by its name
GROUPED_MODULES = {"tests/test_packaging.py": "wheel"}
#: parametrised tests whose cases share a per-process cache keyed by their first parameter (the id's
#: part before the first "-"): its cases go to one worker together
GROUPED_BY_FIRST_PARAM = {
    "tests/test_bundled_calibration.py::test_the_bundled_rubric_meets_the_discrimination_target": "calibration",
}


def xdist_group(nodeid: str) -> str | None:
    """The group whose worker runs this test (None: any worker, on its own)."""
    module = nodeid.partition("::")[0]
    if module.startswith(GROUPED_FILES_UNDER):
        return module
    if module in GROUPED_MODULES:
        return GROUPED_MODULES[module]
    function, _, params = nodeid.partition("[")
    if function in GROUPED_BY_FIRST_PARAM and params:
        return f"{GROUPED_BY_FIRST_PARAM[function]}-{params.split('-', 1)[0].rstrip(']')}"
    return None


def cpus() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def xdist_workers() -> int:
    """How many pytest-xdist workers run the suite (1 without xdist)."""
    return max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1))


def pool_size() -> int:
    """Worker processes for a test's own pool: this xdist worker's share of the CPUs, at least 1."""
    return max(1, cpus() // xdist_workers())
