"""``verify_run`` re-simulates a stored run and refuses it when any stored field was changed.

Each test stores the same run (the reference flood, greedy baseline, seed 2) in a fresh SQLite
store, changes one field behind the library's back, as someone editing the database would, and
asks only for the verdict: a correct verifier says "verified" for the untouched run and "not
verified" for every change below, whatever it compares in detail and however it words it.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from scro_sim.assessment import record_log, verify_run
from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.policy import baseline_policy
from scro_sim.scenario import load_scenario
from scro_sim.store import Store

REPO = Path(__file__).resolve().parents[1]
SEED = 2


@pytest.fixture(scope="module")
def played() -> tuple[Any, Any, Simulation]:
    sc, city = load_scenario(REPO / "scenarios" / "riverton_flood.yaml")
    sim = Simulation(sc, city, SEED, baseline_policy("greedy"))
    sim.run()
    assert sim.decisions, "the greedy baseline decides something"
    return sc, city, sim


@pytest.fixture
def stored(tmp_path: Path, played: tuple[Any, Any, Simulation]) -> tuple[Store, str]:
    sc, city, sim = played
    store = Store(f"sqlite:///{tmp_path / 'verify.sqlite'}")
    run_id, _ = record_log(store, sc, city, SEED, sim.log, decisions=list(sim.decisions), learner="learner",
                           cohort="c1", source="cli")
    yield store, run_id
    store.close()


def _update(store: Store, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        assert conn.execute(sa.text(sql), params).rowcount == 1


def test_an_untouched_stored_run_is_verified(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    rep = verify_run(store, run_id)
    assert rep.verified, rep.differences
    assert rep.replayed_digest == rep.stored_digest == store.get_run(run_id).log_digest


def _drop_first_decision(store: Store, run_id: str) -> None:
    decisions = store.get_run(run_id).decisions
    _update(store, "UPDATE runs SET decisions = :d WHERE id = :i", d=json.dumps(decisions[1:]), i=run_id)


def _shorter_log(store: Store, run_id: str) -> None:
    log = EventLog.from_jsonl(store.get_run(run_id).log_jsonl)
    text = EventLog(log.records[:-1]).to_jsonl()
    _update(store, "UPDATE runs SET log_z = :z, log_size = :n WHERE id = :i", z=zlib.compress(text.encode()),
            n=len(text.encode()), i=run_id)


def _edited_scenario_text(store: Store, run_id: str) -> None:
    _update(store, "UPDATE texts SET body = body || :extra WHERE sha256 = (SELECT scenario_text FROM runs WHERE id = :i)",
            extra="\n# edited after the run\n", i=run_id)


CHANGES: dict[str, Callable[[Store, str], None]] = {
    "decisions": _drop_first_decision,
    "seed": lambda s, i: _update(s, "UPDATE runs SET seed = :v WHERE id = :i", v=str(SEED + 1), i=i),
    "total": lambda s, i: _update(s, "UPDATE runs SET total = total + 1.5 WHERE id = :i", i=i),
    "log_digest": lambda s, i: _update(s, "UPDATE runs SET log_digest = :v WHERE id = :i", v="0" * 64, i=i),
    "log": _shorter_log,
    "engine_version": lambda s, i: _update(s, "UPDATE runs SET engine_version = '0.0.1' WHERE id = :i", i=i),
    "scenario_text": _edited_scenario_text,
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_a_stored_run_with_a_changed_field_is_not_verified(stored: tuple[Store, str], field: str) -> None:
    store, run_id = stored
    CHANGES[field](store, run_id)
    rep = verify_run(store, run_id)
    assert not rep.verified
