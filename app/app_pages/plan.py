"""Plan page: write a response plan in YAML, check it live, and test it over many random futures.

An evaluation runs on the server's plan-evaluation threads (:func:`app.services.plan_jobs`), not
on the page's: the page shows its progress and polls until it is done.  A request over
:data:`app.services.PLAN_WORK_LIMIT` (estimated with :func:`scro_sim.batch.replication_cost`), or
from a learner who already has an evaluation under way, is refused with the limit it broke.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pandas as pd
import streamlit as st

from app import services, state
from scro_sim import formatting as fmt
from scro_sim.errors import ScroSimError
from scro_sim.scenario import Plan, load_plan
from scro_sim.scoring import HEADLINE
from scro_sim.scoring import describe as metric_entry

log = logging.getLogger(__name__)
PAGE = "plan"
METRICS = ("score", *HEADLINE)
TEMPLATE = """format: scro-plan/1
scenario: {id}
title: {title}
rationale: ""
prepositioning: []
priorities: []
rules: []
"""


#: the parts of a plan, for the "How a plan is written" box (checked against the scenario before it is shown)
EXAMPLE = """prepositioning:
  - {action: warn_public, target: all}
priorities: []
rules:
  - when: {any_down: substation}
    once: false
    do:
      - {action: dispatch_crew, target: $asset}
"""


# -- handlers


def check(text: str, ld: services.Loaded) -> tuple[Plan | None, list[str]]:
    """The plan, or its problems as ``plan.yaml:line: field: message`` lines in the reader's language."""
    _ = state.gettext()
    if len(text.encode("utf-8")) > services.MAX_UPLOAD_BYTES:
        return None, [f"plan.yaml: {_('The text is larger than 1 MB.')}"]
    try:
        return load_plan("plan.yaml", ld.scenario, ld.city, text=text), []
    except ScroSimError as exc:
        return None, [p.say(_) for p in exc.problems] or [str(exc)]


def evaluate(ld: services.Loaded, plan: Plan, n: int, progress: Any) -> dict[str, Any]:
    """Run the plan, the baseline and the expert on ``n`` paired seeds; the tables for the page.

    Runs on a plan-evaluation thread: it touches no Streamlit state.
    """
    from scro_sim import batch

    res = batch.evaluate(ld.scenario, ld.city, plan, n, seed=0, executor="inline",  # type: ignore[arg-type]
                         progress=progress, metrics=list(METRICS))
    return {"frame": res.frame, "summary": res.summary, "n": n, "elapsed": res.elapsed_s, "failed": len(res.failed),
            "errors": res.failed["error"].astype(str).head(3).tolist()}


def request(u: state.SignedIn, ld: services.Loaded, plan: Plan, n: int) -> str | None:
    """Start evaluating ``plan`` on ``n`` replications for ``u``; or say which limit refuses it."""
    from scro_sim import batch

    _ = state.gettext()
    cost = max(1, batch.replication_cost(ld.scenario, ld.city, plan))  # type: ignore[arg-type]
    most = services.PLAN_WORK_LIMIT // cost
    if n > most:
        lang = state.lang()
        return _("Too much work for one run: {n} replications of this plan are estimated at about {need} s of "
                 "computing; the limit is {limit} s, that is at most {most} replications of this plan. Use fewer "
                 "replications or a shorter plan.").format(n=n, need=fmt.number(n * cost / 1e6, lang, digits=0),
                                                          limit=fmt.number(services.PLAN_WORK_LIMIT / 1e6, lang,
                                                                           digits=0), most=most)
    job = services.plan_jobs().submit(u.username, n, lambda progress: evaluate(ld, plan, n, progress))
    if job is None:
        return _("You already have a plan evaluation under way: wait until it ends (at most {k} at a time).").format(
            k=services.PLAN_JOBS_PER_LEARNER)
    state.put(PAGE, "job", job)
    state.put(PAGE, "error", None)
    return None


def collect(job: services.PlanJob) -> None:
    """Keep a finished evaluation's tables, or why it failed, and let the job go."""
    state.put(PAGE, "job", None)
    assert job.future is not None
    try:
        state.put(PAGE, "result", job.future.result())
    except ScroSimError as exc:  # said in the reader's language, as the plan's problems are
        _ = state.gettext()
        state.put(PAGE, "error", "\n".join(p.say(_) for p in exc.problems) or str(exc))
    except ValueError as exc:
        state.put(PAGE, "error", str(exc))
    except Exception:  # a bug: logged; the learner gets a sentence, not a traceback
        log.exception("plan evaluation failed")
        _ = state.gettext()
        state.put(PAGE, "error", _("The evaluation failed."))


# -- render


@st.fragment(run_every=1.0)
def _progress() -> None:
    """The running evaluation's progress, redrawn every second; the whole page reruns when it ends."""
    job: services.PlanJob | None = state.get(PAGE, "job")
    if job is None:
        return
    if job.finished:
        st.rerun(scope="app")
    _ = state.gettext()
    if job.started:
        st.progress(job.done / max(job.n, 1), text=_("Running: {done} of {n} replications").format(done=job.done, n=job.n))
    else:
        st.progress(0.0, text=_("Waiting for a free worker..."))


def _results(res: dict[str, Any]) -> None:
    _ = state.gettext()
    lang = state.lang()
    frame: pd.DataFrame = res["frame"]
    st.caption(_("{n} replications in {s} s").format(n=res["n"], s=fmt.number(res["elapsed"], lang, digits=1)))
    if res.get("failed"):
        st.error(_("{k} replications failed: {error}").format(k=res["failed"], error=(res.get("errors") or [""])[0]))
    if frame.empty:
        return
    metric = st.selectbox(_("Outcome"), [m for m in METRICS if m in frame.columns], format_func=_metric_label,
                          key=state.lang_wkey(PAGE, "metric"))
    series = {p: frame.loc[frame["policy"] == p, metric].tolist() for p in ("plan", "baseline", "expert")
              if (frame["policy"] == p).any()}
    who = {"plan": _("your plan"), "baseline": _("the baseline plan"), "expert": _("the expert plan")}
    services.draw("outcome_histogram", series, _metric_label(metric), lower_is_better=metric != "score", words=_,
                  names=who,
                  fallback=lambda: st.bar_chart(frame.pivot_table(index="index", columns="policy", values=metric)))
    summ: pd.DataFrame = res["summary"]
    cols = [c for c in ("policy", "mean", "p10", "p50", "p90", "cvar10", "p_pass", "p_better") if c in summ.columns]
    st.markdown("**" + _("Summary (CVaR 10 % = mean of the worst tenth)") + "**")
    # a static table: its headers wrap, so every column is readable at once in every language (a dataframe cut
    # the last one off in German and Greek)
    st.table(_summary_table(summ.loc[summ["metric"] == metric, cols]).set_index(_("Policy")))
    st.markdown("**" + _("Worst replications of your plan") + "**")
    mine = frame[frame["policy"] == "plan"]
    worst = mine.nsmallest(5, "score") if metric == "score" else mine.nlargest(5, metric)
    show = [c for c in dict.fromkeys(("index", "seed", "score", metric)) if c in worst.columns]
    table = worst[show].astype({"seed": str}) if "seed" in show else worst[show]  # a 64-bit seed, not a rounded float
    for c in dict.fromkeys(("score", metric)):  # numbers written the reader's way ("12,5" in German)
        if c in table.columns:
            table = table.assign(**{c: [_number(v, lang) for v in table[c]]})
    st.dataframe(table.rename(columns={"index": _("Replication"), "seed": _("Seed"), "score": _("Score"),
                                       metric: _metric_label(metric)}), hide_index=True)


def _metric_label(m: str) -> str:
    """A metric as the reader knows it: the score, or its id with the catalogue's one-line meaning."""
    _ = state.gettext()
    if m == "score":
        return _("Score")
    e = metric_entry(m)
    return f"{m}: {_(e.text)}" if e is not None else m


def _number(v: Any, lang: str) -> str:
    """A table's number written the reader's way, at most two decimals ("—" for none)."""
    return "—" if v is None or pd.isna(v) else fmt.number(float(v), lang, digits=2)


def _summary_table(summ: pd.DataFrame) -> pd.DataFrame:
    """The summary rows with their columns and policies in the reader's language, numbers written the
    reader's way, and "—" where there is no value."""
    _ = state.gettext()
    lang = state.lang()
    who = {"plan": _("your plan"), "baseline": _("the baseline plan"), "expert": _("the expert plan"),
           "plan-baseline": _("your plan minus the baseline plan"),
           "plan-expert": _("your plan minus the expert plan")}
    names = {"policy": _("Policy"), "mean": _("Mean"), "p10": _("10th percentile"), "p50": _("Median"),
             "p90": _("90th percentile"), "cvar10": "CVaR\u00a010\u00a0%", "p_pass": _("Chance to pass"),
             "p_better": _("Chance to do better")}
    out = summ.copy()
    out["policy"] = [who.get(p, p) for p in out["policy"]]
    for c in ("p_pass", "p_better"):
        if c in out.columns:
            out[c] = [None if pd.isna(v) else fmt.percent(float(v), lang) for v in out[c]]
    for c in ("mean", "p10", "p50", "p90", "cvar10"):
        if c in out.columns:
            out[c] = [None if pd.isna(v) else _number(v, lang) for v in out[c]]
    return out.astype(object).where(out.notna(), "—").rename(columns=names)


def _how_to(ld: services.Loaded) -> None:
    """What a plan is made of, in the reader's language, with an example that is valid for this scenario (if one is)."""
    _ = state.gettext()
    with st.expander(_("How a plan is written")):
        st.markdown(_("A plan is what you would decide, written down before the exercise starts. "
                      "**prepositioning** lists the actions taken at the start; **priorities** the order in which "
                      "crews repair assets (asset ids); **rules** say what to **do** **when** something happens "
                      "(a condition: the river gauge above a level, an asset or a kind of asset down, a district "
                      "without a service). The page runs your plan, the baseline plan and the expert plan on "
                      "the same random futures and shows how their outcomes spread."))
        head = TEMPLATE.format(id=ld.scenario.id, title=json.dumps(_("My response plan"), ensure_ascii=False))  # type: ignore[union-attr]
        example = head.split("prepositioning:")[0] + EXAMPLE
        if not check(example, ld)[1]:
            st.caption(_("For example: warn everyone at the start, and send a crew to every substation that goes "
                         "down."))
            st.code(EXAMPLE, language="yaml")


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
                       key=state.lang_wkey(PAGE, "scenario"))
    ld = services.load_entry(by_key[key])
    if ld.scenario is None:
        st.error(_("This scenario is not available."))
        return
    editor = state.wkey(PAGE, "text", key)
    if state.widget_value(editor) is None:
        state.set_widget(editor, TEMPLATE.format(id=ld.scenario.id, title=json.dumps(_("My response plan"),
                                                                                    ensure_ascii=False)))
    _how_to(ld)
    text = st.text_area(_("Your plan (YAML)"), height=320, key=editor)
    plan, problems = check(text, ld)
    if problems:
        st.error(_("The plan has problems:"))
        st.code("\n".join(problems), language=None)
    else:
        st.success(_("The plan is valid."))
    n = int(st.number_input(_("Replications (random futures)"), min_value=1, max_value=200, value=20, step=5,
                            key=state.wkey(PAGE, "n")))
    job: services.PlanJob | None = state.get(PAGE, "job")
    if job is not None and job.finished:
        collect(job)
        job = None
    if st.button(_("Run the plan"), type="primary", disabled=plan is None or job is not None,
                 key=state.wkey(PAGE, "run")) and plan:
        refused = request(u, ld, plan, n)
        if refused:
            st.error(refused)
        else:
            st.rerun()  # drawn again with the job under way: the button off, the progress on
    if job is not None:  # only then is the page polled
        _progress()
    if state.get(PAGE, "error"):
        st.error(state.get(PAGE, "error"))
    res = state.get(PAGE, "result")
    if res is not None:
        _results(res)


if __name__ == "__main__":
    main()
