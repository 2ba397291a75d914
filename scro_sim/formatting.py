"""Numbers, money, clock times, durations and dates as a reader of each course language writes them.

One place for every front end (the app's pages, the debrief, the report): the engine and
the log keep hours since the start and plain floats; a person reads "Tue 14:10", "18 h",
"340.000 €" (German) or "€340,000" (English).  Formatting is Babel's (CLDR data), with the
course's languages mapped to the region whose conventions the course uses (``en`` is
British English: 24-hour clock; ``pt`` is European Portuguese).

A scenario always has a start time; a log or figure read without its scenario falls back to
:data:`DEFAULT_START` (Monday 00:00 of the first week of 2024), so hour 0 reads "Mon 00:00".
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from .i18n import normalize

__all__ = ["DEFAULT_START", "clock", "date_text", "datetime_text", "duration", "hour_range", "locale",
           "money", "number", "percent", "quote", "score", "to_datetime"]

#: the clock of hour 0 when neither the scenario nor the log gives a start (a Monday, midnight)
DEFAULT_START = datetime(2024, 1, 1, 0, 0)

_REGION = {"en": "en_GB", "de": "de_DE", "el": "el_GR", "pt": "pt_PT"}
#: the short weekday (Portugal's ``EEE`` is the whole word "terça": its six-letter form is "ter.")
_WEEKDAY = {"pt": "EEEEEE"}


@lru_cache(maxsize=16)
def locale(lang: str | None) -> Locale:
    """The Babel locale of a course language (``de`` -> ``de_DE``; unknown languages: British English)."""
    return Locale.parse(_REGION[normalize(lang)])


def to_datetime(start: datetime | date | str | None) -> datetime:
    """A start time from a scenario (``datetime``), a log (ISO text) or nothing (:data:`DEFAULT_START`)."""
    if isinstance(start, datetime):
        return start.replace(tzinfo=None) if start.tzinfo is not None else start
    if isinstance(start, date):
        return datetime(start.year, start.month, start.day)
    if isinstance(start, str) and start:
        try:
            return to_datetime(datetime.fromisoformat(start))
        except ValueError:
            pass
    return DEFAULT_START


def clock(start: datetime | date | str | None, time_h: float, lang: str | None = "en", *,
          date: bool = False) -> str:
    """Hour ``time_h`` of a run as the wall clock: "Tue 14:10" (``date``: "Tue 16 Jan 14:10")."""
    if time_h is None or not math.isfinite(float(time_h)):
        return "—"
    # seconds dropped, to the minute (a decision at 3.11547 h reads 03:06, not 03:06:55)
    at = to_datetime(start) + timedelta(minutes=round(float(time_h) * 60))
    day = _WEEKDAY.get(normalize(lang), "EEE")
    return format_datetime(at, f"{day} d MMM HH:mm" if date else f"{day} HH:mm", locale=locale(lang))


def hour_range(start: datetime | date | str | None, from_h: float, to_h: float, lang: str | None = "en") -> str:
    """Two clock times of one run: "Mon 08:00 – Fri 08:00"."""
    return f"{clock(start, from_h, lang)} – {clock(start, to_h, lang)}"


def duration(hours: float | None, lang: str | None = "en") -> str:
    """A length of time: "18 h", "2.5 h" ("2,5 h" in German), "45 min" under an hour; "—" for none."""
    if hours is None or not math.isfinite(float(hours)):
        return "—"
    h = float(hours)
    if abs(h) < 1:
        return f"{format_decimal(round(h * 60), '#,##0', locale=locale(lang))} min"
    pattern = "#,##0.#" if abs(h) < 10 else "#,##0"
    return f"{format_decimal(h, pattern, locale=locale(lang))} h"


def number(value: float | int | None, lang: str | None = "en", *, digits: int | None = None) -> str:
    """A count or measure: "12,400" / "12.400"; ``digits`` decimals at most (default: 0 from 1000 up,
    else three significant figures); "—" for none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    v = float(value)
    if digits is None:
        if isinstance(value, int) or abs(v) >= 1000 or v == int(v):
            digits = 0
        else:
            digits = max(0, 2 - math.floor(math.log10(abs(v)))) if v else 0
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return format_decimal(v, pattern, locale=locale(lang))


def score(points: float | None, lang: str | None = "en") -> str:
    """A score out of 100 with one decimal always ("87.5", "60.0"; "87,5" in German)."""
    if points is None or not math.isfinite(float(points)):
        return "—"
    return format_decimal(float(points), "#,##0.0", locale=locale(lang))


def percent(share: float | None, lang: str | None = "en") -> str:
    """A share 0..1 as a whole percentage: "87%" (en), "87 %" (de) ("—" for none)."""
    if share is None or not math.isfinite(float(share)):
        return "—"
    return format_percent(float(share), locale=locale(lang))


def money(amount: float | None, currency: str = "EUR", lang: str | None = "en") -> str:
    """A sum of money, whole units: "€340,000" (en), "340.000 €" (de), "340.000 €" (el), "340 000 €" (pt)."""
    if amount is None or not math.isfinite(float(amount)):
        return "—"
    loc = locale(lang)
    pattern = loc.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
    try:
        return format_currency(round(float(amount)), currency, pattern, locale=loc, currency_digits=False)
    except Exception:  # a currency code CLDR does not know: the number and the code
        return f"{number(round(float(amount)), lang)} {currency}"


_QUOTES = {"en": ("“", "”"), "de": ("„", "“"), "el": ("«", "»"), "pt": ("«", "»")}


def quote(text: str, lang: str | None = "en") -> str:
    """``text`` in the language's quotation marks: “…” (en), „…“ (de), «…» (el, pt)."""
    q0, q1 = _QUOTES[normalize(lang)]
    return f"{q0}{text}{q1}"


def date_text(when: datetime | date, lang: str | None = "en") -> str:
    """A calendar date: "16 Jan 2024" / "16.01.2024"."""
    return format_date(when, "medium", locale=locale(lang))


def datetime_text(when: datetime, lang: str | None = "en") -> str:
    """A date and time of day, as a list of games or runs shows them: "16 Jan 2024, 14:10"."""
    when = when.replace(tzinfo=None) if when.tzinfo is not None else when
    return f"{format_date(when, 'medium', locale=locale(lang))}, {format_datetime(when, 'HH:mm', locale=locale(lang))}"
