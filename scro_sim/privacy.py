"""Personal data of learners: export everything held about one (GDPR art. 15 and 20), erase it (art. 17).

The course runs in the EU and stores learners' names, e-mail addresses and free-text
rationales.  :func:`export_person` gathers it all as JSON; :func:`erase_person` removes it,
keeping the person's runs in cohort statistics under a random pseudonym.  The store finds
the rows (``scro_sim.store.privacy``); this module says what in a run is the learner's own
free text (rationales, answers, public-warning messages, and the assessors' comments about
them) and rewrites the event log without it, so a re-simulation of the scrubbed decisions
gives the scrubbed log and ``scro-sim verify`` still says "verified".
"""

from __future__ import annotations

import json
from typing import Any

from .log import EventLog, EventRecord
from .store import Store
from .store.privacy import Erasure, person_record
from .store.privacy import erase_person as _erase

__all__ = ["Erasure", "LogScrubber", "erase_person", "export_person", "export_person_json"]


def export_person(store: Store, username: str) -> dict[str, Any]:
    """Everything held about ``username`` (account, cohorts, runs with decisions and rationales,
    ratings, games, sign-in throttle record) as JSON-ready data."""
    return person_record(store, username)


def export_person_json(store: Store, username: str) -> str:
    """:func:`export_person` as UTF-8 JSON text (sorted keys, 2-space indent)."""
    return json.dumps(export_person(store, username), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


#: what an erased free text becomes: not empty, so a re-grade finds the same evidence (an answer
#: was given, a rationale written) and the score card still matches its log
ERASED = "[erased]"


def _erased(text: Any) -> Any:
    return ERASED if text else text


def _scrub_action(action: dict[str, Any]) -> dict[str, Any]:
    return {**action, "message": _erased(action["message"])} if "message" in action else action


def _scrub_decision(d: dict[str, Any]) -> dict[str, Any]:
    """The decision without its free text; the actions (what the score depends on) stay."""
    out = dict(d)
    if "rationale" in out:
        out["rationale"] = _erased(out["rationale"])
    if isinstance(out.get("answers"), dict):
        out["answers"] = {k: _erased(v) for k, v in out["answers"].items()}
    if isinstance(out.get("actions"), list):
        out["actions"] = [_scrub_action(a) if isinstance(a, dict) else a for a in out["actions"]]
    return out


class LogScrubber:
    """The free-text rules of scro_sim's decisions, event logs and score cards (see the module doc).

    Mirrors the engine: a ``decision`` record holds the decision as given, an ``action`` record a
    warning's ``message``; emptied the same way in both, the log stays what re-simulating the
    scrubbed decisions makes.
    """

    def decisions(self, decisions: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [_scrub_decision(d) if isinstance(d, dict) else d for d in decisions]

    def log(self, log_jsonl: str) -> tuple[str, str]:
        log = EventLog.from_jsonl(log_jsonl)
        records = []
        for r in log:
            data = r.data
            if r.kind == "decision":
                data = _scrub_decision(data)
            elif r.kind == "action" and "message" in data:
                data = {**data, "message": _erased(data["message"])}
            records.append(EventRecord(r.time, r.seq, r.kind, r.subject, data))
        clean = EventLog(records)
        return clean.to_jsonl(), clean.digest()

    def scorecard(self, scorecard: dict[str, Any]) -> dict[str, Any]:
        card = dict(scorecard)
        criteria = []
        for c in card.get("criteria") or []:
            if isinstance(c, dict):
                c = dict(c)
                c["evidence"] = [{**e, "text": _erased(e["text"])} if isinstance(e, dict) and "text" in e else e
                                 for e in c.get("evidence") or []]
                if c.get("comment"):
                    c["comment"] = ""
            criteria.append(c)
        if "criteria" in card:
            card["criteria"] = criteria
        return card


def erase_person(store: Store, username: str) -> Erasure:
    """Erase everything held about ``username``; their runs stay, pseudonymised, in cohort statistics.

    The one place an erasure is decided: a run signature or another record that covers a
    learner's name must be renewed here, in the same call.
    """
    return _erase(store, username, LogScrubber())
