"""The after-action report as PDF: the HTML report laid out for A4 paper by WeasyPrint.

The PDF carries the same content, layout and language as the HTML report, so an assessor who
prints or files a report reads what the learner saw; only a print style sheet is added (page
size and margins, tables that wrap inside the page, rows kept whole across page breaks).
WeasyPrint needs the Pango text library of the operating system; without it the error says
so and the HTML report still works.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from ..errors import ScroSimError

__all__ = ["PRINT_CSS", "PdfUnavailable", "html_to_pdf", "pdf_available"]

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; color: #616161; } }
body { max-width: none; margin: 0; padding: 0; font-size: 9.5pt; line-height: 1.35;
       font-family: "DejaVu Sans", "Noto Sans", "Liberation Sans", sans-serif; }
h1 { font-size: 16pt; } h2 { font-size: 12.5pt; break-after: avoid; }
table { table-layout: auto; width: 100%; font-size: 8pt; }
th, td { overflow-wrap: break-word; padding: .2rem .3rem; } th { font-size: 7.5pt; }
tr, img { break-inside: avoid; }
img { max-width: 100%; height: auto; }
"""


class PdfUnavailable(ScroSimError):
    """The PDF renderer (WeasyPrint and its system libraries) cannot run on this machine."""


_TAG = re.compile(r"(<[^>]*>)")
_JOINT = re.compile(r"(?<=\w)([_~])(?=\w)|(?<=[^\W\d])(\.)(?=[^\W\d])")


def _breakable(page: str) -> str:
    """Let identifiers (``resilience_loss.power``, ``N01~N21``) wrap after ``_``, ``.`` and ``~`` in text only.

    A zero-width space is added in text nodes, never inside tags, styles or the images' data URIs,
    so a narrow table column wraps an identifier at its joints instead of running off the page.
    """
    parts = _TAG.split(page)
    in_style = False
    for k, part in enumerate(parts):
        if k % 2:  # a tag
            low = part[:7].lower()
            in_style = low.startswith("<style") or (in_style and not low.startswith("</style"))
        elif part and not in_style:
            parts[k] = _JOINT.sub(lambda m: m.group(0) + "\u200b", part)
    return "".join(parts)


@functools.cache
def pdf_available() -> bool:
    """Whether WeasyPrint and its system libraries load on this machine (tried once per process)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def html_to_pdf(html_text: str, path: str | Path) -> Path:
    """Write ``html_text`` (a self-contained page: styles inline, images as data URIs) as an A4 PDF."""
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint is installed but Pango is not
        raise PdfUnavailable(
            "PDF reports need WeasyPrint and the Pango library (Debian: apt-get install libpango-1.0-0 "
            f"libpangoft2-1.0-0); write the report as .html instead ({exc.__class__.__name__}: {exc})"
        ) from None
    p = Path(path)
    HTML(string=_breakable(html_text), base_url=None).write_pdf(p, stylesheets=[CSS(string=PRINT_CSS)])
    return p
