"""Interface translations per user (gettext catalogs compiled with babel), locale negotiation, formatting."""

from __future__ import annotations

import datetime as dt
import gettext
import io
import json
import re
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"
#: Date and list formats of the catalogs' languages, taken from babel's CLDR data (in locales/).
FORMATS_FILE = "formats.json"
#: Fields of a CLDR date pattern that :class:`Formats` writes; a pattern with others is left to babel.
_FIELDS = frozenset({"EEEE", "d", "dd", "MMMM", "M", "MM", "y", "yyyy"})
_PATTERN_TOKEN = re.compile(r"'((?:[^']|'')*)'|([A-Za-z])\2*|([^A-Za-z']+)|(')")


def default_locales_dir(env: dict[str, str] | None = None) -> Path:
    """``HOC_LOCALES_DIR``, else the repository's locales/, else the copy inside the installed package."""
    if env and env.get("HOC_LOCALES_DIR"):
        return Path(env["HOC_LOCALES_DIR"])
    here = Path(__file__).resolve().parent
    repo = here.parent / "locales"
    if repo.is_dir():
        return repo
    return here / "_data" / "locales"


def pattern_tokens(pattern: str) -> list[tuple[bool, str]]:
    """A CLDR date pattern as ``(is_field, text)`` pairs: ``"EEEE d 'de' MMMM"`` ->
    ``[(True, "EEEE"), (False, " "), (True, "d"), (False, " de "), (True, "MMMM")]``."""
    tokens: list[tuple[bool, str]] = []
    for match in _PATTERN_TOKEN.finditer(pattern):
        quoted, _, literal, quote = match.groups()
        if quoted is not None:
            tokens.append((False, quoted.replace("''", "'") if quoted else "'"))
        elif literal is not None:
            tokens.append((False, literal))
        elif quote is not None:
            tokens.append((False, "'"))
        else:
            tokens.append((True, match.group(0)))
    return tokens


@dataclass(frozen=True)
class Formats:
    """What formatting a date and a list takes in one language: a few strings out of CLDR.

    Loading babel's data of a locale costs the process megabytes; these tables, written once by
    ``python -m bot.i18n`` into ``locales/formats.json``, give the same text (a test compares).
    """

    date_full: str
    days: tuple[str, ...]  # Monday first
    months: tuple[str, ...]  # January first
    lists: Mapping[str, str]  # CLDR's "start", "middle", "end" and "2" patterns
    group: str = ","  # digit group separator (Latin digits)
    percent: str = "#,##0%"  # CLDR percent pattern

    @classmethod
    def from_babel(cls, lang: str) -> Formats | None:
        """The formats of ``lang`` out of babel's data; None when its date pattern has fields not written here."""
        locale = Locale.parse(lang.replace("-", "_"))
        pattern = locale.date_formats["full"].pattern
        if any(field and text not in _FIELDS for field, text in pattern_tokens(pattern)):
            return None
        standard = locale.list_patterns["standard"]
        return cls(
            date_full=pattern,
            days=tuple(locale.days["format"]["wide"][i] for i in range(7)),
            months=tuple(locale.months["format"]["wide"][i] for i in range(1, 13)),
            lists={key: standard[key] for key in ("start", "middle", "end", "2")},
            group=locale.number_symbols["latn"]["group"],
            percent=locale.percent_formats[None].pattern,
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Formats:
        return cls(
            data["date_full"],
            tuple(data["days"]),
            tuple(data["months"]),
            dict(data["lists"]),
            data.get("group", ","),
            data.get("percent", "#,##0%"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "date_full": self.date_full,
            "days": self.days,
            "months": self.months,
            "lists": dict(self.lists),
            "group": self.group,
            "percent": self.percent,
        }

    def format_number(self, value: int) -> str:
        """A whole number with the language's digit groups (``12 345``, ``12.345``)."""
        digits = f"{abs(value):,}".replace(",", self.group)
        return f"-{digits}" if value < 0 else digits

    def format_percent(self, fraction: float) -> str:
        """A share as a whole percentage in the language's pattern (``87 %``, ``%87``)."""
        number = self.format_number(round(fraction * 100))
        return self.percent.replace("#,##0", number, 1)

    def format_date(self, value: dt.date) -> str:
        """The date in the language's full format (``lundi 7 décembre 2026``)."""
        out = []
        for field, text in pattern_tokens(self.date_full):
            if not field:
                out.append(text)
            elif text == "EEEE":
                out.append(self.days[value.weekday()])
            elif text in ("MMMM", "M", "MM"):
                out.append(self.months[value.month - 1] if text == "MMMM" else f"{value.month:0{len(text)}d}")
            elif text in ("d", "dd"):
                out.append(f"{value.day:0{len(text)}d}")
            else:
                out.append(f"{value.year:0{len(text) if len(text) > 1 else 1}d}")
        return "".join(out)

    def format_list(self, items: Sequence[str]) -> str:
        """``a, b et c`` as CLDR's standard list patterns join them."""
        if not items:
            return ""
        if len(items) == 1:
            return items[0]
        if len(items) == 2:
            return self.lists["2"].format(*items)
        joined = self.lists["start"].format(items[0], items[1])
        for item in items[2:-1]:
            joined = self.lists["middle"].format(joined, item)
        return self.lists["end"].format(joined, items[-1])


def load_formats(locales_dir: Path) -> dict[str, Formats]:
    """The formats in ``locales_dir``'s :data:`FORMATS_FILE`, by language; none when it is missing."""
    path = locales_dir / FORMATS_FILE
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {lang: Formats.from_json(formats) for lang, formats in data.items()}


def write_formats(locales_dir: Path) -> Path:
    """Write :data:`FORMATS_FILE` for every catalog of ``locales_dir`` and English, from babel."""
    langs = sorted({p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")} | {"en"})
    table = {lang: formats.to_json() for lang in langs if (formats := Formats.from_babel(lang)) is not None}
    path = locales_dir / FORMATS_FILE
    path.write_text(json.dumps(table, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


class BabelTranslator:
    """gettext plus date and list formatting for one language.

    Formats come from ``formats`` when given (see :class:`Formats`), else from babel's data.
    """

    def __init__(
        self, lang: str, catalog: gettext.NullTranslations, locale: Locale, formats: Formats | None = None
    ) -> None:
        self.lang = lang
        self._catalog = catalog
        self.locale = locale
        self.formats = formats

    def gettext(self, message: str) -> str:
        """Translate ``message``."""
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate with the plural form for ``n``."""
        return self._catalog.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """Translate ``message`` in ``context``."""
        return self._catalog.pgettext(context, message)

    def format_date(self, value: dt.date) -> str:
        """``lundi 7 décembre 2026``."""
        if self.formats is not None:
            return self.formats.format_date(value)
        return format_date(value, format="full", locale=self.locale)

    def format_datetime(self, value: dt.datetime) -> str:
        """``lundi 7 décembre 2026 à 09:00`` in the datetime's own zone."""
        if self.formats is not None:
            day, time = self.formats.format_date(value.date()), f"{value.hour:02d}:{value.minute:02d}"
        else:
            day = format_date(value.date(), format="full", locale=self.locale)
            time = format_datetime(value, "HH:mm", tzinfo=value.tzinfo, locale=self.locale)
        return self._catalog.gettext("{date} at {time}").format(date=day, time=time)

    def format_number(self, value: int) -> str:
        """``12 345``."""
        if self.formats is not None:
            return self.formats.format_number(value)
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.locale)

    def format_percent(self, fraction: float) -> str:
        """``87 %``."""
        if self.formats is not None:
            return self.formats.format_percent(fraction)
        from babel.numbers import format_percent

        return format_percent(fraction, locale=self.locale)

    def format_list(self, items: Sequence[str]) -> str:
        """``a, b et c``."""
        if self.formats is not None:
            return self.formats.format_list(list(items))
        return format_list(list(items), locale=self.locale)


def _compile(po_path: Path, locale: str) -> gettext.GNUTranslations:
    """Compile a .po file with babel in memory (a stale or missing .mo never hides a change)."""
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as fh:
            return gettext.GNUTranslations(fh)
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


class Catalogs:
    """All interface catalogs of a locales/ directory; negotiates a user's language among them."""

    def __init__(self, locales_dir: Path, default: str = "fr", extra_languages: Iterable[str] = ()) -> None:
        self.dir = locales_dir
        self.available = sorted(p.parent.parent.name for p in locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
        self.languages = sorted(set(self.available) | set(extra_languages) | {"en"})
        self.default = default if default in self.languages else "en"
        self._cache: dict[str, BabelTranslator] = {}
        self._lock = threading.Lock()
        self._formats = load_formats(locales_dir)

    def get(self, lang: str) -> BabelTranslator:
        """The translator of ``lang``; English text for a language without a catalog."""
        cached = self._cache.get(lang)
        if cached is not None:
            return cached
        with self._lock:
            po = self.dir / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
            catalog: gettext.NullTranslations = _compile(po, lang) if po.exists() else gettext.NullTranslations()
            try:
                locale = Locale.parse(lang.replace("-", "_"))
            except (UnknownLocaleError, ValueError):
                locale = Locale.parse("en")
            translator = BabelTranslator(lang, catalog, locale, self._formats.get(lang))
            self._cache[lang] = translator
            return translator

    def negotiate(self, *candidates: str | None) -> str:
        """First of ``candidates`` that we can serve (``fr-CA`` -> ``fr``), else the default language."""
        for candidate in candidates:
            found = negotiate(candidate, self.languages)
            if found:
                return found
        return self.default


def negotiate(candidate: str | None, languages: Sequence[str]) -> str | None:
    """``candidate`` (``fr-CA``, ``pt_BR``, ``FR``) matched to one of ``languages`` by babel, or None."""
    if not candidate:
        return None
    tag = candidate.strip().replace("_", "-")
    if not tag or len(tag) > 35:
        return None
    try:
        parsed = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        parsed = None
    tries = [tag, tag.split("-")[0].lower()]
    if parsed is not None:
        tries.insert(0, str(parsed).replace("_", "-"))
        tries.append(parsed.language)
    lowered = {lang.lower(): lang for lang in languages}
    for attempt in tries:
        if attempt.lower() in lowered:
            return lowered[attempt.lower()]
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bot.i18n [LOCALES_DIR]``: write the formats table of a locales/ directory."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = write_formats(Path(args[0]) if args else default_locales_dir())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
