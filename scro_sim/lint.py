"""``scro-sim lint``: a scenario checked as an exercise, beyond what the schema can say.

A scenario that validates can still teach badly: a module it claims with no criterion behind
it, a criterion that names no course outcome, an expected action no inject can ask for or no
action can meet, an inject that can never fire, texts a Greek learner reads in English, a
criterion every policy passes.  Each finding is ``path:line: rule: message``; errors make the
command exit non-zero, warnings do not.

Rules (:data:`RULES`): ``objective-criterion``, ``criterion-outcome``, ``group-weight``, ``inject-fires``,
``expected-action``, ``translation``, and with ``calibrate_n`` > 0 ``discriminates`` (the
discrimination targets of :mod:`scro_sim.calibration` on that many paired seeds).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from .course import default_course
from .errors import N_, Count, Msg, ScroSimError, Words, say
from .scenario import LANGUAGES, LocalText, Scenario, dist_bounds, load_scenario, scenario_course
from .yamlio import field_path

__all__ = ["GROUP_WEIGHT_MIN", "RULES", "Finding", "group_weights", "has_errors", "lint_file", "lint_scenario"]

#: the least share of the rubric's weight the declared module group should hold
GROUP_WEIGHT_MIN = 0.30

#: rule -> what it checks
RULES: dict[str, str] = {
    "objective-criterion": "every module in modules and every learning outcome has a criterion that evidences it",
    "criterion-outcome": "every criterion cites a module outcome of the course map (not only the scenario's own)",
    "group-weight": f"the module group the exercise declares (group:) holds at least {GROUP_WEIGHT_MIN:.0%} of the "
                    "rubric's weight",
    "inject-fires": "every inject can fire, and every question is asked",
    "expected-action": "every expected action is asked for by an inject that fires and can be met by an action",
    "translation": "every learner- and assessor-facing text is given in en, de, el and pt",
    "discriminates": "with --calibrate N: the rubric meets the calibration targets on N paired seeds",
}


@dataclass(frozen=True, order=True)
class Finding:
    """One lint finding: where, which rule, how bad, what."""

    path: str
    line: int | None
    rule: str
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return self.say()

    def say(self, words: Words | None = None, name_field: Callable[[str], str] | None = None) -> str:
        """``path:line: rule: [warning: ]field: message``, the words in the language of ``words`` (English
        without); the rule's name stays as the command and the docs spell it.  ``name_field`` names the field
        for a person (e.g. :func:`scro_sim.yamlio.readable_field`: list items by their id)."""
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        sev = say(Msg(N_("warning")), words) + ": " if self.severity == "warning" else ""
        message = self.message
        if name_field is not None and isinstance(message, Msg) and message.template == _AT_FIELD:
            message = Msg(_AT_FIELD, field=name_field(message.args["field"]), message=message.args["message"])
        return f"{where}: {self.rule}: {sev}{say(message, words)}"


#: a finding's message: the field it is about, then what is wrong (no words of its own to translate)
_AT_FIELD = "{field}: {message}"


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def lint_file(path: str | Path, *, calibrate_n: int = 0) -> list[Finding]:
    """Load and lint one scenario file; a file that does not load gives its problems as ``schema`` errors."""
    try:
        sc, city = load_scenario(path)
    except ScroSimError as exc:
        return [Finding(p.path or str(path), p.line, "schema", "error",
                        Msg(_AT_FIELD, field=p.field, message=p.message) if p.field else p.message)
                for p in exc.problems] or [Finding(str(path), None, "schema", "error", str(exc))]
    return lint_scenario(sc, city, calibrate_n=calibrate_n)


def lint_scenario(sc: Scenario, city: Any, *, calibrate_n: int = 0) -> list[Finding]:
    """Every finding for a loaded scenario (and its city), sorted by line."""
    found: list[tuple[tuple[Any, ...], str, str, str]] = []
    found += _objectives(sc)
    found += _group_weight(sc)
    found += _injects_and_expected(sc, city)
    found += _translations(sc)
    if calibrate_n > 0:
        found += _discrimination(sc, city, calibrate_n)
    lines = getattr(sc, "_lines", {}) or {}

    def line_of(loc: tuple[Any, ...]) -> int | None:
        for n in range(len(loc), -1, -1):
            if loc[:n] in lines:
                return lines[loc[:n]]
        return None

    out = [Finding(sc.source_path, line_of(loc), rule, sev,  # type: ignore[arg-type]
                   Msg(_AT_FIELD, field=field_path(loc), message=msg) if loc else msg)
           for loc, rule, sev, msg in found]
    return sorted(out, key=lambda f: (f.line or 0, f.rule, f.message))


# -- objectives and outcomes


def _objectives(sc: Scenario) -> list[tuple[tuple[Any, ...], str, str, str]]:
    out: list[tuple[tuple[Any, ...], str, str, str]] = []
    local = {lo.id: lo for lo in sc.learning_outcomes}
    course = scenario_course(sc)
    evidenced: dict[str, list[str]] = {}  # module -> criteria
    cited_local: set[str] = set()
    for i, c in enumerate(sc.rubric.criteria):
        if c.outcome in local:
            cited_local.add(c.outcome)
            evidenced.setdefault(local[c.outcome].module, []).append(c.id)
            out.append((("rubric", "criteria", i, "outcome"), "criterion-outcome", "warning",
                        Msg(N_("{id} cites the scenario's own learning outcome {outcome!r}, not a module outcome of "
                               "the course map (e.g. outcome: C3.1; `scro-sim course` lists them)"),
                            id=c.id, outcome=c.outcome)))
            continue
        ref = course.outcome(c.outcome) if course is not None else None
        if ref is None:
            out.append((("rubric", "criteria", i, "outcome"), "criterion-outcome", "error",
                        Msg(N_("{id} cites {outcome!r}, which is no module outcome of the course map"), id=c.id,
                            outcome=c.outcome)))
        else:
            evidenced.setdefault(ref.module.id, []).append(c.id)
    for i, m in enumerate(sc.modules):
        if m not in evidenced:
            out.append((("modules", i), "objective-criterion", "error",
                        Msg(N_("module {module} is claimed but no criterion cites one of its outcomes"), module=m)))
    for i, lo in enumerate(sc.learning_outcomes):
        if lo.id not in cited_local and lo.module not in evidenced:
            out.append((("learning_outcomes", i), "objective-criterion", "error",
                        Msg(N_("learning outcome {id} (module {module}) has no criterion: no criterion cites it "
                               "or an outcome of module {module}"), id=lo.id, module=lo.module)))
    return out


def group_weights(sc: Scenario) -> dict[str, float]:
    """The share of the rubric's weight whose criteria cite an outcome of each module group of the
    course map (criteria citing the scenario's own outcomes count for their module's group)."""
    course = scenario_course(sc) or default_course()
    local = {lo.id: lo.module for lo in sc.learning_outcomes}
    total = sum(c.weight for c in sc.rubric.criteria)
    out: dict[str, float] = {}
    for c in sc.rubric.criteria:
        ref = course.outcome(c.outcome)
        group = ref.group if ref is not None else course.group_of(local.get(c.outcome, ""))
        if group is not None and total > 0:
            out[group.id] = out.get(group.id, 0.0) + c.weight / total
    return out


def _group_weight(sc: Scenario) -> list[tuple[tuple[Any, ...], str, str, str]]:
    if not sc.groups:
        return []
    shares = group_weights(sc)
    most = max(sorted(shares), key=lambda g: shares[g], default=None)
    many = not isinstance(sc.group, str)
    out: list[tuple[tuple[Any, ...], str, str, str]] = []
    for i, g in enumerate(sc.groups):
        share = shares.get(g, 0.0)
        if share >= GROUP_WEIGHT_MIN - 1e-9:
            continue
        out.append((("group", i) if many else ("group",), "group-weight", "warning",
                    Msg(N_("the exercise is written for group {group}, but its criteria give that group only {share} % "
                           "of the rubric's weight (at least {least} % expected; group {most} has {most_share} %)"),
                        group=g, share=f"{100 * share:.0f}", least=f"{100 * GROUP_WEIGHT_MIN:.0f}",
                        most=most or "—", most_share=f"{100 * shares.get(most or '', 0.0):.0f}")))
    return out


# -- injects, questions, expected actions


def _never_firing(sc: Scenario) -> dict[str, str]:
    """The injects that can never fire, each with why."""
    by_id = {inj.id: inj for inj in sc.msel}
    contingency_of = {ea.contingency for inj in sc.msel for ea in inj.expected_actions if ea.contingency}
    floods = [h for h in sc.hazards if h.type == "flood"]
    peak = max((dist_bounds(h.peak_stage_m)[1] for h in floods), default=None)
    never: dict[str, str] = {}
    for inj in sc.msel:
        w = inj.when
        if inj.contingency and inj.id not in contingency_of:
            never[inj.id] = Msg(N_("it is a contingency (contingency: true) but no expected action names it"))
        elif w is not None and w.gauge_above is not None and peak is None:
            never[inj.id] = Msg(N_("it waits for the river gauge, but the scenario has no flood"))
        elif w is not None and w.gauge_above is not None and peak is not None and w.gauge_above >= peak:
            never[inj.id] = Msg(N_("it waits for the gauge above {level} m, but the flood peaks at {peak} m at most"),
                                level=f"{w.gauge_above:g}", peak=f"{peak:g}")
        elif w is not None and w.inject is not None and w.inject not in by_id:
            never[inj.id] = Msg(N_("it waits for inject {id!r}, which the MSEL does not have"), id=w.inject)
    # chains: an inject waiting for one that never fires never fires either (the checks refuse loops)
    changed = True
    while changed:
        changed = False
        for inj in sc.msel:
            if inj.id in never:
                continue
            parents = [inj.when.inject] if inj.when is not None and inj.when.inject else []
            if inj.contingency:
                parents = [i.id for i in sc.msel if any(ea.contingency == inj.id for ea in i.expected_actions)]
                if parents and all(p in never for p in parents):
                    never[inj.id] = Msg(N_("only {ids} can set it off, and they never fire"), ids=", ".join(parents))
                    changed = True
            elif parents and parents[0] in never:
                never[inj.id] = Msg(N_("it waits for inject {id!r}, which never fires"), id=parents[0])
                changed = True
    return never


def _target_problem(action: str, target: str, city: Any, teams: tuple[str, ...] = ()) -> str | None:
    """Why ``target`` cannot be what an ``action`` names (None: it can); ``teams``: the scenario's crew
    teams, which an action with a ``crew`` field may be for when it says so (``meets``)."""
    import types

    import scro_sim.engine.actions as actions  # the registry the schema is built from

    kind = actions.get(action)
    if target in teams and kind.field("crew") is not None and kind.meets(
            types.SimpleNamespace(target=None, crew=target), (target,)):
        return None
    f = kind.field("target") or kind.field("order")
    if f is None:
        return Msg(N_("{action} names no target, so no {action} can be for {target!r}"), action=action, target=target)
    if city is None:
        return None
    if f.kind in ("asset", "assets"):
        i = city.asset_index.get(target)
        if i is None:
            return Msg(N_("{action} names an asset and {target!r} is not one"), action=action, target=target)
        if f.types and str(city.asset_type[i]) not in f.types:
            return Msg(N_("{action} names a {types} and {target!r} is a {type}"), action=action, target=target,
                       types=" or ".join(f.types), type=str(city.asset_type[i]))
    elif f.kind in ("district", "district_or_all"):
        if target not in city.district_index and not (f.kind == "district_or_all" and target == "all"):
            return Msg(N_("{action} names a district and {target!r} is not one"), action=action, target=target)
    elif f.kind == "road" and "~" not in target:
        return Msg(N_("{action} names a road FROM~TO and {target!r} is not one"), action=action, target=target)
    return None


def _means_problem(sc: Scenario, action: str) -> str | None:
    """Why no ``action`` can be taken at all in this scenario (None: it can); what an action needs
    besides money its own module says (``ActionKind.never_possible``)."""
    import scro_sim.engine.actions as actions

    spec = sc.actions.get(action)
    res = sc.resources
    if not spec.enabled:
        return Msg(N_("{action} is disabled in this scenario"), action=action)
    if spec.cost > res.budget + 1e-6:
        return Msg(N_("{action} costs {cost} {currency}, more than the whole budget ({budget})"), action=action,
                   cost=Count(spec.cost), currency=res.currency, budget=Count(res.budget))
    why = actions.get(action).never_possible(sc)
    return Msg("{action}: {why}", action=action, why=why) if why else None


def _injects_and_expected(sc: Scenario, city: Any) -> list[tuple[tuple[Any, ...], str, str, str]]:
    out: list[tuple[tuple[Any, ...], str, str, str]] = []
    never = _never_firing(sc)
    for i, inj in enumerate(sc.msel):
        if inj.id in never:
            out.append((("msel", i, "id"), "inject-fires", "error",
                        Msg(N_("inject {id} can never fire: {why}"), id=inj.id, why=never[inj.id])))
        for j, ea in enumerate(inj.expected_actions):
            loc = ("msel", i, "expected_actions", j)
            if inj.id in never:
                out.append(((*loc, "id"), "expected-action", "error",
                             Msg(N_("{id} is never asked for: its inject {inject} never fires"), id=ea.id,
                                 inject=inj.id)))
            why = _means_problem(sc, ea.action)
            if why:
                out.append(((*loc, "action"), "expected-action", "error",
                            Msg(N_("{id} cannot be met: {why}"), id=ea.id, why=why)))
            teams = tuple(t.id for t in sc.resources.crews)
            bad = [(k, p) for k, tg in enumerate(ea.targets) if (p := _target_problem(ea.action, tg, city, teams))]
            if ea.targets and len(bad) == len(ea.targets):
                for k, p in bad:
                    out.append(((*loc, "targets", k), "expected-action", "error",
                                Msg(N_("{id} cannot be met: {why}"), id=ea.id, why=p)))
            else:
                for k, p in bad:
                    out.append(((*loc, "targets", k), "expected-action", "warning", Msg("{id}: {why}", id=ea.id, why=p)))
    for i, q in enumerate(sc.questions):
        if q.at_inject is not None and q.at_inject in never:
            out.append((("questions", i, "at_inject"), "inject-fires", "error",
                        Msg(N_("question {id} is never asked: inject {inject} never fires"), id=q.id,
                            inject=q.at_inject)))
    return out


# -- translations


def _is_text(annotation: Any) -> bool:
    """Whether a field's type admits a text in the course's languages (``Text``)."""
    if annotation is LocalText:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        return any(_is_text(a) for a in typing.get_args(annotation))
    return False


def _texts(value: Any, loc: tuple[Any, ...], text_field: bool = False) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every text of a model (a LocalText, or a plain string where a Text may stand), with its place."""
    if isinstance(value, LocalText):
        yield loc, value
    elif isinstance(value, str):
        if text_field:
            yield loc, value
    elif isinstance(value, BaseModel):
        for name, f in type(value).model_fields.items():
            yield from _texts(getattr(value, name), (*loc, name), _is_text(f.annotation))
    elif isinstance(value, tuple | list):
        for k, v in enumerate(value):
            yield from _texts(v, (*loc, k), text_field)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, (*loc, k), text_field)


def _translations(sc: Scenario) -> list[tuple[tuple[Any, ...], str, str, str]]:
    out: list[tuple[tuple[Any, ...], str, str, str]] = []
    for loc, text in _texts(sc, ()):
        if loc and loc[0] == "reference_plans":
            continue  # plans' titles and rationales are the author's notes, not read by learners
        missing = [lang for lang in LANGUAGES if lang != "en" and (isinstance(text, str) or not getattr(text, lang))]
        if missing:
            out.append((loc, "translation", "warning", Msg(N_("not given in {langs}"), langs=", ".join(sorted(missing)))))
    return out


# -- discrimination (opt-in: it plays the scenario many times)


def _discrimination(sc: Scenario, city: Any, n: int) -> list[tuple[tuple[Any, ...], str, str, str]]:
    from .calibration import calibrate, check

    cal = calibrate(sc, city, n, 0, workers=1)
    index = {c.id: i for i, c in enumerate(sc.rubric.criteria)}
    out: list[tuple[tuple[Any, ...], str, str, str]] = []
    for flag in check(cal):
        loc: tuple[Any, ...] = ("rubric", "criteria", index[flag.criterion]) if flag.criterion in index else ("rubric",)
        out.append((loc, "discriminates", "error", f"{flag} (on {n} paired seeds)"))
    return out
