"""Metrics and rubric grading, as plain functions of the event log.

Scoring never looks inside the engine: everything here is computed from
:class:`~scro_sim.log.EventLog` records, so a stored log can be re-graded under a revised
rubric without re-playing, and an assessor can follow every line of a score card back to
the events that produced it (``events`` holds their sequence numbers).

``metrics`` is the one catalogue of metrics (names, units, directions, texts, functions of
one shared pass over the log in ``logpass``); ``grading`` rates a rubric's criteria, and
``feedback`` picks each rating's text by what the log shows the learner did.
"""

from __future__ import annotations

from .feedback import LogFacts, feedback_text, holds
from .grading import (
    CriterionResult,
    ModuleEvidence,
    ScoreCard,
    awaiting,
    evidence,
    grade,
    rate,
    records_by_seq,
    total_range,
)
from .logpass import SERVICES, LogPass, service_curves
from .metrics import (
    CATALOGUE,
    HEADLINE,
    HIGHER_IS_BETTER,
    SUMMARY,
    Metric,
    Metrics,
    compute_metrics,
    describe,
    lookup,
    lower_is_better,
    markdown,
    metric_problem,
    metric_value,
    relative,
    rows,
)

__all__ = [
    "CATALOGUE",
    "HEADLINE",
    "HIGHER_IS_BETTER",
    "SERVICES",
    "SUMMARY",
    "CriterionResult",
    "LogFacts",
    "LogPass",
    "Metric",
    "Metrics",
    "ModuleEvidence",
    "ScoreCard",
    "awaiting",
    "compute_metrics",
    "describe",
    "evidence",
    "feedback_text",
    "grade",
    "holds",
    "lookup",
    "lower_is_better",
    "markdown",
    "metric_problem",
    "metric_value",
    "rate",
    "records_by_seq",
    "relative",
    "rows",
    "service_curves",
    "total_range",
]
