"""The crew process is a multi-server queue: check it against M/M/c theory (Erlang C).

The scenario language cannot express Poisson failures with exponential repairs (hazards
damage assets through fragility curves, repair times are truncated normals), so the test
drives the engine one level down, through the same internals the hazards and the repair
process use:

* a subclass of :class:`~scro_sim.engine.Simulation` draws each repair time from the run's
  own repair stream, ``Exp(mu)``, instead of the normal the scenario would give;
* a simpy process added to ``sim.env`` damages one healthy asset at Poisson times (rate
  ``lam``), queues it for the crew team in arrival order (exactly what ``dispatch_crew``
  does), and calls ``sim._propagate`` and ``sim._wake_crews`` as a hazard would;
* every asset sits on the depot's road node, so travel takes zero time.

The crews then form an M/M/c queue (c crews, FCFS).  The waiting time of a failure is the
time from the damage to the ``repair started`` record.  Its mean over many replications
(each a 60-day run) must match Erlang C: ``Wq = C(c, a) / (c*mu - lam)`` with ``a = lam/mu``,
within 4 standard errors of the replication means (independent replications are the
batch means).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from enginekit import asset, cyber, make_city, make_scenario

from scro_sim.engine import Crew, Simulation

LAM, MU, C = 2.0, 1.0, 3  # failures per hour, repairs per crew-hour, crews
HORIZON_H = 1440.0  # the longest scenario the language allows (60 days)
WARMUP_H = 24.0  # start empty: discard the first day
TAIL_H = 24.0  # failures in the last day may still be waiting at the end: not counted
REPLICATIONS = 12
N_ASSETS = 80  # far more than ever fail at once (checked below)


def erlang_c(c: int, a: float) -> float:
    """Probability that an arriving customer waits in an M/M/c queue with offered load ``a``."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (math.fsum(a**k / math.factorial(k) for k in range(c)) + top)


def test_erlang_c_formula_by_hand() -> None:
    # c=3, a=2: a^3/3! * 3/(3-2) = 4; 1 + 2 + 2 = 5; C = 4/9; Wq = (4/9) / (3*1 - 2) h
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9)
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho


class ExpRepairs(Simulation):
    """Repairs take Exp(MU) hours, drawn from the run's own repair stream (so runs stay seeded)."""

    def _repair_hours(self, i: int, crew: Crew) -> float:
        return float(self.rng_repair.exponential(1.0 / MU))


def _setup() -> tuple[Any, Any]:
    city = make_city([asset(f"S{i}", "substation", "D", y=8000) for i in range(N_ASSETS)]
                     + [asset("FS", "fire_station", "D", y=8000)])
    # the language needs one hazard: a cyber blip on a fire station nobody depends on
    sc = make_scenario([cyber("FS", start_h=0.0, recovery_h=0.0, detection_delay_h=0.0)], duration_h=HORIZON_H,
                       resources={"crews": [{"id": "crew", "count": C, "depot": "DEP", "skills": ["power"]}]})
    return sc, city


def _replication(sc: Any, city: Any, seed: int) -> tuple[float, int, int]:
    """(mean wait of the counted failures, how many were counted, most assets damaged at once)."""
    sim = ExpRepairs(sc, city, seed)
    pool = [city.asset_index[f"S{i}"] for i in range(N_ASSETS)]
    failed_at: dict[int, deque[float]] = {i: deque() for i in pool}
    orders = sim.orders.setdefault("crew", deque())
    peak = [0]

    def failures() -> Iterator[Any]:
        rng = sim.rng_hazard
        while True:
            yield sim.env.timeout(float(rng.exponential(1.0 / LAM)))
            healthy = [i for i in pool if not sim.damage[i]]
            peak[0] = max(peak[0], N_ASSETS - len(healthy) + 1)
            i = healthy[0]
            sim.damage[i] = 2
            failed_at[i].append(sim.env.now)
            orders.append(i)  # what dispatch_crew does: the team's queue, in arrival order
            sim._propagate([i])
            sim._wake_crews()

    sim.env.process(failures())
    sim.run()
    waits = []
    for r in sim.log.of_kind("repair"):
        if r.data["state"] != "started":
            continue
        t0 = failed_at[city.asset_index[r.subject]].popleft()
        if WARMUP_H <= t0 <= HORIZON_H - TAIL_H:
            waits.append(r.time - t0)
    return float(np.mean(waits)), len(waits), peak[0]


def test_crews_match_mmc_mean_wait() -> None:
    sc, city = _setup()
    means, counted, peaks = zip(*(_replication(sc, city, seed) for seed in range(REPLICATIONS)), strict=True)
    a = LAM / MU
    wq = erlang_c(C, a) / (C * MU - LAM)
    grand = float(np.mean(means))
    se = float(np.std(means, ddof=1)) / math.sqrt(REPLICATIONS)
    assert max(peaks) < N_ASSETS, "the asset pool ran dry: failures were no longer Poisson"
    assert min(counted) > 0.8 * LAM * (HORIZON_H - WARMUP_H - TAIL_H)  # every failure was repaired or counted
    assert se < 0.1 * wq  # the test has the power to see a 10 % error
    assert abs(grand - wq) < 4 * se, f"mean wait {grand:.4f} h vs Erlang C {wq:.4f} h (se {se:.4f})"
