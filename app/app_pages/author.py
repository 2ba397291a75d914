"""Author page (lecturer): upload or edit a scenario, validate it live, preview, dry-run, publish."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from app import services, state
from scro_sim import publishing
from scro_sim.assessment import reference_metrics
from scro_sim.calibration import RATINGS, Calibration, Flag, calibrate, check
from scro_sim.errors import ScroSimError
from scro_sim.lint import has_errors, lint_scenario
from scro_sim.scenario import text_in
from scro_sim.scoring import HEADLINE, HIGHER_IS_BETTER
from scro_sim.vocabulary import asset_type
from scro_sim.yamlio import load_yaml, readable_field

log = logging.getLogger(__name__)
PAGE = "author"
LABEL = "scenario.yaml"
DRY_METRICS = (*HEADLINE, *sorted(HIGHER_IS_BETTER))
CALIBRATE_N = 40  # seeds per policy on the page (the command runs 200)


# -- handlers


def read_upload(name: str, data: bytes) -> tuple[str | None, list[str]]:
    """An uploaded file's text, or why it was refused (too big, not UTF-8 text)."""
    _ = state.gettext()
    if len(data) > services.MAX_UPLOAD_BYTES:
        return None, [f"{name}: " + _("The file is larger than 1 MB.")]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [f"{name}: " + _("The file is not UTF-8 text (byte {pos}).").format(pos=exc.start)]


def _lint(ld: services.Loaded, text: str) -> None:
    """The exercise checks beyond the schema (scro_sim/lint.py), one ``file:line: rule: message`` each:
    the errors first (a long list of missing translations must not hide them), list items named by id."""
    _ = state.gettext()
    findings = lint_scenario(ld.scenario, ld.city)
    if findings:
        errors = has_errors(findings)
        data = load_yaml(None, path=LABEL, text=text).data  # it loaded once already: it loads again
        findings = sorted(findings, key=lambda f: f.severity != "error")  # stable: by line within each
        with st.expander(_("Exercise checks (scro-sim lint)") + f": {len(findings)}", expanded=errors):
            st.code("\n".join(f.say(_, lambda field: readable_field(field, data)) for f in findings),
                    language=None, wrap_lines=True)


def validate(text: str, label: str = LABEL) -> services.Loaded:
    """Parse and cross-check the text (cached by its hash): the scenario or ``file:line`` problems.

    ``label`` names the text in messages: the uploaded file's own name when there is one.
    """
    _ = state.gettext()
    if len(text.encode("utf-8")) > services.MAX_UPLOAD_BYTES:
        return services.Loaded(None, None, (f"{label}: " + _("The text is larger than 1 MB."),))
    if not text.strip():
        return services.Loaded(None, None, (f"{label}: " + _("The text is empty."),))
    return services.load_text(text, label)


def dry_run(ld: services.Loaded, seed: int = 1) -> list[dict[str, Any]]:
    """Run the baseline and the expert plan once and keep their key metrics."""
    sc, city = ld.scenario, ld.city
    assert sc is not None and city is not None
    rows = []
    for name, metrics in reference_metrics(sc, city, seed).items():
        flat = metrics.flat()
        rows.append({"plan": name, **{m: flat.get(m) for m in DRY_METRICS}})
    state.put(PAGE, "dry", rows)
    return rows


def check_rubric(ld: services.Loaded, n: int = CALIBRATE_N) -> tuple[Calibration, list[Flag]]:
    """Calibrate the rubric on ``n`` paired seeds (at most :data:`CALIBRATE_N`) and keep the figures and flags."""
    assert ld.scenario is not None and ld.city is not None
    cal = calibrate(ld.scenario, ld.city, n=max(1, min(int(n), CALIBRATE_N)), workers=min(2, os.cpu_count() or 1))
    out = (cal, check(cal))
    state.put(PAGE, "calibration", out)
    return out


def publish(text: str, ld: services.Loaded, cohort: str, who: str) -> tuple[str, str]:
    """Publish under the scenario's own version (scro_sim/publishing.py): a changed text needs a new one.

    Returns what to tell the lecturer, ``(kind, text)``, and keeps it to show under the Publish button.
    """
    _ = state.gettext()
    assert ld.scenario is not None
    try:
        pub = publishing.publish(services.store(), cohort, ld.scenario, text, who)
        note = ("success", _("Published to {cohort} (version {v}).").format(cohort=cohort, v=pub.version)) \
            if pub.changed else \
            ("info", _("{cohort} already has this text (version {v}); nothing changed.").format(cohort=cohort,
                                                                                                v=pub.version))
    except ScroSimError as exc:
        note = ("error", "\n".join(p.say(_) for p in exc.problems) or str(exc))
    state.put(PAGE, "published", note)
    return note


# -- render


def _preview(ld: services.Loaded) -> None:
    _ = state.gettext()
    sc, city = ld.scenario, ld.city
    assert sc is not None and city is not None
    lang = state.lang()
    st.subheader(text_in(sc.title, lang))
    types = pd.Series([str(t) for t in city.asset_type]).value_counts()
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**" + _("City") + f": {city.id}**")
        st.caption(_("{a} assets, {d} districts, {p} people").format(a=city.n_assets, d=city.n_districts,
                                                                     p=f"{int(city.district_pop.sum()):,}"))
        st.dataframe(pd.DataFrame({_("Asset type"): [asset_type(t, _) for t in types.index], _("Count"): types.values}),
                     hide_index=True)
    with c2:
        services.draw("city_map", city, fallback=lambda: st.caption(_("The map is not available.")))
    st.markdown("**" + _("MSEL (master scenario events list)") + "**")
    rows = []
    for inj in sc.msel:
        when = (f"{inj.at_h:g} h" if inj.at_h is not None else
                f"{inj.when.key} {inj.when.value}" if inj.when is not None else _("contingency"))
        rows.append({_("Inject"): inj.id, _("When"): when, _("Sender"): text_in(inj.sender, lang),
                     _("Channel"): _(inj.channel), _("Text"): text_in(inj.text, lang),
                     _("Expected actions"): ", ".join(f"{e.action} ({e.deadline_h:g} h)" for e in inj.expected_actions)})
    st.dataframe(pd.DataFrame(rows), hide_index=True)


def _policy_names() -> dict[str, str]:
    _ = state.gettext()
    return {"do_nothing": _("doing nothing"), "random": _("random decisions"), "greedy": _("the greedy responder"),
           "expert": _("the expert plan")}


def _flag_text(f: Flag, title: str) -> str:
    """A flag in the reader's language (the library words it in English)."""
    _ = state.gettext()
    who = _policy_names()
    text = {
        "do_nothing_fails": _("Doing nothing fails in only {value} % of seeds (target: at least {limit} %)."),
        "do_nothing_criteria": _("Doing nothing is rated P or S in {value} % of seeds (target: at most {limit} %)."),
        "expert_passes": _("The expert plan passes in only {value} % of seeds (target: at least {limit} %)."),
        "expert_criteria": _("The expert plan is rated P or S in only {value} % of seeds (target: at least {limit} %)."),
        "expert_spread": _("The expert plan's total spreads by {value} points between its 10th and 90th percentile "
                           "(target: at most {limit})."),
        "in_between": _("{policy} scores {value} on average: not between doing nothing and the expert plan."),
        "random_below_greedy": _("Random decisions score below the greedy responder in only {value} % of seeds "
                                 "(target: at least {limit} %)."),
    }.get(f.target)
    if f.target == "expert_passes" and f.value != f.value:
        return _("The scenario has no expert plan, so the expert targets cannot be checked.")
    if text is None:
        return str(f)
    line = text.format(value=f"{f.value:g}", limit=f"{f.limit:g}", policy=who.get(f.policy or "", f.policy or ""))
    line = line[:1].upper() + line[1:]
    return f"{title}: {line}" if f.criterion else line


def _calibration(ld: services.Loaded) -> None:
    """The "does the rubric discriminate" section: a button, then the figures and the flags."""
    _ = state.gettext()
    assert ld.scenario is not None
    st.markdown("#### " + _("Check that the rubric discriminates"))
    st.caption(_("Runs doing nothing, random decisions, the greedy responder and the expert plan on the same {n} "
                 "seeds and grades every run with this rubric. The command scro-sim calibrate runs 200 seeds.")
               .format(n=CALIBRATE_N))
    if st.button(_("Check that the rubric discriminates"), key=state.wkey(PAGE, "calibrate")):
        with st.spinner(_("Running {n} seeds of four policies...").format(n=CALIBRATE_N)):
            check_rubric(ld)
    found = state.get(PAGE, "calibration")
    if not found or found[0].scenario != ld.scenario.id:
        return
    cal, flags = found
    lang = state.lang()
    titles = {c.id: text_in(c.title, lang) for c in ld.scenario.rubric.criteria}
    who = _policy_names()
    shares = cal.shares()
    table = pd.DataFrame({_("Criterion"): [titles.get(c, c) for c in shares["criterion"]],
                          _("Policy"): [who[p] for p in shares["policy"]],
                          **{(_("n/a") if r == "NA" else r): (100 * shares[r]).round() for r in RATINGS},
                          _("P or S %"): (100 * shares["pass"]).round()})
    st.markdown("**" + _("Ratings per criterion (% of seeds)") + "**")
    st.dataframe(table, hide_index=True)
    tot = cal.totals()
    st.markdown("**" + _("Totals") + "**")
    st.dataframe(pd.DataFrame({_("Policy"): [who[p] for p in tot["policy"]],
                               _("Passes %"): (100 * tot["pass_rate"]).round(),
                               _("Mean total"): tot["mean"].round(1), _("10th percentile"): tot["p10"].round(1),
                               _("90th percentile"): tot["p90"].round(1)}), hide_index=True)
    if cal.judged:
        st.caption(_("Judged criteria (not computed): {ids}").format(ids=", ".join(titles[c] for c in cal.judged)))
    if cal.relative:
        st.caption(_("Relative to the expert plan (it meets them by construction; random and greedy decisions are "
                     "the real test): {ids}").format(ids=", ".join(titles[c] for c in cal.relative)))
    if flags:
        st.warning(_("These targets are not met:") + "\n\n" + "\n".join(
            "- " + _flag_text(f, titles.get(f.criterion or "", f.criterion or "")) for f in flags))
    else:
        st.success(_("Every discrimination target is met."))


def main() -> None:
    u = state.require("lecturer")
    _ = state.gettext()
    st.title(_("Author a scenario"))
    state.show_flashes()
    editor = state.wkey(PAGE, "text")
    up = st.file_uploader(_("Upload a scenario (YAML, at most 1 MB)"), type=["yaml", "yml"], key=state.wkey(PAGE, "upload"))
    if up is not None and state.get(PAGE, "upload_id") != up.file_id:
        state.put(PAGE, "upload_id", up.file_id)
        state.put(PAGE, "upload_name", Path(up.name).name)
        text, problems = read_upload(up.name, up.getvalue())
        state.put(PAGE, "upload_problems", problems)
        if text is not None:
            state.set_widget(editor, text)
    for p in state.get(PAGE, "upload_problems", []):
        st.error(p)
    text = st.text_area(_("Scenario (YAML)"), height=420, key=editor)
    if not text.strip():
        st.info(_("Upload a scenario or write one here."))
        return
    ld = validate(text, state.get(PAGE, "upload_name", LABEL))
    if ld.scenario is None:
        st.error(_("The scenario has problems:"))
        st.code("\n".join(ld.said(_)), language=None, wrap_lines=True)
        return
    st.success(_("The scenario is valid."))
    _lint(ld, text)
    _preview(ld)
    st.markdown("#### " + _("Dry run"))
    if st.button(_("Run the baseline and the expert plan"), key=state.wkey(PAGE, "dry")):
        with st.spinner(_("Running...")):
            dry_run(ld)
    rows = state.get(PAGE, "dry")
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    _calibration(ld)
    st.markdown("#### " + _("Publish"))
    cohorts = [c.name for c in services.store().list_cohorts()]
    if not cohorts:
        st.caption(_("No cohort yet."))
        return
    cohort = st.selectbox(_("Cohort"), cohorts, key=state.wkey(PAGE, "cohort"))
    if st.button(_("Publish to the cohort"), type="primary", key=state.wkey(PAGE, "publish")):
        publish(text, ld, cohort, u.username)
        st.rerun()
    note = state.get(PAGE, "published")
    if note:  # under the button that asked, where the lecturer looks (once)
        state.drop(PAGE, "published")
        kind, said = note
        if kind == "error":
            st.error(_("Not published:"))
            st.code(said, language=None, wrap_lines=True)
        else:
            getattr(st, kind)(said)


if __name__ == "__main__":
    main()
