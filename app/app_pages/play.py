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
import re
import secrets
import uuid
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from app import services, state
from app.app_pages.debrief import render_provisional
from scro_sim import formatting as fmt
from scro_sim.cause_chain import cause_chain, chain_edges, chain_lines, feeds_line
from scro_sim.engine.actions import REGISTRY as ACTIONS
from scro_sim.engine.actions import Field
from scro_sim.errors import ScroSimError, WorkBudgetExceeded, say
from scro_sim.game import GameSession, Outcome, abandon_stored
from scro_sim.guide import CoachNote, is_guided, notes_at_end, notes_now
from scro_sim.hints import Hint, practice_hints
from scro_sim.hospitals import hospital_states, occupancy_curves
from scro_sim.learning_path import Exercise, PathStep, learning_path
from scro_sim.names import Names
from scro_sim.orders import STATUS, open_orders
from scro_sim.policy import Decision, Observation
from scro_sim.report.map_spec import city_map_spec
from scro_sim.scenario import Action, text_in
from scro_sim.scoring import ScoreCard
from scro_sim.store import Game
from scro_sim.vocabulary import N_, asset_type, cause, describe

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


def start_game(u: state.SignedIn, key: str, practice: bool = False, seed: int | None = None) -> None:
    """Start a new game of scenario ``key`` with a seed the server chooses (``practice``: never graded).

    A practice game may replay ``seed``, the situation of one of the learner's earlier games;
    a graded game always gets a fresh seed the server chooses.
    """
    _ = state.gettext()
    found = _loaded(None, u, key=key)
    if found is None or found[1].scenario is None:
        state.flash("error", _("This scenario is not available."))
        return
    e, ld = found
    assert ld.scenario is not None and ld.city is not None
    try:
        chosen = int(seed) if practice and seed is not None else secrets.randbelow(2**31)
        play = GameSession.start(ld.scenario, ld.city, chosen, store=services.store(),
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
        state.put(PAGE, "note", ("add", _("Action added to your decision.")))


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


def city_map(g: state.GameSession, selected: str | None = None,
             links: tuple[tuple[str, str], ...] = ()) -> dict[str, Any] | None:
    """The map of the current decision point as a Vega-Lite spec: the browser draws it, not the server.

    ``selected`` and ``links`` ring the asset the learner picked and draw the failures behind it.
    """
    obs = g.obs
    worst = {d: min(sv.values(), default=1.0) for d, sv in obs.services.items()}
    try:
        return city_map_spec(g.sim.city, asset_state=obs.asset_state, district_service=worst, crews=obs.crews,
                             words=state.gettext(), selected=selected, links=links, pickable=True)
    except Exception:  # a map must never take the page down
        log.exception("the city map could not be made")
        return None


def abandon_listed(u: state.SignedIn, game: Game) -> None:
    """Close a game from the list of games in progress (the learner confirmed it)."""
    _ = state.gettext()
    out = abandon_stored(services.store(), game, u.username)
    if out.kind in ("ok", "finished", "moved_on"):
        state.put(PAGE, "note", (f"list.{game.id}", _("The game was abandoned.")))
    else:
        _say(out)
    state.drop(PAGE, "confirm")


def abandon(g: state.GameSession, u: state.SignedIn) -> None:
    out = g.play.abandon()
    if out.kind in ("ok", "finished"):
        state.clear_game()
    else:
        _settle(g, out)


# -- render (reads state only; buttons call the handlers and rerun)


def _money(x: float, cur: str = "EUR") -> str:
    return fmt.money(x, cur, state.lang())


def _names(g: state.GameSession) -> Names:
    """The game's ids as the learner's words (assets, roads, crews, actions...)."""
    key = f"names.{g.game_id}.{state.lang()}"
    got = state.get(PAGE, key)
    if got is None:
        got = Names(g.sim.city, g.sim.scenario, state.lang(), state.gettext())
        state.put(PAGE, key, got)
    return got


def _when(g: state.GameSession, time_h: float | None) -> str:
    """An hour of this game as the clock shows it ("Tue 14:10")."""
    return "—" if time_h is None else fmt.clock(g.sim.scenario.start, time_h, state.lang())


def _picked(event: Any) -> str | None:
    """The asset id a click on the map selected (Streamlit's selection state), if any."""
    try:
        sel = event["selection"] if isinstance(event, dict) else getattr(event, "selection", None)
        rows = (sel or {}).get("pick") or []
        return str(rows[0]["id"]) if rows and rows[0].get("id") else None
    except (KeyError, TypeError, AttributeError, IndexError):
        return None


def _map_and_causes(g: state.GameSession) -> None:
    """The city map, and for the asset picked on it (or in the list below it) the chain of causes behind it.

    A click on an asset selects it; the list offers every asset down or on backup, most critical
    first.  The chain is drawn on the map (a ring and red lines back to the failures) and written
    out below, with what the asset feeds: the cascade a learner has to trace.
    """
    _ = state.gettext()
    obs, names = g.obs, _names(g)
    map_key = state.wkey(PAGE, "map", g.game_id)
    why_key = state.lang_wkey(PAGE, "why", g.game_id)
    picked = _picked(state.widget_value(map_key))
    if picked and picked != state.get(PAGE, "why.last_pick"):
        state.put(PAGE, "why.last_pick", picked)
        state.set_widget(why_key, picked)
    failing = [a["id"] for a in sorted([*obs.assets_down, *obs.assets_on_backup],
                                       key=lambda a: (-a["criticality"], a["id"]))]
    options = ["", *failing]
    chosen = state.widget_value(why_key) or ""
    if chosen and chosen not in options and chosen in g.sim.city.asset_index:
        options.append(chosen)  # a working asset clicked on the map: what it feeds is worth seeing too
    elif chosen not in options:
        state.set_widget(why_key, "")
    box = st.container()
    choice = st.selectbox(_("Why is it down? Click an asset on the map or choose it here"), options, key=why_key,
                          format_func=lambda a: names.asset(a) if a else "—")
    chain = None
    if choice:
        causes = {a["id"]: str(a["cause"]) for a in obs.assets_down}
        missing = {a["id"]: tuple(a["missing"]) for a in obs.assets_on_backup}
        chain = cause_chain(g.sim.city, choice, obs.asset_state, causes, missing)
    with box:
        spec = city_map(g, selected=choice or None, links=tuple(chain_edges(chain)) if chain else ())
        if spec:
            st.vega_lite_chart(spec, width="stretch", on_select="rerun", selection_mode="pick", key=map_key)
        else:
            st.caption(_("The map is not available."))
    if chain is None:
        return
    st.markdown("\n".join("  " * depth + "- " + line for depth, line in chain_lines(chain, names, _)))
    st.caption(feeds_line(g.sim.city, choice, names, _))


def _note(where: str) -> None:
    """The confirmation of what was just clicked, shown next to it (once)."""
    note = state.get(PAGE, "note")
    if note and note[0] == where:
        st.success(note[1])
        state.drop(PAGE, "note")


def _choose(u: state.SignedIn) -> None:
    _ = state.gettext()
    lang = state.lang()
    entries = services.available_scenarios(u.username, u.cohorts)
    s = services.store()
    playing = [gm for gm in s.list_games(u.username, status="playing")]
    note = state.get(PAGE, "note")
    if not playing and note and str(note[0]).startswith("list."):
        st.success(note[1])
        state.drop(PAGE, "note")
    if playing:
        st.subheader(_("Games in progress"))
        titles = {e.sha256: e.title(lang) for e in entries}
        asking = state.get(PAGE, "confirm")
        for gm in playing[:10]:
            c1, c2, c3 = st.columns([5, 1, 1], vertical_alignment="center")
            c1.markdown(_("{title}: {n} decisions so far, last played {when}").format(
                title=titles.get(gm.scenario_hash, gm.scenario_id), n=len(gm.decisions),
                when=fmt.datetime_text(gm.updated_at, lang)) + (" " + _("(practice)") if gm.practice else ""))
            if c2.button(_("Resume"), key=state.wkey(PAGE, "resume", gm.id)):
                resume_game(u, gm)
                st.rerun()
            if c3.button(_("Abandon"), key=state.wkey(PAGE, "drop", gm.id),
                         help=_("Close this game for good: it leaves the list and is never scored.")):
                state.put(PAGE, "confirm", gm.id)
                st.rerun()
            if asking == gm.id:  # the question stands right under the game it is about
                with st.container(border=True):
                    st.warning(_("Abandon this game for good? It cannot be resumed afterwards."))
                    k1, k2 = st.columns(2)
                    if k1.button(_("Yes, abandon it"), type="primary", key=state.wkey(PAGE, "drop_yes", gm.id)):
                        abandon_listed(u, gm)
                        st.rerun()
                    if k2.button(_("No, keep it"), key=state.wkey(PAGE, "drop_no", gm.id)):
                        state.drop(PAGE, "confirm")
                        st.rerun()
            _note(f"list.{gm.id}")
        note = state.get(PAGE, "note")
        if note and str(note[0]).startswith("list."):  # the abandoned game has left the list
            st.success(note[1])
            state.drop(PAGE, "note")
    if not entries:
        st.subheader(_("Choose a scenario"))
        st.info(_("No scenario is available yet."))
        return
    path = _learning_path(u, entries)
    keys = [p.exercise.key for p in path]
    by_key = {e.key: e for e in entries}
    chooser = state.lang_wkey(PAGE, "scenario")
    st.subheader(_("Choose a scenario"))
    launched = state.get(PAGE, "lti_exercise")  # the exercise a course platform's launch opened
    if launched:
        state.drop(PAGE, "lti_exercise")
        chosen = next((e.key for e in entries if e.meta.get("id") == launched), None)
        if chosen is not None:
            state.set_widget(chooser, chosen)
    first = next((i for i, p in enumerate(path) if p.next), 0)  # the next exercise on the path, until one is chosen
    key = st.selectbox(_("Scenario"), keys, format_func=lambda k: by_key[k].title(lang), key=chooser,
                       index=first if state.widget_value(chooser) is None else None)
    if key is None:  # the list changed under a choice that is gone
        key = keys[first]
    e = by_key[key]
    m = e.meta
    st.caption(_("Level: {level}; about {minutes} minutes; {hours} hours of simulated time").format(
        level=_(m["level"]), minutes=m["minutes"], hours=fmt.number(m["duration_h"], lang)))
    if m.get("groups"):
        titles = services.group_titles(lang)
        st.caption(_("Written for the course's module group {group}").format(
            group="; ".join(titles.get(str(g), str(g)) for g in m["groups"])))
    services.show_text(m["summary"].get(lang) or m["summary"]["en"])
    _teaches_and_scoring(m, lang)
    briefing = m["briefing"].get(lang) or m["briefing"]["en"]
    if briefing:
        st.markdown("**" + _("Briefing") + "**")
        services.show_text(briefing)
    # callbacks: the game starts before the rerun, so a start draws the page once, not the list and then the game
    c1, c2 = st.columns(2)
    c1.button(_("Start the exercise"), type="primary", key=state.wkey(PAGE, "start"), on_click=_start_clicked,
              args=(u, chooser, key))
    replay = _replay_choice(u, e)
    c2.button(_("Practise (not graded)"), key=state.wkey(PAGE, "practice"),
              help=_("A practice game: scored and debriefed, never graded, with hints at each decision point."),
              on_click=_start_clicked, args=(u, chooser, key, True, replay))


def _replay_choice(u: state.SignedIn, e: services.ScenarioEntry) -> str | None:
    """For practice: the same situation (seed) as one of the learner's earlier games of this scenario text."""
    _ = state.gettext()
    lang = state.lang()
    earlier = [gm for gm in services.store().list_games(u.username) if gm.scenario_hash == e.sha256][:20]
    if not earlier:
        return None
    scores = {r.id: r.total for r in services.store().list_runs(learner=u.username, scenario=e.meta.get("id"))}

    def label(game_id: str) -> str:
        if not game_id:
            return _("a new situation")
        gm = next(g for g in earlier if g.id == game_id)
        when = fmt.datetime_text(gm.created_at, lang)
        score = scores.get(gm.run_id) if gm.run_id else None
        return (_("the same situation as your game of {when} (score {score})").format(
                    when=when, score=fmt.score(score, lang)) if score is not None else
                _("the same situation as your game of {when}").format(when=when))

    key = state.wkey(PAGE, "replay", e.key)
    st.selectbox(_("Practise on"), ["", *(g.id for g in earlier)], format_func=label, key=key,
                 help=_("Replaying a situation gives the same hazard, timings and repair times: only your "
                        "decisions differ. Graded games always get a new situation."))
    return key


def _start_clicked(u: state.SignedIn, chooser: str, shown: str, practice: bool = False,
                   replay: str | None = None) -> None:
    """The Start buttons' callback: start the scenario chosen in the list (as the list shows it now);
    a practice game on the situation of the earlier game chosen, if any."""
    key = state.widget_value(chooser, shown)
    seed = None
    game_id = state.widget_value(replay) if practice and replay and key == shown else None
    if game_id:
        gm = services.store().load_game(str(game_id))
        e = _entry_for(u, key=key)
        if gm is not None and gm.learner == u.username and e is not None and gm.scenario_hash == e.sha256:
            seed = gm.seed
    start_game(u, key, practice=practice, seed=seed)


_STATE_WORDS = {"not_started": N_("not started"), "in_progress": N_("in progress"),
                "attempted": N_("attempted, not passed yet"), "passed": N_("done: passed")}


def _learning_path(u: state.SignedIn, entries: list[services.ScenarioEntry]) -> list[PathStep]:
    """The learner's path through the exercises (easiest first): shown as a table, returned in its order."""
    _ = state.gettext()
    lang = state.lang()
    exercises = [Exercise(str(e.meta.get("id")), str(e.meta.get("level")), int(e.meta.get("minutes", 0)),
                          bool(e.meta.get("guided")), e.key) for e in entries]
    path = learning_path(services.store(), u.username, exercises)
    by_key = {e.key: e for e in entries}
    st.subheader(_("Your learning path"))
    st.caption(_("The exercises easiest first: the guided one, then by level and length. Practice games never "
                 "count; your best graded score does."))
    groups = services.group_titles(lang)
    rows = []
    for p in path:
        status = _(_STATE_WORDS[p.state])
        if p.best is not None:
            status += ", " + _("best score {score}").format(score=fmt.score(p.best, lang))
        if p.practised:
            status += ", " + _("practised {n} times").format(n=p.practised)
        written_for = by_key[p.exercise.key].meta.get("groups") or []
        rows.append({_("Exercise"): by_key[p.exercise.key].title(lang),
                     _("Module group"): "; ".join(groups.get(str(g), str(g)) for g in written_for) or "—",
                     _("Level"): _(p.exercise.level), _("Minutes"): str(p.exercise.minutes),
                     _("Where you stand"): status, _("Next"): "→ " + _("next") if p.next else ""})
    st.table(pd.DataFrame(rows))  # a static table, in the path's order: every row readable at once
    return path


def _status(g: state.GameSession) -> None:
    _ = state.gettext()
    obs: Observation = g.obs
    sc = g.sim.scenario
    lang = state.lang()
    st.subheader(text_in(sc.title, lang))
    if g.play.practice:
        st.caption(_("A practice game: scored and debriefed, never graded."))
    if is_guided(sc):
        st.toggle(_("Show the guide"), value=True, key=state.wkey(PAGE, "guide", g.game_id),
                  help=_("This is a guided exercise: boxes marked “Guide” explain the screen step by step."))
    _coach(g, "clock")
    # two rows of three: six columns cut the clock and the budget short on a laptop screen
    top, bottom = st.columns(3), st.columns(3)
    top[0].metric(_("Clock"), fmt.clock(sc.start, obs.time_h, lang))
    top[1].metric(_("Time left"), fmt.duration(max(sc.duration_h - obs.time_h, 0.0), lang),
                  help=_("The exercise ends {end}.").format(end=fmt.clock(sc.start, sc.duration_h, lang, date=True)))
    top[2].metric(_("Budget left"), _money(obs.budget_left, sc.resources.currency))
    if any(h.type == "flood" for h in sc.hazards):  # the gauge means nothing without a river in flood
        bottom[0].metric(_("River gauge"), "-" if obs.gauge_m is None else
                         f"{fmt.number(obs.gauge_m, lang, digits=2)} m")
    elif obs.hospitals:  # a patient surge: the fullest hospital is the number that matters
        beds = hospital_states(obs.hospitals)
        bottom[0].metric(_("Fullest hospital"), fmt.percent(beds[0].occupancy, lang),
                         help=_("Patients per open bed at {hospital}.").format(hospital=_names(g).asset(beds[0].id)))
    bottom[1].metric(_("Assets down"), f"{obs.asset_counts.get('down', 0)}")
    bottom[2].metric(_("On backup"), f"{obs.asset_counts.get('backup', 0)}")
    if obs.stale:  # the data platform is down, or a utility keeps its data: these readings are old
        items = ", ".join(f"{_('River gauge') if k == 'gauge' else _(k)} {fmt.clock(sc.start, h, lang)}"
                          for k, h in obs.stale.items())
        st.warning(_("Not live (last reading): {items}").format(items=items))


def _feed(g: state.GameSession) -> None:
    _ = state.gettext()
    obs = g.obs
    st.markdown("#### " + _("Messages"))
    _coach(g, "messages")
    if not obs.injects:
        st.caption(_("No new messages."))
    words = g.sim.scenario.inject_words(state.lang())  # the reader's language, looked up by the inject's id
    for inj in obs.injects:
        w = words(inj["id"])
        with st.container(border=True):
            st.caption(_("{sender} by {channel}, {when}").format(
                sender=w.get("sender", inj["id"]), channel=_(str(inj.get("channel", ""))),
                when=_when(g, float(inj.get("time_h", 0)))))
            st.text(w.get("text", ""))


def _hospitals(g: state.GameSession) -> None:
    """Beds, surge beds, patients and occupancy of each hospital a surge reaches, and the occupancy so far."""
    _ = state.gettext()
    obs, lang, names = g.obs, state.lang(), _names(g)
    if not obs.hospitals:
        return
    st.markdown("#### " + _("Hospital beds"))
    rows = [{_("Hospital"): names.asset(h.id), _("Beds"): fmt.number(h.beds, lang),
             _("Surge beds open"): fmt.number(h.surge_beds, lang), _("Patients"): fmt.number(h.patients, lang),
             _("Free beds"): fmt.number(h.free_beds, lang), _("Occupancy"): fmt.percent(h.occupancy, lang),
             _("Full"): _("yes, diverting patients") if h.overloaded else _("no")}
            for h in hospital_states(obs.hospitals)]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    curves = occupancy_curves(g.play.records)
    if curves:
        start, sc = g.sim.scenario.start, g.sim.scenario
        values = [v for pts in curves.values() for _t, v in pts]
        low, high = min(0.8, min(values) - 0.05), max(1.1, max(values) + 0.05)  # 100 % always in view
        df = pd.DataFrame([{"t": (fmt.to_datetime(start) + pd.Timedelta(hours=t)).isoformat(), "hospital": names.asset(h),
                            "occupancy": v} for h, pts in curves.items() for t, v in pts])
        spec = {
            "height": 200,
            "layer": [
                {"mark": {"type": "line", "interpolate": "step-after"},
                 "encoding": {"x": {"field": "t", "type": "temporal", "title": None,
                                    # the whole exercise, start to end: where the game stands shows
                                    "scale": {"domain": [fmt.to_datetime(start).isoformat(), (
                                        fmt.to_datetime(start) + pd.Timedelta(hours=sc.duration_h)).isoformat()]},
                                    "axis": {"format": "%a %H:%M", "labelOverlap": True}},
                              "y": {"field": "occupancy", "type": "quantitative", "title": _("Occupancy"),
                                    "scale": {"domain": [low, high]}, "axis": {"format": ".0%"}},
                              "color": {"field": "hospital", "type": "nominal", "title": _("Hospital"),
                                        "legend": {"orient": "bottom", "labelLimit": 400}}}},
                {"mark": {"type": "rule", "strokeDash": [4, 3], "color": "#c62828"},
                 "encoding": {"y": {"datum": 1}}},
            ],
        }
        st.vega_lite_chart(df, spec, width="stretch")
        st.caption(_("Above the dashed line a hospital has more patients than open beds."))


def _orders(g: state.GameSession) -> None:
    """The orders that have not happened yet: why each waits and when it is expected."""
    _ = state.gettext()
    obs, names = g.obs, _names(g)
    st.markdown("#### " + _("Your orders not done yet"))
    _coach(g, "orders")
    orders = open_orders(g.play.records, scenario=g.sim.scenario, crews=obs.crews, assets_down=obs.assets_down,
                         now=obs.time_h)
    if not orders:
        st.caption(_("None: everything you ordered has happened."))
        return
    unknown = {"site_flooded": _("when the water has gone down"), "road_closed": _("when a road reopens"),
               "waiting_on_site": _("when the water has gone down"), "standby": _("when something breaks there")}
    rows = [{_("Order"): names.action_text(o.action), _("Ordered"): _when(g, o.ordered_h),
             _("Where it stands"): _(STATUS[o.status]) + (f" ({names.crew(o.crew)})" if o.crew else ""),
             _("Expected"): _when(g, o.expected_h) if o.expected_h is not None else unknown.get(o.status, "—")}
            for o in orders]
    st.table(pd.DataFrame(rows).set_index(_("Order")))  # a static table: long reasons wrap, never cut


def _tables(g: state.GameSession) -> None:
    _ = state.gettext()
    obs, lang, names = g.obs, state.lang(), _names(g)
    _hospitals(g)
    _orders(g)
    left, right = st.columns(2)
    with left:
        st.markdown("#### " + _("Services (share of people served)"))
        _coach(g, "services")
        rows = [{_("District"): names.asset(d), **{_(s): fmt.percent(v, lang) for s, v in sv.items()}}
                for d, sv in obs.services.items()]
        rows.append({_("District"): _("whole city"), **{_(s): fmt.percent(v, lang) for s, v in obs.service_totals.items()}})
        st.dataframe(pd.DataFrame(rows), hide_index=True)
        st.markdown("#### " + _("Crews"))
        _coach(g, "crews")
        if obs.crews:
            st.dataframe(pd.DataFrame([{_("Crew"): names.crew(c["id"]), _("State"): _(c["state"]),
                                        _("Task"): names.asset(c["task"]) if c["task"] else "",
                                        _("Busy until"): _when(g, c.get("busy_until_h")) if c.get("busy_until_h")
                                        else ""} for c in obs.crews]), hide_index=True)
        else:
            st.caption(_("No repair crews in this exercise."))
        st.caption(_("Mobile generators available: {g}; mutual aid requests left: {m}").format(
            g=obs.generators_available, m=obs.mutual_aid_left))
    with right:
        st.markdown("#### " + _("City map"))
        _coach(g, "map")
        _map_and_causes(g)
        st.markdown("#### " + _("Assets down"))
        if obs.assets_down:
            st.dataframe(pd.DataFrame([{_("Asset"): names.asset(a["id"]), _("Type"): asset_type(a["type"], _),
                                        _("Cause"): cause(a["cause"], _),
                                        _("Crew"): names.crew(a["crew"]) if a["crew"] else ""}
                                       for a in obs.assets_down]), hide_index=True)
        else:
            st.caption(_("None."))
        st.markdown("#### " + _("Assets on backup"))
        if obs.assets_on_backup:
            st.dataframe(pd.DataFrame([{_("Asset"): names.asset(a["id"]), _("Type"): asset_type(a["type"], _),
                                        _("Backup left"): fmt.duration(a["backup_left_h"], lang),
                                        _("Generator"): _("yes") if a["generator"] else _("no")}
                                       for a in obs.assets_on_backup]), hide_index=True)
        else:
            st.caption(_("None."))
    with st.expander(_("What changed since the last decision point"), expanded=False):
        words_of = g.sim.scenario.inject_words(lang)
        ch = [{_("When"): _when(g, c["time_h"]), _("Event"): describe(c["kind"], c["subject"], c, _, names, words_of)}
              for c in obs.changes]
        if ch:
            st.dataframe(pd.DataFrame(ch), hide_index=True)
        else:
            st.caption(_("Nothing changed."))


_PROMPTS = {"target": N_("Target"), "crew": N_("Crew team"), "shelter": N_("Shelter"),
            "message": N_("Warning message to the public"), "order": N_("Repair order (first = most urgent)")}


def _field_input(g: state.GameSession, kind: str, f: Field) -> Any:
    """The widget for one field of an action, from what the field must name."""
    _ = state.gettext()
    city, obs = g.sim.city, g.obs
    prompt = _(f.prompt or _PROMPTS.get(f.name, f.name))
    options = ACTIONS[kind].choices_for(f, city, g.sim.scenario)
    if f.kind == "assets":
        return tuple(st.multiselect(prompt, options or [], key=state.wkey(PAGE, f.name, g.game_id),
                                    format_func=_names(g).target))
    if f.kind == "text":
        return st.text_area(prompt, max_chars=5000, key=state.wkey(PAGE, f.name, g.game_id, obs.point)) or None
    if f.kind == "count":
        return int(st.number_input(prompt, min_value=1, step=1, key=state.wkey(PAGE, f.name, g.game_id, kind)))
    if f.kind == "choice" and not f.required and options:  # the first choice is the default: left unset
        return st.selectbox(prompt, [None, *options[1:]], format_func=lambda v: _(v or options[0]),
                            key=state.lang_wkey(PAGE, f.name, g.game_id, kind))
    if f.kind == "choice":
        return st.selectbox(prompt, options or [], format_func=_, key=state.lang_wkey(PAGE, f.name, g.game_id, kind))
    names = _names(g)
    target = ACTIONS[kind].target
    if f.kind == "crew":  # left empty: any suitable team, or nothing where a team is one of two choices
        empty = _("any suitable team") if target is None or target.required else "—"
        return st.selectbox(prompt, ["", *(options or [])], format_func=lambda t: names.team(t) if t else empty,
                            key=state.lang_wkey(PAGE, f.name, g.game_id)) or None
    if f.kind == "asset" and not f.required:  # an optional asset (a hospital to recall staff for, an incident's asset)
        return st.selectbox(prompt, [None, *(options or [])], key=state.lang_wkey(PAGE, f.name, g.game_id, kind),
                            format_func=lambda v: names.target(v) if v else "—")
    return st.selectbox(prompt, options or [], key=state.lang_wkey(PAGE, f.name, g.game_id, kind),
                        format_func=names.target)


def _value_text(f: Field, v: Any, names: Names, _: Any) -> str:
    """One field's value of a pending action as the learner reads it: names, not ids; words in their language."""
    if isinstance(v, tuple):
        return " > ".join(names.target(x) for x in v)
    if f.kind == "choice":
        return _(str(v))
    if f.kind == "crew":
        return names.team(str(v))
    return names.target(v) if isinstance(v, str) else str(v)


def _action_form(g: state.GameSession, u: state.SignedIn) -> None:
    _ = state.gettext()
    obs = g.obs
    cur = g.sim.scenario.resources.currency
    names, lang = _names(g), state.lang()  # bound now: Streamlit calls format_func outside this run too
    st.markdown("#### " + _("Your decision"))
    _coach(g, "decision")
    if g.play.practice:  # hints only ever in a practice game: a graded game is the learner's own work
        _hints(g)
    kinds = list(obs.allowed)
    if not kinds:
        st.caption(_("No action is allowed now."))
    else:
        def label(k: str) -> str:
            spec = obs.allowed[k]
            extra = (_(" + {x} per person").format(x=fmt.money(spec["cost_per_person"], cur, lang))
                     if spec.get("cost_per_person") else "")
            lead = spec["lead_time_h"]
            return (_("{action}: {cost}{extra}, takes effect after {lead}") if lead else
                    _("{action}: {cost}{extra}, takes effect at once")).format(
                action=names.action(k), cost=fmt.money(spec["cost"], cur, lang), extra=extra,
                lead=fmt.duration(lead, lang))

        kind = st.selectbox(_("Action"), kinds, format_func=label, key=state.lang_wkey(PAGE, "kind", g.game_id))
        fields: dict[str, Any] = {"action": kind}
        for f in ACTIONS[kind].fields:  # the action's module declares what it asks for
            fields[f.name] = _field_input(g, kind, f)
        if st.button(_("Add action"), key=state.wkey(PAGE, "add")):
            add_action(g, fields)
            st.rerun()
        _note("add")
    if g.pending:
        st.markdown("**" + _("Actions in this decision") + "**")
        for i, a in enumerate(g.pending):
            c1, c2 = st.columns([5, 1])
            values = [_value_text(f, getattr(a, f.name), names, _) for f in ACTIONS[a.action].fields
                      if f.kind != "text" and getattr(a, f.name)]
            c1.text(names.action(a.action) + (": " + ", ".join(values) if values else ""))
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
        st.error(say(p, _))
    c1, c2, c3 = st.columns(3)
    if c1.button(_("Decide and continue"), type="primary", key=state.wkey(PAGE, "decide")):
        decide(g, u, rationale, answers, act=True)
        st.rerun()
    if c2.button(_("Continue without acting"), key=state.wkey(PAGE, "skip")):
        decide(g, u, rationale, answers, act=False)
        st.rerun()
    if c3.button(_("Abandon this game"), key=state.wkey(PAGE, "abandon")):
        state.put(PAGE, "confirm", g.game_id)
        st.rerun()
    if state.get(PAGE, "confirm") == g.game_id:  # asked right under the button that was clicked
        with c3.container(border=True):
            st.warning(_("Abandon this game for good? It cannot be resumed afterwards."))
            if st.button(_("Yes, abandon it"), type="primary", key=state.wkey(PAGE, "abandon_yes")):
                state.drop(PAGE, "confirm")
                abandon(g, u)
                st.rerun()
            if st.button(_("No, keep it"), key=state.wkey(PAGE, "abandon_no")):
                state.drop(PAGE, "confirm")
                st.rerun()


def _finished(g: state.GameSession) -> None:
    _ = state.gettext()
    st.success(_("The exercise is over."))
    practice = g.play is not None and g.play.practice
    if practice:
        st.info(_("A practice game: scored and debriefed, never graded."))
    run = services.store().get_run(g.run_id) if g.run_id else None
    card = ScoreCard.model_validate(run.scorecard) if run is not None else None
    if card is not None and g.provisional and not practice:  # nobody rates a practice game's judged criteria
        sc = g.sim.scenario if g.play is not None else None
        render_provisional(card, sc.rubric if sc is not None else None, _("Your score"))
    else:
        st.metric(_("Your score"), fmt.score(g.total or 0, state.lang()) + " / 100")
        if not practice:
            st.write(_("Passed") if g.passed else _("Not passed yet"))
    if g.play is not None and (state.widget_value(state.wkey(PAGE, "guide", g.game_id), True)):
        _coach_notes(notes_at_end(g.sim.scenario, state.lang()))
    st.page_link("app_pages/debrief.py", label=_("Open the debrief"), query_params={"run": g.run_id or ""})
    if st.button(_("Play another exercise"), key=state.wkey(PAGE, "again")):
        state.clear_game()
        st.rerun()


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def _literal(text: str) -> str:
    """A lecturer's text for a markdown element, every markup character escaped: it shows as written."""
    return _MARKDOWN.sub(r"\\\1", " ".join(text.split()))


def _coach_notes(notes: list[CoachNote]) -> None:
    """The guide's boxes: "Guide, step 3 of 11", then the lecturer's text, shown as written (never as markup)."""
    _ = state.gettext()
    for n in notes:
        st.info("**" + _("Guide, step {n} of {total}").format(n=n.number, total=n.total) + "**  \n" + _literal(n.text),
                icon=":material/explore:")


def _coach(g: state.GameSession, focus: str) -> None:
    """The guide's steps of this decision point that point at ``focus``, if the exercise is guided and the guide on."""
    sc = g.sim.scenario
    if not is_guided(sc) or not state.widget_value(state.wkey(PAGE, "guide", g.game_id), True):
        return
    obs = g.obs
    _coach_notes([n for n in notes_now(sc, obs.time_h, [str(i["id"]) for i in obs.injects], state.lang())
                  if n.focus == focus])


def _hints(g: state.GameSession) -> None:
    """A practice game's hints at this decision point (what is asked of the learner, what the expert did)."""
    _ = state.gettext()
    lang, obs = state.lang(), g.obs
    key = f"hints.{g.game_id}.{obs.point}.{lang}"
    hints: list[Hint] | None = state.get(PAGE, key)
    if hints is None:
        try:
            hints = practice_hints(g.sim.scenario, g.sim.city, g.seed, g.play.sim.log, obs.time_h, lang)
        except Exception:  # a hint must never take the page down
            log.exception("the hints of game %s could not be made", g.game_id)
            hints = []
        state.put(PAGE, key, hints)
    with st.expander(_("Hints (practice only)"), expanded=False):
        if not hints:
            st.caption(_("No hint at this point: nothing is asked of you now, and you have done what the expert "
                         "plan had done by now."))
        for h in hints:
            services.show_text(h.text)


def _teaches_and_scoring(m: dict[str, Any], lang: str) -> None:
    """Before a game: the course modules the exercise practises and how it is scored (criteria, weights, pass mark)."""
    _ = state.gettext()
    with st.expander(_("What this exercise teaches and how it is scored")):
        titles = services.module_titles(lang)
        st.markdown("**" + _("Course modules") + "**")
        for mid in m.get("modules", ()):
            st.markdown(f"- {mid} {titles.get(mid, '')}".rstrip())
        total = sum(c["weight"] for c in m.get("criteria", ())) or 1.0
        st.markdown("**" + _("How it is scored") + "**")
        for c in m.get("criteria", ()):
            how = _("computed from what happens in the city") if c["kind"] == "computed" else _("rated by an assessor")
            st.markdown(f"- {c['title'].get(lang) or c['title']['en']}: {fmt.percent(c['weight'] / total, lang)}, {how}")
        st.caption(_("Pass mark: {mark} of 100.").format(mark=fmt.number(m.get("pass_mark", 0), lang)))


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
