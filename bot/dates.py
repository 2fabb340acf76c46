"""Dates and moments typed by people, in the bot's languages: event dates and reminder times."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bot.core.schedule import SchedulePolicy, adjust_manual, get_zone, local_datetime
from bot.core.text import fold

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

ErrorCode = Literal["empty", "unparseable", "past", "too_far"]

#: Longest text read as a date; a date, even with a time and a weekday, is far shorter.
MAX_DATE_CHARS = 80
#: Furthest accepted date, in years from today.
MAX_YEARS_AHEAD = 2
#: Time of day used when the user gives a day without a time.
DEFAULT_TIME = dt.time(9, 0)


@dataclass(frozen=True, slots=True)
class DateResult:
    """A date typed by the user, or why it was refused.

    Attributes:
        value: The local calendar date, when understood and acceptable.
        error: ``empty``, ``unparseable``, ``past`` or ``too_far`` (more than two years ahead).
    """

    value: dt.date | None = None
    error: ErrorCode | None = None

    @property
    def ok(self) -> bool:
        """True when ``value`` is set."""
        return self.value is not None


@dataclass(frozen=True, slots=True)
class WhenResult:
    """A moment typed by the user, or why it was refused.

    Attributes:
        value: The moment in UTC (aware).
        local: The same moment in the user's zone.
        time_given: False when the user gave only a day and ``DEFAULT_TIME`` was used.
        adjusted: True when the moment was moved out of the quiet hours.
        error: ``empty``, ``unparseable``, ``past`` or ``too_far`` (more than two years ahead).
    """

    value: dt.datetime | None = None
    local: dt.datetime | None = None
    time_given: bool = False
    adjusted: bool = False
    error: ErrorCode | None = None

    @property
    def ok(self) -> bool:
        """True when ``value`` is set."""
        return self.value is not None


@dataclass(frozen=True, slots=True)
class _Parsed:
    """What the text says, before checking it against the present."""

    day: dt.date | None
    clock: dt.time | None
    moment: dt.datetime | None = None  # a relative time of day from dateparser ("in 2 hours")


_MONTH_FIRST_REGIONS = {"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "UM", "VI"}
_YEAR_FIRST_LANGS = {"ko", "ja", "zh", "hu", "lt", "mn"}


def split_locale(lang: str) -> tuple[str, str]:
    """``fr-ca``, ``en_GB`` -> ``("fr", "CA")``, ``("en", "GB")``: the language and the region, if any."""
    base, _, region = lang.replace("_", "-").partition("-")
    return base.lower().strip(), region.upper().strip()


def date_order(lang: str) -> Literal["DMY", "MDY", "YMD"]:
    """How people of ``lang`` (``fr``, ``en-US``, ``en_GB``) order numeric dates.

    English without a region is read month first, as in the United States.
    """
    base, region = split_locale(lang)
    if base in _YEAR_FIRST_LANGS:
        return "YMD"
    if region in _MONTH_FIRST_REGIONS or (base == "en" and not region):
        return "MDY"
    return "DMY"


# A time of day, in the forms the guide languages use. A marker (à, at, um, a las, …) is kept
# in the match so that it is removed along with the time.
_MARKER = (
    r"(?:(?<!\w)(?:à|a|at|@|vers|around|um|gegen|alle|ore|a\s+las|a\s+la|às|as|om|saat)\s*"
    r"|الساعة\s*)"
)
_AMPM = r"(?P<ampm>a\.?m\.?|p\.?m\.?)(?!\w)"
_TIME = re.compile(
    rf"(?P<marker>{_MARKER})?"
    r"(?<![\d:/.\-])(?P<h>\d{1,2})"
    r"(?:"
    rf"\s*[:h]\s*(?P<m>\d{{2}})(?!\d)(?:\s*{_AMPM})?"
    rf"|\s*{_AMPM.replace('ampm', 'ampm2')}"
    r"|\s*(?P<unit>h|heures?|uhr|uur|o'?clock)(?!\w)"
    r"|(?P<bare>)(?=\s*(?:$|[,;!?]))"
    r")",
    re.IGNORECASE,
)
_KO_TIME = re.compile(r"(?:(?P<half>오전|오후)\s*)?(?P<h>\d{1,2})\s*시(?!간)(?:\s*(?P<m>\d{1,2})\s*분|\s*(?P<ban>반))?")
# "in 2h", "dans 2h30": a duration, not a time of day; dateparser reads those.
_DURATION_BEFORE = re.compile(
    r"(?:^|\s)(?:dans|in|en|within|entro|tra|fra|binnen|em|dentro\s+de|innerhalb|nach)\s*$", re.IGNORECASE
)
# "demain 10", "tomorrow 10": a bare number after a relative day is an hour, not a day of the month.
_DAY_WORD_BEFORE = re.compile(
    r"(?<!\w)(?:demain|aujourd'hui|tomorrow|today|mañana|hoy|morgen|heute|domani|oggi|amanhã|hoje|vandaag"
    r"|yarın|bugün|내일|오늘|غدا|اليوم)\s+$",
    re.IGNORECASE,
)
_NUMERIC_DATE = re.compile(r"(?<![\d/.\-])(\d{1,4})([/.\-])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d/\-])")
_NEXT_WORDS = re.compile(
    r"(?<!\w)(?:prochaine?|qui\s+vient|next|coming|pr[oó]xim[oa]|que\s+viene|que\s+vem|n[aä]chste[nr]?"
    r"|kommende[nr]?|prossim[oa]|volgende|aanstaande|gelecek|önümüzdeki|다음|القادم|المقبل)(?!\w)",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^(?:le|la|el|the|on|am|il|lo|o|a|os|der|den|het|de)\s+", re.IGNORECASE)
_LEFTOVER = re.compile(r"(?<!\w)(?:à|a|at|@|um|alle|om|le|on|el|am|de|the)\s*$", re.IGNORECASE)


def _clock(hour: int, minute: int, half: str | None) -> dt.time | None:
    if half:
        pm = half.lower().startswith("p") or half == "오후"
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if pm else 0)
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


class _Unparseable(Exception):
    """The text looks like a date or time but is not a valid one (32/13, 25h)."""


#: "Tonight", "this morning"... in the bot's languages: parts of today that dateparser does not read.
_PART_OF_TODAY = re.compile(
    r"(?<!\w)(?:(?P<evening>ce soir|cette nuit|tonight|this evening|esta noche|heute abend|stasera|questa sera|"
    r"hoje (?:à|a) noite|esta noite|vanavond|bu akşam|bu aksam|오늘 밤|오늘 저녁|الليلة|هذا المساء)"
    r"|(?P<morning>ce matin|this morning|esta mañana|heute morgen|stamattina|questa mattina|hoje de manhã|"
    r"esta manhã|vanochtend|vanmorgen|bu sabah|오늘 아침|هذا الصباح)"
    r"|(?P<afternoon>cet après-midi|cet apres-midi|this afternoon|esta tarde|heute nachmittag|oggi pomeriggio|"
    r"questo pomeriggio|hoje à tarde|esta tarde|vanmiddag|bu öğleden sonra|오늘 오후|بعد الظهر))(?!\w)",
    re.IGNORECASE,
)
#: A year written out: a date with one is never moved to another year.
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
_PART_CLOCK = {"evening": dt.time(19, 0), "morning": dt.time(9, 0), "afternoon": dt.time(14, 0)}


def _extract_time(text: str) -> tuple[dt.time | None, str]:
    """The time of day in ``text`` and the text without it."""
    match = _KO_TIME.search(text)
    if match:
        minute = 30 if match["ban"] else int(match["m"] or 0)
        clock = _clock(int(match["h"]), minute, match["half"])
        if clock is None:
            raise _Unparseable
        return clock, (text[: match.start()] + " " + text[match.end() :]).strip()
    for match in _TIME.finditer(text):
        if match["bare"] is not None and not match["marker"] and not _DAY_WORD_BEFORE.search(text[: match.start()]):
            continue
        if not match["marker"] and _DURATION_BEFORE.search(text[: match.start()]):
            continue
        clock = _clock(int(match["h"]), int(match["m"] or 0), match["ampm"] or match["ampm2"])
        if clock is None:
            raise _Unparseable
        return clock, (text[: match.start()] + " " + text[match.end() :]).strip()
    return None, text


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _numeric_date(text: str, order: str, today: dt.date) -> dt.date | None:
    """A date written with digits only (``7/12``, ``07/12/2026``, ``2026-12-07``, ``7.12.``)."""
    match = _NUMERIC_DATE.search(text)
    if match is None:
        return None
    first, _, second, third = match.groups()
    year: int | None
    if len(first) == 4:
        if third is None:
            raise _Unparseable
        year, month, day = int(first), int(second), int(third)
    elif len(first) == 3:
        raise _Unparseable
    elif order == "YMD" and third is not None:
        year, month, day = int(first), int(second), int(third)
    elif order == "DMY":
        day, month, year = int(first), int(second), int(third) if third else None
    else:  # month first; also year-first languages writing month/day without a year
        month, day, year = int(first), int(second), int(third) if third else None
    if year is not None and year < 100:
        year += 2000
    if year is not None:
        try:
            return dt.date(year, month, day)
        except ValueError as exc:
            raise _Unparseable from exc
    # Without a year: the next such day, today included (29/02 may be up to four years away).
    for candidate_year in range(today.year, today.year + 5):
        try:
            found = dt.date(candidate_year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    raise _Unparseable


@functools.cache
def _dateparser() -> tuple[type[DateDataParser], frozenset[str]]:
    """dateparser's parser class and the languages it knows.

    Imported on first use, not at import time: loading it costs tens of milliseconds.
    """
    from dateparser.data.languages_info import language_order
    from dateparser.date import DateDataParser

    return DateDataParser, frozenset(language_order)


def _languages(lang: str, known: frozenset[str]) -> list[str]:
    base, _ = split_locale(lang)
    return [code for code in dict.fromkeys([base, "en", "fr"]) if code in known]


def _ask_dateparser(text: str, lang: str, base: dt.datetime) -> tuple[dt.datetime, str] | None:
    """Ask dateparser; ``(datetime, period)`` or None. Never raises."""
    parser_class, known = _dateparser()
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": base,
        "DATE_ORDER": date_order(lang),
        "RETURN_TIME_AS_PERIOD": True,
    }
    try:
        data = parser_class(languages=_languages(lang, known), settings=settings).get_date_data(text)
    except Exception:  # dateparser has raised odd errors on odd input: treat all as "not a date"
        return None
    found = data.date_obj
    if not isinstance(found, dt.datetime):
        return None
    return found, str(data.period)


def _variants(text: str) -> list[str]:
    """``text``, then without a leading article, then without "next" words: dateparser reads
    "lunes" and "7 de diciembre" but not "el lunes", "el 7 de diciembre" or "lundi prochain"."""
    no_article = _ARTICLE.sub("", text)
    no_next = " ".join(_NEXT_WORDS.sub(" ", no_article).split())
    return [v for v in dict.fromkeys((text, no_article, no_next)) if _meaningful(v)]


def _meaningful(text: str) -> bool:
    return len(fold(text).replace(" ", "")) >= 2


def _understand(text: str, lang: str, base: dt.datetime, zone: dt.tzinfo | None) -> _Parsed | ErrorCode:
    """Split ``text`` into a day and a time of day; ``base`` is the naive local present in ``zone``."""
    text = " ".join(text.split())
    if not text:
        return "empty"
    if len(text) > MAX_DATE_CHARS:
        return "unparseable"
    try:
        clock, rest = _extract_time(text)
        part = _PART_OF_TODAY.search(rest)
        if part is not None:
            # "ce soir 20h": today, at the time given or at a time fitting the part of the day.
            clock = clock or _PART_CLOCK[next(k for k, v in part.groupdict().items() if v)]
            rest = (rest[: part.start()] + " " + rest[part.end() :]).strip()
            if not _meaningful(_LEFTOVER.sub("", rest).strip(" ,;")):
                return _Parsed(base.date(), clock)
        rest = _LEFTOVER.sub("", rest).strip(" ,;")
        day = _numeric_date(rest, date_order(lang), base.date())
    except _Unparseable:
        return "unparseable"
    if day is not None or not _meaningful(rest):
        if day is None and clock is None:
            return "unparseable"
        return _Parsed(day, clock)
    found = None
    for candidate in _variants(rest):
        found = _ask_dateparser(candidate, lang, base)
        if found is not None:
            break
    if found is None:
        return "unparseable"
    moment, period = found
    if period in {"month", "year"} and not any(ch.isdigit() for ch in rest):
        return "unparseable"  # "décembre" alone is not a day
    if not _YEAR.search(rest):
        # dateparser's "future" takes today's own date to next year: "4 décembre" on 4 December is today.
        earlier = _add_years(moment.date(), -1)
        if earlier >= base.date() and (moment.month, moment.day) == (earlier.month, earlier.day):
            moment = dt.datetime.combine(earlier, moment.time())
    if moment.tzinfo is not None:
        # The text named a zone ("9am EST"): express the moment in the user's own zone.
        moment = (moment.astimezone(zone) if zone is not None else moment).replace(tzinfo=None)
    if period == "time" and clock is None:
        return _Parsed(moment.date(), None, moment=moment)
    return _Parsed(moment.date(), clock)


def _check_day(day: dt.date, today: dt.date) -> ErrorCode | None:
    if day < today:
        return "past"
    if day > _add_years(today, MAX_YEARS_AHEAD):
        return "too_far"
    return None


def parse_event_date(text: str, lang: str, today: dt.date) -> DateResult:
    """Read the date of an event typed by a user (``7/12``, ``le 7 décembre``, ``next Monday``).

    Numeric dates are read in the order of ``lang`` (day first for ``fr``, month first for
    ``en``/``en-US``, year first when four digits come first). Dates without a year, and
    weekdays, are the next such day (today included for a numeric date).

    Args:
        text: What the user typed.
        lang: The user's language or locale (``fr``, ``en-GB``).
        today: The user's local date.

    Returns:
        The date, or an error code (``empty``, ``unparseable``, ``past``, ``too_far``); never raises.
    """
    base = dt.datetime.combine(today, dt.time(12, 0))
    parsed = _understand(text, lang, base, None)
    if isinstance(parsed, str):
        return DateResult(error=parsed)
    if parsed.day is None:
        return DateResult(error="unparseable")
    error = _check_day(parsed.day, today)
    return DateResult(error=error) if error else DateResult(value=parsed.day)


def parse_when(text: str, lang: str, now: dt.datetime, tz: str, *, policy: SchedulePolicy | None = None) -> WhenResult:
    """Read a moment typed by a user (``demain 9h``, ``tomorrow 9am``, ``in 2 hours``, ``lundi``).

    A day without a time of day means :data:`DEFAULT_TIME` local time. A time without a day means
    its next occurrence. Local wall times skipped or repeated by a daylight-saving change are
    resolved as in :func:`bot.core.schedule.local_datetime`.

    Args:
        text: What the user typed.
        lang: The user's language or locale.
        now: The current time, aware.
        tz: The user's IANA time zone.
        policy: When given, a moment inside the quiet hours is moved out of them
            (:func:`bot.core.schedule.adjust_manual`) and ``adjusted`` is set.

    Returns:
        The moment in UTC and local time, or an error code; never raises for any ``text``.

    Raises:
        ValueError: ``tz`` is not a known time zone or ``now`` is naive (caller errors).
    """
    zone = get_zone(tz)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    local_now = now.astimezone(zone)
    parsed = _understand(text, lang, local_now.replace(tzinfo=None), zone)
    if isinstance(parsed, str):
        return WhenResult(error=parsed)
    if parsed.moment is not None:
        local = local_datetime(parsed.moment.date(), parsed.moment.time(), zone)
    elif parsed.day is None:
        assert parsed.clock is not None  # _understand never returns neither
        local = local_datetime(local_now.date(), parsed.clock, zone)
        if local <= local_now:
            local = local_datetime(local_now.date() + dt.timedelta(days=1), parsed.clock, zone)
    else:
        local = local_datetime(parsed.day, parsed.clock or DEFAULT_TIME, zone)
    adjusted = False
    if policy is not None:
        moved = adjust_manual(local, policy)
        adjusted = moved != local
        local = moved
    if local.astimezone(dt.UTC) <= now.astimezone(dt.UTC):
        return WhenResult(error="past")
    if local.date() > _add_years(local_now.date(), MAX_YEARS_AHEAD):
        return WhenResult(error="too_far")
    return WhenResult(
        value=local.astimezone(dt.UTC),
        local=local,
        time_given=parsed.clock is not None or parsed.moment is not None,
        adjusted=adjusted,
    )
