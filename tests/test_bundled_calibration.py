"""Every bundled exercise's rubric discriminates (issue 14, section 4), on paired seeds.

Each bundled scenario is calibrated once (do-nothing, random legal decisions, greedy and the
expert on the same seeds, graded as stored runs are) and held to every target of
:data:`scro_sim.calibration.TARGETS`.  A target an exercise does not meet yet is listed in
``NOT_YET`` with what stops it; those are strict expected failures, so meeting one turns
the test red until it is taken off the list.  ``scenarios/README.md`` (section 15) has the
full tables at 100 seeds.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from parallelkit import pool_size

from scro_sim.calibration import TARGETS, Flag, calibrate, check
from scro_sim.scenario import load_scenario

REPO = Path(__file__).resolve().parent.parent
BUNDLED = sorted((REPO / "scenarios").glob("*.yaml"))
N = 40  # paired seeds: every target at this n is within a few points of its value at 200

#: (scenario, target): why the exercise does not meet it yet (figures at 100 seeds in the guide); none at present
NOT_YET: dict[tuple[str, str], str] = {}


@cache
def _flags(stem: str) -> tuple[Flag, ...]:
    """The targets one calibration of the exercise fails, computed once per process and shared by its target
    cases (under xdist their cases share a worker: tests/parallelkit.py groups them by the id's part before "-")."""
    sc, city = load_scenario(REPO / "scenarios" / f"{stem}.yaml")
    return tuple(check(calibrate(sc, city, n=N, workers=pool_size())))


def _cases() -> list[object]:
    out = []
    for p in BUNDLED:
        for target in TARGETS:
            why = NOT_YET.get((p.stem, target))
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            out.append(pytest.param(p.stem, target, marks=marks, id=f"{p.stem}-{target}"))
    return out


@pytest.mark.parametrize(("stem", "target"), _cases())
def test_the_bundled_rubric_meets_the_discrimination_target(stem: str, target: str) -> None:
    flags = [f for f in _flags(stem) if f.target == target]
    assert not flags, "\n".join(str(f) for f in flags)


def test_every_bundled_outcome_criterion_that_luck_moves_is_measured_against_the_expert() -> None:
    """Service, people and downtime outcomes are relative; money is value for money."""
    for p in BUNDLED:
        sc, _city = load_scenario(p)
        for c in sc.rubric.criteria:
            m = c.metric or ""
            if m.startswith(("resilience_loss", "people_at_risk", "downtime.", "critical_downtime")):
                pytest.fail(f"{p.stem} {c.id}: {m} is absolute; use relative.{m}")
            if m in ("cost", "cost_share"):
                pytest.fail(f"{p.stem} {c.id}: {m} rates thrift; use value_for_money")
