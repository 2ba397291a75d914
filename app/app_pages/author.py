"""Author page (lecturer): upload or edit a scenario, validate it live, preview, dry-run, publish."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import streamlit as st

from app import services, state
from scro_sim.assessment import reference_metrics
from scro_sim.errors import ScroSimError
from scro_sim.scenario import text_in

log = logging.getLogger(__name__)
PAGE = "author"
LABEL = "scenario.yaml"
DRY_METRICS = ("resilience_loss.total", "critical_downtime", "people_at_risk", "cost", "expected_done_share")


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


def validate(text: str) -> services.Loaded:
    """Parse and cross-check the text (cached by its hash): the scenario or ``file:line`` problems."""
    _ = state.gettext()
    if len(text.encode("utf-8")) > services.MAX_UPLOAD_BYTES:
        return services.Loaded(None, None, (f"{LABEL}: " + _("The text is larger than 1 MB."),))
    if not text.strip():
        return services.Loaded(None, None, (f"{LABEL}: " + _("The text is empty."),))
    return services.load_text(text, LABEL)


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


def publish(text: str, ld: services.Loaded, cohort: str, who: str) -> None:
    _ = state.gettext()
    assert ld.scenario is not None
    try:
        pub = services.store().publish_scenario(cohort, ld.scenario.id, text, who)
        state.flash("success", _("Published to {cohort} (version {v}).").format(cohort=cohort, v=pub.version))
    except ScroSimError as exc:
        state.flash("error", str(exc))


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
        st.dataframe(pd.DataFrame({_("Asset type"): types.index, _("Count"): types.values}), hide_index=True)
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


def main() -> None:
    u = state.require("lecturer")
    _ = state.gettext()
    st.title(_("Author a scenario"))
    state.show_flashes()
    editor = state.wkey(PAGE, "text")
    up = st.file_uploader(_("Upload a scenario (YAML, at most 1 MB)"), type=["yaml", "yml"], key=state.wkey(PAGE, "upload"))
    if up is not None and state.get(PAGE, "upload_id") != up.file_id:
        state.put(PAGE, "upload_id", up.file_id)
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
    ld = validate(text)
    if ld.scenario is None:
        st.error(_("The scenario has problems:"))
        st.code("\n".join(ld.problems), language=None)
        return
    st.success(_("The scenario is valid."))
    _preview(ld)
    st.markdown("#### " + _("Dry run"))
    if st.button(_("Run the baseline and the expert plan"), key=state.wkey(PAGE, "dry")):
        with st.spinner(_("Running...")):
            dry_run(ld)
    rows = state.get(PAGE, "dry")
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.markdown("#### " + _("Publish"))
    cohorts = [c.name for c in services.store().list_cohorts()]
    if not cohorts:
        st.caption(_("No cohort yet."))
        return
    cohort = st.selectbox(_("Cohort"), cohorts, key=state.wkey(PAGE, "cohort"))
    if st.button(_("Publish to the cohort"), type="primary", key=state.wkey(PAGE, "publish")):
        publish(text, ld, cohort, u.username)
        st.rerun()


if __name__ == "__main__":
    main()
