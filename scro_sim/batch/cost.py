"""What a replication costs before it runs: an estimate, so a service can refuse work it will not do.

The unit is about a microsecond of one CPU core (calibrated on the bundled flood and on large
generated plans; see :func:`replication_cost`).  The estimate errs high: it assumes every rule's
actions may come due at the same check, which is what makes a plan expensive (each action is
checked against those decided with it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..engine.budget import WorkBudget
from ..scenario import Plan, Scenario
from .replication import PlanSpec

if TYPE_CHECKING:  # pragma: no cover
    from ..city import City

__all__ = ["replication_cost", "run_cost"]

#: work units per unit of a run's size (:meth:`WorkBudget.size_of`): the engine's own work
_PER_SIZE = 15
#: one plan rule looked at, at one check
_PER_RULE_CHECK = 3
#: one action checked together with another decided at the same time
_PER_ACTION_PAIR = 5


def run_cost(scenario: Scenario, city: City, spec: PlanSpec) -> int:
    """Estimated work units of one run of ``spec`` (a plan, a baseline name or None) on ``scenario``.

    The engine's share grows with the city and scenario; a written plan adds its rules times
    its checks, and the square of its actions (all of them may come due at once).
    """
    cost = _PER_SIZE * WorkBudget.size_of(scenario, city)
    if isinstance(spec, Plan):
        checks = len(scenario.decision_times()) + math.ceil(scenario.duration_h / spec.check_every_h)
        actions = len(spec.prepositioning) + (1 if spec.priorities else 0) + sum(len(r.do) for r in spec.rules)
        cost += _PER_RULE_CHECK * len(spec.rules) * checks + _PER_ACTION_PAIR * actions * actions
    return cost


def replication_cost(scenario: Scenario, city: City, plan: PlanSpec) -> int:
    """Estimated work units of one replication of :func:`~scro_sim.batch.evaluate`: ``plan``, the baseline, the expert.

    Measured against it (one replication, after a warm-up, on a shared 2-core machine): the
    bundled flood with plans/riverton_cautious.yaml, estimated 0.24 M units, took 0.22-0.26 s; a
    480 KB plan of 4,000 rules checked every 0.1 h, estimated 92 M, took 12 s; a plan of 4,000
    actions due at the start, estimated 80 M, took 62 s.  Read the units as microseconds: about
    right for ordinary plans, high for big ones (whose rules rarely all come due at once).
    """
    refs = scenario.reference_plans
    specs: list[PlanSpec] = [plan, refs.baseline]
    if refs.expert is not None:
        specs.append(refs.expert)
    return sum(run_cost(scenario, city, s) for s in specs)
