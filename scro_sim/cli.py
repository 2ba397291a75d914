"""The ``scro-sim`` command: a thin shell over the library (no logic of its own).

Every input problem is printed as ``path:line: field: message`` and the command exits
non-zero; no traceback reaches a lecturer or learner.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .batch_cli import add_batch_commands, seed_arg
from .errors import N_, Msg, ScroSimError, print_problems, say

__all__ = ["main"]


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _fail(exc: ScroSimError, lang: str | None = None) -> int:
    """Print an error's ``path:line: field: message`` lines (messages in ``lang``, English without); return 1."""
    from .i18n import translator

    print_problems(exc, words=translator(lang) if lang else None)
    return 1


def _store(args: argparse.Namespace) -> Any:
    from .store import Store

    return Store(args.db)


# -- validate / schema --------------------------------------------------------------------------


def _kind_of(path: Path) -> str:
    """City, plan, scenario or course map, from the file's top-level ``format:`` (or its top-level keys)."""
    import re

    if path.suffix == ".json":
        return "city"
    try:
        head = path.read_text(encoding="utf-8-sig", errors="replace")[:200_000]
    except OSError:
        return "scenario"
    m = re.search(r"^format:\s*[\"']?scro-(city|plan|scenario|course)/", head, re.M)
    if m:
        return m.group(1)
    if re.search(r"^districts:", head, re.M):
        return "city"
    if re.search(r"^(rules|prepositioning):", head, re.M) and not re.search(r"^msel:", head, re.M):
        return "plan"
    return "scenario"


def cmd_validate(args: argparse.Namespace) -> int:
    from .city import load_city
    from .resources import find_scenario
    from .scenario import HAZARD_TYPES, load_plan, load_scenario

    scenario = city = None
    if args.scenario:
        try:
            scenario, city = load_scenario(find_scenario(args.scenario))
        except ScroSimError as exc:
            return _fail(exc, args.lang)
    bad = 0
    for f in args.files:
        p = Path(f)
        kind = _kind_of(p) if p.exists() else "scenario"
        try:
            if kind == "city":
                c = load_city(p, hazards=HAZARD_TYPES)
                msg = f"{c.n_assets} assets, {c.n_districts} districts, {len(c.road_ids)} road nodes"
            elif kind == "course":
                from .course import load_course

                co = load_course(p)
                msg = f"course {co.id}: {sum(1 for _ in co.modules())} modules in {len(co.groups)} groups"
            elif kind == "plan":
                load_plan(p, scenario, city)
                msg = "plan" + (f" for {scenario.id}" if scenario else " (use --scenario to cross-check it)")
            else:
                sc, c = load_scenario(p)
                msg = f"scenario {sc.id} v{sc.version} on {c.id}: {len(sc.msel)} injects, {len(sc.rubric.criteria)} criteria"
            print(f"{f}: ok ({kind}: {msg})")
        except ScroSimError as exc:
            bad += 1
            _fail(exc, args.lang)
    return 1 if bad else 0


def cmd_schema(args: argparse.Namespace) -> int:
    from .city import CityModel
    from .scenario import plan_schema, scenario_schema

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    city = CityModel.model_json_schema()
    city["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    for name, schema in (("scenario", scenario_schema()), ("plan", plan_schema()), ("city", city)):
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {path}")
    return 0


# -- run / play ---------------------------------------------------------------------------------


def _policy(args: argparse.Namespace, scenario: Any, city: Any) -> tuple[Any, str | None, str | None]:
    from .policy import PlanPolicy, baseline_policy
    from .scenario import load_plan

    if args.plan:
        from .resources import find_plan

        path = find_plan(args.plan)
        plan = load_plan(path, scenario, city)
        return PlanPolicy(plan), f"plan:{args.plan}", path.read_text(encoding="utf-8")
    if args.baseline == "expert":
        if scenario.reference_plans.expert is None:
            raise ScroSimError("this scenario has no expert plan", field="reference_plans.expert")
        return PlanPolicy(scenario.reference_plans.expert, "expert"), "expert", None
    return baseline_policy(args.baseline), args.baseline, None


def _summary(metrics: Any, console: Any, title: str, lang: str = "en") -> None:
    """A run's metrics as the catalogue names them (downtime: the critical facilities only)."""
    from rich.table import Table

    from .i18n import translator
    from .scoring import rows

    _ = translator(lang)
    t = Table(title=title)
    t.add_column("metric")
    t.add_column("value", justify="right")
    t.add_column("unit")
    for name, entry, value in rows(metrics):
        t.add_row(name, "—" if value is None else f"{value:,.3g}" if abs(value) < 1 else f"{value:,.1f}", _(entry.unit))
    console.print(t)


def cmd_metrics(args: argparse.Namespace) -> int:
    """Print the metric catalogue: every name a rubric criterion may use, its unit and meaning."""
    from .i18n import translator
    from .scoring import markdown

    sys.stdout.write(markdown(translator(args.lang)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .engine import Simulation
    from .gc_tuning import engine_gc
    from .resources import find_scenario
    from .scenario import load_scenario
    from .scoring import compute_metrics

    console = _console()
    try:
        origin = _run_origin(args)
        scenario, city = load_scenario(find_scenario(args.scenario))
        policy, pname, plan_yaml = _policy(args, scenario, city)
    except ScroSimError as exc:
        return _fail(exc)
    with engine_gc():
        sim = Simulation(scenario, city, args.seed, policy)
        log = sim.run()
    m = compute_metrics(log)
    _summary(m, console, f"{scenario.id} · seed {args.seed} · {pname}")
    if args.out:
        log.write_jsonl(args.out)
        console.print(f"event log: {args.out} ({len(log)} records, digest {log.digest()[:16]}…)")
    else:
        console.print(f"{len(log)} events, digest {log.digest()}")
    if args.store:
        from .assessment import record_log

        with _store(args) as store:
            run_id, card = record_log(store, scenario, city, args.seed, log, decisions=sim.decisions,
                                      learner=args.learner, cohort=args.cohort, source="cli", policy=pname,
                                      plan_yaml=plan_yaml, origin=origin)
        console.print(f"stored run {run_id} ({origin}{'' if origin == 'plan' else ', never graded'}): "
                      f"score {card.total:.1f} ({'pass' if card.passed else 'fail'}"
                      f"{', provisional' if card.provisional else ''})")
    return 0


def _run_origin(args: argparse.Namespace) -> str:
    """What a run stored by ``scro-sim run`` is for: only ``--origin plan`` (a learner's own plan) is graded.

    Without ``--origin``: the expert plan is a ``reference``, the other baselines a ``baseline``,
    any plan file ``cli``, so nothing run from the command line becomes a learner's grade by accident.
    """
    if args.origin is not None:
        if args.origin == "plan" and not args.plan:
            raise ScroSimError("--origin plan is for a learner's own plan: give it with --plan", field="origin")
        return str(args.origin)
    if args.plan:
        return "cli"
    return "reference" if args.baseline == "expert" else "baseline"


def _play_help(lang: str = "en") -> str:
    """The terminal's help in ``lang``: one line per registered action (its verb and fields, which
    the player types as they are), then the other commands."""
    from .engine.actions import REGISTRY
    from .i18n import translator

    _ = translator(lang)
    lines = [_("actions (one per line, empty line to continue the clock):")]
    lines += [f"  {k.usage():<34} {k.describe(lang)}" for k in REGISTRY.values()]
    others = (("why TEXT", _("your rationale for this decision point")),
              ("answer QID TEXT", _("answer a discussion question")),
              ("status", _("show assets and services again")),
              ("quit", _("stop here")))
    lines += [f"  {syntax:<34} {what}" for syntax, what in others]
    return "\n".join(lines)


def _parse_play(line: str) -> Any:
    """One terminal line (``crew PS1 T1``) as an Action, through the action registry's verbs."""
    from .engine.actions import parse_words
    from .scenario import Action

    return Action(**parse_words(line.split()))


def _show_obs(obs: Any, console: Any, scenario: Any, lang: str) -> None:
    """What the player sees, with the injects' and questions' words from the scenario in ``lang``."""
    from rich.markup import escape
    from rich.table import Table

    from .i18n import translator
    from .vocabulary import cause, service

    _ = translator(lang)
    from . import formatting as fmt

    console.rule(f"[bold]{fmt.clock(scenario.start, obs.time_h, lang, date=True)}[/bold]  "
                 f"(t = {fmt.number(obs.time_h, lang)} h)")
    if obs.gauge_m is not None:
        console.print(_("river gauge: {m} m").format(m=f"{obs.gauge_m:.2f}"))
    if obs.stale:  # the data platform is down, or a utility keeps its data: these readings are old
        from datetime import timedelta

        items = ", ".join(f"{_('River gauge') if k == 'gauge' else service(k, _)} "
                          f"{(scenario.start + timedelta(hours=h)):%H:%M}" for k, h in obs.stale.items())
        console.print(f"[red]{escape(_('Not live (last reading): {items}').format(items=items))}[/red]")
    words = scenario.inject_words(lang)
    inject = escape(_("INJECT"))
    for i in obs.injects:
        w = words(i["id"])
        console.print(f"[yellow]{inject}[/yellow] \\[{escape(_(i['channel']))}] "
                      f"{escape(w.get('sender', i['id']))}: {escape(w.get('text', ''))}")
    for q in obs.questions:
        question = escape(_("QUESTION {id}").format(id=q["id"]))
        console.print(f"[cyan]{question}[/cyan]: {escape(scenario.question_text(q['id'], lang))}")
    t = Table(title=_("services (share of people served)"))
    t.add_column(_("service"))
    t.add_column(_("served"), justify="right")
    for s, v in obs.service_totals.items():
        t.add_row(service(s, _), fmt.percent(v, lang))
    console.print(t)
    if obs.assets_down:
        console.print(_("down: {assets}").format(
            assets=", ".join(f"{a['id']} ({cause(str(a['cause']), _)})" for a in obs.assets_down[:30])), markup=False)
    if obs.assets_on_backup:
        console.print(_("on backup: {assets}").format(
            assets=", ".join(_("{id} ({h} h left)").format(id=a["id"], h=f"{a['backup_left_h']:.1f}")
                             for a in obs.assets_on_backup[:30])), markup=False)
    console.print(_("budget left: {budget} · generators: {generators} · crews idle: {idle}/{crews}").format(
        budget=fmt.money(obs.budget_left, scenario.resources.currency, lang), generators=obs.generators_available,
        idle=sum(c["state"] == "idle" for c in obs.crews), crews=len(obs.crews)), markup=False)


def cmd_play(args: argparse.Namespace) -> int:
    from .game import GameSession
    from .i18n import translator
    from .resources import find_scenario
    from .scenario import load_scenario

    _ = translator(args.lang)
    console = _console()
    store = None
    try:
        if args.practice and not args.learner:
            raise ScroSimError(Msg(N_("a practice game is stored under a learner: give --learner NAME")),
                               field="learner")
        if args.replay and not args.practice:
            raise ScroSimError(Msg(N_("only a practice game replays an earlier game's situation: add --practice")),
                               field="replay")
        if args.replay and args.seed is not None:
            raise ScroSimError(Msg(N_("--replay plays the earlier game's seed: leave out --seed")), field="seed")
        scenario, city = load_scenario(find_scenario(args.scenario))
        seed = 0 if args.seed is None else args.seed
        if args.practice:
            import uuid

            store = _store(args)
            if args.replay:
                seed = _replayed_game(store, args.learner, args.replay, scenario).seed
            game = GameSession.start(scenario, city, seed, store=store, game_id=uuid.uuid4().hex,
                                     learner=args.learner, lang=args.lang, cohort=args.cohort, practice=True)
            console.print(_("practice game: scored and debriefed, never graded or exported"), markup=False)
            console.print(_("game {id} on seed {seed}: play this situation again with "
                            "--practice --replay {short}").format(id=game.game_id, seed=seed,
                                                                  short=str(game.game_id)[:8]), markup=False)
        else:
            game = GameSession.start(scenario, city, seed, lang=args.lang)
    except ScroSimError as exc:
        if store is not None:
            store.close()
        return _fail(exc, args.lang)
    try:
        return _play_loop(args, game, console)
    finally:
        if store is not None:
            store.close()


def _replayed_game(store: Any, learner: str, wanted: str, scenario: Any) -> Any:
    """The learner's earlier game of this scenario text whose id is (or starts with) ``wanted``: a practice
    game replays its seed, the same hazard, timings and repair times (as the app's "Practise on")."""
    earlier = [g for g in store.list_games(learner) if g.scenario_hash == scenario.source_sha256]
    found = [g for g in earlier if g.id == wanted] or [g for g in earlier if g.id.startswith(wanted)]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(f"{g.id[:8]} (seed {g.seed}, {g.created_at:%Y-%m-%d %H:%M})" for g in earlier[:10])
    if not found:
        raise ScroSimError(Msg(N_("{learner} has no earlier game {game!r} of {scenario}; their games of it: {games}"),
                               learner=learner, game=wanted, scenario=scenario.id, games=listed or "—"),
                           field="replay")
    raise ScroSimError(Msg(N_("{game!r} starts {n} of {learner}'s games of {scenario}: give more of its id"),
                           game=wanted, n=len(found), learner=learner, scenario=scenario.id), field="replay")


def _print_hints(game: Any, console: Any, lang: str) -> None:
    """A practice game's hints at this decision point (what is asked, what the expert had done), as the app shows them."""
    from .hints import practice_hints
    from .i18n import translator

    _ = translator(lang)
    try:
        hints = practice_hints(game.scenario, game.city, game.seed, game.sim.log, game.obs.time_h, lang)
    except Exception:  # a hint must never stop the game
        logging.getLogger(__name__).exception("the hints at %s h could not be made", game.obs.time_h)
        return
    console.print(_("hints (practice only):"), markup=False)
    if not hints:
        console.print("  " + _("No hint at this point: nothing is asked of you now, and you have done what the "
                               "expert plan had done by now."), markup=False)
    for h in hints:
        console.print(f"  - {h.text}", markup=False)


def _play_loop(args: argparse.Namespace, game: Any, console: Any) -> int:
    """The terminal game: read decisions until the end, then the metrics (and a stored game's card and debrief)."""
    from rich.markup import escape

    from .game import OUTCOMES
    from .i18n import translator
    from .policy import Decision
    from .scenario import text_in
    from .scoring import compute_metrics

    _ = translator(args.lang)
    scenario = game.scenario
    briefing = text_in(scenario.briefing or scenario.summary, args.lang)
    console.print(f"[bold]{escape(text_in(scenario.title, args.lang))}[/bold]\n{escape(briefing)}")
    console.print(_play_help(args.lang), markup=False)
    while not game.done:
        obs = game.obs
        _show_obs(obs, console, scenario, args.lang)
        if game.practice:  # hints only ever in a practice game: a graded game is the learner's own work
            _print_hints(game, console, args.lang)
        actions, rationale, answers, quit_ = [], "", {}, False
        while True:
            try:
                line = input("> ").strip()
            except EOFError:
                line = "quit"
            if not line:
                break
            if line in ("help", "?"):
                console.print(_play_help(args.lang), markup=False)
                continue
            if line == "status":
                _show_obs(obs, console, scenario, args.lang)
                if game.practice:
                    _print_hints(game, console, args.lang)
                continue
            if line == "quit":
                quit_ = True
                break
            if line.startswith("why "):
                rationale = line[4:]
                continue
            if line.startswith("answer "):
                parts = line.split(maxsplit=2)
                if len(parts) == 3:
                    answers[parts[1]] = parts[2]
                continue
            try:
                a = _parse_play(line)
                problems = game.check(Decision([*actions, a]))
                if problems:
                    console.print("[red]" + escape("\n".join(say(p, _) for p in problems)) + "[/red]")
                else:
                    actions.append(a)
                    console.print(_("ok: {action} {target}").format(action=a.action, target=a.target or ""),
                                  markup=False)
            except (ValueError, IndexError) as exc:  # a line the registry cannot read, said in the player's language
                said = say(exc.args[0], _) if len(exc.args) == 1 and isinstance(exc.args[0], str) else str(exc)
                console.print(f"[red]{escape(said)}[/red]")
        if quit_:
            out = game.skip_to_end()
        elif actions or rationale or answers:
            out = game.decide(Decision(actions, rationale, answers))
        else:
            out = game.advance()
        if not out.ok:
            text = OUTCOMES.get(out.kind) or out.kind  # _("") would be the catalogue's header
            said = "; ".join(out.reasons(_)) or _(text)
            console.print(f"[red]{escape(said)}[/red]" + (f" ({escape(out.detail)})" if out.detail else ""))
            if out.kind == "halted":
                return 1
    m = compute_metrics(game.sim.log)
    _summary(m, console, _("how it went"), args.lang)
    if game.card is not None:
        _print_card(game.card, console, args.lang)
        console.print(_("stored run {id} ({what})").format(
            id=game.run_id, what=_("practice, never graded") if game.practice else _("played")), markup=False)
        _print_debrief(game, console, args.lang)
    if args.out:
        Path(args.out).write_text(json.dumps(game.decisions, indent=2), encoding="utf-8")
        console.print(_("decisions written to {path}").format(path=args.out), markup=False)
    return 0


def _print_debrief(game: Any, console: Any, lang: str) -> None:
    """What the expert plan did differently on the same seed, one lesson a line (as the app's debrief)."""
    from . import debrief
    from .i18n import translator
    from .scoring.grading import ScoreCard

    expert = debrief.expert_log(game.scenario, game.city, game.seed)
    card = game.card if isinstance(game.card, ScoreCard) else ScoreCard.model_validate(game.card)
    items = debrief.lessons(game.sim.log, expert, game.scenario, card)
    _ = translator(lang)
    console.rule(_("debrief"))
    if not items:
        console.print(_("nothing the expert plan did differently on this seed"))
    name_of = debrief.names(game.city)
    for ls in items:
        console.print(f"{debrief.clock(game.scenario.start, ls.time_h, lang)}  "
                      + debrief.render_lesson(ls, lang, name_of=name_of, start=game.scenario.start,
                                              scenario=game.scenario), markup=False)


# -- assessment -------------------------------------------------------------------------------------


def _print_card(card: Any, console: Any, lang: str = "en") -> None:
    from rich.table import Table

    from .i18n import translator

    _ = translator(lang)
    verdict = _("PASS") if card.passed else _("FAIL")
    t = Table(title=_("{scenario} · total {total} / 100 · {verdict}").format(
        scenario=card.scenario, total=f"{card.total:.1f}", verdict=verdict)
        + (" " + _("(provisional)") if card.provisional else ""))
    for col in (_("criterion"), _("value"), _("rating"), _("points"), _("outcome"), _("status")):
        t.add_column(col)
    for c in card.criteria:
        val = "" if c.value is None else f"{c.value:,.2f}"
        t.add_row(c.title, val, c.rating or "-", f"{c.points:.2f}/{c.weight:g}", c.outcome, _(c.status))
    console.print(t)
    _print_modules(card, console)
    _print_judged(card, console, lang)


def _print_modules(card: Any, console: Any) -> None:
    """The card's results by course module, each named in the card's language (as the app's debrief)."""
    from rich.markup import escape

    from .debrief import module_results

    for m in module_results(card, card.lang):
        score = "-" if m.score is None else f"{m.score:.1f}"
        console.print(f"module {escape(m.label)}: {score}{' (provisional)' if m.provisional else ''} "
                      f"[{escape(', '.join(m.outcomes))}]")


def _print_judged(card: Any, console: Any, lang: str = "en") -> None:
    """Under the table: each judged criterion still awaiting judgement with the rubric's guidance
    (what the assessor rates against, as the review page shows it), and each comment given."""
    from .i18n import translator

    _ = translator(lang)
    for c in card.criteria:
        if c.kind == "judged" and c.rating is None:
            console.print(_("{id} awaiting judgement (evidence in the log: {n}); guidance: {guidance}").format(
                id=c.id, n=len(c.evidence), guidance="; ".join(f"{k}: {v}" for k, v in c.guidance.items())),
                markup=False)
        elif c.comment:
            console.print(_("{id} rated {rating} by {by}: {comment}").format(
                id=c.id, rating=c.rating, by=c.by or "-", comment=c.comment), markup=False)


def cmd_grade(args: argparse.Namespace) -> int:
    from .assessment import regrade, score
    from .log import EventLog
    from .scenario import load_scenario

    console = _console()
    try:
        if Path(args.target).is_file():
            if not args.scenario:
                print("grading a log file needs --scenario", file=sys.stderr)
                return 2
            scenario, city = load_scenario(args.scenario)
            log = EventLog.read_jsonl(args.target)
            start = log.first("run_start")
            seed = int(start.data["seed"]) if start else 0
            card = score(scenario, city, seed, log, lang=args.lang)
        else:
            with _store(args) as store:
                text = Path(args.scenario).read_text(encoding="utf-8") if args.scenario else None
                card = regrade(store, store.resolve_run_id(args.target), text)
    except ScroSimError as exc:
        return _fail(exc)
    _print_card(card, console)
    return 0


def _runs_table(runs: list[Any]) -> Any:
    """The stored runs as a rich table whose run ids are never cut (they are what verify/judge take)."""
    from rich import box
    from rich.table import Table

    t = Table(title=f"{len(runs)} runs", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), collapse_padding=True)
    t.add_column("run", no_wrap=True, min_width=max((len(r.id) for r in runs), default=3))
    for col in ("learner", "cohort", "scenario", "seed", "score", "result", "finished", "origin"):
        t.add_column(col, overflow="fold")  # the others wrap, the id never
    for r in runs:
        t.add_row(*_run_cells(r))
    return t


def _run_cells(r: Any) -> list[str]:
    return [r.id, r.learner, r.cohort or "", r.scenario_id, str(r.seed), f"{r.total:.1f}",
            ("pass" if r.passed else "fail") + (" (provisional)" if r.provisional else ""),
            r.finished_at.strftime("%Y-%m-%d %H:%M"), r.origin]


def cmd_runs(args: argparse.Namespace) -> int:
    with _store(args) as store:
        runs = store.list_runs(learner=args.learner, scenario=args.scenario, cohort=args.cohort)
    if sys.stdout.isatty():
        _console().print(_runs_table(runs))
    else:  # piped: plain tab-separated lines, whole ids, for cut/grep/awk
        print("\t".join(("run", "learner", "cohort", "scenario", "seed", "score", "result", "finished", "origin")))
        for r in runs:
            print("\t".join(_run_cells(r)))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .assessment import verify_run

    try:
        with _store(args) as store:
            rep = verify_run(store, store.resolve_run_id(args.run_id))
    except ScroSimError as exc:
        return _fail(exc)
    print(rep)
    return 0 if rep.verified else 1


def cmd_resign(args: argparse.Namespace) -> int:
    from .assessment import resign_runs

    try:
        with _store(args) as store:
            ids = [store.resolve_run_id(i) for i in args.run_ids] if args.run_ids else None
            results = resign_runs(store, ids, unsigned=args.unsigned)
    except ScroSimError as exc:
        return _fail(exc)
    done = ("current", "re-signed", "signed")
    for run_id, outcome in results:
        if outcome != "current" or args.verbose:
            print(f"run {run_id}: {outcome}")
    counts = {k: sum(o == k for _, o in results) for k in done}
    failed = len(results) - sum(counts.values())
    print(f"{counts['re-signed']} re-signed, {counts['signed']} signed, {counts['current']} already current, "
          f"{failed} not verified")
    return 1 if failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    from .assessment import export_cohort, export_options, grade_rows, provisional_mode
    from .lms import export, pseudonymise

    try:
        mode = provisional_mode(args.provisional)
        options = export_options(args.format, openedx_map=args.openedx_map, xapi_homepage=args.xapi_homepage,
                                 xapi_activity_base=args.xapi_activity_base)
        if args.format == "openedx" and mode == "mark":
            print("note: provisional grades are held back: the Open edX import cannot mark them", file=sys.stderr)
        with _store(args) as store:
            if args.pseudonymise:
                # a fresh random key per export (unlinkable across exports) unless one is kept in the environment
                kept = os.environ.get("SCRO_SIM_PSEUDONYM_KEY", "")
                key = kept.encode("utf-8") if kept else secrets.token_bytes(32)
                if args.format == "openedx":
                    raise ScroSimError("a pseudonymised export is for analysis: use --format openedx-sheet, moodle "
                                       "or xapi (the Open edX import files grades by real user ids)",
                                       field="--pseudonymise")
                text = export(pseudonymise(grade_rows(store, args.cohort), key), args.format, provisional=mode,
                              **options)
            else:
                text = export_cohort(store, args.cohort, args.format, provisional=mode, options=options)
    except (ScroSimError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return _emit(text, args.out)


def _emit(text: str, out: str | None) -> int:
    """Write ``text`` to ``out`` (saying so) or to standard output; a file that cannot be written is one clear line."""
    if not out:
        sys.stdout.write(text)
        return 0
    try:
        Path(out).write_text(text, encoding="utf-8", newline="")
    except OSError as exc:
        print(f"{out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


def cmd_cohort(args: argparse.Namespace) -> int:
    """The cohort dashboard as HTML or CSV (``--as USER``: only what that lecturer or assessor may see)."""
    from .report.cohort import cohort_dashboard, write_dashboard

    try:
        with _store(args) as store:
            dash = cohort_dashboard(store, args.cohort, args.viewer, inactive_days=args.inactive_days)
        text = write_dashboard(dash, args.format, args.lang or "en")
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8")
    except ScroSimError as exc:
        return _fail(exc)
    except OSError as exc:
        print(f"{args.out}: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if args.out:
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_lrs(args: argparse.Namespace) -> int:
    """Send a cohort's xAPI statements to the LRS through the queue, or retry what is queued."""
    from .assessment import export_options, grade_rows, provisional_mode
    from .lms import xapi_statements
    from .lrs import flush, lrs_settings, push

    with _store(args) as store:
        if args.lrs_command == "status":
            counts = store.lrs_queue_counts()
            print(", ".join(f"{n} {status}" for status, n in counts.items()))
            return 0
        settings = lrs_settings(args.endpoint, args.username)
        if args.lrs_command == "push":
            options = export_options("xapi", xapi_homepage=args.xapi_homepage,
                                     xapi_activity_base=args.xapi_activity_base)
            statements = xapi_statements(grade_rows(store, args.cohort), provisional=provisional_mode(args.provisional),
                                         **options)
            report = push(store, statements, settings)
        else:
            report = flush(store, settings, everything=args.all)
    print(report.summary())
    return 2 if report.pending else 0


def _learner_transcript(store: Any, learner: str) -> list[Any]:
    from .assessment import grade_rows
    from .transcript import transcript

    if learner not in {u.username for u in store.list_users()} and not any(
            r.username == learner for r in grade_rows(store)):
        raise ScroSimError(f"unknown learner {learner!r}", field="learner")
    return transcript(grade_rows(store), learner)


def _module_facts() -> dict[str, dict[str, Any]] | None:
    """Each course module's title, EQF level and ECVET points from the course map in use (None without one)."""
    from .course import default_course

    try:
        course = default_course()
    except ScroSimError:
        return None
    return {m.id: {"module_title": course.module_title(m.id), "eqf_level": m.eqf_level, "ecvet_points": m.ecvet_points}
            for _group, m in course.modules()}


def cmd_transcript(args: argparse.Namespace) -> int:
    """Which module outcomes a learner's graded runs evidenced, at what rating (CSV or JSON)."""
    from .transcript import transcript_csv, transcript_json

    with _store(args) as store:
        lines = _learner_transcript(store, args.learner)
    facts = _module_facts()
    text = (transcript_csv(lines, facts) if args.format == "csv"
            else transcript_json(args.learner, lines, modules=facts))
    return _emit(text, args.out)


def cmd_credential(args: argparse.Namespace) -> int:
    """Issue, verify, or publish the key of Open Badges 2.0 signed assertions for completed modules."""
    from .credentials import badge_issuer, issue_credential, public_key_pem, verify_credential
    from .transcript import completed_modules

    if args.credential_command == "verify":
        try:
            token = Path(args.file).read_text(encoding="utf-8")
            key = Path(args.key).read_text(encoding="utf-8") if args.key else public_key_pem(badge_issuer())
        except OSError as exc:
            raise ScroSimError(f"cannot read it: {exc.strerror or exc}", path=exc.filename or args.file) from None
        found = verify_credential(token, key)
        print(f"verified: {found.badge_name}, issued {found.issued_on} by "
              f"{found.assertion['badge'].get('issuer', {}).get('name', '?')} ({found.algorithm})")
        return 0
    issuer = badge_issuer()
    if args.credential_command == "public-key":
        sys.stdout.write(public_key_pem(issuer))
        return 0
    with _store(args) as store:
        lines = _learner_transcript(store, args.learner)
        user = next((u for u in store.list_users() if u.username == args.learner), None)
    done = completed_modules(lines)
    if args.module not in done:
        evidenced = sorted({ln.module for ln in lines})
        raise ScroSimError(f"{args.learner} has not completed module {args.module!r} (every outcome evidenced at P, S "
                           f"or M); modules completed: {', '.join(done) or 'none'}; evidenced: "
                           f"{', '.join(evidenced) or 'none'}", field="module")
    recipient = (user.email if user and user.email else f"{issuer.url}/learners/{args.learner}")
    token = issue_credential(issuer, learner=args.learner, recipient=recipient, module=args.module,
                             evidence=done[args.module])
    Path(args.out).write_text(token + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """The new account's password: from stdin (--password-stdin), the option or $SCRO_SIM_PASSWORD,
    else asked twice without echo (and checked before it is asked again)."""
    from .store.passwords import check_password_strength

    if args.password_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            raise ScroSimError("no password on standard input", field="password")
        return line.rstrip("\r\n")
    given = args.password or os.environ.get("SCRO_SIM_PASSWORD")
    if given:
        return given
    try:
        first = getpass.getpass(f"password for {args.username}: ")
        check_password_strength(first, user_inputs=(args.username, args.name, args.email))
        again = getpass.getpass("the same password again: ")
    except EOFError:
        raise ScroSimError("no password given: type it at the prompt, or use --password-stdin",
                           field="password") from None
    if first != again:
        raise ScroSimError("the two passwords differ; nothing was changed", field="password")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    try:
        password = _new_password(args)
        with _store(args) as store:
            u = store.add_user(args.username, password, args.role, display_name=args.name, email=args.email,
                               language=args.lang)
            for c in args.cohort or []:
                if c not in {x.name for x in store.list_cohorts()}:
                    store.add_cohort(c)
                store.add_member(c, u.username)
    except ScroSimError as exc:
        return _fail(exc)
    print(f"added {u.role} {u.username}")
    return 0


def cmd_user_export(args: argparse.Namespace) -> int:
    from .privacy import export_person_json

    try:
        with _store(args) as store:
            text = export_person_json(store, args.username)
    except ScroSimError as exc:
        return _fail(exc)
    if not args.out:
        sys.stdout.write(text)
        return 0
    out = Path(args.out)
    # personal data: readable by its owner only
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {out}: everything held about {args.username}")
    return 0


def cmd_user_erase(args: argparse.Namespace) -> int:
    from .privacy import erase_person

    if not args.yes:
        print(f"This erases {args.username}'s account, e-mail, name, games and every free text of their runs; "
              "their runs stay in cohort statistics under a pseudonym. It cannot be undone.")
        try:
            answer = input(f"type {args.username} to confirm: ")
        except EOFError:
            answer = ""
        if answer.strip() != args.username:
            print("not confirmed; nothing was erased", file=sys.stderr)
            return 1
    try:
        with _store(args) as store:
            done = erase_person(store, args.username)
    except ScroSimError as exc:
        return _fail(exc)
    print(f"erased {args.username}: {done.runs} runs kept as {done.pseudonym}, {done.games_deleted} games deleted, "
          f"account {done.account}")
    return 0


def cmd_rate(args: argparse.Namespace) -> int:
    from .assessment import judge, override

    fn = judge if args.command == "judge" else override
    try:
        with _store(args) as store:
            card = fn(store, store.resolve_run_id(args.run_id), args.criterion, args.rating, args.comment,
                      args.assessor)
    except ScroSimError as exc:
        return _fail(exc)
    _print_card(card, _console())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .assessment import card_in_language, scenario_from_text
    from .feedback import run_feedback
    from .log import EventLog
    from .report import write_report
    from .scoring import ScoreCard

    try:
        with _store(args) as store:
            run = store.get_run(store.resolve_run_id(args.run_id))
            if run is None:
                print(f"no run {args.run_id!r}", file=sys.stderr)
                return 1
            scenario, city = scenario_from_text(run.scenario_yaml, f"<run {run.id} scenario>")
            card = ScoreCard.model_validate(run.scorecard)
            log = EventLog.from_jsonl(run.log_jsonl)
            if args.lang:  # the card's titles and feedback re-worded, as the app does
                card = card_in_language(store, run, scenario, city, args.lang)
            feedback = run_feedback(store, run.id)
    except ScroSimError as exc:
        return _fail(exc)
    try:
        write_report(args.out, log, card, scenario, lang=args.lang or card.lang, city=city, played_on=run.finished_at,
                     feedback=feedback)
    except ScroSimError as exc:
        return _fail(exc)
    print(f"wrote {args.out}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import demo_wanted, seed_demo

    if args.auto:
        wanted, why = demo_wanted(db=args.db)
        if not wanted:
            print(why)
            return 0
    try:
        with _store(args) as store:
            for line in seed_demo(store):
                print(line)
    except ScroSimError as exc:
        _fail(exc)
        return 0 if args.auto else 1  # `make run` still starts the app, without demo accounts
    return 0


def cmd_app(args: argparse.Namespace) -> int:
    from .resources import app_script

    app = app_script()
    if not app.is_file():
        print(f"scro-sim: the app is missing from this installation (looked for {app})", file=sys.stderr)
        return 1
    # the settings of .streamlit/config.toml as flags: that file is only read from the current folder
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.address", args.address,
           "--server.port", str(args.port), "--server.headless", "true", "--server.maxUploadSize", "1",
           "--client.showErrorDetails", "none", "--client.toolbarMode", "minimal",
           "--browser.gatherUsageStats", "false",
           # no watching of source files (after every rerun it resolved the path of each imported
           # module) and no full collection after every rerun (it walks the whole heap, which grows
           # with the sessions: 0.2 s and more per click); Python's own collector still runs
           "--server.fileWatcherType", "none", "--runner.postScriptGC", "false",
           # text dark enough that captions (drawn at 60 % of it) meet WCAG AA contrast
           "--theme.base", "light", "--theme.textColor", "#0e1117", "--theme.secondaryBackgroundColor", "#f5f6f8"]
    env = dict(os.environ)
    if args.db:
        env["SCRO_SIM_DB"] = args.db
    return _run_until_stopped(cmd, env)


def _run_until_stopped(cmd: list[str], env: dict[str, str], grace_s: float = 10.0) -> int:
    """Run ``cmd`` in its own process group until it ends; Ctrl-C, SIGTERM or SIGHUP to us stop it too.

    The child gets the signal as SIGTERM (to its whole group, so nothing it started keeps the
    port) and ``grace_s`` seconds to shut down before SIGKILL; we return only once it is gone.
    Returns 0 after a requested stop, else the child's exit status.
    """
    import signal
    import subprocess
    import time

    posix = os.name == "posix"
    kill = getattr(signal, "SIGKILL", signal.SIGTERM)
    procs: list[subprocess.Popen[bytes]] = []
    stop_at: list[float] = []

    def signal_group(sig: int) -> None:
        for proc in procs:
            try:
                if posix:
                    os.killpg(proc.pid, sig)
                else:
                    proc.terminate()
            except (ProcessLookupError, PermissionError):
                pass  # already gone

    def on_signal(signum: int, frame: Any) -> None:
        if not stop_at:
            stop_at.append(time.monotonic())
        signal_group(signal.SIGTERM)

    # handlers first, so a signal that arrives while the child starts is not lost
    caught = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    previous = {s: signal.signal(s, on_signal) for s in caught}
    try:
        procs.append(subprocess.Popen(cmd, env=env, **(
            {"start_new_session": True} if posix
            else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)})))
        if stop_at:
            signal_group(signal.SIGTERM)
        while True:
            try:
                code = procs[0].wait(timeout=0.5)
                break
            except subprocess.TimeoutExpired:
                if stop_at and time.monotonic() - stop_at[0] > grace_s:
                    signal_group(kill)
    finally:
        if procs and procs[0].poll() is None:  # leaving for another reason (an error): never leave it running
            signal_group(kill)
            procs[0].wait()
        for s, h in previous.items():
            signal.signal(s, h)
    return 0 if stop_at else code


# -- LTI 1.3 (docs/lti.md) -----------------------------------------------------------------------


def _lti_config(args: argparse.Namespace) -> Any:
    from .lti import CONFIG_ENV, LtiError, load_config

    path = args.config or os.environ.get(CONFIG_ENV, "").strip()
    if not path:
        raise LtiError(f"no LTI set-up: pass --config FILE or set {CONFIG_ENV} (see docs/lti.md)", field="--config")
    return load_config(path)


def cmd_lti_serve(args: argparse.Namespace) -> int:
    """Serve the launch endpoint a course platform calls (login, launch, deep linking, the tool's JWKS)."""
    import logging

    from .lti.server import make_server

    config = _lti_config(args)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with _store(args) as store:
        server = make_server(config, store, args.address, args.port)
        host, port = server.server_address[:2]
        print(f"LTI launch endpoint on http://{host}:{port} for {config.base_url} "
              f"({len(config.platforms)} platform(s)); the app is {config.app_url}; Ctrl-C stops it", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


def cmd_lti_sync(args: argparse.Namespace) -> int:
    """Send again the grades whose post to a course platform failed (or every one with --all)."""
    from .assessment import post_lti_grade

    config = _lti_config(args)  # a set-up problem is one clear line, not a failure per grade
    failed = 0
    with _store(args) as store:
        pending = sorted({(i.username, i.scenario_id) for i in store.lti_line_items(args.learner, unsent=not args.all)})
        for learner, scenario_id in pending:
            for lineitem, status in post_lti_grade(store, learner, scenario_id, config):
                print(f"{learner}\t{scenario_id}\t{lineitem}\t{status}")
                failed += status != "sent"
    if not pending:
        print("no grades waiting to be sent")
    return 1 if failed else 0


# -- calibrate ----------------------------------------------------------------------------------


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Four policies on paired seeds: does the rubric discriminate?  Exit 1 when a target is flagged."""
    from rich.table import Table

    from .calibration import RATINGS, calibrate, check
    from .scenario import load_scenario

    if args.n < 1 or (args.workers is not None and args.workers < 1):
        print("scro-sim calibrate: -n and --workers must be at least 1", file=sys.stderr)
        return 2
    if args.out and Path(args.out).suffix not in (".csv", ".json", ".md"):
        print(f"scro-sim calibrate: --out {args.out}: write .csv, .json or .md", file=sys.stderr)
        return 2
    scenario, city = load_scenario(args.scenario)
    cal = calibrate(scenario, city, args.n, args.seed_base, workers=args.workers)
    flags = check(cal)
    console = _console()
    t = Table(title=f"{cal.scenario}: ratings over {cal.n} paired seeds (% of seeds)")
    for col in ("criterion", "policy", *RATINGS, "P or S"):
        t.add_column(col, justify="left" if col in ("criterion", "policy") else "right")
    for r in cal.shares().to_dict("records"):
        t.add_row(r["criterion"], r["policy"], *(f"{100 * r[k]:.0f}" if r[k] == r[k] else "–" for k in (*RATINGS, "pass")))
    console.print(t)
    t = Table(title=f"totals (pass mark {cal.pass_mark:g})")
    for col in ("policy", "passes %", "mean", "10th pct", "90th pct"):
        t.add_column(col, justify="left" if col == "policy" else "right")
    for r in cal.totals().to_dict("records"):
        t.add_row(r["policy"], f"{100 * r['pass_rate']:.0f}", f"{r['mean']:.1f}", f"{r['p10']:.1f}", f"{r['p90']:.1f}")
    console.print(t)
    console.print(f"random below greedy in {100 * cal.paired('random', 'greedy'):.1f} % of seeds")
    if cal.judged:
        console.print(f"judged, not computed: {', '.join(cal.judged)}")
    if cal.relative:
        console.print(f"relative to the expert (the expert meets them by construction; random and greedy are the "
                      f"real test): {', '.join(cal.relative)}")
    for f in flags:
        console.print(f"[red]FLAG[/red] {f}")
    if not flags:
        console.print("[green]every discrimination target is met[/green]")
    if args.out:
        out = Path(args.out)
        if out.suffix == ".csv":
            cal.table().to_csv(out, index=False)
        elif out.suffix == ".json":
            out.write_text(cal.to_json(flags), encoding="utf-8")
        else:
            out.write_text(cal.to_markdown(flags), encoding="utf-8")
        console.print(f"figures written to {out}")
    return 1 if flags else 0


# -- course map and lint -------------------------------------------------------------------------


def cmd_course(args: argparse.Namespace) -> int:
    """The course map's modules, and which criteria of which exercises give evidence for each."""
    from rich.table import Table

    from .course import coverage, load_course, text_in
    from .resources import bundled_scenarios, course_file, find_scenario
    from .scenario import load_scenario

    course = load_course(args.map) if args.map else load_course()
    files = [find_scenario(f) for f in args.scenarios] if args.scenarios else bundled_scenarios()
    citations: list[tuple[str, str, str]] = []
    written_for: dict[str, list[str]] = {}  # group (or "" for none) -> exercises
    levels: dict[str, list[str]] = {level: [] for level in ("beginner", "intermediate", "advanced")}
    for f in files:
        sc, _city = load_scenario(f)
        citations += [(sc.id, c.id, c.outcome) for c in sc.rubric.criteria]
        for g in sc.groups or ("",):
            written_for.setdefault(g, []).append(sc.id)
        levels.setdefault(sc.level, []).append(sc.id)
    cov = coverage(course, citations)
    lang = args.lang
    console = _console()
    where = args.map or course_file()
    note = " (an example map: adapt it to your course)" if course.example else ""
    cols = ("module", "group", "title", "EQF", "ECVET", "criteria (exercise: criterion)", "exercises")
    rows = [(m.id, g.id, text_in(m.title, lang), str(m.eqf_level), f"{m.ecvet_points:g}",
             ", ".join(f"{e}: {c}" for e, c in cov[m.id]) or "-", str(len({e for e, _ in cov[m.id]})))
            for g, m in course.modules()]
    if sys.stdout.isatty():
        table = Table(title=f"{text_in(course.title, lang)}: {where}{note}")
        for col in cols:
            table.add_column(col, justify="right" if col in ("EQF", "ECVET", "exercises") else "left")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    else:  # piped: one module a line, tab-separated (as `scro-sim runs`)
        print(f"# {text_in(course.title, lang)}: {where}{note}")
        for row in (cols, *rows):
            print("\t".join(row))
    modules = [m for _, m in course.modules()]
    covered = [m for m in modules if cov[m.id]]
    per_group = {g.id: sum(1 for m in g.modules if cov[m.id]) for g in course.groups}
    print(f"{len(covered)} of {len(modules)} modules have evidence from {len(files)} exercises; per group: "
                  + ", ".join(f"{k} {v}/{len(next(g for g in course.groups if g.id == k).modules)}"
                              for k, v in per_group.items()))
    missing = [m.id for m in modules if not cov[m.id]]
    if missing:
        print(f"no evidence yet: {', '.join(missing)}")

    def counted(ids: list[str]) -> str:
        return f"{len(ids)} ({', '.join(sorted(ids))})" if ids else "0"

    others = {k: v for k, v in written_for.items() if k not in {g.id for g in course.groups}}
    print("exercises per group (group:): " + "; ".join(
        [f"{g.id} {counted(written_for.get(g.id, []))}" for g in course.groups]
        + [f"{k or 'none'} {counted(v)}" for k, v in sorted(others.items())]))
    print("exercises per level: " + "; ".join(f"{k} {counted(v)}" for k, v in levels.items()))
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    """A scenario checked as an exercise: one ``path:line: rule: message`` line per finding; exit 1 on errors."""
    from .i18n import translator
    from .lint import has_errors, lint_file
    from .resources import find_scenario

    if args.calibrate < 0:
        print("scro-sim lint: --calibrate must be 0 or more", file=sys.stderr)
        return 2
    bad = False
    for f in args.scenarios:
        findings = lint_file(find_scenario(f), calibrate_n=args.calibrate)
        findings = [x for x in findings if not (args.errors_only and x.severity == "warning")]
        words = translator(args.lang)
        for x in findings:
            print(x.say(words))
        errors = sum(x.severity == "error" for x in findings)
        print(f"{f}: {errors} errors, {len(findings) - errors} warnings", file=sys.stderr)
        bad = bad or has_errors(findings)
    return 1 if bad else 0


# -- parser ---------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scro-sim", description="Disaster-response tabletop simulation for SCROs.")
    p.add_argument("--db", default=None, help="database URL (default: $SCRO_SIM_DB or sqlite:///var/scro_sim.sqlite)")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check scenario, city, plan and course map files")
    v.add_argument("files", nargs="+")
    v.add_argument("--scenario", help="scenario to cross-check plans against (a file or a bundled scenario's name)")
    v.add_argument("--lang", default="en", choices=["en", "el", "de", "pt"],
                   help="language of the messages (file:line: field: stay as the file spells them)")
    v.set_defaults(fn=cmd_validate)

    s = sub.add_parser("schema", help="write JSON Schemas for editors")
    s.add_argument("--out", default="schema", help="folder to write them to (default: schema/ in the current folder)")
    s.set_defaults(fn=cmd_schema)

    def policy_args(q: argparse.ArgumentParser) -> None:
        q.add_argument("--plan", help="response plan YAML, or the name of a bundled one (riverton_cautious)")
        q.add_argument("--baseline", default="do_nothing", choices=["do_nothing", "greedy", "expert"])
        q.add_argument("--seed", type=seed_arg, default=0)

    r = sub.add_parser("run", help="run a scenario to the end with a plan or a baseline")
    r.add_argument("scenario", help="scenario file, or the name of a bundled one (riverton_flood)")
    policy_args(r)
    r.add_argument("--out", help="write the event log (JSON Lines)")
    r.add_argument("--store", action="store_true", help="grade and store the run")
    r.add_argument("--learner", default="cli")
    r.add_argument("--cohort")
    r.add_argument("--origin", choices=["plan", "reference", "baseline", "cli"],
                   help="what the stored run is for; only 'plan' (the learner's own --plan, submitted as theirs) "
                        "is graded (default: reference for the expert, baseline for the others, cli for a plan)")
    r.set_defaults(fn=cmd_run)

    pl = sub.add_parser("play", help="play a scenario in the terminal")
    pl.add_argument("scenario", help="scenario file, or the name of a bundled one (riverton_flood)")
    pl.add_argument("--seed", type=seed_arg, default=None, help="the situation to play (default 0)")
    pl.add_argument("--lang", default="en", choices=["en", "el", "de", "pt"])
    pl.add_argument("--out", help="write your decisions (JSON)")
    pl.add_argument("--practice", action="store_true",
                    help="a practice game: stored under --learner with a score card and debrief, never graded, "
                         "with hints at each decision point")
    pl.add_argument("--replay", metavar="GAME",
                    help="with --practice: play the situation (seed) of an earlier game of --learner again "
                         "(its id or the start of it, as a practice game prints it)")
    pl.add_argument("--learner", help="the learner a practice game is stored under")
    pl.add_argument("--cohort")
    pl.set_defaults(fn=cmd_play)

    me = sub.add_parser("metrics", help="list the metrics rubric criteria may name (Markdown table)")
    me.add_argument("--lang", default="en", choices=["en", "el", "de", "pt"])
    me.set_defaults(fn=cmd_metrics)

    g = sub.add_parser("grade", help="grade a stored run or an event-log file")
    g.add_argument("target", help="run id (or any unique start of one) or .jsonl file")
    g.add_argument("--scenario", help="scenario file (for log files, or a revised rubric for a stored run)")
    g.add_argument("--lang", default="en")
    g.set_defaults(fn=cmd_grade)

    ru = sub.add_parser("runs", help="list stored runs")
    ru.add_argument("--learner")
    ru.add_argument("--scenario")
    ru.add_argument("--cohort")
    ru.set_defaults(fn=cmd_runs)

    ve = sub.add_parser("verify", help="check a stored run's signature, re-simulate and re-grade it")
    ve.add_argument("run_id", help="a run id, or any unique start of one")
    ve.set_defaults(fn=cmd_verify)

    rs = sub.add_parser("resign", help="re-sign stored runs with the current secret after checking them")
    rs.add_argument("run_ids", nargs="*", help="runs to re-sign (default: all)")
    rs.add_argument("--unsigned", action="store_true",
                    help="also sign runs stored before signing, once re-simulation verifies them")
    rs.add_argument("--verbose", "-v", action="store_true", help="list runs already signed with the current key")
    rs.set_defaults(fn=cmd_resign)

    ex = sub.add_parser("export", help="export grades for the LMS")
    ex.add_argument("--cohort")
    ex.add_argument("--format", required=True, choices=["moodle", "openedx", "openedx-sheet", "xapi"],
                    help="openedx: the CSV Open edX's Gradebook bulk management imports (needs --openedx-map); "
                         "openedx-sheet: a readable grade sheet it cannot import")
    ex.add_argument("--out")
    ex.add_argument("--openedx-map", metavar="FILE",
                    help="the course's Open edX ids (YAML; default $SCRO_SIM_OPENEDX_MAP)")
    ex.add_argument("--xapi-homepage", metavar="IRI",
                    help="the learners' account homePage (default $SCRO_SIM_XAPI_HOMEPAGE)")
    ex.add_argument("--xapi-activity-base", metavar="IRI",
                    help="the folder IRI of scenario, module and course activities (default $SCRO_SIM_XAPI_ACTIVITY_BASE)")
    ex.add_argument("--pseudonymise", action="store_true",
                    help="for analysis: learners as keyed-hash pseudonyms, no names or e-mails "
                         "(key: $SCRO_SIM_PSEUDONYM_KEY, else random per export)")
    ex.add_argument("--provisional", choices=["mark", "hold"], default=None,
                    help="grades whose judged criteria are not yet rated: mark them (default) or hold them back "
                         "until rated (default from $SCRO_SIM_PROVISIONAL)")
    ex.set_defaults(fn=cmd_export)

    co = sub.add_parser("cohort", help="a cohort's dashboard: scores, ratings, missed actions, learners to support")
    co.add_argument("cohort")
    co.add_argument("--format", choices=["html", "csv"], default="html")
    co.add_argument("--out", help="file to write (default: standard output)")
    co.add_argument("--as", dest="viewer", metavar="USER",
                    help="only what this lecturer or assessor may see (a lecturer: the cohorts they belong to)")
    co.add_argument("--inactive-days", type=float, default=14.0,
                    help="flag learners with no game or run for longer than this (default 14)")
    co.add_argument("--lang", choices=["en", "de", "el", "pt"], help="language of the HTML page (default en)")
    co.set_defaults(fn=cmd_cohort)

    lrs = sub.add_parser("lrs", help="send xAPI statements to a Learning Record Store (queued, retried)")
    lrs_sub = lrs.add_subparsers(dest="lrs_command", required=True)
    lp = lrs_sub.add_parser("push", help="queue a cohort's statements and send them (exit 2: some stay queued)")
    lp.add_argument("--cohort")
    lp.add_argument("--provisional", choices=["mark", "hold"], default=None)
    lp.add_argument("--xapi-homepage", metavar="IRI")
    lp.add_argument("--xapi-activity-base", metavar="IRI")
    lr = lrs_sub.add_parser("retry", help="send the queued statements whose retry time has come")
    lr.add_argument("--all", action="store_true", help="every queued statement, without waiting for its backoff")
    for lrs_p in (lp, lr):
        lrs_p.add_argument("--endpoint", help="the LRS's xAPI base URL (default $SCRO_SIM_LRS_ENDPOINT)")
        lrs_p.add_argument("--username", help="default $SCRO_SIM_LRS_USERNAME; the password: $SCRO_SIM_LRS_PASSWORD")
    lrs_sub.add_parser("status", help="how many statements are pending, sent, rejected")
    lrs.set_defaults(fn=cmd_lrs)

    tr = sub.add_parser("transcript", help="a learner's evidenced module outcomes, by run and rating")
    tr.add_argument("learner")
    tr.add_argument("--format", choices=["csv", "json"], default="csv")
    tr.add_argument("--out")
    tr.set_defaults(fn=cmd_transcript)

    cr = sub.add_parser("credential", help="Open Badges 2.0 signed credentials for completed modules")
    cr_sub = cr.add_subparsers(dest="credential_command", required=True)
    ci = cr_sub.add_parser("issue", help="sign a badge for a completed module (key: $SCRO_SIM_BADGE_KEY)")
    ci.add_argument("learner")
    ci.add_argument("module")
    ci.add_argument("--out", required=True)
    cv = cr_sub.add_parser("verify", help="check a badge's signature and content")
    cv.add_argument("file")
    cv.add_argument("--key", help="the issuer's public key (PEM); default: the one of $SCRO_SIM_BADGE_KEY")
    cr_sub.add_parser("public-key", help="the issuer's public key (PEM), to publish and give to verifiers")
    cr.set_defaults(fn=cmd_credential)

    us = sub.add_parser("user", help="manage users")
    us_sub = us.add_subparsers(dest="user_command", required=True)
    ua = us_sub.add_parser("add", help="add a user")
    ua.add_argument("username")
    ua.add_argument("--role", required=True, choices=["learner", "lecturer", "assessor", "admin"])
    ua.add_argument("--password", help="(visible to other users of this machine; prefer the prompt, "
                                       "--password-stdin or $SCRO_SIM_PASSWORD)")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from standard input (scripts)")
    ua.add_argument("--name")
    ua.add_argument("--email")
    ua.add_argument("--lang", default="en", choices=["en", "el", "de", "pt"])
    ua.add_argument("--cohort", action="append")
    ua.set_defaults(fn=cmd_user_add)
    ue = us_sub.add_parser("export", help="everything held about a person, as JSON (GDPR access request)")
    ue.add_argument("username")
    ue.add_argument("--out", help="file to write (readable by you only); default: standard output")
    ue.set_defaults(fn=cmd_user_export)
    ur = us_sub.add_parser("erase", help="erase a person's data; their runs stay in statistics under a pseudonym")
    ur.add_argument("username")
    ur.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    ur.set_defaults(fn=cmd_user_erase)

    for name, helptext in (("judge", "rate a judged criterion"), ("override", "override a rating with a comment")):
        j = sub.add_parser(name, help=helptext)
        j.add_argument("run_id", help="a run id, or any unique start of one")
        j.add_argument("criterion")
        j.add_argument("rating", choices=["P", "S", "M", "U"])
        j.add_argument("--comment", required=(name == "override"), default="")
        j.add_argument("--assessor", required=True)
        j.set_defaults(fn=cmd_rate)

    rp = sub.add_parser("report", help="write the after-action report (HTML, or PDF by extension) of a stored run")
    rp.add_argument("run_id", help="a run id, or any unique start of one")
    rp.add_argument("--out", default="aar.html")
    rp.add_argument("--lang", choices=["en", "el", "de", "pt"])
    rp.set_defaults(fn=cmd_report)

    d = sub.add_parser("demo", help="create the demo accounts and cohort named in the README (a demo database only)")
    d.add_argument("--auto", action="store_true",
                   help="as `make run`: only the default local database, or with $SCRO_SIM_DEMO=1")
    d.set_defaults(fn=cmd_demo)

    a = sub.add_parser("app", help="start the Streamlit app")
    a.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    a.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    a.set_defaults(fn=cmd_app)

    ls = sub.add_parser("lti-serve", help="serve the LTI 1.3 launch endpoint for course platforms (docs/lti.md)")
    ls.add_argument("--config", help="the LTI set-up file (default: $SCRO_SIM_LTI_CONFIG)")
    ls.add_argument("--address", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ls.add_argument("--port", type=int, default=8502, help="port to listen on (default 8502)")
    ls.set_defaults(fn=cmd_lti_serve)

    ly = sub.add_parser("lti-sync", help="send again grades a course platform did not receive (exit 1 if some still fail)")
    ly.add_argument("--config", help="the LTI set-up file (default: $SCRO_SIM_LTI_CONFIG)")
    ly.add_argument("--learner", help="only this learner's grades")
    ly.add_argument("--all", action="store_true", help="every recorded line item, not only those that failed")
    ly.set_defaults(fn=cmd_lti_sync)

    ca = sub.add_parser("calibrate", help="check that a scenario's rubric discriminates (exit 1 if a target fails)")
    ca.add_argument("scenario")
    ca.add_argument("-n", type=int, default=200, help="paired seeds (default 200)")
    ca.add_argument("--seed-base", type=seed_arg, default=0, help="root seed of the paired seeds (default 0)")
    ca.add_argument("--workers", type=int, help="worker processes (default: the CPUs available; 1 = in-process)")
    ca.add_argument("--out", help="also write the figures: .csv, .json or .md")
    ca.set_defaults(fn=cmd_calibrate)

    co = sub.add_parser("course", help="the course map's modules and the criteria that give evidence for each")
    co.add_argument("scenarios", nargs="*", help="exercises to count (default: the bundled ones)")
    co.add_argument("--map", help="a course map file (default: $SCRO_SIM_COURSE or the bundled example)")
    co.add_argument("--lang", default="en", choices=["en", "el", "de", "pt"])
    co.set_defaults(fn=cmd_course)

    li = sub.add_parser("lint", help="check a scenario as an exercise (objectives, outcomes, injects, translations)")
    li.add_argument("scenarios", nargs="+", help="scenario files or bundled scenarios' names")
    li.add_argument("--calibrate", type=int, default=0, metavar="N",
                    help="also check that the criteria discriminate, on N paired seeds (slow; 0: off)")
    li.add_argument("--errors-only", action="store_true", help="leave warnings out")
    li.add_argument("--lang", default="en", choices=["en", "el", "de", "pt"], help="language of the messages")
    li.set_defaults(fn=cmd_lint)

    add_batch_commands(sub)
    _db_after_command(p)
    return p


def _db_after_command(parser: argparse.ArgumentParser) -> None:
    """Let ``--db URL`` follow the sub-command too (``scro-sim runs --db URL``), not only precede it."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if "--db" not in sub._option_string_actions:
                    # SUPPRESS: given after the command it sets args.db; not given, the global one stays
                    sub.add_argument("--db", default=argparse.SUPPRESS, metavar="URL",
                                     help="database URL (as before the command)")
                _db_after_command(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``scro-sim``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except ScroSimError as exc:
        return _fail(exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug, not bad input: one line for the user, the traceback on request
        if os.environ.get("SCRO_SIM_DEBUG"):
            raise
        print(f"scro-sim: internal error: {type(exc).__name__}: {exc} (set SCRO_SIM_DEBUG=1 to see where; "
              "please report it)", file=sys.stderr)
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
