"""The Simulation: one run of a scenario on a city with a seed, whole or step by step.

A run is a pure function of (scenario, city, seed, decisions): every random stream is a
numpy Generator spawned from one SeedSequence in a fixed order, and every change is written to
the :class:`~scro_sim.log.EventLog`.  Nothing here scores, stores or draws; those read the log."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from ..city import City
from ..errors import DecisionError, WorkBudgetExceeded
from ..log import EventLog
from ..policy import Observation, Policy
from ..scenario import Scenario, SurgeHazard, sample
from ._common import ENGINE_VERSION
from .actions import REGISTRY as ACTIONS
from .budget import WorkBudget
from .cascade import CascadeMixin
from .crews import CrewMixin
from .hazard_processes import HazardMixin
from .kernel import Kernel
from .msel import MselMixin
from .observation import ObservationMixin
from .state import RunState, forward_fields


class _Stream:
    """A run's random stream ``k``: a Generator on child k of SeedSequence(seed), as spawn() makes it."""

    def __init__(self, k: int) -> None:
        self.k = k

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, sim: Any, owner: type | None = None) -> Any:
        if sim is None:
            return self
        rng = np.random.default_rng(np.random.SeedSequence(sim.seed, spawn_key=(self.k,)))
        sim.__dict__[self.name] = rng  # made once: later reads find it in the instance
        return rng


@forward_fields
class Simulation(Kernel, CascadeMixin, HazardMixin, CrewMixin, MselMixin, ObservationMixin):
    """One run of a scenario on a city with a seed.

    Drive it whole with :meth:`run` (a policy decides at each decision point), or step by
    step for play: :meth:`advance` runs to the next decision point and returns an
    :class:`Observation`; :meth:`apply` checks and schedules the player's decision.
    ``budget`` caps the run's work (default :meth:`WorkBudget.for_run`): a run that goes over
    raises :class:`~scro_sim.errors.WorkBudgetExceeded` and stays stopped (``stopped``).
    """

    def __init__(self, scenario: Scenario, city: City, seed: int = 0, policy: Policy | None = None,
                 *, budget: WorkBudget | None = None) -> None:
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.scenario = scenario
        self.city = city
        self.seed = int(seed)
        self.policy = policy
        self.env = simpy.Environment()
        self.log = EventLog()
        self.duration = float(scenario.duration_h)
        self.budget = budget if budget is not None else WorkBudget.for_run(scenario, city)
        self.stopped: WorkBudgetExceeded | None = None  # set when the run went over its budget
        self.recovering = False  # fast-forwarding after the last decision hour (see _fast_forward)
        self._steps = 0  # simulation steps taken (simpy events processed)
        self._generators: list[Generator[Any, Any, Any]] = []  # our simpy processes, closed by _release()
        self.decisions: list[dict[str, Any]] = []
        self.skipped: list[dict[str, Any]] = []
        self.rs = RunState.build(scenario, city)  # every number of the run that changes (state.py)
        self._init_state()
        self._no_assets = bytes(city.n_assets)
        self._any_overload = any(isinstance(h, SurgeHazard) for h in scenario.hazards)
        # no supply loops and no overloaded hospitals: a supplier serves exactly when it is not down
        self._plain_supply = not self.rs.loop_unfed and not self._any_overload
        self._init_hazards()
        self._init_people()
        self._init_resources()
        self._init_points()
        about_city = city.memo.get("run_start")  # read-only, like every record's data: made once per city
        if about_city is None:
            about_city = city.memo["run_start"] = {
                "city": city.id, "city_sha256": city.content_hash(), "population": int(city.district_pop.sum()),
                "vulnerable": float(np.dot(city.district_pop, city.district_vuln)),
                "districts": {d: {"population": p, "vulnerable_share": v} for d, p, v in
                              zip(city.district_ids, city.district_pop.tolist(),
                                  city.district_vuln.astype(float).tolist(), strict=True)},
                "critical": [city.asset_ids[i] for i in self.critical],
            }
        start = {
            "scenario": scenario.id, "scenario_version": scenario.version,
            "scenario_sha256": scenario.source_sha256, "city": about_city["city"],
            "city_sha256": about_city["city_sha256"], "seed": self.seed, "engine": ENGINE_VERSION,
            "start": scenario.start.isoformat(), "duration_h": self.duration, "population": about_city["population"],
            "vulnerable": about_city["vulnerable"], "budget": scenario.resources.budget,
            "districts": about_city["districts"], "critical": about_city["critical"],
            "hazard_params": self.hazard_params,
        }
        if self.repair_cost is not None:  # damage records carry their repair cost (``loss``)
            start["damage_priced"] = True
        for kind in ACTIONS.values():  # terms scoring needs (a fund's deadline...), only for enabled actions
            start.update(kind.logged_at_start(scenario, city))
        self.log.append(0.0, "run_start", scenario.id, start)
        # Nothing is damaged at t=0 and every need has a supplier (the city loader checks it),
        # so everything works: the greatest fixpoint is "all up" and costs nothing to find.
        self._start_processes()

    # ------------------------------------------------------------------------------------
    # random streams, each made on first use (a run that never repairs never makes the repair
    # stream); 4 and 5 are reserved (people, misc), so new uses leave these streams' numbers alone
    rng_hazard = _Stream(0)
    rng_damage = _Stream(1)
    rng_repair = _Stream(2)
    rng_aid = _Stream(3)
    rng_cyber = _Stream(6)  # IT incident-response work (crews.py)

    def _recovered(self) -> bool:
        """Whether the city is whole again: nobody unserved, nothing damaged, no boil-water notice."""
        rs, none = self.rs, self._no_assets  # all zeros: byte comparisons, the damage (most often left) first
        return not (rs._dm != none or rs._cy != none or rs.district_unserved.any()
                    or any(rs._boiling) or any(rs._refilling))

    def sample(self, dist: Any, rng: np.random.Generator) -> float:
        """One draw of a scenario's uncertain number (an action's lead time, say) from stream ``rng``."""
        return sample(dist, rng)

    def _release(self) -> None:
        """Let go of the clock's pending work once a whole run is over.

        The processes' frames and the callbacks still scheduled point back at this simulation:
        without them a finished run is freed as soon as its last reference goes, instead of by the
        cycle collector (collecting finished runs took about a tenth of a 5,000-asset run).  The
        state, the log and the clock's time stay readable.
        """
        for generator in self._generators:
            generator.close()
        self._generators.clear()
        queue = getattr(self.env, "_queue", None)  # simpy's heap of scheduled events
        if isinstance(queue, list):
            queue.clear()
        self._live = None
        self._stop = None
        for crew in self.rs.crews:
            crew.wake = None
        self.__dict__.pop("_check_conditions", None)  # a bound method of its own: would keep a cycle
        self._repair_order = None  # its hours function reads this simulation's repair times: a cycle too


def run(scenario: Scenario, city: City, seed: int = 0, policy: Policy | None = None, *,
        budget: WorkBudget | None = None) -> EventLog:
    """One whole run; returns the event log."""
    return Simulation(scenario, city, seed, policy, budget=budget).run()


def replay(scenario: Scenario, city: City, seed: int, decisions: Sequence[dict[str, Any]],
           *, until_point: int | None = None,
           budget: WorkBudget | None = None) -> tuple[Simulation, Observation]:
    """Rebuild a game from its recorded decisions (to resume play or verify a score).

    Without ``until_point`` it plays to the end; with it, it stops at that decision point,
    before anything is decided there, ready for the player's next move.  Returns the
    simulation and the last observation.
    """
    from ..policy import RecordedDecisions

    rec = RecordedDecisions(decisions)
    sim = Simulation(scenario, city, seed, rec, budget=budget)
    obs = sim.observe()
    while not sim.done:
        obs = sim.advance()
        if obs.done or (until_point is not None and obs.point >= until_point and obs.kind != "check"):
            break
        d = rec.decide(obs)
        if d is not None:
            sim.apply(d)
    if sim.done and rec.by_time:
        t = min(rec.by_time)
        raise DecisionError(f"the recorded decision at {t:g} h (decision point {rec.by_time[t][0]}) was never reached "
                            "on replay: the scenario, city or engine differs from the one it was played on",
                            field="decisions")
    return sim, obs
