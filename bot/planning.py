"""Reading the schedule file, dates and times typed by people, and time zone suggestions."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml
from rapidfuzz import fuzz, process

from bot.core.errors import KnowledgeError
from bot.core.schedule import (
    AFTER_STEP,
    SchedulePolicy,
    ScheduleRule,
    adjust_manual,
    get_zone,
    local_datetime,
)
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


# --------------------------------------------------------------------------------------------
# Schedule file


def load_policy(path: Path) -> SchedulePolicy:
    """Read the reminder schedule from a YAML file (knowledge/schedule.yaml).

    Args:
        path: The YAML file.

    Returns:
        The schedule policy.

    Raises:
        KnowledgeError: The file cannot be read or its content is invalid; each problem is
            reported as ``file:line: message`` in the message and in ``problems``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read the schedule: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeError(f"{path}:{line}: invalid YAML: {problem}", [f"{path}:{line}: {problem}"]) from exc
    reader = _PolicyReader(path)
    policy = reader.read(root)
    if reader.problems or policy is None:
        problems = reader.problems or [f"{path}:1: the schedule could not be read"]
        raise KnowledgeError("invalid schedule:\n" + "\n".join(problems), problems)
    return policy


_TIME_TEXT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_INT_TEXT = re.compile(r"^[-+]?\d+$")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_TOP_KEYS = {"send_at", "quiet_hours", "skip_weekends", "reminders"}


class _PolicyReader:
    """Walks the YAML node tree so that every problem can name its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def problem(self, node: yaml.Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.path}:{line}: {message}")

    def mapping(self, node: yaml.Node | None, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"keys of {what} must be plain names")
                continue
            if key in out:
                self.problem(key_node, f"{key!r} appears twice in {what}")
                continue
            out[key] = (key_node, value_node)
        return out

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"{what} must be a single value")
            return None
        return str(node.value).strip()

    def time(self, node: yaml.Node, what: str) -> dt.time | None:
        # The raw text is read because YAML 1.1 turns an unquoted 09:00 into the number 540.
        raw = self.scalar(node, what)
        if raw is None:
            return None
        match = _TIME_TEXT.match(raw)
        if match is None:
            self.problem(node, f"{what} must be a time HH:MM (24 h), got {raw!r}")
            return None
        return dt.time(int(match[1]), int(match[2]))

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        raw = self.scalar(node, what)
        if raw is None:
            return None
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        self.problem(node, f"{what} must be true or false, got {raw!r}")
        return None

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int | None:
        raw = self.scalar(node, what)
        if raw is None:
            return None
        if not _INT_TEXT.match(raw) or not low <= int(raw) <= high:
            self.problem(node, f"{what} must be a whole number from {low} to {high}, got {raw!r}")
            return None
        return int(raw)

    def rule(self, node: yaml.Node) -> ScheduleRule | None:
        fields = self.mapping(node, "a reminder")
        if fields is None:
            return None
        for key, (key_node, _) in fields.items():
            if key not in {"step", "offset_days"}:
                self.problem(key_node, f"unknown key {key!r} in a reminder (step, offset_days)")
        if "step" not in fields or "offset_days" not in fields:
            self.problem(node, "a reminder needs both step and offset_days")
            return None
        step_node = fields["step"][1]
        step: int | None
        if self.scalar(step_node, "step") == "after":
            step = AFTER_STEP
        else:
            step = self.integer(step_node, "step (or 'after')", 0, 5)
        offset = self.integer(fields["offset_days"][1], "offset_days", -366, 366)
        if step is None or offset is None:
            return None
        return ScheduleRule(step, offset)

    def read(self, root: yaml.Node | None) -> SchedulePolicy | None:
        top = self.mapping(root, "the schedule")
        if top is None:
            return None
        for key, (key_node, _) in top.items():
            if key not in _TOP_KEYS:
                self.problem(key_node, f"unknown key {key!r} (expected {', '.join(sorted(_TOP_KEYS))})")
        options: dict[str, Any] = {}
        if "send_at" in top:
            options["send_at"] = self.time(top["send_at"][1], "send_at")
        if "skip_weekends" in top:
            options["skip_weekends"] = self.boolean(top["skip_weekends"][1], "skip_weekends")
        if "quiet_hours" in top:
            quiet = self.mapping(top["quiet_hours"][1], "quiet_hours") or {}
            for key, (key_node, value_node) in quiet.items():
                if key not in {"start", "end"}:
                    self.problem(key_node, f"unknown key {key!r} in quiet_hours (start, end)")
                else:
                    options[f"quiet_{key}"] = self.time(value_node, f"quiet_hours.{key}")
        if "reminders" not in top:
            self.problem(root, "the schedule needs a list of reminders")
            return None
        rules_node = top["reminders"][1]
        if not isinstance(rules_node, yaml.SequenceNode) or not rules_node.value:
            self.problem(rules_node, "reminders must be a non-empty list")
            return None
        rules: list[ScheduleRule] = []
        seen: set[int] = set()
        for item in rules_node.value:
            rule = self.rule(item)
            if rule is None:
                continue
            if rule.step in seen:
                self.problem(item, f"step {rule.step} has more than one reminder")
                continue
            seen.add(rule.step)
            rules.append(rule)
        if self.problems or None in options.values():
            return None
        return SchedulePolicy(rules=tuple(rules), **options)


# --------------------------------------------------------------------------------------------
# Dates and times typed by people


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


def _split_locale(lang: str) -> tuple[str, str]:
    base, _, region = lang.replace("_", "-").partition("-")
    return base.lower().strip(), region.upper().strip()


def date_order(lang: str) -> Literal["DMY", "MDY", "YMD"]:
    """How people of ``lang`` (``fr``, ``en-US``, ``en_GB``) order numeric dates.

    English without a region is read month first, as in the United States.
    """
    base, region = _split_locale(lang)
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
    base, _ = _split_locale(lang)
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


# --------------------------------------------------------------------------------------------
# Time zones

_GEOGRAPHIC_AREAS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)
_NOT_ZONES = {"localtime", "posixrules", "Factory"}

# Names people type that are not the last part of a zone name: other spellings of cities,
# countries with one main zone, and abbreviations (which would otherwise hit fixed-offset
# legacy zones such as "EST" that ignore summer time).
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "montreal": ("America/Toronto",),
    "quebec": ("America/Toronto",),
    "ottawa": ("America/Toronto",),
    "boston": ("America/New_York",),
    "washington": ("America/New_York",),
    "miami": ("America/New_York",),
    "atlanta": ("America/New_York",),
    "philadelphia": ("America/New_York",),
    "nyc": ("America/New_York",),
    "ny": ("America/New_York",),
    "nueva york": ("America/New_York",),
    "san francisco": ("America/Los_Angeles",),
    "seattle": ("America/Los_Angeles",),
    "sf": ("America/Los_Angeles",),
    "la": ("America/Los_Angeles",),
    "dallas": ("America/Chicago",),
    "houston": ("America/Chicago",),
    "austin": ("America/Chicago",),
    "minneapolis": ("America/Chicago",),
    "salt lake city": ("America/Denver",),
    "calgary": ("America/Edmonton",),
    "londres": ("Europe/London",),
    "londra": ("Europe/London",),
    "lyon": ("Europe/Paris",),
    "marseille": ("Europe/Paris",),
    "toulouse": ("Europe/Paris",),
    "lille": ("Europe/Paris",),
    "bordeaux": ("Europe/Paris",),
    "nantes": ("Europe/Paris",),
    "strasbourg": ("Europe/Paris",),
    "bruxelles": ("Europe/Brussels",),
    "brussel": ("Europe/Brussels",),
    "geneve": ("Europe/Zurich",),
    "genf": ("Europe/Zurich",),
    "lausanne": ("Europe/Zurich",),
    "bern": ("Europe/Zurich",),
    "berne": ("Europe/Zurich",),
    "munchen": ("Europe/Berlin",),
    "munich": ("Europe/Berlin",),
    "hamburg": ("Europe/Berlin",),
    "koln": ("Europe/Berlin",),
    "frankfurt": ("Europe/Berlin",),
    "wien": ("Europe/Vienna",),
    "roma": ("Europe/Rome",),
    "milano": ("Europe/Rome",),
    "milan": ("Europe/Rome",),
    "napoli": ("Europe/Rome",),
    "torino": ("Europe/Rome",),
    "barcelona": ("Europe/Madrid",),
    "sevilla": ("Europe/Madrid",),
    "valencia": ("Europe/Madrid",),
    "lisboa": ("Europe/Lisbon",),
    "porto": ("Europe/Lisbon",),
    "rotterdam": ("Europe/Amsterdam",),
    "den haag": ("Europe/Amsterdam",),
    "utrecht": ("Europe/Amsterdam",),
    "antwerpen": ("Europe/Brussels",),
    "anvers": ("Europe/Brussels",),
    "gent": ("Europe/Brussels",),
    "ankara": ("Europe/Istanbul",),
    "izmir": ("Europe/Istanbul",),
    "rio de janeiro": ("America/Sao_Paulo",),
    "brasilia": ("America/Sao_Paulo",),
    "ciudad de mexico": ("America/Mexico_City",),
    "mexico": ("America/Mexico_City",),
    "cdmx": ("America/Mexico_City",),
    "alger": ("Africa/Algiers",),
    "beyrouth": ("Asia/Beirut",),
    "le caire": ("Africa/Cairo",),
    "cairo": ("Africa/Cairo",),
    "busan": ("Asia/Seoul",),
    "서울": ("Asia/Seoul",),
    "부산": ("Asia/Seoul",),
    "القاهرة": ("Africa/Cairo",),
    "الرياض": ("Asia/Riyadh",),
    "دبي": ("Asia/Dubai",),
    "عمان": ("Asia/Amman",),
    "بيروت": ("Asia/Beirut",),
    "الدار البيضاء": ("Africa/Casablanca",),
    "الجزائر": ("Africa/Algiers",),
    "تونس": ("Africa/Tunis",),
    "france": ("Europe/Paris",),
    "belgique": ("Europe/Brussels",),
    "belgium": ("Europe/Brussels",),
    "belgie": ("Europe/Brussels",),
    "suisse": ("Europe/Zurich",),
    "switzerland": ("Europe/Zurich",),
    "schweiz": ("Europe/Zurich",),
    "svizzera": ("Europe/Zurich",),
    "deutschland": ("Europe/Berlin",),
    "germany": ("Europe/Berlin",),
    "allemagne": ("Europe/Berlin",),
    "osterreich": ("Europe/Vienna",),
    "austria": ("Europe/Vienna",),
    "italia": ("Europe/Rome",),
    "italy": ("Europe/Rome",),
    "italie": ("Europe/Rome",),
    "espana": ("Europe/Madrid",),
    "spain": ("Europe/Madrid",),
    "espagne": ("Europe/Madrid",),
    "portugal": ("Europe/Lisbon",),
    "nederland": ("Europe/Amsterdam",),
    "netherlands": ("Europe/Amsterdam",),
    "pays bas": ("Europe/Amsterdam",),
    "turkiye": ("Europe/Istanbul",),
    "turkey": ("Europe/Istanbul",),
    "turquie": ("Europe/Istanbul",),
    "korea": ("Asia/Seoul",),
    "south korea": ("Asia/Seoul",),
    "coree": ("Asia/Seoul",),
    "한국": ("Asia/Seoul",),
    "uk": ("Europe/London",),
    "united kingdom": ("Europe/London",),
    "royaume uni": ("Europe/London",),
    "ireland": ("Europe/Dublin",),
    "irlande": ("Europe/Dublin",),
    "senegal": ("Africa/Dakar",),
    "cote d ivoire": ("Africa/Abidjan",),
    "maroc": ("Africa/Casablanca",),
    "morocco": ("Africa/Casablanca",),
    "algerie": ("Africa/Algiers",),
    "tunisie": ("Africa/Tunis",),
    "egypt": ("Africa/Cairo",),
    "egypte": ("Africa/Cairo",),
    "japan": ("Asia/Tokyo",),
    "india": ("Asia/Kolkata",),
    "brasil": ("America/Sao_Paulo",),
    "brazil": ("America/Sao_Paulo",),
    "argentina": ("America/Argentina/Buenos_Aires",),
    "colombia": ("America/Bogota",),
    "peru": ("America/Lima",),
    "chile": ("America/Santiago",),
    "usa": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "us": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "united states": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "etats unis": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "canada": ("America/Toronto", "America/Vancouver", "America/Edmonton", "America/Halifax"),
    "australia": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth"),
    "eastern": ("America/New_York",),
    "est": ("America/New_York",),
    "edt": ("America/New_York",),
    "et": ("America/New_York",),
    "central": ("America/Chicago",),
    "cst": ("America/Chicago",),
    "cdt": ("America/Chicago",),
    "ct": ("America/Chicago",),
    "mountain": ("America/Denver",),
    "mst": ("America/Denver",),
    "mdt": ("America/Denver",),
    "pacific": ("America/Los_Angeles",),
    "pst": ("America/Los_Angeles",),
    "pdt": ("America/Los_Angeles",),
    "pt": ("America/Los_Angeles",),
    "cet": ("Europe/Paris",),
    "cest": ("Europe/Paris",),
    "bst": ("Europe/London",),
    "kst": ("Asia/Seoul",),
}

#: Zones offered as buttons, per language: where most coordinators writing it live.
_COMMON_ZONES: Mapping[str, tuple[str, ...]] = {
    "fr": (
        "Europe/Paris",
        "Europe/Brussels",
        "Europe/Zurich",
        "America/Toronto",
        "Africa/Abidjan",
        "Africa/Dakar",
    ),
    "en": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Europe/London"),
    "es": (
        "Europe/Madrid",
        "America/Mexico_City",
        "America/Bogota",
        "America/Argentina/Buenos_Aires",
        "America/Santiago",
        "America/Lima",
    ),
    "de": ("Europe/Berlin", "Europe/Vienna", "Europe/Zurich"),
    "it": ("Europe/Rome", "Europe/Zurich"),
    "pt": ("America/Sao_Paulo", "Europe/Lisbon", "Africa/Luanda", "Africa/Maputo"),
    "nl": ("Europe/Amsterdam", "Europe/Brussels", "America/Paramaribo"),
    "tr": ("Europe/Istanbul",),
    "ko": ("Asia/Seoul",),
    "ar": ("Africa/Cairo", "Asia/Riyadh", "Asia/Dubai", "Africa/Casablanca", "Africa/Algiers", "Asia/Amman"),
}
# A region in the locale (fr-CA, pt-PT, en-GB) puts its own zone first.
_REGION_ZONES: Mapping[str, str] = {
    "CA": "America/Toronto",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "AU": "Australia/Sydney",
    "IN": "Asia/Kolkata",
    "BE": "Europe/Brussels",
    "CH": "Europe/Zurich",
    "PT": "Europe/Lisbon",
    "BR": "America/Sao_Paulo",
    "MX": "America/Mexico_City",
    "AR": "America/Argentina/Buenos_Aires",
    "CO": "America/Bogota",
    "AT": "Europe/Vienna",
    "SN": "Africa/Dakar",
    "CI": "Africa/Abidjan",
    "MA": "Africa/Casablanca",
    "EG": "Africa/Cairo",
    "SA": "Asia/Riyadh",
    "AE": "Asia/Dubai",
    "US": "America/New_York",
}


@functools.cache
def _zone_names() -> frozenset[str]:
    # Reading the tz database lists hundreds of files: done once, on first use.
    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)


@functools.cache
def _zone_by_lower() -> dict[str, str]:
    return {name.lower(): name for name in _zone_names()}


@functools.cache
def _fuzzy_choices() -> dict[str, tuple[str, ...]]:
    """Folded name -> zones: full zone names, their city part, and the aliases."""
    choices: dict[str, list[str]] = {}
    for name in sorted(_zone_names()):
        if not name.startswith(_GEOGRAPHIC_AREAS):
            continue
        for key in (fold(name), fold(name.rsplit("/", 1)[1])):
            zones = choices.setdefault(key, [])
            if name not in zones:
                zones.append(name)
    for alias, targets in _alias_index().items():
        known = choices.setdefault(alias, [])
        known.extend(zone for zone in targets if zone not in known)
    return {key: tuple(zones) for key, zones in choices.items()}


@functools.cache
def _alias_index() -> dict[str, tuple[str, ...]]:
    return {fold(alias): zones for alias, zones in _ALIASES.items()}


def is_valid_timezone(name: str) -> bool:
    """True when ``name`` is exactly an IANA time zone name known here (case-sensitive)."""
    return name in _zone_names()


#: ``UTC+1``, ``GMT-05:00``, ``+2``: an offset from UTC.
_UTC_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


def _zones_at_offset(match: re.Match[str], limit: int) -> list[str]:
    """Zones whose standard offset is the one typed, those of the common lists first, then ``Etc/GMT…``.

    A place keeps its summer time only with its own zone, so a city's zone comes before the
    fixed offset; ``Etc/GMT-1`` means UTC+1 (POSIX inverts the sign).
    """
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes >= 60:
        return []
    wanted = (1 if sign == "+" else -1) * dt.timedelta(hours=hours, minutes=minutes)
    january = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
    out: list[str] = []
    for zones in _COMMON_ZONES.values():
        for zone in zones:
            here = january.astimezone(zoneinfo.ZoneInfo(zone))
            standard = here.utcoffset() - (here.dst() or dt.timedelta())  # type: ignore[operator]
            if standard == wanted and zone not in out:
                out.append(zone)
    if minutes:
        return out[:limit]
    fixed = f"Etc/GMT{'-' if sign == '+' else '+'}{hours}" if hours else "Etc/UTC"
    return [*out[: limit - 1], fixed]


def suggest_timezones(text: str, limit: int = 3) -> list[str]:
    """Time zones matching what a user typed: a zone name, a city or a country, typos allowed.

    An exact zone name (any case) gives just that zone, except the fixed-offset abbreviations
    (``EST``, ``MST``, ``CET`` …), which give the zone of the region that observes them.

    Args:
        text: What the user typed (``paris``, ``new york``, ``europe/paris``, ``Montréal``).
        limit: How many zones at most.

    Returns:
        IANA zone names, best first; empty when nothing is close.
    """
    text = " ".join(text.split())[:MAX_DATE_CHARS]
    if not text or limit <= 0:
        return []
    offset = _UTC_OFFSET.fullmatch(text)
    if offset is not None:
        return _zones_at_offset(offset, limit)
    folded = fold(text)
    exact = _zone_by_lower().get(text.lower().replace(" ", "_"))
    if exact and "/" in exact:
        return [exact]
    aliases = _alias_index()
    if folded in aliases:
        return list(aliases[folded][:limit])
    if exact:
        return [exact]
    if len(folded) < 2:
        return []
    choices = _fuzzy_choices()
    if folded in choices:
        return list(choices[folded][:limit])
    found = process.extract(folded, choices.keys(), scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=80)
    ordered = sorted(found, key=lambda item: (-item[1], len(item[0]), item[0]))
    out: list[str] = []
    for key, _score, _index in ordered:
        for zone in choices[key]:
            if zone not in out:
                out.append(zone)
    return out[:limit]


def common_timezones(lang: str) -> list[str]:
    """A few zones to offer as buttons to a user of ``lang`` (``fr``, ``fr-CA``); English's for others."""
    base, region = _split_locale(lang)
    zones = list(_COMMON_ZONES.get(base, _COMMON_ZONES["en"]))
    first = _REGION_ZONES.get(region)
    if first:
        zones = [first, *(zone for zone in zones if zone != first)]
    return zones
