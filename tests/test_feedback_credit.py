"""No bundled scenario's feedback credits the learner with an action the run's log does not show.

The credit phrases of every action, per language, are in tests/data/credit_phrases.yaml.  Two
checks hold the five bundled scenarios to them:

- on runs: over 20 seeds of a player who does nothing and of one who takes random legal
  decisions, every feedback text shown (computed criteria as rated; judged criteria under each of
  the four ratings an assessor may give), in each of the four languages, credits only actions the
  log shows;
- on the texts: every text a rating can show, variant by variant, credits only actions its
  condition requires the log to show (a fallback or a plain text requires none), so a rating no
  seed reached is held to it too.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scro_sim.engine import Simulation
from scro_sim.engine.actions import NAMES
from scro_sim.log import EventLog
from scro_sim.policy import DoNothing, PlanPolicy, RandomLegal
from scro_sim.scenario import RATINGS, FeedbackCondition, Scenario, load_scenario, text_in
from scro_sim.scoring import compute_metrics, grade
from scro_sim.yamlio import load_yaml

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
BUNDLED = sorted((REPO / "scenarios").glob("*.yaml"))
LANGS = ("en", "de", "el", "pt")
SEEDS = range(1, 21)
#: a clause that holds when the log shows money spent (what value for money above U proves)
SPENT = frozenset({"spend"})


@cache
def phrases() -> list[tuple[frozenset[str], dict[str, list[re.Pattern[str]]]]]:
    """(actions, {lang: patterns}) per entry of the table."""
    table = load_yaml(DATA / "credit_phrases.yaml", path="credit_phrases.yaml").data
    return [(frozenset(e["actions"]), {lg: [re.compile(p, re.IGNORECASE) for p in e[lg]] for lg in LANGS})
            for e in table]


#: words that deny what follows in the same clause ("you never sent", "nenhuma cama ... abriu")
NEGATIONS = {lg: re.compile(p, re.IGNORECASE) for lg, p in {
    "en": r"\b(not|never|no|nobody|without)\b", "de": r"\b(nicht|nie|niemals|kein\w*|niemand|ohne)\b",
    "el": r"(δεν|ποτέ|κανέν\w*|καμί\w*|κανείς|χωρίς)", "pt": r"\b(não|nunca|nenhum\w*|ninguém|sem)\b"}.items()}


def credits(text: str, lang: str) -> list[tuple[str, frozenset[str]]]:
    """The credit phrases in ``text``: (the words matched, the actions any of which makes them true).
    A phrase denied in its own clause ("you never sent") credits nothing."""
    out = []
    for actions, by_lang in phrases():
        for pat in by_lang[lang]:
            for m in pat.finditer(text):
                start = max(text.rfind(x, 0, m.start()) for x in ".;:·,") + 1
                if not NEGATIONS[lang].search(text[start:m.end()]):
                    out.append((m.group(0), actions))
    return out


def test_every_registered_action_has_credit_phrases_in_every_language() -> None:
    covered = {a for actions, by_lang in phrases() for a in actions if all(by_lang[lg] for lg in LANGS)}
    assert set(NAMES) <= covered, sorted(set(NAMES) - covered)


@pytest.mark.parametrize(("text", "lang", "actions"), [
    ("You protected the weak point.", "en", {"protect_asset"}),
    ("Sie haben die eigentliche Schwachstelle geschützt.", "de", {"protect_asset"}),
    ("Προστατέψατε το αδύνατο σημείο.", "el", {"protect_asset"}),
    ("Gastou no que encurtou a falha.", "pt", {"spend"}),
    ("The water did not reach the waterworks this time.", "en", set()),
    ("The districts were not warned in time.", "en", set()),
    ("Um hospital fechou durante algumas horas.", "pt", set()),
    ("Nunca enviou a equipa de TI.", "pt", set()),
    ("Os hospitais estiveram cheios; nenhuma cama de reforço abriu a tempo.", "pt", set()),
    ("Sie haben das IT-Team nie geschickt.", "de", set()),
    ("Most people were warned in time, but thousands met the water unwarned.", "en", {"warn_public", "evacuate"}),
])
def test_the_phrase_table_finds_credit_and_only_credit(text: str, lang: str, actions: set[str]) -> None:
    assert {a for _, acts in credits(text, lang) for a in acts} >= actions
    if not actions:
        assert credits(text, lang) == []


# --------------------------------------------------------------------------------------------
# On runs


def _shown_in_log(log: EventLog) -> set[str]:
    """What the log shows the learner did: the actions decided, "any" if one was, "spend" if one cost money."""
    done = {a.get("action") for r in log.of_kind("decision") for a in r.data.get("actions", ())}
    return {str(a) for a in done} | ({"any"} if done else set()) | ({"spend"} if log.first("cost") else set())


@cache
def _scenario(path: Path) -> tuple[Scenario, Any]:
    return load_scenario(path)


def _runs(sc: Scenario, city: Any, seed: int) -> tuple[dict[str, EventLog], dict[str, Any]]:
    logs = {"do_nothing": Simulation(sc, city, seed, DoNothing()).run()}
    rand = RandomLegal.for_run(sc, city, seed)
    sim = Simulation(sc, city, seed, rand)
    rand.check = sim.check
    logs["random"] = sim.run()
    reference = {"baseline": compute_metrics(logs["do_nothing"])}
    if sc.reference_plans.expert is not None:
        reference["expert"] = compute_metrics(Simulation(sc, city, seed, PlanPolicy(sc.reference_plans.expert)).run())
    return logs, reference


def _unearned(path: Path, criteria: set[str] | None) -> list[str]:
    """Every shown text, over the seeds, policies, languages and judged ratings, that credits an
    action its log does not show; only ``criteria`` (None: all but the pending ones)."""
    sc, city = _scenario(path)
    judged = [c.id for c in sc.rubric.criteria if c.kind == "judged"]
    bad: list[str] = []
    for seed in SEEDS:
        logs, reference = _runs(sc, city, seed)
        for policy, log in logs.items():
            shown = _shown_in_log(log)
            m = compute_metrics(log)
            for lang, rating in itertools.product(LANGS, RATINGS):
                judgements = {cid: {"rating": rating, "comment": "", "by": "t"} for cid in judged}
                card = grade(log, sc, lang=lang, reference=reference, metrics=m, judgements=judgements, digest=False)
                for line in card.criteria:
                    if criteria is not None and line.id not in criteria:
                        continue
                    for words, actions in credits(line.feedback, lang):
                        if not actions & shown:
                            bad.append(f"{sc.id} seed {seed} {policy} {line.id} {line.rating} [{lang}]: "
                                       f"{words!r} but the log shows none of {sorted(actions)}: {line.feedback}")
    return sorted(set(bad))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_feedback_shown_on_runs_credits_only_what_the_log_shows(path: Path) -> None:
    bad = _unearned(path, None)
    assert not bad, "\n".join(bad[:20])


# --------------------------------------------------------------------------------------------
# On the texts


def _clauses(c: FeedbackCondition | None) -> list[frozenset[str]]:
    """What ``c`` holding proves: clauses, each a set of actions of which the log shows at least one."""
    if c is None or c.did_not is not None:
        return []
    if c.did is not None:
        return [frozenset({c.did.action})]
    if c.all is not None:
        return [k for x in c.all for k in _clauses(x)]
    assert c.any is not None
    branches = [_clauses(x) for x in c.any]
    if any(not b for b in branches):
        return []
    return [frozenset().union(*combo) for combo in itertools.islice(itertools.product(*branches), 64)]


def _earned(actions: frozenset[str], clauses: list[frozenset[str]], sc: Scenario) -> bool:
    if "any" in actions:
        return bool(clauses)
    if "spend" in actions:
        return any(k == SPENT or all(sc.actions.get(a).cost > 0 or sc.actions.get(a).cost_per_person > 0 for a in k)
                   for k in clauses)
    return any(k <= actions for k in clauses)


def _implied(sc: Scenario, metric: str | None, rating: str) -> list[frozenset[str]]:
    """What a rating proves by itself: a timeliness criterion above U had its expected action done
    (a missed one has no value, and no value rates U); value for money above U had money spent
    (nothing spent has no value)."""
    if metric == "value_for_money" and rating != "U":
        return [SPENT]
    if not metric or not metric.startswith("timeliness.") or rating == "U":
        return []
    ea = next((e for inj in sc.msel for e in inj.expected_actions if e.id == metric[len("timeliness."):]), None)
    return [frozenset({ea.action})] if ea is not None else []


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_feedback_text_credits_only_what_its_condition_requires(path: Path) -> None:
    sc, _ = _scenario(path)
    bad = []
    for c in sc.rubric.criteria:
        for rating in RATINGS:
            entry = getattr(c.feedback, rating)
            variants = entry if isinstance(entry, tuple) else (None,)
            for k, v in enumerate(variants):
                clauses = _implied(sc, c.metric, rating) + (_clauses(v.when) if v is not None else [])
                text = v.text if v is not None else entry
                for lang in LANGS:
                    for words, actions in credits(text_in(text, lang), lang):
                        if not _earned(actions, clauses, sc):
                            bad.append(f"{c.id} {rating}[{k}] [{lang}]: {words!r} needs one of {sorted(actions)} "
                                       f"in its condition: {text_in(text, lang)}")
    assert not bad, "\n".join(bad)
