"""Golden event-log digests of the bundled exercises: the guard every refactor must keep.

Each bundled scenario is run with do-nothing, greedy and its expert plan on three seeds and the
log's digest is compared with ``tests/data/golden_digests.json``.  A change that is meant to
change a log regenerates the file with ``python tests/golden.py`` and says why in its commit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from scro_sim.engine import Simulation
from scro_sim.policy import PlanPolicy, baseline_policy
from scro_sim.scenario import load_scenario

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "golden_digests.json"
POLICIES = ("do_nothing", "greedy", "expert")
SEEDS = (1, 2, 3)


def bundled() -> list[Path]:
    """The bundled exercise files, in a fixed order."""
    return sorted((REPO / "scenarios").glob("*.yaml"))


def digests_of(path: Path) -> dict[str, str]:
    """``{"policy/seed": digest}`` for one scenario file."""
    sc, city = load_scenario(path)
    out: dict[str, str] = {}
    for name in POLICIES:
        for seed in SEEDS:
            policy = PlanPolicy(sc.reference_plans.expert, "expert") if name == "expert" else baseline_policy(name)
            out[f"{name}/{seed}"] = Simulation(sc, city, seed, policy).run().digest()
    return out


def compute_all() -> dict[str, dict[str, str]]:
    """Every bundled scenario's golden digests, keyed by file stem."""
    return {p.stem: digests_of(p) for p in bundled()}


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(compute_all(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {GOLDEN.relative_to(REPO)}", file=sys.stderr)
