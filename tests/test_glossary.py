"""The learner's glossary: every term in four languages, references that resolve, search that ignores accents."""

from __future__ import annotations

from pathlib import Path

import pytest

from scro_sim.errors import InputError
from scro_sim.glossary import GlossaryError, glossary, load_glossary, search
from scro_sim.i18n import LANGUAGES

GOOD = """terms:
  - id: inject
    term: {en: Inject, de: Einspielung, el: Μήνυμα, pt: Injeção}
    text: {en: A message., de: Eine Meldung., el: Ένα μήνυμα., pt: Uma mensagem.}
    see_also: [crew]
  - id: crew
    term: {en: Crew, de: Trupp, el: Συνεργείο, pt: Equipa}
    text: {en: A team., de: Ein Team., el: Μια ομάδα., pt: Uma equipa.}
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "g.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_bundled_glossary_has_every_term_in_every_language() -> None:
    g = glossary()
    assert len(g.terms) >= 20
    for t in g.terms:
        for lg in LANGUAGES:
            assert t.term[lg].strip() and len(t.text[lg]) > 40, (t.id, lg)
        assert all(ref in g.by_id() for ref in t.see_also)
    for word in ("inject", "cascade", "backup", "mutual_aid", "msel", "resilience_loss"):
        assert word in g.by_id()


def test_search_ignores_case_and_accents_in_the_readers_language() -> None:
    assert "mobile_generator" in [t.id for t in search("GENERATOR", "en")]
    assert "mobile_generator" in [t.id for t in search("γεννητρια", "el")]  # no tonos in the query
    assert "evacuation" in [t.id for t in search("evacuacao", "pt")]
    assert search("no-such-word-anywhere", "de") == []


def test_terms_sort_as_their_language_reads() -> None:
    names = [t.term["de"] for t in glossary().in_order("de")]
    assert names == sorted(names, key=lambda s: s.casefold().replace("ü", "u").replace("ä", "a").replace("ö", "o"))


def test_a_missing_language_is_named_with_its_line(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD.replace(", pt: Equipa}", "}"))
    with pytest.raises(GlossaryError) as info:
        load_glossary(p)
    (prob,) = info.value.problems
    assert prob.line == 7 and prob.field == "terms[1].term" and "pt" in prob.message


def test_an_unknown_reference_and_a_duplicate_id_are_refused(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD.replace("see_also: [crew]", "see_also: [crews]").replace("id: crew", "id: inject"))
    with pytest.raises(GlossaryError) as info:
        load_glossary(p)
    fields = {(x.field, x.line) for x in info.value.problems}
    assert ("terms[1].id", 6) in fields and ("terms[0].see_also[0]", 5) in fields


def test_a_broken_file_is_an_input_error_not_a_traceback(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_glossary(_write(tmp_path, "terms:\n  - id: x\n    text: a: b\n"))
    assert "g.yaml:3" in str(info.value)
