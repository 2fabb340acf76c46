"""Interface translations per user (gettext catalogs compiled with babel), locale negotiation, formatting."""

from __future__ import annotations

import datetime as dt
import gettext
import io
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DOMAIN = "messages"


def default_locales_dir(env: dict[str, str] | None = None) -> Path:
    """``HOC_LOCALES_DIR``, else the repository's locales/, else the copy inside the installed package."""
    if env and env.get("HOC_LOCALES_DIR"):
        return Path(env["HOC_LOCALES_DIR"])
    here = Path(__file__).resolve().parent
    repo = here.parent / "locales"
    if repo.is_dir():
        return repo
    return here / "_data" / "locales"


class BabelTranslator:
    """gettext plus babel formatting for one language."""

    def __init__(self, lang: str, catalog: gettext.NullTranslations, locale: Locale) -> None:
        self.lang = lang
        self._catalog = catalog
        self.locale = locale

    def gettext(self, message: str) -> str:
        """Translate ``message``."""
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate with the plural form for ``n``."""
        return self._catalog.ngettext(singular, plural, n)

    def format_date(self, value: dt.date) -> str:
        """``lundi 7 décembre 2026``."""
        return format_date(value, format="full", locale=self.locale)

    def format_datetime(self, value: dt.datetime) -> str:
        """``lundi 7 décembre 2026 à 09:00`` in the datetime's own zone."""
        day = format_date(value.date(), format="full", locale=self.locale)
        return self._catalog.gettext("{date} at {time}").format(
            date=day, time=format_datetime(value, "HH:mm", tzinfo=value.tzinfo, locale=self.locale)
        )

    def format_list(self, items: Sequence[str]) -> str:
        """``a, b et c``."""
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
            translator = BabelTranslator(lang, catalog, locale)
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
