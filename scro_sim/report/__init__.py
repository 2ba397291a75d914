"""Figures and the after-action report (AAR/IP) of a run, read from its event log; plotting imported lazily.

Nothing here imports matplotlib or pandas at module level.  Figures are built with
:class:`matplotlib.figure.Figure` on an Agg canvas, *not* through ``pyplot``: they are
never registered in pyplot's global figure list, so a server that draws for many sessions
in one process (the Streamlit app) neither shares state between sessions nor leaks
figures it forgets.  Each figure function still returns a Figure that **the caller owns
and should close** when done: :func:`save` writes and closes it, :func:`close` frees one,
:func:`close_all` also clears anything a caller made through ``pyplot``.  Streamlit's
``st.pyplot(fig)`` accepts these figures as they are.

The report follows the HSEEP AAR/IP shape: overview, timeline, strengths and areas for
improvement per capability (here: per learning outcome, from the score card's ratings),
an improvement plan, and the charts as embedded PNG.  Every piece of scenario or learner
text goes through :func:`html.escape`: a rationale is evidence, never markup.
"""

from __future__ import annotations

from .aar import (
    after_action_report,
    write_report,
)
from .figures import (
    RATING_NAMES,
    STATE_COLOURS,
    TYPE_MARKERS,
    city_map,
    close,
    close_all,
    outcome_histogram,
    resilience_areas,
    save,
    service_chart,
    state_at,
    timeline,
    timeline_table,
    to_png,
)

__all__ = [
    "RATING_NAMES",
    "STATE_COLOURS",
    "TYPE_MARKERS",
    "after_action_report",
    "city_map",
    "close",
    "close_all",
    "outcome_histogram",
    "resilience_areas",
    "save",
    "service_chart",
    "state_at",
    "timeline",
    "timeline_table",
    "to_png",
    "write_report",
]
