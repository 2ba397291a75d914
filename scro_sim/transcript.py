"""A learner's transcript: which module outcomes their graded runs evidenced, at what rating, and the modules done.

Reads plain :class:`scro_sim.lms.GradeRow` records (graded attempts only: the caller reads them with
:func:`scro_sim.assessment.grade_rows`, so practice and reference runs never count).  An outcome
is *evidenced* by a run when every criterion of the run serving it is rated (its rating is the
weakest of them, :func:`scro_sim.lms.outcome_evidence`).  A module is *completed* when every
outcome the learner's runs touch in it has been evidenced at P, S or M by some run.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from .lms import EVIDENCING_RATINGS, GradeRow

__all__ = ["TRANSCRIPT_FORMATS", "TranscriptLine", "completed_modules", "transcript", "transcript_csv",
           "transcript_json"]

TRANSCRIPT_FORMATS: tuple[str, ...] = ("csv", "json")
_RANK = {"P": 0, "S": 1, "M": 2, "U": 3}


@dataclass(frozen=True)
class TranscriptLine:
    """One outcome of one module as one graded run evidenced it."""

    module: str
    outcome: str
    rating: str | None  # None: a criterion serving it awaits an assessor
    run_id: str
    scenario_id: str
    finished_at: str  # ISO 8601 UTC
    score: float
    criteria: str  # the rubric criteria serving the outcome, space separated


def transcript(rows: Iterable[GradeRow], learner: str) -> list[TranscriptLine]:
    """Every (module, outcome, run) of ``learner``'s graded runs, sorted by module, outcome, finish, run."""
    out = []
    for row in rows:
        if row.username != learner:
            continue
        for o in row.outcomes:
            out.append(TranscriptLine(o.module, o.outcome, o.rating, row.run_id, row.scenario_id,
                                      row.finished_at.astimezone(UTC).isoformat(timespec="seconds"),
                                      round(float(row.score), 2), " ".join(o.criteria)))
    return sorted(out, key=lambda ln: (ln.module, ln.outcome, ln.finished_at, ln.run_id))


def completed_modules(lines: Iterable[TranscriptLine]) -> dict[str, dict[str, TranscriptLine]]:
    """The modules completed, each with its outcomes' best evidence (the best rating, then the earliest run)."""
    by_module: dict[str, dict[str, list[TranscriptLine]]] = defaultdict(lambda: defaultdict(list))
    for ln in lines:
        by_module[ln.module][ln.outcome].append(ln)
    done: dict[str, dict[str, TranscriptLine]] = {}
    for module, outcomes in sorted(by_module.items()):
        best: dict[str, TranscriptLine] = {}
        for outcome, evidence in sorted(outcomes.items()):
            passing = [ln for ln in evidence if ln.rating in EVIDENCING_RATINGS]
            if not passing:
                break
            best[outcome] = min(passing, key=lambda ln: (_RANK[ln.rating or "U"], ln.finished_at, ln.run_id))
        else:
            done[module] = best
    return done


#: what the course map says of a module, for the transcript (``scro_sim.course``: title, EQF level, ECVET points)
ModuleFacts = Mapping[str, Mapping[str, Any]]
_FACTS = ("module_title", "eqf_level", "ecvet_points")


def transcript_csv(lines: list[TranscriptLine], modules: ModuleFacts | None = None) -> str:
    """The transcript as CSV (one row per module, outcome and run; RFC 4180 line ends).

    With ``modules`` (module id -> ``module_title``, ``eqf_level``, ``ecvet_points``) each row
    also carries its module's title, EQF level and ECVET points.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    fields = list(TranscriptLine.__dataclass_fields__)
    writer.writerow(fields + (list(_FACTS) if modules is not None else []))
    for ln in lines:
        row = ["" if getattr(ln, f) is None else getattr(ln, f) for f in fields]
        if modules is not None:
            facts = modules.get(ln.module, {})
            row += ["" if facts.get(f) is None else facts[f] for f in _FACTS]
        writer.writerow(row)
    return buffer.getvalue()


def transcript_json(learner: str, lines: list[TranscriptLine], *, now: datetime | None = None,
                    modules: ModuleFacts | None = None) -> str:
    """The transcript as JSON: the learner, each line, and the modules completed with their evidence.

    With ``modules`` (see :func:`transcript_csv`) each completed module also states its title,
    EQF level and ECVET points, and ``ecvet_points_completed`` sums the points of the completed
    modules: the credit a certificate under the European frameworks can name.
    """
    done = completed_modules(lines)
    body: dict[str, Any] = {
        "learner": learner,
        "generated_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "evidence": [asdict(ln) for ln in lines],
        "completed_modules": {m: {o: asdict(ln) for o, ln in best.items()} for m, best in done.items()},
    }
    if modules is not None:
        body["module_facts"] = {m: dict(modules[m]) for m in sorted({ln.module for ln in lines}) if m in modules}
        body["ecvet_points_completed"] = round(sum(float(modules.get(m, {}).get("ecvet_points") or 0) for m in done), 2)
    return json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
