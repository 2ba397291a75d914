"""The action registry is the one list of learner actions: nothing else names them, everything reaches them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scro_sim.engine import actions
from scro_sim.engine.actions import REGISTRY, get, parse_words
from scro_sim.scenario import ACTION_KINDS, Action, Scenario

ROOT = Path(__file__).resolve().parent.parent
#: modules that may name an action, and why: players choose actions by name as plans do
#: (policy.py); scoring reads the warnings' texts from the log and may not import the engine.
NAMING_ALLOWED = {"scro_sim/policy.py", "scro_sim/scoring/grading.py"}


def _named_actions(path: Path) -> list[tuple[int, str]]:
    """String constants in a module's code (not its docstrings) that are an action's name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in REGISTRY
            and id(n) not in docstrings]


def test_no_module_outside_the_registry_names_an_action() -> None:
    found = []
    for p in sorted([*(ROOT / "scro_sim").rglob("*.py"), *(ROOT / "app").rglob("*.py")]):
        rel = p.relative_to(ROOT).as_posix()
        if rel.startswith("scro_sim/engine/actions/") or rel in NAMING_ALLOWED:
            continue
        found += [f"{rel}:{line}: {name}" for line, name in _named_actions(p)]
    assert not found, "name actions through scro_sim.engine.actions, not literally:\n" + "\n".join(found)


def test_the_check_sees_a_name_written_literally(tmp_path: Path) -> None:
    p = tmp_path / "m.py"
    p.write_text('"""Mentions evacuate in a docstring."""\nKINDS = ("evacuate", "other")\n', encoding="utf-8")
    assert _named_actions(p) == [(2, "evacuate")]


def test_the_scenario_schema_is_built_from_the_registry() -> None:
    assert tuple(REGISTRY) == ACTION_KINDS
    sc = Scenario.model_fields["actions"].default
    for name, kind in REGISTRY.items():
        spec = sc.get(name)
        for k, v in kind.defaults.items():
            assert getattr(spec, k) == v, (name, k)
        for f in kind.fields:
            assert f.name in Action.model_fields, (name, f.name)


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_action_is_reachable_from_the_terminal(name: str) -> None:
    kind = get(name)
    words = [kind.verb]
    for f in kind.fields:
        words.append({"count": "3", "choice": f.choices[0] if f.choices else "x", "road": "N1~N2"}.get(f.kind, "X1"))
    a = Action(**parse_words(words))
    assert a.action == name
    assert kind.usage().split()[0] == kind.verb


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_action_has_words_and_a_form(name: str) -> None:
    """A label and a what-it-does line in the catalogs, and choices for every field a form offers."""
    from babel.messages.pofile import read_po
    from enginekit import asset, cyber, make_city, make_scenario

    kind = get(name)
    for lang in ("en", "de", "el", "pt"):
        with (ROOT / "scro_sim" / "locales" / lang / "LC_MESSAGES" / "scro_sim.po").open("rb") as fh:
            have = {m.id: m.string for m in read_po(fh, locale=lang) if m.id}
        assert have.get(kind.name) and have.get(kind.help), (lang, name)
        for f in kind.fields:
            if f.prompt:
                assert have.get(f.prompt), (lang, name, f.prompt)
    city = make_city([asset("H", "hospital", capacity=10), asset("S", "shelter", capacity=10),
                      asset("PS", "pumping_station"), asset("WT", "water_treatment")])
    sc = make_scenario([cyber("PS")], resources={"crews": [{"id": "T", "count": 1, "depot": "DEP", "skills": ["general"]}]})
    for f in kind.fields:
        options = kind.choices_for(f, city, sc)
        if f.kind in ("asset", "district", "district_or_all", "road", "choice"):
            assert options, (name, f.name)
        if f.kind == "asset" and f.types:
            assert {str(city.asset_type[city.asset_index[x]]) for x in options} <= set(f.types)


def test_the_app_form_and_the_terminal_read_the_registry() -> None:
    """The decision form asks for each field the action's module declares, and `play` parses through the verbs."""
    form = (ROOT / "app" / "app_pages" / "play.py").read_text(encoding="utf-8")
    assert "ACTIONS[kind].fields" in form
    cli = (ROOT / "scro_sim" / "cli.py").read_text(encoding="utf-8")
    assert "parse_words" in cli
    assert set(actions.VERBS) == {k.verb for k in REGISTRY.values()}  # verbs are unique


def test_the_terminal_usage_names_each_field_by_its_kind() -> None:
    assert get("dispatch_crew").usage() == "crew ASSET [TEAM]"
    assert get("warn_public").usage() == "warn [all|DISTRICT] [broadcast|door_to_door] [MESSAGE...]"
    assert get("manual_operation").usage() == "manual PUMPING_STATION/WATER_TREATMENT [TEAM]"
    assert get("set_priorities").usage() == "priorities ASSET ASSET ..."
    assert get("transfer_patients").usage() == "transfer HOSPITAL HOSPITAL N"


def test_a_warning_typed_without_a_district_goes_to_all() -> None:
    assert parse_words(["warn"]) == {"action": "warn_public", "target": "all"}
    assert parse_words(["warn", "Z", "Rain", "soon"]) == {"action": "warn_public", "target": "Z", "message": "Rain soon"}


def test_an_unknown_verb_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown command 'fly'"):
        parse_words(["fly", "X"])
    with pytest.raises(ValueError, match=r"evacuate needs TARGET; usage: evacuate DISTRICT SHELTER"):
        parse_words(["evacuate"])
    with pytest.raises(ValueError, match=r"^too many words for close; usage: close FROM~TO$"):
        parse_words(["close", "A~B", "and", "more"])
    with pytest.raises(ValueError, match=r"^empty command; type 'help'$"):
        parse_words([])
    with pytest.raises(ValueError, match=r"^transfer: patients must be a whole number, got 'ten'$"):
        parse_words(["transfer", "H1", "H2", "ten"])


def test_scro_sim_play_takes_open_surge_beds_and_lists_every_action(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The terminal game: `surge H1` is understood and checked; its help names every registered action."""
    from scro_sim.cli import main

    lines = iter(["help", "surge H1", "fly X"])

    def fake_input(prompt: str = "") -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    main(["play", "riverton_hospital_surge"])
    out = capsys.readouterr().out
    assert "ok: open_surge_beds H1" in out
    assert "unknown command 'fly'" in out
    for kind in REGISTRY.values():
        assert kind.usage() in out
