"""Play page: choose a scenario, read the briefing, then decide point by point until the score.

The game's flow is :class:`scro_sim.game.GameSession` (the same as ``scro-sim play``): it
stays in the session between reruns; each decision is saved (compare-and-set on the game's
version) before it is applied, so a refresh, another window or another server resumes the
game by replaying it, and a window that fell behind is reloaded.  The score is always
computed on the server.  This page keeps the widgets and words: every outcome that is not
plain progress (moved on elsewhere, not saved, failed, stopped by the work budget) is told
to the learner in their language, never as a traceback.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app import services, state
from scro_sim.engine.actions import REGISTRY as ACTIONS
from scro_sim.engine.actions import Field
from scro_sim.errors import ScroSimError, WorkBudgetExceeded
from scro_sim.game import GameSession, Outcome
from scro_sim.policy import Decision, Observation
from scro_sim.report.map_spec import city_map_spec
from scro_sim.scenario import Action, text_in
from scro_sim.store import Game
from scro_sim.vocabulary import N_, action_name, asset_type, cause, describe

log = logging.getLogger(__name__)
PAGE = "play"


# -- handlers (call the library, write state)


def _entry_for(u: state.SignedIn, key: str | None = None, sha: str | None = None) -> services.ScenarioEntry | None:
    for e in services.available_scenarios(u.username, u.cohorts):
        if (key is not None and e.key == key) or (sha is not None and e.sha256 == sha):
            return e
    return None


def _loaded(g: state.GameSession | None, u: state.SignedIn, key: str | None = None,
            sha: str | None = None) -> tuple[services.ScenarioEntry, services.Loaded] | None:
    e = _entry_for(u, key=key or (g.scenario_key if g else None), sha=sha)
    if e is None:
        return None
    return e, services.load_entry(e)


def _cohort(u: state.SignedIn, key: str) -> str | None:
    return key.split(":")[1] if key.startswith("p:") else (u.cohorts[0] if u.cohorts else None)


def _say(out: Outcome) -> None:
    """Tell the learner, in their language, what a step that did not simply go on came to."""
    _ = state.gettext()
    if out.kind == "moved_on":
        state.flash("warning", _("This game moved on in another window; it was reloaded."))
    elif out.kind == "not_saved":
        state.flash("error", _("Your decision was not saved (the database did not answer). Nothing was lost: "
                               "try again in a moment."))
    elif out.kind == "failed":
        state.flash("error", _("Something went wrong with this decision. It was not applied and the game can "
                               "go on: try again or choose another decision."))
    elif out.kind == "halted":
        state.flash("error", _("The exercise had to stop and this game was closed: {error}").format(error=out.detail))


def _settle(g: state.GameSession, out: Outcome) -> None:
    """Carry a step's outcome into the session: the score once finished, the game closed once halted."""
    _say(out)
    play: GameSession = g.play
    if play.run_id is not None:
        g.run_id = play.run_id
        card = play.card
        if card is None:  # finished in another window: show the run stored there
            run = services.store().get_run(play.run_id)
            card = None if run is None else run
        if card is not None:
            g.total, g.passed, g.provisional = card.total, card.passed, card.provisional
    elif play.status == "abandoned":
        state.clear_game()


def start_game(u: state.SignedIn, key: str, practice: bool = False) -> None:
    """Start a new game of scenario ``key`` with a seed the server chooses (``practice``: never graded)."""
    _ = state.gettext()
    found = _loaded(None, u, key=key)
    if found is None or found[1].scenario is None:
        state.flash("error", _("This scenario is not available."))
        return
    e, ld = found
    assert ld.scenario is not None and ld.city is not None
    try:
        play = GameSession.start(ld.scenario, ld.city, secrets.randbelow(2**31), store=services.store(),
                                 game_id=uuid.uuid4().hex, learner=u.username, scenario_hash=e.sha256,
                                 lang=state.lang(), cohort=_cohort(u, e.key), practice=practice)
    except WorkBudgetExceeded as exc:  # nothing stored: the run ran away before the first point
        _say(Outcome("halted", detail=str(exc)))
        return
    except Exception:
        log.exception("starting a game of %s failed", key)
        state.flash("error", _("The exercise could not be started (the database did not answer). Try again in "
                               "a moment."))
        return
    g = state.GameSession(play.game_id, e.key, e.sha256, play.seed, play)  # type: ignore[arg-type]
    state.set_game(g)
    if play.done:
        _settle(g, play.finish())


def resume_game(u: state.SignedIn, game: Game) -> None:
    """Rebuild a stored game by replaying its decisions up to the point where the learner stopped."""
    _ = state.gettext()
    if game.learner != u.username:
        state.flash("error", _("This game is not yours."))
        return
    found = _loaded(None, u, sha=game.scenario_hash)
    if found is None or found[1].scenario is None:
        state.flash("error", _("The scenario of this game has changed or is no longer available."))
        return
    e, ld = found
    assert ld.scenario is not None and ld.city is not None
    store = services.store()
    try:
        play = GameSession.resume(ld.scenario, ld.city, game, store=store, lang=state.lang(),
                                  cohort=_cohort(u, e.key))
    except WorkBudgetExceeded as exc:  # it cannot go on: closed, and the learner told why
        log.warning("game %s stopped by its work budget on resume: %s", game.id, exc)
        try:
            store.save_game(game.id, u.username, game.scenario_id, game.scenario_hash, game.seed,
                            list(game.decisions), status="abandoned")
        except Exception:
            log.exception("closing game %s failed", game.id)
        _say(Outcome("halted", detail=str(exc)))
        return
    except Exception:
        log.exception("resuming game %s failed", game.id)
        state.flash("error", _("This game could not be resumed. Try again in a moment."))
        return
    g = state.GameSession(game.id, e.key, e.sha256, game.seed, play)
    state.set_game(g)
    if play.done and play.run_id is None:
        _settle(g, play.finish())
    else:
        _settle(g, Outcome("ok"))


def ensure_game(u: state.SignedIn) -> state.GameSession | None:
    """The session's game; if the session lost its simulation, replay the stored game."""
    g = state.game()
    if g is not None and g.play is None and g.run_id is None:
        game = services.store().load_game(g.game_id)
        state.clear_game()
        if game is not None:
            resume_game(u, game)
        g = state.game()
    return g


def add_action(g: state.GameSession, fields: dict[str, Any]) -> None:
    """Add one action to the decision being prepared (checked now, together with the others)."""
    _ = state.gettext()
    try:
        a = Action.model_validate({k: v for k, v in fields.items() if v not in (None, "", [], ())})
    except ValidationError as exc:
        g.problems = [f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in exc.errors()]
        return
    problems = g.play.check(Decision([*g.pending, a]))
    g.problems = problems
    if not problems:
        g.pending.append(a)
        state.flash("success", _("Action added to your decision."))


def remove_action(g: state.GameSession, index: int) -> None:
    if 0 <= index < len(g.pending):
        del g.pending[index]
    g.problems = []


def decide(g: state.GameSession, u: state.SignedIn, rationale: str, answers: dict[str, str], act: bool = True) -> None:
    """Take the decision through the game session: saved first, then applied; then advance (and score at the end)."""
    actions = list(g.pending) if act else []
    d = Decision(actions, rationale.strip(), {k: v.strip() for k, v in answers.items() if v.strip()})
    play: GameSession = g.play
    point, clock = play.obs.point, play.obs.clock
    out = play.decide(d)
    if out.kind == "refused":
        g.problems = list(out.problems)
        return
    if out.kind in ("ok", "finished", "halted"):
        g.history.append({"point": point, "clock": clock, "actions": len(actions)})
    if out.kind != "not_saved":  # not saved: the learner's choices stay in the form, to try again
        g.pending, g.problems = [], []
    _settle(g, out)


def finish(g: state.GameSession, u: state.SignedIn) -> None:
    """Score the game on the server (again, after an outage stopped the first try)."""
    _settle(g, g.play.finish())


def city_map(g: state.GameSession) -> dict[str, Any] | None:
    """The map of the current decision point as a Vega-Lite spec: the browser draws it, not the server."""
    obs = g.obs
    worst = {d: min(sv.values(), default=1.0) for d, sv in obs.services.items()}
    try:
        return city_map_spec(g.sim.city, asset_state=obs.asset_state, district_service=worst, crews=obs.crews,
                             words=state.gettext())
    except Exception:  # a map must never take the page down
        log.exception("the city map could not be made")
        return None


def abandon(g: state.GameSession, u: state.SignedIn) -> None:
    out = g.play.abandon()
    if out.kind in ("ok", "finished"):
        state.clear_game()
    else:
        _settle(g, out)


# -- render (reads state only; buttons call the handlers and rerun)


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _choose(u: state.SignedIn) -> None:
    _ = state.gettext()
    lang = state.lang()
    entries = services.available_scenarios(u.username, u.cohorts)
    s = services.store()
    playing = [gm for gm in s.list_games(u.username, status="playing")]
    if playing:
        st.subheader(_("Games in progress"))
        titles = {e.sha256: e.title(lang) for e in entries}
        for gm in playing[:10]:
            c1, c2 = st.columns([4, 1])
            c1.text(_("{title}: {n} decisions so far, last played {when}").format(
                title=titles.get(gm.scenario_hash, gm.scenario_id), n=len(gm.decisions),
                when=gm.updated_at.strftime("%Y-%m-%d %H:%M")) + (" " + _("(practice)") if gm.practice else ""))
            if c2.button(_("Resume"), key=state.wkey(PAGE, "resume", gm.id)):
                resume_game(u, gm)
                st.rerun()
    st.subheader(_("Choose a scenario"))
    if not entries:
        st.info(_("No scenario is available yet."))
        return
    keys = [e.key for e in entries]
    by_key = {e.key: e for e in entries}
    chooser = state.lang_wkey(PAGE, "scenario")
    launched = state.get(PAGE, "lti_exercise")  # the exercise a course platform's launch opened
    if launched:
        state.drop(PAGE, "lti_exercise")
        chosen = next((e.key for e in entries if e.meta.get("id") == launched), None)
        if chosen is not None:
            state.set_widget(chooser, chosen)
    key = st.selectbox(_("Scenario"), keys, format_func=lambda k: by_key[k].title(lang), key=chooser)
    e = by_key[key]
    m = e.meta
    st.caption(_("Level: {level}; about {minutes} minutes; {hours} hours of simulated time").format(
        level=_(m["level"]), minutes=m["minutes"], hours=f"{m['duration_h']:g}"))
    services.show_text(m["summary"].get(lang) or m["summary"]["en"])
    briefing = m["briefing"].get(lang) or m["briefing"]["en"]
    if briefing:
        st.markdown("**" + _("Briefing") + "**")
        services.show_text(briefing)
    # callbacks: the game starts before the rerun, so a start draws the page once, not the list and then the game
    c1, c2 = st.columns(2)
    c1.button(_("Start the exercise"), type="primary", key=state.wkey(PAGE, "start"), on_click=_start_clicked,
              args=(u, chooser, key))
    c2.button(_("Practise (not graded)"), key=state.wkey(PAGE, "practice"),
              help=_("A practice game: scored and debriefed, never graded."), on_click=_start_clicked,
              args=(u, chooser, key, True))


def _start_clicked(u: state.SignedIn, chooser: str, shown: str, practice: bool = False) -> None:
    """The Start buttons' callback: start the scenario chosen in the list (as the list shows it now)."""
    start_game(u, state.widget_value(chooser, shown), practice=practice)


def _status(g: state.GameSession) -> None:
    _ = state.gettext()
    obs: Observation = g.obs
    sc = g.sim.scenario
    st.subheader(text_in(sc.title, state.lang()))
    if g.play.practice:
        st.caption(_("A practice game: scored and debriefed, never graded."))
    # two rows of three: six columns cut the clock and the budget short on a laptop screen
    top, bottom = st.columns(3), st.columns(3)
    top[0].metric(_("Clock"), obs.clock.replace("T", " ")[:16])
    top[1].metric(_("Hour"), f"{obs.time_h:g} / {sc.duration_h:g}")
    top[2].metric(_("Budget left"), f"{_money(obs.budget_left)} {sc.resources.currency}")
    if any(h.type == "flood" for h in sc.hazards):  # the gauge means nothing without a river in flood
        bottom[0].metric(_("River gauge"), "-" if obs.gauge_m is None else f"{obs.gauge_m:.2f} m")
    bottom[1].metric(_("Assets down"), f"{obs.asset_counts.get('down', 0)}")
    bottom[2].metric(_("On backup"), f"{obs.asset_counts.get('backup', 0)}")


def _feed(g: state.GameSession) -> None:
    _ = state.gettext()
    obs = g.obs
    st.markdown("#### " + _("Messages"))
    if not obs.injects:
        st.caption(_("No new messages."))
    words = g.sim.scenario.inject_words(state.lang())  # the reader's language, looked up by the inject's id
    for inj in obs.injects:
        w = words(inj["id"])
        with st.container(border=True):
            st.caption(_("{sender} by {channel} at hour {h}").format(
                sender=w.get("sender", inj["id"]), channel=_(str(inj.get("channel", ""))), h=f"{inj.get('time_h', 0):g}"))
            st.text(w.get("text", ""))


def _tables(g: state.GameSession) -> None:
    _ = state.gettext()
    obs = g.obs
    left, right = st.columns(2)
    with left:
        st.markdown("#### " + _("Services (share of people served)"))
        name_of = _names(g)
        rows = [{_("District"): name_of(d), **{_(s): f"{v * 100:.0f} %" for s, v in sv.items()}}
                for d, sv in obs.services.items()]
        rows.append({_("District"): _("whole city"), **{_(s): f"{v * 100:.0f} %" for s, v in obs.service_totals.items()}})
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.markdown("#### " + _("Crews"))
        if obs.crews:
            st.dataframe(pd.DataFrame([{_("Crew"): c["id"], _("Team"): c["team"], _("State"): _(c["state"]),
                                        _("Task"): c["task"] or ""} for c in obs.crews]), hide_index=True)
        else:
            st.caption(_("No repair crews in this exercise."))
        st.caption(_("Mobile generators available: {g}; mutual aid requests left: {m}").format(
            g=obs.generators_available, m=obs.mutual_aid_left))
    with right:
        st.markdown("#### " + _("City map"))
        spec = city_map(g)
        if spec:
            st.vega_lite_chart(spec, width="content")
        else:
            st.caption(_("The map is not available."))
        st.markdown("#### " + _("Assets down"))
        if obs.assets_down:
            st.dataframe(pd.DataFrame([{_("Asset"): a["id"], _("Type"): asset_type(a["type"], _),
                                        _("Cause"): cause(a["cause"], _), _("Crew"): a["crew"] or ""}
                                       for a in obs.assets_down]), hide_index=True)
        else:
            st.caption(_("None."))
        st.markdown("#### " + _("Assets on backup"))
        if obs.assets_on_backup:
            st.dataframe(pd.DataFrame([{_("Asset"): a["id"], _("Type"): asset_type(a["type"], _),
                                        _("Backup left (h)"): a["backup_left_h"],
                                        _("Generator"): _("yes") if a["generator"] else _("no")}
                                       for a in obs.assets_on_backup]), hide_index=True)
        else:
            st.caption(_("None."))
    with st.expander(_("What changed since the last decision point"), expanded=False):
        name_of = _names(g)
        words_of = g.sim.scenario.inject_words(state.lang())
        ch = [{_("Hour"): f"{c['time_h']:g}", _("Event"): describe(c["kind"], c["subject"], c, _, name_of, words_of,
                                                                    _label_of(g))}
              for c in obs.changes]
        if ch:
            st.dataframe(pd.DataFrame(ch), hide_index=True)
        else:
            st.caption(_("Nothing changed."))


def _label_of(g: state.GameSession) -> Any:
    """``action id -> the scenario's own label in the reader's language, or None``."""
    sc, lang = g.sim.scenario, state.lang()
    return lambda kind: sc.action_label(kind, lang)


def _names(g: state.GameSession) -> Any:
    """``id -> "Name (id)"`` for the city's assets and districts (other ids stay as they are)."""
    model = g.sim.city.model
    names = {a.id: f"{a.name} ({a.id})" for a in model.assets}
    names.update({d.id: f"{d.name} ({d.id})" for d in model.districts})
    return lambda x: names.get(x, x)


_PROMPTS = {"target": N_("Target"), "crew": N_("Crew team"), "shelter": N_("Shelter"),
            "message": N_("Warning message to the public"), "order": N_("Repair order (first = most urgent)")}


def _field_input(g: state.GameSession, kind: str, f: Field) -> Any:
    """The widget for one field of an action, from what the field must name."""
    _ = state.gettext()
    city, obs = g.sim.city, g.obs
    prompt = _(f.prompt or _PROMPTS.get(f.name, f.name))
    options = ACTIONS[kind].choices_for(f, city, g.sim.scenario)
    if f.kind == "assets":
        return tuple(st.multiselect(prompt, options or [], key=state.wkey(PAGE, f.name, g.game_id)))
    if f.kind == "text":
        return st.text_area(prompt, max_chars=5000, key=state.wkey(PAGE, f.name, g.game_id, obs.point)) or None
    if f.kind == "count":
        return int(st.number_input(prompt, min_value=1, step=1, key=state.wkey(PAGE, f.name, g.game_id, kind)))
    if f.kind == "crew":
        return st.selectbox(prompt, ["", *(options or [])], format_func=lambda t: t or _("any suitable team"),
                            key=state.lang_wkey(PAGE, f.name, g.game_id)) or None
    if f.kind == "choice":
        return st.selectbox(prompt, options or [], format_func=_, key=state.lang_wkey(PAGE, f.name, g.game_id, kind))
    name_of = _names(g)
    return st.selectbox(prompt, options or [], key=state.lang_wkey(PAGE, f.name, g.game_id, kind),
                        format_func=lambda t: _("all") if t == "all" else name_of(t))


def _value_text(f: Field, v: Any, name_of: Any, _: Any) -> str:
    """One field's value of a pending action as the learner reads it: names, not ids; words in their language."""
    if isinstance(v, tuple):
        return " > ".join(name_of(x) for x in v)
    if f.kind == "choice":
        return _(str(v))
    if v == "all":
        return _("all")
    return str(name_of(v)) if isinstance(v, str) else str(v)


def _action_form(g: state.GameSession, u: state.SignedIn) -> None:
    _ = state.gettext()
    obs = g.obs
    cur = g.sim.scenario.resources.currency
    st.markdown("#### " + _("Your decision"))
    kinds = list(obs.allowed)
    if not kinds:
        st.caption(_("No action is allowed now."))
    else:
        label_of = _label_of(g)  # the language read now: Streamlit may call format_func outside this run

        def label(k: str) -> str:
            spec = obs.allowed[k]
            extra = _(" + {x} per person").format(x=_money(spec["cost_per_person"])) if spec.get("cost_per_person") else ""
            return _("{action}: {cost} {cur}{extra}, takes effect after {lead} h").format(
                action=action_name(k, _, label_of), cost=_money(spec["cost"]), cur=cur, extra=extra,
                lead=f"{spec['lead_time_h']:g}")

        kind = st.selectbox(_("Action"), kinds, format_func=label, key=state.lang_wkey(PAGE, "kind", g.game_id))
        fields: dict[str, Any] = {"action": kind}
        for f in ACTIONS[kind].fields:  # the action's module declares what it asks for
            fields[f.name] = _field_input(g, kind, f)
        if st.button(_("Add action"), key=state.wkey(PAGE, "add")):
            add_action(g, fields)
            st.rerun()
    if g.pending:
        name_of = _names(g)
        st.markdown("**" + _("Actions in this decision") + "**")
        for i, a in enumerate(g.pending):
            c1, c2 = st.columns([5, 1])
            values = [_value_text(f, getattr(a, f.name), name_of, _) for f in ACTIONS[a.action].fields
                      if f.kind != "text" and getattr(a, f.name)]
            c1.text(" ".join([action_name(a.action, _, _label_of(g)), *values]))
            if c2.button(_("Remove"), key=state.wkey(PAGE, "remove", i)):
                remove_action(g, i)
                st.rerun()
    answers: dict[str, str] = {}
    for q in obs.questions:
        text = g.sim.scenario.question_text(q["id"], state.lang())
        answers[q["id"]] = st.text_area(_("Discussion question: {q}").format(q=text), max_chars=5000,
                                        key=state.wkey(PAGE, "answer", g.game_id, obs.point, q["id"]))
    rationale = st.text_area(_("Rationale (why you decide this)"), max_chars=5000,
                             key=state.wkey(PAGE, "rationale", g.game_id, obs.point))
    for p in g.problems:
        st.error(p)
    c1, c2, c3 = st.columns(3)
    if c1.button(_("Decide and continue"), type="primary", key=state.wkey(PAGE, "decide")):
        decide(g, u, rationale, answers, act=True)
        st.rerun()
    if c2.button(_("Continue without acting"), key=state.wkey(PAGE, "skip")):
        decide(g, u, rationale, answers, act=False)
        st.rerun()
    if c3.button(_("Abandon this game"), key=state.wkey(PAGE, "abandon")):
        abandon(g, u)
        st.rerun()


def _finished(g: state.GameSession) -> None:
    _ = state.gettext()
    st.success(_("The exercise is over."))
    practice = g.play is not None and g.play.practice
    if practice:
        st.info(_("A practice game: scored and debriefed, never graded."))
    st.metric(_("Your score"), f"{(g.total or 0):.1f} / 100")
    if g.provisional and not practice:  # nobody rates a practice game's judged criteria
        st.info(_("The score is provisional: an assessor still has to rate some criteria."))
    if not practice:
        st.write(_("Passed") if g.passed else _("Not passed yet"))
    st.page_link("app_pages/debrief.py", label=_("Open the debrief"), query_params={"run": g.run_id or ""})
    if st.button(_("Play another exercise"), key=state.wkey(PAGE, "again")):
        state.clear_game()
        st.rerun()


def main() -> None:
    u = state.require("learner", "lecturer")
    _ = state.gettext()
    st.title(_("Play"))
    state.show_flashes()
    try:
        _page(u)
    except ScroSimError:  # the database did not answer a read (the list of games, a reload): nothing is lost
        log.exception("the play page could not be drawn")
        st.error(_("The service is unavailable at the moment. Please try again later."))


def _page(u: state.SignedIn) -> None:
    _ = state.gettext()
    g = ensure_game(u)
    if g is None:
        _choose(u)
        return
    if g.run_id is not None:
        _finished(g)
        return
    if g.play.done:  # the end was reached but the score was not stored (the database did not answer)
        st.info(_("The exercise is over, but your score is not stored yet."))
        if st.button(_("Store my score"), type="primary", key=state.wkey(PAGE, "finish")):
            finish(g, u)
            st.rerun()
        return
    _status(g)
    _feed(g)
    _tables(g)
    _action_form(g, u)


if __name__ == "__main__":
    main()
