"""Tests of the schedule file, dates and times typed by people, and time zone suggestions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.errors import KnowledgeError
from bot.core.schedule import AFTER_STEP, DEFAULT_POLICY, SchedulePolicy, ScheduleRule
from bot.dates import MAX_DATE_CHARS, date_order, parse_event_date, parse_when
from bot.planning import load_policy
from bot.timezones import common_timezones, is_valid_timezone, suggest_timezones

SCHEDULE_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "schedule.yaml"
UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
# Monday 2 November 2026, 10:15 in Paris, 04:15 in New York.
NOW = dt.datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
TODAY = dt.date(2026, 11, 2)
GUIDE_LANGS = ["fr", "en", "es", "de", "it", "pt", "nl", "tr", "ko", "ar"]


# ---------------------------------------------------------------------------------------------
# Schedule file


def test_schedule_file_matches_the_guide() -> None:
    assert load_policy(SCHEDULE_FILE) == DEFAULT_POLICY


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unquoted_times_and_after_are_read(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "send_at: 10:30\nquiet_hours: {start: 22:00, end: 07:00}\nskip_weekends: no\n"
        "reminders:\n  - {step: 1, offset_days: -14}\n  - {step: after, offset_days: 2}\n",
    )
    assert load_policy(path) == SchedulePolicy(
        (ScheduleRule(1, -14), ScheduleRule(AFTER_STEP, 2)),
        send_at=dt.time(10, 30),
        quiet_start=dt.time(22, 0),
        quiet_end=dt.time(7, 0),
        skip_weekends=False,
    )


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('send_at: "25:00"\nreminders:\n  - {step: 1, offset_days: -28}\n', 1, "HH:MM"),
        ("send_at: '09:00'\nreminder:\n  - {step: 1, offset_days: -28}\n", 2, "unknown key 'reminder'"),
        ("reminders:\n  - step: 1\n    offset_days: -28\n  - step: 7\n    offset_days: -7\n", 4, "step"),
        (
            "reminders:\n  - {step: 1, offset_days: -28}\n  - {step: 1, offset_days: -21}\n",
            3,
            "more than one",
        ),
        ("reminders:\n  - {step: 1, offset_days: soon}\n", 2, "offset_days"),
        ("reminders:\n  - {step: 1}\n", 2, "both step and offset_days"),
        ("skip_weekends: perhaps\nreminders:\n  - {step: 1, offset_days: -1}\n", 1, "true or false"),
        (
            "quiet_hours: {start: '21:00', stop: '08:00'}\nreminders:\n  - {step: 1, offset_days: -1}\n",
            1,
            "stop",
        ),
        ("send_at: '09:00'\n", 1, "list of reminders"),
        ("reminders: []\n", 1, "non-empty list"),
        ("- 1\n- 2\n", 1, "mapping"),
        ("", 1, "mapping"),
        ("send_at: '09:00'\nreminders: [\n  {step: 1\n", 4, "invalid YAML"),
    ],
)
def test_bad_schedule_files_name_file_and_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(KnowledgeError) as caught:
        load_policy(path)
    message = str(caught.value)
    assert f"{path}:{line}:" in message
    assert words in message


def test_every_problem_is_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "send_at: noon\nextra: 1\nreminders:\n  - {step: 9, offset_days: -1}\n")
    with pytest.raises(KnowledgeError) as caught:
        load_policy(path)
    assert [problem.split(": ", 1)[0] for problem in caught.value.problems] == [
        f"{path}:2",
        f"{path}:1",
        f"{path}:4",
    ]


def test_missing_schedule_file(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_policy(tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------------------------
# Dates typed by people

EVENT_DATES = [
    ("fr", "2026-12-07", dt.date(2026, 12, 7)),
    ("fr", "7/12", dt.date(2026, 12, 7)),
    ("fr", "07/12/2026", dt.date(2026, 12, 7)),
    ("fr", "7.12.26", dt.date(2026, 12, 7)),
    ("fr", "le 7 décembre", dt.date(2026, 12, 7)),
    ("fr", "7 décembre", dt.date(2026, 12, 7)),
    ("fr", "Lundi 7 décembre 2026", dt.date(2026, 12, 7)),
    ("fr", "lundi prochain", dt.date(2026, 11, 9)),
    ("fr", "lundi", dt.date(2026, 11, 9)),  # today is a Monday: the next one
    ("fr", "mardi", dt.date(2026, 11, 3)),
    ("fr", "dans 2 jours", dt.date(2026, 11, 4)),
    ("fr", "demain à 9h", dt.date(2026, 11, 3)),
    ("fr", "1/11", dt.date(2027, 11, 1)),  # already past this year: next year
    ("fr", "2/11", dt.date(2026, 11, 2)),  # today
    ("en", "next Monday", dt.date(2026, 11, 9)),
    ("en", "in 2 days", dt.date(2026, 11, 4)),
    ("en", "12/7", dt.date(2026, 12, 7)),
    ("en", "12/07/2026", dt.date(2026, 12, 7)),
    ("en", "Dec 7", dt.date(2026, 12, 7)),
    ("en", "December 7th, 2026", dt.date(2026, 12, 7)),
    ("en", "tomorrow", dt.date(2026, 11, 3)),
    ("en-GB", "7/12", dt.date(2026, 12, 7)),
    ("en-US", "7/12", dt.date(2027, 7, 12)),
    ("es", "mañana", dt.date(2026, 11, 3)),
    ("es", "7 de diciembre", dt.date(2026, 12, 7)),
    ("es", "el próximo lunes", dt.date(2026, 11, 9)),
    ("de", "7. Dezember", dt.date(2026, 12, 7)),
    ("de", "nächsten Montag", dt.date(2026, 11, 9)),
    ("it", "7 dicembre", dt.date(2026, 12, 7)),
    ("pt", "7 de dezembro", dt.date(2026, 12, 7)),
    ("pt-BR", "7/12", dt.date(2026, 12, 7)),
    ("nl", "7 december", dt.date(2026, 12, 7)),
    ("tr", "7 Aralık", dt.date(2026, 12, 7)),
    ("ko", "12월 7일", dt.date(2026, 12, 7)),
    ("ko", "2026.12.07", dt.date(2026, 12, 7)),
    ("ar", "7 ديسمبر", dt.date(2026, 12, 7)),
]


@pytest.mark.parametrize(
    ("lang", "text", "expected"), EVENT_DATES, ids=[f"{lang}:{text}" for lang, text, _ in EVENT_DATES]
)
def test_event_dates(lang: str, text: str, expected: dt.date) -> None:
    result = parse_event_date(text, lang, TODAY)
    assert (result.value, result.error) == (expected, None)
    assert result.ok


ABSURD = [
    ("32/13", "unparseable"),
    ("31/02/2027", "unparseable"),
    ("2026-13-01", "unparseable"),
    ("hier", "past"),
    ("1900-01-01", "past"),
    ("7 décembre 2025", "past"),
    ("9999-12-31", "too_far"),
    ("2029-01-01", "too_far"),
    ("x" * 10_000, "unparseable"),
    ("7 décembre " + "bla " * 30, "unparseable"),  # longer than MAX_DATE_CHARS
    ("😀🎉", "unparseable"),
    ("décembre", "unparseable"),  # a month is not a day
    ("bonjour", "unparseable"),
    ("9h", "unparseable"),  # a time is not a date
    ("", "empty"),
    ("   \n\t ", "empty"),
]


@pytest.mark.parametrize(("text", "error"), ABSURD, ids=[text[:20] for text, _ in ABSURD])
def test_absurd_event_dates_give_error_codes(text: str, error: str) -> None:
    result = parse_event_date(text, "fr", TODAY)
    assert (result.value, result.error) == (None, error)
    assert not result.ok


def test_29_february_without_a_year_is_the_next_one() -> None:
    assert parse_event_date("29/02", "fr", TODAY).value == dt.date(2028, 2, 29)
    assert parse_event_date("29/02/2027", "fr", TODAY).error == "unparseable"


def test_two_years_ahead_is_the_limit() -> None:
    assert parse_event_date("2028-11-02", "fr", TODAY).value == dt.date(2028, 11, 2)
    assert parse_event_date("2028-11-03", "fr", TODAY).error == "too_far"


def test_input_cap_is_reasonable() -> None:
    assert 40 <= MAX_DATE_CHARS <= 200


@pytest.mark.parametrize(
    ("lang", "order"),
    [
        ("fr", "DMY"),
        ("en", "MDY"),
        ("en-US", "MDY"),
        ("en_GB", "DMY"),
        ("de", "DMY"),
        ("tr", "DMY"),
        ("ko", "YMD"),
    ],
)
def test_date_order(lang: str, order: str) -> None:
    assert date_order(lang) == order


# ---------------------------------------------------------------------------------------------
# Moments typed by people

WHEN = [
    ("fr", "demain 9h", dt.datetime(2026, 11, 3, 9, 0), True),
    ("fr", "demain à 9h", dt.datetime(2026, 11, 3, 9, 0), True),
    ("fr", "demain à 9h30", dt.datetime(2026, 11, 3, 9, 30), True),
    ("fr", "demain 14:45", dt.datetime(2026, 11, 3, 14, 45), True),
    ("fr", "demain", dt.datetime(2026, 11, 3, 9, 0), False),
    ("fr", "dans 2 jours", dt.datetime(2026, 11, 4, 9, 0), False),
    ("fr", "dans 2 heures", dt.datetime(2026, 11, 2, 12, 15), True),
    ("fr", "dans 2h", dt.datetime(2026, 11, 2, 12, 15), True),
    ("fr", "lundi", dt.datetime(2026, 11, 9, 9, 0), False),
    ("fr", "lundi prochain", dt.datetime(2026, 11, 9, 9, 0), False),
    ("fr", "mardi 14h", dt.datetime(2026, 11, 3, 14, 0), True),
    ("fr", "aujourd'hui 15h", dt.datetime(2026, 11, 2, 15, 0), True),
    ("fr", "7/12", dt.datetime(2026, 12, 7, 9, 0), False),
    ("fr", "le 7 décembre à 10h", dt.datetime(2026, 12, 7, 10, 0), True),
    ("fr", "7 décembre", dt.datetime(2026, 12, 7, 9, 0), False),
    ("fr", "18h", dt.datetime(2026, 11, 2, 18, 0), True),  # later today
    ("fr", "9h", dt.datetime(2026, 11, 3, 9, 0), True),  # already past today: tomorrow
    ("en", "tomorrow 9am", dt.datetime(2026, 11, 3, 9, 0), True),
    ("en", "tomorrow at 9", dt.datetime(2026, 11, 3, 9, 0), True),
    ("en", "tomorrow 10", dt.datetime(2026, 11, 3, 10, 0), True),
    ("fr", "demain 10", dt.datetime(2026, 11, 3, 10, 0), True),
    ("fr", "dans 2 jours à 9h", dt.datetime(2026, 11, 4, 9, 0), True),
    ("en", "in 30 minutes", dt.datetime(2026, 11, 2, 10, 45), True),
    ("en", "tomorrow at 3:30 pm", dt.datetime(2026, 11, 3, 15, 30), True),
    ("en", "next Monday", dt.datetime(2026, 11, 9, 9, 0), False),
    ("en", "in 2 days", dt.datetime(2026, 11, 4, 9, 0), False),
    ("en", "in 2 hours", dt.datetime(2026, 11, 2, 12, 15), True),
    ("en", "12/7 at 10am", dt.datetime(2026, 12, 7, 10, 0), True),
    ("en", "2026-12-07T16:00", dt.datetime(2026, 12, 7, 16, 0), True),
    ("es", "mañana", dt.datetime(2026, 11, 3, 9, 0), False),
    ("es", "mañana a las 10", dt.datetime(2026, 11, 3, 10, 0), True),
    ("de", "morgen um 9 Uhr", dt.datetime(2026, 11, 3, 9, 0), True),
    ("it", "domani alle 9", dt.datetime(2026, 11, 3, 9, 0), True),
    ("pt", "amanhã às 9h", dt.datetime(2026, 11, 3, 9, 0), True),
    ("nl", "morgen om 9 uur", dt.datetime(2026, 11, 3, 9, 0), True),
    ("tr", "yarın saat 9", dt.datetime(2026, 11, 3, 9, 0), True),
    ("ko", "내일 오후 3시 반", dt.datetime(2026, 11, 3, 15, 30), True),
    ("ar", "غدا الساعة 9", dt.datetime(2026, 11, 3, 9, 0), True),
]


@pytest.mark.parametrize(
    ("lang", "text", "local", "time_given"), WHEN, ids=[f"{lang}:{text}" for lang, text, _, _ in WHEN]
)
def test_moments_in_paris(lang: str, text: str, local: dt.datetime, time_given: bool) -> None:
    result = parse_when(text, lang, NOW, "Europe/Paris")
    assert result.error is None
    assert result.local == local.replace(tzinfo=PARIS)
    assert result.value == local.replace(tzinfo=PARIS).astimezone(UTC)
    assert result.value is not None
    assert result.value.tzinfo is UTC
    assert result.time_given is time_given
    assert not result.adjusted


def test_relative_base_is_the_users_local_time() -> None:
    # 04:15 in New York on Monday 2 November: "demain" is Tuesday there too, "8am" is today.
    assert parse_when("demain", "fr", NOW, "America/New_York").local == dt.datetime(2026, 11, 3, 9, 0, tzinfo=NEW_YORK)
    assert parse_when("8am", "en", NOW, "America/New_York").local == dt.datetime(2026, 11, 2, 8, 0, tzinfo=NEW_YORK)
    # 23:30 UTC on Monday is already Tuesday in Seoul.
    late = dt.datetime(2026, 11, 2, 23, 30, tzinfo=UTC)
    result = parse_when("tomorrow", "en", late, "Asia/Seoul")
    assert result.local is not None
    assert result.local.date() == dt.date(2026, 11, 4)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("hier", "past"),
        ("aujourd'hui 8h", "past"),
        ("demain 25h", "unparseable"),
        ("demain 9h75", "unparseable"),
        ("32/13 9h", "unparseable"),
        ("1900-01-01", "past"),
        ("9999-12-31", "too_far"),
        ("x" * 10_000, "unparseable"),
        ("🙂", "unparseable"),
        ("", "empty"),
        ("bientôt", "unparseable"),
    ],
)
def test_absurd_moments_give_error_codes(text: str, error: str) -> None:
    result = parse_when(text, "fr", NOW, "Europe/Paris")
    assert (result.value, result.local, result.error) == (None, None, error)


def test_quiet_hours_move_a_moment_when_a_policy_is_given() -> None:
    raw = parse_when("demain 3h", "fr", NOW, "Europe/Paris")
    assert raw.local == dt.datetime(2026, 11, 3, 3, 0, tzinfo=PARIS)
    moved = parse_when("demain 3h", "fr", NOW, "Europe/Paris", policy=DEFAULT_POLICY)
    assert moved.local == dt.datetime(2026, 11, 3, 9, 0, tzinfo=PARIS)
    assert moved.adjusted
    kept = parse_when("demain 10h", "fr", NOW, "Europe/Paris", policy=DEFAULT_POLICY)
    assert not kept.adjusted


def test_nonexistent_local_time_in_spring() -> None:
    now = dt.datetime(2027, 3, 25, 12, 0, tzinfo=UTC)  # Thursday
    result = parse_when("dimanche 2h30", "fr", now, "Europe/Paris")
    assert result.value == dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    assert result.local is not None
    assert (result.local.hour, result.local.minute) == (3, 30)


def test_caller_errors_raise() -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_when("demain", "fr", NOW, "Europe/Atlantis")
    with pytest.raises(ValueError, match="aware"):
        parse_when("demain", "fr", dt.datetime(2026, 11, 2, 9, 0), "Europe/Paris")


def test_unknown_language_falls_back_to_english_and_french() -> None:
    assert parse_event_date("7 décembre", "xx", TODAY).value == dt.date(2026, 12, 7)
    assert parse_event_date("next Monday", "zz-ZZ", TODAY).value == dt.date(2026, 11, 9)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=120), lang=st.sampled_from([*GUIDE_LANGS, "en-GB", "xx", ""]))
def test_arbitrary_text_never_raises(text: str, lang: str) -> None:
    date_result = parse_event_date(text, lang, TODAY)
    assert (date_result.value is None) != (date_result.error is None)
    when = parse_when(text, lang, NOW, "Europe/Paris")
    assert (when.value is None) != (when.error is None)
    if when.value is not None:
        assert when.value > NOW
        assert when.value.tzinfo is UTC


@settings(max_examples=100, deadline=None)
@given(
    text=st.from_regex(r"\A[0-9 /.:hH\-]{1,20}\Z"),
    lang=st.sampled_from(["fr", "en", "ko"]),
)
def test_digit_soup_never_raises(text: str, lang: str) -> None:
    result = parse_event_date(text, lang, TODAY)
    if result.value is not None:
        assert TODAY <= result.value <= dt.date(2028, 11, 2)


# ---------------------------------------------------------------------------------------------
# Time zones


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("  AMERICA/NEW_YORK ", "America/New_York"),
        ("paris", "Europe/Paris"),
        ("Paris", "Europe/Paris"),
        ("new york", "America/New_York"),
        ("New York City", "America/New_York"),
        ("new yrok", "America/New_York"),
        ("montreal", "America/Toronto"),
        ("Montréal", "America/Toronto"),
        ("America/Montreal", "America/Montreal"),
        ("sao paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("bruxelles", "Europe/Brussels"),
        ("EST", "America/New_York"),
        ("london", "Europe/London"),
        ("UTC", "UTC"),
        ("서울", "Asia/Seoul"),
        ("القاهرة", "Africa/Cairo"),
        ("losangeles", "America/Los_Angeles"),
    ],
)
def test_suggest_timezones(text: str, first: str) -> None:
    found = suggest_timezones(text)
    assert found[0] == first
    assert len(found) <= 3
    assert all(is_valid_timezone(zone) for zone in found)


def test_an_exact_zone_gives_only_that_zone() -> None:
    assert suggest_timezones("Europe/Paris") == ["Europe/Paris"]
    assert suggest_timezones("paris") == ["Europe/Paris"]


def test_a_country_with_several_zones_gives_several() -> None:
    assert suggest_timezones("USA", limit=4) == [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    ]
    assert suggest_timezones("canada", limit=2) == ["America/Toronto", "America/Vancouver"]


@pytest.mark.parametrize("text", ["", "   ", "xyzzy qwv", "🙂", "x" * 10_000])
def test_nothing_close_gives_nothing(text: str) -> None:
    assert suggest_timezones(text) == []


def test_is_valid_timezone() -> None:
    assert is_valid_timezone("Europe/Paris")
    assert is_valid_timezone("UTC")
    assert not is_valid_timezone("europe/paris")
    assert not is_valid_timezone("Paris")
    assert not is_valid_timezone("localtime")
    assert not is_valid_timezone("")


@pytest.mark.parametrize("lang", GUIDE_LANGS)
def test_common_timezones_are_valid(lang: str) -> None:
    zones = common_timezones(lang)
    assert 1 <= len(zones) <= 6
    assert len(set(zones)) == len(zones)
    assert all(is_valid_timezone(zone) for zone in zones)


def test_common_timezones_by_language_and_region() -> None:
    assert common_timezones("fr")[:2] == ["Europe/Paris", "Europe/Brussels"]
    assert "Africa/Abidjan" in common_timezones("fr")
    assert common_timezones("en") == [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
        "Europe/London",
    ]
    assert common_timezones("fr-CA")[0] == "America/Toronto"
    assert common_timezones("en-GB")[0] == "Europe/London"
    assert common_timezones("pt_PT")[0] == "Europe/Lisbon"
    assert common_timezones("xx") == common_timezones("en")


def test_every_alias_leads_to_real_zones() -> None:
    from bot.timezones import _ALIASES

    for alias, zones in _ALIASES.items():
        assert zones, alias
        assert all(is_valid_timezone(zone) for zone in zones), alias
        assert suggest_timezones(alias, limit=len(zones)) == list(zones), alias
