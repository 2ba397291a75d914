"""Numbers, money, clock times and durations as each course language writes them (scro_sim/formatting.py)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from scro_sim import formatting as fmt

START = datetime(2024, 1, 16, 8, 0)  # a Tuesday


@pytest.mark.parametrize(("lang", "want"), [("en", "€340,000"), ("de", "340.000\xa0€"), ("el", "340.000\xa0€"),
                                            ("pt", "340\xa0000\xa0€")])
def test_money_is_written_in_the_readers_locale_in_whole_units(lang: str, want: str) -> None:
    assert fmt.money(340_000, "EUR", lang) == want
    assert fmt.money(339_999.6, "EUR", lang) == want  # rounded to whole units, never cents


def test_money_in_a_currency_babel_does_not_know_keeps_its_code() -> None:
    assert fmt.money(1500, "XQQ", "de").endswith("XQQ") and "1.500" in fmt.money(1500, "XQQ", "de")
    assert fmt.money(None) == "—" and fmt.money(float("nan")) == "—"


@pytest.mark.parametrize(("lang", "want"), [("en", "Tue 11:07"), ("de", "Di. 11:07"), ("el", "Τρί 11:07"),
                                            ("pt", "ter. 11:07")])
def test_an_hour_of_the_run_reads_as_weekday_and_clock_time(lang: str, want: str) -> None:
    assert fmt.clock(START, 3.11547, lang) == want  # 3 h 06 min 56 s after 08:00, to the minute


def test_clock_takes_iso_text_dates_and_timezones_and_crosses_days() -> None:
    assert fmt.clock("2024-01-16T08:00:00+01:00", 30, "en") == "Wed 14:00"
    assert fmt.clock(date(2024, 1, 16), 0, "en") == "Tue 00:00"
    assert fmt.clock(START, 24 * 3, "en", date=True) == "Fri 19 Jan 08:00"


def test_without_a_start_the_documented_default_monday_midnight_is_used() -> None:
    assert fmt.to_datetime(None) == fmt.DEFAULT_START == datetime(2024, 1, 1)
    assert fmt.clock(None, 0, "en") == "Mon 00:00"
    assert fmt.clock("not a date", 1.5, "en") == "Mon 01:30"
    assert fmt.clock(START, float("nan")) == "—"


@pytest.mark.parametrize(("lang", "long", "short", "minutes"), [("en", "18 h", "2.5 h", "15 min"),
                                                                ("de", "18 h", "2,5 h", "15 min"),
                                                                ("el", "18 h", "2,5 h", "15 min"),
                                                                ("pt", "18 h", "2,5 h", "15 min")])
def test_durations_read_in_hours_or_minutes(lang: str, long: str, short: str, minutes: str) -> None:
    assert fmt.duration(17.8, lang) == long
    assert fmt.duration(2.5, lang) == short
    assert fmt.duration(0.25, lang) == minutes
    assert fmt.duration(None, lang) == "—"


@pytest.mark.parametrize(("lang", "big", "small", "score"), [("en", "12,400", "0.253", "87.5"),
                                                             ("de", "12.400", "0,253", "87,5"),
                                                             ("el", "12.400", "0,253", "87,5"),
                                                             ("pt", "12\xa0400", "0,253", "87,5")])
def test_numbers_and_scores_use_the_locales_separators(lang: str, big: str, small: str, score: str) -> None:
    assert fmt.number(12_400.4, lang) == big
    assert fmt.number(0.25341, lang) == small
    assert fmt.score(87.5, lang) == score
    assert fmt.score(60, "en") == "60.0"  # a score always shows its one decimal
    assert fmt.number(None, lang) == "—" and fmt.number(float("inf"), lang) == "—"


def test_percent_and_dates_follow_the_locale() -> None:
    assert fmt.percent(0.87, "en") == "87%" and fmt.percent(0.87, "de") == "87\xa0%"
    assert fmt.date_text(date(2024, 1, 16), "de") == "16.01.2024"
    assert fmt.datetime_text(datetime(2024, 1, 16, 14, 10, 33), "en") == "16 Jan 2024, 14:10"
    assert fmt.hour_range(START, 0, 96, "en") == "Tue 08:00 – Sat 08:00"


def test_an_unknown_language_formats_as_british_english() -> None:
    assert fmt.money(1000, "EUR", "xx") == fmt.money(1000, "EUR", "en")
    assert str(fmt.locale("de-AT")) == "de_DE"


def test_quotes_are_the_languages_own() -> None:
    assert [fmt.quote("x", lang) for lang in ("en", "de", "el", "pt")] == ["“x”", "„x“", "«x»", "«x»"]
