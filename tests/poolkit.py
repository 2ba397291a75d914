"""How many processes a test may start for a pool of its own, so the suite never runs more than there are CPUs.

``make test`` runs the suite on one pytest-xdist worker per CPU; a test that also started a
pool as large as the machine (calibration's default) would put twice as many processes on
the CPUs as they hold.  Under xdist each worker gets its share of the CPUs, at least one
(one means: in this process).  Tests that check the pools themselves ask for their own size.
"""

from __future__ import annotations

import os


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
