"""Date and list formats from locales/formats.json: the same text as babel gives, without its data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.lists import format_list

from bot.i18n import FORMATS_FILE, Catalogs, Formats, load_formats, pattern_tokens, write_formats

LOCALES = Path(__file__).resolve().parents[2] / "locales"
TABLE = load_formats(LOCALES)
DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=n) for n in range(0, 3 * 366, 7)] + [
    dt.date(2026, 12, 7),
    dt.date(2027, 2, 28),
    dt.date(2028, 2, 29),
    dt.date(999, 3, 4),
]


def test_every_catalog_language_and_english_has_formats() -> None:
    catalogs = sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/messages.po"))
    assert sorted(TABLE) == sorted(set(catalogs) | {"en"})


def test_the_table_is_what_babel_gives_today(tmp_path: Path) -> None:
    for lang in TABLE:
        (tmp_path / lang / "LC_MESSAGES").mkdir(parents=True)
        (tmp_path / lang / "LC_MESSAGES" / "messages.po").write_text("")
    write_formats(tmp_path)
    assert json.loads((tmp_path / FORMATS_FILE).read_text()) == json.loads((LOCALES / FORMATS_FILE).read_text()), (
        "locales/formats.json is stale: run python -m bot.i18n"
    )


@pytest.mark.parametrize("lang", sorted(TABLE))
def test_dates_and_lists_read_as_babel_writes_them(lang: str) -> None:
    formats = TABLE[lang]
    locale = Locale.parse(lang)
    for day in DAYS:
        assert formats.format_date(day) == format_date(day, format="full", locale=locale)
    items = ["écoles", "familles", "mairie", "presse", "parents"]
    for n in range(6):
        assert formats.format_list(items[:n]) == format_list(items[:n], locale=locale)


@pytest.mark.parametrize("lang", sorted(TABLE))
def test_a_translator_with_the_table_matches_one_without(lang: str) -> None:
    catalogs = Catalogs(LOCALES)
    with_table = catalogs.get(lang)
    assert with_table.formats is not None
    moment = dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    expected_time = format_datetime(moment, "HH:mm", tzinfo=moment.tzinfo, locale=with_table.locale)
    assert expected_time in with_table.format_datetime(moment)
    assert expected_time == "09:05"
    with_table.formats = None  # babel's own formatting
    babel_text = with_table.format_datetime(moment), with_table.format_list(["a", "b", "c"])
    catalogs_again = Catalogs(LOCALES).get(lang)
    assert (catalogs_again.format_datetime(moment), catalogs_again.format_list(["a", "b", "c"])) == babel_text


def test_a_language_without_a_table_entry_is_formatted_by_babel(tmp_path: Path) -> None:
    t = Catalogs(tmp_path, extra_languages=("ja",)).get("ja")
    assert t.formats is None
    assert t.format_date(dt.date(2026, 12, 7)) == "2026年12月7日月曜日"


def test_patterns_are_read_with_their_quotes() -> None:
    assert pattern_tokens("EEEE, d 'de' MMMM 'de' y") == [
        (True, "EEEE"),
        (False, ", "),
        (True, "d"),
        (False, " "),
        (False, "de"),
        (False, " "),
        (True, "MMMM"),
        (False, " "),
        (False, "de"),
        (False, " "),
        (True, "y"),
    ]
    assert pattern_tokens("h 'o''clock' a") == [
        (True, "h"),
        (False, " "),
        (False, "o'clock"),
        (False, " "),
        (True, "a"),
    ]
    assert pattern_tokens("''") == [(False, "'")]


def test_a_pattern_with_fields_not_written_here_is_left_to_babel(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Formats.from_babel("ja") is not None  # y年M月d日EEEE: fields written here
    assert Formats.from_babel("fr") is not None
    import babel.core

    class Pattern:
        pattern = "EEEE d MMMM y G"

    monkeypatch.setattr(babel.core.Locale, "date_formats", property(lambda self: {"full": Pattern()}))
    assert Formats.from_babel("fr") is None


@pytest.mark.parametrize("lang", sorted(TABLE))
def test_numbers_and_percentages_read_as_babel_writes_them(lang: str) -> None:
    from babel.numbers import format_decimal, format_percent

    formats = TABLE[lang]
    for value in (0, 7, 999, 1000, 1234, 12345, 999_999, 1_234_567, -4321):
        assert formats.format_number(value) == format_decimal(value, locale=lang)
    for hundredths in (0, 1, 9, 50, 87, 100, 250):
        assert formats.format_percent(hundredths / 100) == format_percent(hundredths / 100, locale=lang)
