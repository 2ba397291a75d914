"""UI catalogs: complete in every language, in step with the app's source, and compilable."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from scro_sim import i18n

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "scro_sim" / "locales"


def _catalog(path: Path, locale: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _pot_ids() -> set[str]:
    return {m.id for m in _catalog(LOCALES / "scro_sim.pot") if m.id}


def _fields(s: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(s) if f is not None}


def test_languages() -> None:
    assert set(i18n.LANGUAGES) == {"en", "el", "de", "pt"}
    assert i18n.normalize("de-AT") == "de" and i18n.normalize("xx") == "en" and i18n.normalize(None) == "en"


@pytest.mark.parametrize("lang", ["en", "el", "de", "pt"])
def test_every_msgid_translated(lang: str) -> None:
    cat = _catalog(LOCALES / lang / "LC_MESSAGES" / "scro_sim.po", lang)
    have = {m.id: m.string for m in cat if m.id}
    missing = sorted(i for i in _pot_ids() if not (have.get(i) or "").strip())
    assert not missing, f"{lang}: untranslated: {missing[:10]}"
    for msgid, msgstr in have.items():
        assert _fields(msgid) == _fields(msgstr), f"{lang}: placeholders differ in {msgid!r} -> {msgstr!r}"
    if lang != "en":
        same = [i for i in _pot_ids() if have.get(i) == i and len(i) > 12 and "{" not in i]
        assert len(same) < 5, f"{lang}: left in English: {same}"


def test_source_strings_are_in_the_pot() -> None:
    used = {msg if isinstance(msg, str) else msg[0]
            for _fn, _line, msg, _c, _ctx in extract_from_dir(str(ROOT / "app"), method_map=[("**.py", "python")],
                                                            keywords={"_": None, "N_": None})}
    # the engine's words the app shows (scro_sim/vocabulary.py)
    for own in ("vocabulary.py", "names.py", "orders.py"):  # and the words of names and of the order queue
        used |= {msg for _line, msg, _c, _ctx in extract_from_file("python", str(ROOT / "scro_sim" / own),
                                                                   keywords={"_": None, "N_": None})}
    # the cohort dashboard's page (scro_sim/report/cohort.py), written in the reader's language
    used |= {msg for _line, msg, _c, _ctx in extract_from_file("python", str(ROOT / "scro_sim" / "report" / "cohort.py"),
                                                               keywords={"_": None, "N_": None})}
    # each action's name, prompts and what it does, marked in its own module (scro_sim/engine/actions)
    for p in sorted((ROOT / "scro_sim" / "engine" / "actions").glob("*.py")):
        used |= {msg for _line, msg, _c, _ctx in extract_from_file("python", str(p), keywords={"N_": None})}
    # the after-action report, its figures and the terminal game (`scro-sim play`) in the reader's language
    for p in (*sorted((ROOT / "scro_sim" / "report").glob("*.py")), ROOT / "scro_sim" / "cli.py",
              ROOT / "scro_sim" / "game.py", ROOT / "scro_sim" / "hints.py"):  # and a practice game's hints
        used |= {msg if isinstance(msg, str) else msg[0]
                 for _line, msg, _c, _ctx in extract_from_file("python", str(p), keywords={"_": None, "N_": None})}
    # a regex pass too, in case a call is written in a way the extractor skips
    rx = re.compile(r"""\b_\(\s*"((?:[^"\\]|\\.)*)"\s*\)""")
    for p in (ROOT / "app").rglob("*.py"):
        used |= {m.encode().decode("unicode_escape") if "\\" in m else m for m in rx.findall(p.read_text(encoding="utf-8"))}
    missing = sorted(used - _pot_ids())
    assert not missing, f"run the extractor: not in scro_sim.pot: {missing}"


#: the library modules whose validation messages are said in the reader's language (Msg templates, N_ words)
MESSAGE_MODULES = ("errors.py", "yamlio.py", "publishing.py", "lint.py", "scenario/checks.py", "scenario/basics.py",
                   "scenario/models.py", "scenario/loading.py", "city/model.py", "engine/actions/_base.py", "engine/kernel.py")


def _message_templates() -> set[str]:
    found: set[str] = set()
    engine = [str(p.relative_to(ROOT / "scro_sim")) for sub in ("actions", "hazards")
              for p in sorted((ROOT / "scro_sim" / "engine" / sub).glob("*.py"))]
    for name in (*MESSAGE_MODULES, *engine):
        for _line, msg, _c, _ctx in extract_from_file("python", str(ROOT / "scro_sim" / name),
                                                      keywords={"Msg": None, "N_": None}):
            msg = msg if isinstance(msg, str) else msg[0]
            if re.sub(r"\{[^}]*\}", "", msg).strip(" :;,."):  # a template of placeholders only needs no words
                found.add(msg)
    return found


def test_validation_messages_are_in_the_pot() -> None:
    """Every message template of the validation and lint checks is in the catalogues (so a lecturer reads it
    in their language); add a new one to scro_sim.pot and the four .po files."""
    templates = _message_templates()
    assert len(templates) > 100  # the extractor found them at all
    missing = sorted(templates - _pot_ids())
    assert not missing, f"not in scro_sim.pot: {missing}"


def test_catalogs_compile_and_translate(tmp_path: Path) -> None:
    out = i18n.compile_catalogs(tmp_path)
    for lang in ("en", "el", "de", "pt"):
        assert (out / lang / "LC_MESSAGES" / "scro_sim.mo").is_file()
    assert i18n.translator("de")("Sign out") == "Abmelden"
    assert i18n.translator("el")("Sign out") == "Αποσύνδεση"
    assert i18n.translator("pt")("Sign out") == "Terminar sessão"
    assert i18n.translator("en")("Sign out") == "Sign out"
    assert i18n.translator("zz")("Sign out") == "Sign out"


def test_recompiles_when_po_is_newer(tmp_path: Path) -> None:
    out = i18n.compile_catalogs(tmp_path)
    mo = out / "de" / "LC_MESSAGES" / "scro_sim.mo"
    import os

    os.utime(mo, (0, 0))
    i18n.compile_catalogs(tmp_path)
    assert mo.stat().st_mtime > 0


def test_i18n_does_not_import_streamlit() -> None:
    src = (ROOT / "scro_sim" / "i18n.py").read_text(encoding="utf-8")
    assert "streamlit" not in re.sub(r'""".*?"""', "", src, flags=re.S)


def test_two_installations_never_share_compiled_catalogs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A second checkout's newer .mo in the shared temp folder would pass for this one's (its msgids missing)."""
    monkeypatch.delenv("SCRO_SIM_CACHE", raising=False)
    here = i18n._cache_dir()
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "other" / "locales")
    assert i18n._cache_dir() != here and i18n._cache_dir().parent == here.parent
    monkeypatch.setenv("SCRO_SIM_CACHE", str(tmp_path))
    assert i18n._cache_dir() == tmp_path / "locales"
