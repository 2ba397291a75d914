"""Every bundled text a learner or an assessor reads exists in all four languages.

Scenario and plan files carry their texts inline (``{en:, de:, el:, pt:}``, see
scenarios/README.md section 3); the app's, the report's and the terminal game's words come
from the gettext catalogues in ``scro_sim/locales``.  A gap names ``file:line: field: language``
so whoever adds a text sees at once what is left to translate.  A translation identical to one
of another scenario's texts whose English differs is reported too: that is a text copied from
the wrong place (the cost feedback of one scenario once told German, Greek and Portuguese
learners of a hospital surge that they "did not bring the water back").
"""

from __future__ import annotations

import typing
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from pydantic import BaseModel

from scro_sim.scenario.basics import LocalText
from scro_sim.scenario.loading import parse_plan, parse_scenario
from scro_sim.scenario.models import Criterion, FeedbackTexts, FeedbackVariant, Plan, RatingTexts
from scro_sim.yamlio import Loaded, field_path, load_yaml

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))
PLANS = sorted((REPO / "plans").glob("*.yaml"))
LOCALES = REPO / "scro_sim" / "locales"
OTHER = ("de", "el", "pt")  # English is required by the schema itself
# The learning outcomes are being rewritten (with their translations) on another branch; until
# that lands the flood's are English only.  strict: this test fails once they are translated,
# so the mark cannot outlive its reason.
OUTCOMES_PENDING: set[str] = set()

Where = tuple[Any, ...]


def _has_text(annotation: Any) -> bool:
    """Whether a field's type admits a translatable text (``Text`` or a union containing it)."""
    return annotation is LocalText or any(_has_text(a) for a in typing.get_args(annotation))


def texts(value: Any, loc: Where = ()) -> Iterator[tuple[Where, LocalText | str]]:
    """Every translatable text in a validated model, with where it sits; a plain ``str`` in a
    text field is English only."""
    if isinstance(value, LocalText):
        yield loc, value
    elif isinstance(value, BaseModel):
        for name, info in type(value).model_fields.items():
            v = getattr(value, name)
            if isinstance(v, str):
                if _has_text(info.annotation):
                    yield (*loc, name), v
            else:
                yield from texts(v, (*loc, name))
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            yield from texts(v, (*loc, i))
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from texts(v, (*loc, k))


def gaps(loaded: Loaded, model: BaseModel) -> list[str]:
    """``file:line: field: language`` for each missing or empty translation."""
    out = []
    for loc, t in texts(model):
        for lang in OTHER:
            if isinstance(t, str) or not (getattr(t, lang) or "").strip():
                out.append(f"{Path(loaded.path).name}:{loaded.line_of(loc)}: {field_path(loc)}: {lang}")
    return out


def copied(files: dict[str, tuple[Loaded, BaseModel]]) -> list[str]:
    """Translations equal to a text of another file whose English is different."""
    seen: dict[tuple[str, str], list[tuple[str, Where, str]]] = defaultdict(list)
    for name, (_, model) in files.items():
        for loc, t in texts(model):
            if isinstance(t, LocalText):
                for lang in OTHER:
                    if (getattr(t, lang) or "").strip():
                        seen[(lang, " ".join(getattr(t, lang).split()))].append((name, loc, " ".join(t.en.split())))
    out = []
    for (lang, _), where in seen.items():
        for name, loc, en in where:
            for other, oloc, oen in where:
                if other != name and oen != en:
                    out.append(f"{name}: {field_path(loc)}: {lang} is the text of {other}: {field_path(oloc)}")
    return sorted(out)


def _scenario(path: Path) -> tuple[Loaded, BaseModel]:
    loaded = load_yaml(path)
    return loaded, parse_scenario(loaded.data, loaded)


def _plan(path: Path) -> tuple[Loaded, BaseModel]:
    loaded = load_yaml(path)
    return loaded, parse_plan(loaded.data, loaded)


# --------------------------------------------------------------------------------------------
# Scenario and plan files


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_text_is_in_four_languages(path: Path) -> None:
    loaded, sc = _scenario(path)
    missing = [g for g in gaps(loaded, sc) if ": learning_outcomes[" not in g]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=pytest.mark.xfail(
    strict=True, reason="learning outcomes not yet translated")) if p.stem in OUTCOMES_PENDING
                                  else pytest.param(p, id=p.stem) for p in SCENARIOS])
def test_every_learning_outcome_is_in_four_languages(path: Path) -> None:
    loaded, sc = _scenario(path)
    missing = [g for g in gaps(loaded, sc) if ": learning_outcomes[" in g]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("path", PLANS, ids=[p.stem for p in PLANS])
def test_every_plan_text_is_in_four_languages(path: Path) -> None:
    loaded, plan = _plan(path)
    missing = gaps(loaded, plan)
    assert not missing, "\n".join(missing)


def test_no_translation_is_copied_from_another_scenarios_different_text() -> None:
    files = {p.name: _scenario(p) for p in SCENARIOS} | {p.name: _plan(p) for p in PLANS}
    found = copied(files)
    assert not found, "\n".join(found)


# the checks themselves, on texts built here


def _rated(text: Any) -> Criterion:
    rating = RatingTexts(P=text, S=text, M=text, U=text)
    return Criterion(id="C1", title=LocalText(en="Water", de="Wasser", el="Νερό", pt="Água"), kind="judged",
                     weight=1, outcome="LO1", evidence="warnings", guidance=rating,
                     feedback=FeedbackTexts(P=(FeedbackVariant(text=text),), S=text, M=text, U=text))


def test_the_check_names_file_line_field_and_language() -> None:
    loaded = Loaded(data={}, path="scenarios/x.yaml", lines={("guidance", "P"): 7})
    found = gaps(loaded, _rated(LocalText(en="No answer.", de="Keine Antwort.", el="", pt=None)))
    assert "x.yaml:7: guidance.P: el" in found and "x.yaml:7: guidance.P: pt" in found
    assert not any(g.endswith(": de") for g in found)
    assert "x.yaml:None: feedback.P[0].text: el" in found  # inside feedback variants too


def test_the_check_counts_a_plain_english_text_as_missing_everywhere() -> None:
    found = gaps(Loaded(data={}, path="p.yaml"), Plan(title="Cautious plan"))
    assert found == ["p.yaml:None: title: de", "p.yaml:None: title: el", "p.yaml:None: title: pt"]
    assert gaps(Loaded(data={}, path="p.yaml"), Plan(title=LocalText(en="A", de="B", el="Γ", pt="C"))) == []


def test_the_check_finds_a_translation_copied_from_a_different_text() -> None:
    water = LocalText(en="You did not bring the water back.", de="Sie haben das Wasser nicht zurückgebracht.")
    beds = LocalText(en="The beds came too late.", de="Sie haben das Wasser nicht zurückgebracht.")
    same = LocalText(en="You did not bring the water back.", de="Sie haben das Wasser nicht zurückgebracht.")
    loaded = Loaded(data={}, path="-")
    assert copied({"cyber": (loaded, Plan(title=water)), "surge": (loaded, Plan(title=beds))}) == [
        "cyber: title: de is the text of surge: title", "surge: title: de is the text of cyber: title"]
    assert copied({"cyber": (loaded, Plan(title=water)), "flood": (loaded, Plan(title=same))}) == []


# --------------------------------------------------------------------------------------------
# gettext catalogues


def _po(lang: str) -> Any:
    with (LOCALES / lang / "LC_MESSAGES" / "scro_sim.po").open("rb") as f:
        return read_po(f, locale=lang)


@pytest.mark.parametrize("lang", OTHER)
def test_every_catalogue_message_is_translated(lang: str) -> None:
    with (LOCALES / "scro_sim.pot").open("rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    cat = _po(lang)
    have = {m.id: m for m in cat if m.id}
    problems = [f"{lang}/LC_MESSAGES/scro_sim.po: {mid!r}: not in the catalogue" for mid in sorted(template - set(have))]
    for mid, m in sorted(have.items()):
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if not all((s or "").strip() for s in strings):
            problems.append(f"{lang}/LC_MESSAGES/scro_sim.po:{m.lineno}: {mid!r}: untranslated")
        elif m.fuzzy:
            problems.append(f"{lang}/LC_MESSAGES/scro_sim.po:{m.lineno}: {mid!r}: fuzzy (ignored when compiled)")
    assert not problems, "\n".join(problems)
