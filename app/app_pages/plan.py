"""Plan page: write a response plan in YAML, check it live, and test it over many random futures."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import streamlit as st

from app import services, state
from scro_sim.errors import ScroSimError
from scro_sim.scenario import Plan, load_plan

log = logging.getLogger(__name__)
PAGE = "plan"
METRICS = ("score", "resilience_loss.total", "critical_downtime", "people_at_risk", "cost")
TEMPLATE = """format: scro-plan/1
scenario: {id}
title: My response plan
rationale: ""
prepositioning: []
priorities: []
rules: []
"""


# -- handlers


def check(text: str, ld: services.Loaded) -> tuple[Plan | None, list[str]]:
    """The plan, or its problems as ``plan.yaml:line: field: message`` lines."""
    if len(text.encode("utf-8")) > services.MAX_UPLOAD_BYTES:
        return None, [f"plan.yaml: {state.gettext()('The text is larger than 1 MB.')}"]
    try:
        return load_plan("plan.yaml", ld.scenario, ld.city, text=text), []
    except ScroSimError as exc:
        return None, [str(p) for p in exc.problems] or [str(exc)]


def evaluate(ld: services.Loaded, plan: Plan, n: int, progress: Any) -> dict[str, Any]:
    """Run the plan, the baseline and the expert on ``n`` paired seeds; keep tables for the page."""
    from scro_sim import batch

    res = batch.evaluate(ld.scenario, ld.city, plan, n, seed=0, executor="inline",  # type: ignore[arg-type]
                         progress=progress, metrics=list(METRICS))
    out = {"frame": res.frame, "summary": res.summary, "n": n, "elapsed": res.elapsed_s, "failed": len(res.failed)}
    state.put(PAGE, "result", out)
    return out


# -- render


def _results(res: dict[str, Any]) -> None:
    _ = state.gettext()
    frame: pd.DataFrame = res["frame"]
    st.caption(_("{n} replications in {s:.1f} s").format(n=res["n"], s=res["elapsed"]))
    metric = st.selectbox(_("Outcome"), [m for m in METRICS if m in frame.columns], key=state.wkey(PAGE, "metric"))
    series = {p: frame.loc[frame["policy"] == p, metric].tolist() for p in ("plan", "baseline", "expert")
              if (frame["policy"] == p).any()}
    services.draw("outcome_histogram", series, metric, lower_is_better=metric != "score",
                  fallback=lambda: st.bar_chart(frame.pivot_table(index="index", columns="policy", values=metric)))
    summ: pd.DataFrame = res["summary"]
    cols = [c for c in ("policy", "mean", "p10", "p50", "p90", "cvar10", "p_pass", "p_better") if c in summ.columns]
    st.markdown("**" + _("Summary (CVaR 10 % = mean of the worst tenth)") + "**")
    st.dataframe(summ.loc[summ["metric"] == metric, cols], hide_index=True)
    st.markdown("**" + _("Worst replications of your plan") + "**")
    mine = frame[frame["policy"] == "plan"]
    worst = mine.nsmallest(5, "score") if metric == "score" else mine.nlargest(5, metric)
    show = [c for c in dict.fromkeys(("index", "seed", "score", metric)) if c in worst.columns]
    st.dataframe(worst[show], hide_index=True)


def main() -> None:
    u = state.require("learner", "lecturer")
    _ = state.gettext()
    lang = state.lang()
    st.title(_("Response plan"))
    entries = services.available_scenarios(u.username, u.cohorts)
    if not entries:
        st.info(_("No scenario is available yet."))
        return
    by_key = {e.key: e for e in entries}
    key = st.selectbox(_("Scenario"), list(by_key), format_func=lambda k: by_key[k].title(lang),
                       key=state.wkey(PAGE, "scenario"))
    ld = services.load_entry(by_key[key])
    if ld.scenario is None:
        st.error(_("This scenario is not available."))
        return
    editor = state.wkey(PAGE, "text", key)
    if state.widget_value(editor) is None:
        state.set_widget(editor, TEMPLATE.format(id=ld.scenario.id))
    text = st.text_area(_("Your plan (YAML)"), height=320, key=editor)
    plan, problems = check(text, ld)
    if problems:
        st.error(_("The plan has problems:"))
        st.code("\n".join(problems), language=None)
    else:
        st.success(_("The plan is valid."))
    n = int(st.number_input(_("Replications (random futures)"), min_value=1, max_value=200, value=20, step=5,
                            key=state.wkey(PAGE, "n")))
    if st.button(_("Run the plan"), type="primary", disabled=plan is None, key=state.wkey(PAGE, "run")) and plan:
        bar = st.progress(0.0, text=_("Running..."))
        try:
            evaluate(ld, plan, n, lambda done, total: bar.progress(done / max(total, 1)))
        except (ScroSimError, ValueError) as exc:
            st.error(str(exc))
        bar.empty()
    res = state.get(PAGE, "result")
    if res is not None:
        _results(res)


if __name__ == "__main__":
    main()
