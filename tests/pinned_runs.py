"""Every simulation a test plays is pinned whole: its event log's digest is kept in a golden file.

A test reads the few records it is about; a change elsewhere in the same run (a record's other
field, a message, one more event) would pass it unseen. So each :class:`Simulation` a test
makes in this process is remembered, and when the test ends the digest of each one's log (as far
as the test played it) is compared with ``tests/data/golden_runs.json`` under the test's id. A
difference fails the test, naming which of its runs changed.

A change meant to alter logs regenerates the file with ``SCRO_SIM_UPDATE_GOLDEN_RUNS=1 make test``
(entries of the tests that ran are replaced, others kept) and says why in its commit message,
as for the bundled exercises' golden digests (``tests/golden.py``).

Left out: Hypothesis tests (their examples are generated), tests marked ``@pytest.mark.unpinned``
(a run whose seed is drawn afresh on purpose), and tests the file has no entry for yet (a new test,
or one that was skipped where the file was made: it is pinned once the file is regenerated).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

GOLDEN_RUNS = Path(__file__).resolve().parent / "data" / "golden_runs.json"
UPDATE = os.environ.get("SCRO_SIM_UPDATE_GOLDEN_RUNS", "") not in ("", "0")
_FRAGMENT = GOLDEN_RUNS.parent / ".golden_runs.{worker}.json"
_KEPT: dict[str, list[str]] = {}  # update mode: this process's digests by test id
_golden: dict[str, list[str]] | None = None


def _expected() -> dict[str, list[str]]:
    global _golden
    if _golden is None:
        _golden = json.loads(GOLDEN_RUNS.read_text()) if GOLDEN_RUNS.exists() else {}
    return _golden


def _short(log: Any) -> str:
    return f"{len(log)}:{log.digest()[:16]}"


@pytest.fixture(autouse=True)
def pinned_runs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Remember the simulations the test makes; at its end, hold their logs to the golden digests."""
    if getattr(request.function, "is_hypothesis_test", False) or request.node.get_closest_marker("unpinned"):
        yield
        return
    from scro_sim.engine.simulation import Simulation

    made: list[Any] = []
    original = Simulation.__init__

    def remembering(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self.log)  # the log only: a test may check that a finished run is freed

    monkeypatch.setattr(Simulation, "__init__", remembering)
    yield
    if not made:
        return
    got = [_short(log) for log in made]
    made.clear()
    nodeid = request.node.nodeid
    if UPDATE:
        _KEPT[nodeid] = got
        return
    want = _expected().get(nodeid)
    if want is None:  # a new test (or one skipped where the file was made): pinned once regenerated
        return
    if got != want:
        changed = [k for k in range(max(len(got), len(want)))
                   if k >= len(got) or k >= len(want) or got[k] != want[k]]
        pytest.fail(f"run(s) {changed} of this test logged differently from tests/data/golden_runs.json "
                    f"(records:digest now {[got[k] for k in changed if k < len(got)]}, golden "
                    f"{[want[k] for k in changed if k < len(want)]}); if the change is meant, regenerate with "
                    "SCRO_SIM_UPDATE_GOLDEN_RUNS=1 and say why", pytrace=False)


def write_golden_runs(session: pytest.Session) -> None:
    """Update mode, at the end of a session: a worker writes its part; the controller merges every part."""
    if not UPDATE:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is not None:
        _FRAGMENT.with_name(_FRAGMENT.name.format(worker=worker)).write_text(json.dumps(_KEPT))
        return
    merged = dict(_expected())
    merged.update(_KEPT)
    for part in sorted(GOLDEN_RUNS.parent.glob(_FRAGMENT.name.format(worker="*"))):
        merged.update(json.loads(part.read_text()))
        part.unlink()
    GOLDEN_RUNS.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
