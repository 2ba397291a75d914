"""The PDF after-action report is the HTML report laid out for A4: same content, nothing cut off."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.report import after_action_report, write_report
from scro_sim.report.pdf import PdfUnavailable, html_to_pdf, pdf_available
from scro_sim.scenario import text_in
from scro_sim.scoring import grade

pdfium = pytest.importorskip("pypdfium2")
pytestmark = pytest.mark.skipif(not pdf_available(), reason="WeasyPrint's system libraries (Pango) are missing")


@pytest.fixture(scope="module")
def run(mini_scenario: Any, mini_city: Any) -> tuple[EventLog, Any]:
    sim = Simulation(mini_scenario, mini_city, seed=3)
    while not sim.done:
        if sim.advance().done:
            break
    return sim.log, grade(sim.log, mini_scenario)


@pytest.fixture(scope="module")
def pdf_en(run: tuple[EventLog, Any], mini_scenario: Any, mini_city: Any, tmp_path_factory: Any) -> Path:
    """One English PDF with every section (the city's map too), shared: WeasyPrint takes seconds a report."""
    log, card = run
    return write_report(tmp_path_factory.mktemp("pdf") / "aar.pdf", log, card, mini_scenario, city=mini_city)


def _pages(path: Path) -> list[tuple[str, float, list[tuple[float, float, float, float]]]]:
    """Per page: its text, its width, and the box of every character."""
    doc = pdfium.PdfDocument(str(path))
    out = []
    for page in doc:
        tp = page.get_textpage()
        n = tp.count_chars()
        boxes = [tp.get_charbox(i) for i in range(n)]
        out.append((tp.get_text_range(), page.get_width(), boxes))
    return out


@pytest.mark.parametrize("lang", ["en", "el"])
def test_pdf_report_carries_the_html_reports_content(run: tuple[EventLog, Any], mini_scenario: Any,
                                                     pdf_en: Path, tmp_path: Path, lang: str) -> None:
    log, card = run
    p = pdf_en if lang == "en" else write_report(tmp_path / "aar.pdf", log, card, mini_scenario, lang=lang)
    text = " ".join(" ".join(t.split()) for t, _, _ in _pages(p))
    assert text_in(mini_scenario.title, lang) in text
    for c in card.criteria:
        assert c.id in text or " ".join(c.title.split())[:20] in text, c.id
    assert card.log_digest[:16] in text.replace(" ", "")


def test_pdf_report_keeps_every_character_inside_the_page(pdf_en: Path) -> None:
    right_margin = 14 / 25.4 * 72  # PRINT_CSS: 14 mm, in points
    for k, (_text, width, boxes) in enumerate(_pages(pdf_en), start=1):
        assert boxes
        right = max(r for _l, _b, r, _t in boxes)
        assert right <= width - right_margin + 1, f"page {k}: text runs into the right margin or off the page"


def test_pdf_pages_render_with_ink(pdf_en: Path) -> None:
    doc = pdfium.PdfDocument(str(pdf_en))
    assert len(doc) >= 2
    img = doc[0].render(scale=0.5).to_pil().convert("L")
    dark = sum(img.histogram()[:128])
    assert dark > 500, "the first page rendered blank"


def test_html_to_pdf_without_weasyprint_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(PdfUnavailable, match="Pango"):
        html_to_pdf("<p>x</p>", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_html_report_is_unchanged_by_the_pdf_path(run: tuple[EventLog, Any], mini_scenario: Any, tmp_path: Path) -> None:
    log, card = run
    h = write_report(tmp_path / "aar.html", log, card, mini_scenario)
    assert h.read_text(encoding="utf-8") == after_action_report(log, card, mini_scenario)
