"""Time zones typed by people (names, cities, countries, offsets), and zones to offer as buttons."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Mapping

from rapidfuzz import fuzz, process

from bot.core.text import fold
from bot.dates import MAX_DATE_CHARS, split_locale

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
    base, region = split_locale(lang)
    zones = list(_COMMON_ZONES.get(base, _COMMON_ZONES["en"]))
    first = _REGION_ZONES.get(region)
    if first:
        zones = [first, *(zone for zone in zones if zone != first)]
    return zones
