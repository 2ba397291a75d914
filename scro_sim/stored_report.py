"""The after-action report of a stored run, as the bytes a download or a file holds.

It sits above ``report`` (which draws a report from a log and a card) and ``assessment``
(which re-words a stored card), so neither of them needs the other.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store, StoredRun

__all__ = ["REPORT_FORMATS", "run_report"]

REPORT_FORMATS = ("html", "pdf")


def run_report(run: StoredRun, *, lang: str, fmt: str = "html", store: Store | None = None) -> bytes:
    """The report of ``run`` in ``lang``, from its stored scenario text, log and score card.

    The score card is the stored one (with any assessor's ratings and overrides), so the
    report says what the run's record says; given ``store`` its words are re-worded in ``lang``
    (:func:`scro_sim.assessment.card_in_language`) and the assessors' comments, answer ratings and
    improvement plan are added.  The expert's lessons are re-simulated on the run's seed.
    """
    from .assessment import card_in_language, scenario_from_text
    from .feedback import run_feedback
    from .log import EventLog
    from .report.aar import after_action_report
    from .report.pdf import html_to_pdf
    from .scoring import ScoreCard

    if fmt not in REPORT_FORMATS:
        raise ValueError(f"report format must be one of {', '.join(REPORT_FORMATS)}, not {fmt!r}")
    scenario, city = scenario_from_text(run.scenario_yaml, f"<run {run.id} scenario>")
    card = ScoreCard.model_validate(run.scorecard) if store is None else card_in_language(store, run, scenario, city, lang)
    feedback = run_feedback(store, run.id) if store is not None else None
    page = after_action_report(EventLog.from_jsonl(run.log_jsonl), card, scenario, lang=lang, city=city,
                               played_on=str(run.finished_at)[:16] if run.finished_at else None, feedback=feedback)
    if fmt == "html":
        return page.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        return html_to_pdf(page, Path(tmp) / "report.pdf").read_bytes()
