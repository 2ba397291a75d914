"""A writer process for the store's concurrency and kill -9 tests.

Usage: ``python writer.py URL TAG COUNT LOG_KB [--barrier]``.  Opens the store (running the
migration if the database is new), optionally prints ``ready`` and waits for a line on stdin,
then saves COUNT runs (0: until killed), each with a LOG_KB-kilobyte log of random text, and
prints ``<run id> <log sha256>`` after each commit, flushed, so the parent knows what was
acknowledged.  Any error is printed as ``error ...`` and ends the process with status 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scro_sim.store import NewRun, Store

SCENARIO = "id: flood-demo\ntitle: Demo flood\nduration_h: 72\n"


def make_run(tag: str, i: int, log_kb: int) -> tuple[NewRun, str]:
    """A run whose log is ``log_kb`` KB of random (poorly compressible) JSON lines."""
    lines = []
    remaining = log_kb * 1024
    seq = 0
    while remaining > 0:
        blob = os.urandom(min(2048, max(1, remaining // 2))).hex()
        line = json.dumps({"time": float(seq), "seq": seq, "kind": "hazard", "data": {"blob": blob}})
        lines.append(line)
        remaining -= len(line) + 1
        seq += 1
    log = "\n".join(lines) + "\n"
    digest = hashlib.sha256(log.encode("utf-8")).hexdigest()
    now = datetime.now(UTC)
    rec = NewRun(
        learner=f"w-{tag}",
        scenario_id="flood-demo",
        scenario_version="1",
        scenario_hash=hashlib.sha256(SCENARIO.encode()).hexdigest(),
        scenario_yaml=SCENARIO,
        city_hash="c" * 64,
        engine_version="0.test",
        seed=i,
        decisions=[{"t": 0, "actions": [{"kind": "evacuate", "district": "d1"}]}],
        log_jsonl=log,
        log_digest=digest,
        scorecard={"tag": tag, "i": i, "criteria": [{"id": "c1", "score": 1.0}]},
        total=50.0,
        passed=True,
        started_at=now,
        finished_at=now,
        source="cli",
    )
    return rec, digest


def main() -> int:
    url, tag, count, log_kb = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    barrier = "--barrier" in sys.argv[5:]
    try:
        with Store(url) as store:
            if barrier:
                print("ready", flush=True)
                sys.stdin.readline()
            i = 0
            while count == 0 or i < count:
                rec, digest = make_run(tag, i, log_kb)
                run_id = store.save_run(rec)
                print(f"{run_id} {digest}", flush=True)
                i += 1
    except Exception as exc:  # report every failure to the parent test
        print(f"error {type(exc).__name__}: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
