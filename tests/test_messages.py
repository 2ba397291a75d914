"""Validation and lint messages in the lecturer's language: ``file:line: field:`` as the file spells it,
the message after it in en, de, el or pt (scro_sim.errors.Msg), the English words unchanged."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from scro_sim.cli import main
from scro_sim.errors import Count, Msg, Problem, ScenarioError, did_you_mean
from scro_sim.i18n import translator
from scro_sim.lint import lint_file
from scro_sim.scenario import load_scenario

DATA = Path(__file__).parent / "data"
MINI = (DATA / "mini_scenario.yaml").read_text(encoding="utf-8")

#: case -> (change to the mini scenario, the field, the English message, what it says in de, el and pt)
CASES = {
    "misspelled field": (("duration_h:", "duraton_h:"), "duraton_h", "unknown field; did you mean 'duration_h'?",
                         {"de": "unbekanntes Feld; meinten Sie 'duration_h'?",
                          "el": "άγνωστο πεδίο· μήπως εννοείτε 'duration_h';",
                          "pt": "campo desconhecido; queria dizer 'duration_h'?"}),
    "wrong type": (("duration_h: 48", "duration_h: forty-eight"), "duration_h",
                   "Input should be a valid number, unable to parse string as a number",
                   {"de": "Der Wert muss eine Zahl sein", "el": "Η τιμή πρέπει να είναι αριθμός",
                    "pt": "O valor deve ser um número"}),
    "out of range": (("expected_minutes: 30", "expected_minutes: 0"), "expected_minutes",
                     "Input should be greater than or equal to 1",
                     {"de": "Der Wert muss mindestens 1 sein", "el": "Η τιμή πρέπει να είναι τουλάχιστον 1",
                      "pt": "O valor deve ser pelo menos 1"}),
    "unknown id": (("contingency: I3}", "contingency: I9}"), "msel[0].expected_actions[0].contingency",
                   "unknown inject 'I9'",
                   {"de": "unbekannte Einspielung 'I9'", "el": "άγνωστη εισαγωγή 'I9'", "pt": "injeção desconhecida 'I9'"}),
    "one of a list": (("level: beginner", "level: expert"), "level",
                      "Input should be 'beginner', 'intermediate' or 'advanced'",
                      {"de": "Der Wert muss 'beginner', 'intermediate' oder 'advanced' sein",
                       "el": "Η τιμή πρέπει να είναι 'beginner', 'intermediate' ή 'advanced'",
                       "pt": "O valor deve ser 'beginner', 'intermediate' ou 'advanced'"}),
    "our own validator": (("    at_h: 0\n", "    at_h: 0\n    contingency: true\n"), "msel[0]",
                          "an inject has exactly one trigger: at_h, when, or contingency: true",
                          {"de": "eine Einspielung hat genau einen Auslöser", "el": "μια εισαγωγή έχει ακριβώς έναν πυροδότη",
                           "pt": "uma injeção tem exatamente um gatilho"}),
    "unknown asset type": (("    substation:\n", "    substaton:\n"), "fragility.flood.substaton",
                           "unknown asset type 'substaton' (did you mean 'substation'?); the city mini knows: ",
                           {"de": "unbekannter Anlagentyp 'substaton' (meinten Sie 'substation'?); die Stadt mini kennt:",
                            "el": "άγνωστος τύπος υποδομής 'substaton' (μήπως εννοείτε 'substation';)",
                            "pt": "tipo de infraestrutura desconhecido 'substaton' (queria dizer 'substation'?)"}),
    "duplicate key": (("duration_h: 48", "duration_h: 48\nduration_h: 24"), "duration_h", "duplicate key 'duration_h'",
                      {"de": "doppelter Schlüssel 'duration_h'", "el": "διπλό κλειδί 'duration_h'",
                       "pt": "chave repetida 'duration_h'"}),
    "city not found": (("city: mini_city.yaml", "city: nowhere.yaml"), "city",
                       "city model 'nowhere.yaml' not found in the city-model folders",
                       {"de": "Stadtmodell 'nowhere.yaml' nicht gefunden in den Ordnern der Stadtmodelle",
                        "el": "το μοντέλο πόλης 'nowhere.yaml' δεν βρέθηκε στους φακέλους των μοντέλων πόλης",
                        "pt": "modelo de cidade 'nowhere.yaml' não encontrado nas pastas dos modelos de cidade"}),
}


@pytest.fixture(autouse=True)
def _mini_city(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(DATA))  # a city-model folder holding the mini scenario's city


def problem(case: str) -> Problem:
    (old, new), *_ = CASES[case]
    text = MINI.replace(old, new, 1)
    assert text != MINI
    with pytest.raises(ScenarioError) as info:
        load_scenario("s.yaml", text=text, base_dir=DATA)
    (p,) = [p for p in info.value.problems if p.field == CASES[case][1]]
    return p


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_problem_reads_in_the_lecturers_language_after_the_same_file_line_field(case: str) -> None:
    _change, field, english, said = CASES[case]
    p = problem(case)
    assert str(p).startswith(f"s.yaml:{p.line}: {field}: {english}")  # the English words, as before
    assert p.say(translator("en")) == str(p)
    for lang, words in said.items():
        line = p.say(translator(lang))
        assert line.startswith(f"s.yaml:{p.line}: {field}: "), line
        assert words in line and english not in line, line


def test_a_lint_finding_reads_in_the_lecturers_language(tmp_path: Path) -> None:
    path = tmp_path / "sc.yaml"
    path.write_text(MINI.replace("when: {gauge_above: 3.0}", "when: {gauge_above: 9.0}"), encoding="utf-8")
    findings = lint_file(path)
    (fired,) = [f for f in findings if f.rule == "inject-fires" and "msel[1]" in f.message]
    untranslated = next(f for f in findings if f.rule == "translation")
    english = "msel[1].id: inject I2 can never fire: it waits for the gauge above 9 m, but the flood peaks at 5 m at most"
    assert str(fired) == f"{path}:{fired.line}: inject-fires: {english}"
    said = {"de": "msel[1].id: Einspielung I2 kann nie ausgelöst werden: sie wartet auf einen Pegel über 9 m",
            "el": "msel[1].id: η εισαγωγή I2 δεν μπορεί να ενεργοποιηθεί ποτέ: περιμένει στάθμη πάνω από 9 m",
            "pt": "msel[1].id: a injeção I2 nunca pode disparar: espera por um nível acima de 9 m"}
    warning = {"de": "Warnung", "el": "προειδοποίηση", "pt": "aviso"}
    for lang, words in said.items():
        assert fired.say(translator(lang)).startswith(f"{path}:{fired.line}: inject-fires: {words}")
        line = untranslated.say(translator(lang))
        assert line.startswith(f"{path}:{untranslated.line}: translation: {warning[lang]}: ") and "not given" not in line


def test_validate_and_lint_take_the_language_of_their_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINI.replace("duration_h:", "duraton_h:"), encoding="utf-8")
    line = MINI.splitlines().index("duration_h: 48") + 1
    assert main(["validate", str(bad), "--lang", "de"]) == 1
    assert f"{bad}:{line}: duraton_h: unbekanntes Feld; meinten Sie 'duration_h'?" in capsys.readouterr().err
    assert main(["validate", str(bad)]) == 1
    assert f"{bad}:{line}: duraton_h: unknown field; did you mean 'duration_h'?" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text(MINI, encoding="utf-8")
    main(["lint", str(good), "--lang", "pt"])
    assert "translation: aviso: briefing: não indicado em de, el" in capsys.readouterr().out


def test_a_message_keeps_its_template_and_arguments_through_a_pickle() -> None:
    m = Msg("unknown inject {id!r}{mean}", id="I9", mean=did_you_mean(["I1", "I2"]))
    assert m == "unknown inject 'I9' (did you mean 'I1' or 'I2'?)"
    back = pickle.loads(pickle.dumps(m))
    assert isinstance(back, Msg) and back.template == m.template and back.say(translator("de")) == m.say(translator("de"))
    assert m.say(translator("de")) == "unknown inject 'I9' (meinten Sie 'I1' oder 'I2'?)"  # the outer one has no entry


def test_a_broken_translation_falls_back_to_english() -> None:
    m = Msg("unknown inject {id!r}", id="I9")
    assert m.say(lambda s: s.replace("{id!r}", "{name}")) == "unknown inject 'I9'"
    assert Problem("f.yaml", 3, "x", "a plain message").say(translator("de")) == "f.yaml:3: x: a plain message"


def test_a_count_is_written_with_the_readers_thousands_separator() -> None:
    m = Msg("{n} crews in one run (every team's count plus mutual_aid crews x max_requests); the limit is {limit}",
            n=Count(1200), limit=Count(500))
    assert str(m).startswith("1,200 crews in one run") and str(m).endswith("the limit is 500")
    assert m.say(translator("de")).startswith("1.200 Trupps in einem Lauf")
    assert m.say(translator("en")) == str(m)
    back = pickle.loads(pickle.dumps(m))
    assert back == m and back.say(translator("pt")).startswith("1.200 equipas")
