"""Golden score cards of the bundled exercises: the guard for any change to scoring.

Each bundled scenario is played with do-nothing, greedy and its expert plan on three seeds
(the same runs as ``golden.py``) and graded against its rubric, ``relative.*`` metrics against
the scenario's baseline and expert plans on the same seed.  The total and every criterion's
value, rating, status and points are stored readably in ``tests/data/golden_scorecards.json``,
and a SHA-256 of the whole card (metrics, linked events, texts) catches anything else.  A change
meant to alter scores regenerates the file with ``python tests/golden_scorecards.py`` and says
why in its commit.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from golden import POLICIES, REPO, SEEDS, bundled

from scro_sim.assessment import reference_metrics
from scro_sim.engine import Simulation
from scro_sim.policy import PlanPolicy, baseline_policy
from scro_sim.scenario import load_scenario
from scro_sim.scoring import ScoreCard, grade

GOLDEN_CARDS = Path(__file__).resolve().parent / "data" / "golden_scorecards.json"


def summary(card: ScoreCard) -> dict[str, Any]:
    """What the golden file keeps of one card: readable figures and a hash of the rest."""
    whole = json.dumps(card.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return {
        "total": card.total, "passed": card.passed, "provisional": card.provisional,
        "criteria": {c.id: [c.metric, c.value, c.rating, c.status, c.points] for c in card.criteria},
        "sha256": hashlib.sha256(whole.encode()).hexdigest(),
    }


def cards_of(path: Path) -> dict[str, dict[str, Any]]:
    """``{"policy/seed": summary}`` for one scenario file."""
    sc, city = load_scenario(path)
    out: dict[str, dict[str, Any]] = {}
    for seed in SEEDS:
        reference = reference_metrics(sc, city, seed)
        for name in POLICIES:
            policy = PlanPolicy(sc.reference_plans.expert, "expert") if name == "expert" else baseline_policy(name)
            log = Simulation(sc, city, seed, policy).run()
            out[f"{name}/{seed}"] = summary(grade(log, sc, reference=reference))
    return out


def compute_all() -> dict[str, dict[str, dict[str, Any]]]:
    """Every bundled scenario's golden score cards, keyed by file stem."""
    return {p.stem: cards_of(p) for p in bundled()}


if __name__ == "__main__":
    GOLDEN_CARDS.write_text(json.dumps(compute_all(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN_CARDS.relative_to(REPO)}", file=sys.stderr)
