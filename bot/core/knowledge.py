"""Knowledge base types and link resolution (pure: the loader fills them from YAML)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from bot.core.classifier import TextClassifier

#: The fixed entry ids, in the order the guide presents them.
ENTRY_IDS: tuple[str, ...] = (
    "overview",
    "signup",
    "recruit-schools",
    "logistics-plan",
    "social-media",
    "district-homepage",
    "district-event",
    "after-hour-of-code",
)
#: Entry id of each numbered step of the plan.
STEP_IDS: Mapping[int, str] = {
    1: "recruit-schools",
    2: "logistics-plan",
    3: "social-media",
    4: "district-homepage",
    5: "district-event",
}


@dataclass(frozen=True, slots=True)
class LinkRef:
    """A link of an entry: a ``key`` of the link table, or an absolute ``url``."""

    label: str
    key: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Content:
    """One language's version of an entry.

    Attributes:
        title: Short title (the curated ``title_fixed`` when there is one).
        answer: The answer text (plain text; link labels appear in it as words; ``answer_fixed`` first).
        links: Links to show with the answer (labels from ``labels_fixed`` first).
        questions: Curated sample questions, as coordinators type them.
        keywords: Curated synonyms and keywords.
        fallback: Language whose text was used where the guide was left untranslated.
    """

    title: str
    answer: str
    links: tuple[LinkRef, ...] = ()
    questions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    fallback: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """A topic of the guide with its content per language."""

    id: str
    step: int | None
    content: Mapping[str, Content]

    def best(self, lang: str, default: str = "en") -> tuple[str, Content]:
        """Content in ``lang`` when present, else ``default``, else English, else any."""
        for code in (lang, default, "en"):
            if code in self.content:
                return code, self.content[code]
        code = sorted(self.content)[0]
        return code, self.content[code]


@dataclass(frozen=True, slots=True)
class LinkTable:
    """Where each guide placeholder points, per country and language.

    Site links follow ``{site}/{country}[/{lang}]{path}``: the language part is left out when it
    is the country's default language.

    Attributes:
        site: Base URL of the site, without trailing slash.
        paths: Placeholder key -> site path template (``/{country}[/{lang}]/how-to``).
        urls: Placeholder key -> absolute URL; it may hold ``{page}`` and ``{text}`` (share links).
        country_of_lang: Default country for a language (``en`` -> ``us``).
        lang_of_country: Default language of a country (``ca`` -> ``en``).
        url_pages: Placeholder key -> the site page (a key of ``paths``) whose URL, localised and
            percent-encoded, replaces ``{page}`` in its URL.
        url_texts: Placeholder key -> language -> the text, percent-encoded, that replaces ``{text}``
            in its URL (the English one when the language has none).
        only: Placeholder key -> ``english`` (the page exists only in English) or ``us`` (it is for
            the United States only).
        replaces: (URL prefix, placeholder key) pairs: a link of the guide whose URL starts with the
            prefix stands for the placeholder (``kb build`` writes the key instead of the URL).
    """

    site: str
    paths: Mapping[str, str] = field(default_factory=dict)
    urls: Mapping[str, str] = field(default_factory=dict)
    country_of_lang: Mapping[str, str] = field(default_factory=dict)
    lang_of_country: Mapping[str, str] = field(default_factory=dict)
    url_pages: Mapping[str, str] = field(default_factory=dict)
    url_texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    only: Mapping[str, str] = field(default_factory=dict)
    replaces: tuple[tuple[str, str], ...] = ()

    def __contains__(self, key: object) -> bool:
        return key in self.paths or key in self.urls

    def country_for(self, locale: str, override: str | None = None) -> str:
        """The site country for a locale such as ``fr``, ``fr-CA`` or ``pt_BR``."""
        if override:
            return override.lower()
        lang, _, region = locale.replace("_", "-").partition("-")
        if region and len(region) == 2:
            return region.lower()
        return self.country_of_lang.get(lang.lower(), "us")

    def resolve(self, key: str, locale: str, country: str | None = None) -> str | None:
        """The URL of ``key`` for ``locale``, or None when the key is unknown."""
        if key in self.urls:
            return self._fill(key, self.urls[key], locale, country)
        template = self.paths.get(key)
        if template is None:
            return None
        return self.site + self.site_path(template, locale, country)

    def _fill(self, key: str, url: str, locale: str, country: str | None) -> str | None:
        """``{page}`` and ``{text}`` of an absolute URL filled in for ``locale``."""
        if "{page}" in url:
            page_key = self.url_pages.get(key)
            page = self.resolve(page_key, locale, country) if page_key and page_key in self.paths else None
            if page is None:
                return None
            url = url.replace("{page}", quote(page, safe=""))
        if "{text}" in url:
            texts = self.url_texts.get(key, {})
            lang = _lang(locale)
            url = url.replace("{text}", quote(texts.get(lang) or texts.get("en") or "", safe=""))
        return url

    def site_path(self, template: str, locale: str, country: str | None = None) -> str:
        """Fill ``{country}`` and the optional ``[/{lang}]`` part of a path template."""
        lang = _lang(locale)
        ctry = self.country_for(locale, country)
        default = self.lang_of_country.get(ctry)
        lang_part = "" if default == lang else f"/{lang}"
        path = template.replace("[/{lang}]", lang_part).replace("{lang}", lang)
        return path.replace("{country}", ctry)

    def url_of(self, link: LinkRef, locale: str, country: str | None = None) -> str | None:
        """Resolve a link of an entry."""
        if link.url:
            return link.url
        if link.key:
            return self.resolve(link.key, locale, country)
        return None

    def restriction(self, link: LinkRef, locale: str, country: str | None = None) -> str | None:
        """Why ``link`` may not serve this reader: ``english`` (a page only in English, for a reader of
        another language), ``us`` (a page for the United States, for a reader elsewhere), else None."""
        only = self.only.get(link.key) if link.key else None
        if only == "english" and _lang(locale) != "en":
            return "english"
        if only == "us" and self.country_for(locale, country) != "us":
            return "us"
        return None

    def key_for_url(self, url: str) -> str | None:
        """The placeholder that a guide link to ``url`` stands for (longest matching prefix), if any."""
        found = [(len(prefix), key) for prefix, key in self.replaces if url.startswith(prefix)]
        return max(found)[1] if found else None


def _lang(locale: str) -> str:
    """``pt-BR`` -> ``pt``."""
    return locale.replace("_", "-").partition("-")[0].lower()


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """All entries plus the link table, and the question classifier trained on them, if any."""

    entries: tuple[Entry, ...]
    links: LinkTable
    model: TextClassifier | None = field(default=None, compare=False, repr=False)

    def get(self, entry_id: str) -> Entry | None:
        """The entry with this id, if any."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        return None

    def step(self, number: int) -> Entry | None:
        """The entry of step ``number`` (1–5)."""
        for entry in self.entries:
            if entry.step == number:
                return entry
        return None

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language present in at least one entry, sorted."""
        return tuple(sorted({code for e in self.entries for code in e.content}))
