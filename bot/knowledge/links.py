"""``links.yaml``: the fields of a placeholder beyond its path or url, and the link table built from it.

A placeholder is ``{path: ...}`` (a site page, localised by country and language) or ``{url: ...}``
(absolute). It may also have ``only`` (``english``: the page exists only in English; ``us``: it is for
the United States only; answers say so next to the link), ``page`` and ``texts`` (what fills ``{page}``
and ``{text}`` of its url: share links), and ``replaces`` (URL prefixes of links of the guide that
``kb build`` turns into this placeholder).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.core.knowledge import LinkTable

_URL = re.compile(r"^https?://[^/\s?#]+\.[^/\s?#]+(?:[/?#]\S*)?$")
#: The fields a placeholder may have.
PLACEHOLDER_FIELDS = ("path", "url", "page", "texts", "only", "replaces")
#: Values of a placeholder's ``only``: the page exists only in English, or is for the United States only.
ONLY = ("english", "us")

Path_ = tuple[str, ...]


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    return bool(_URL.match(value))


def placeholder_problems(
    spec: Mapping[str, Any], path: Path_, site_pages: set[str], bad: Callable[[Path_, str], None]
) -> None:
    """Report through ``bad`` what is wrong with the ``page``, ``texts``, ``only`` and ``replaces`` of the
    placeholder ``spec`` at ``path`` (``site_pages``: the keys that name a site page)."""
    raw_url = spec.get("url")
    url = raw_url if isinstance(raw_url, str) else ""
    if ("{page}" in url) != ("page" in spec):
        bad(path, "a url with {page} needs page (the site page to share), and page needs {page} in the url")
    elif "page" in spec and spec["page"] not in site_pages:
        bad((*path, "page"), f"not a site page of links.yaml (a placeholder with a path, or a page): {spec['page']!r}")
    texts = spec.get("texts")
    if ("{text}" in url) != ("texts" in spec):
        bad(path, "a url with {text} needs texts (one per language), and texts needs {text} in the url")
    elif "texts" in spec:
        if not isinstance(texts, dict) or "en" not in texts:
            bad((*path, "texts"), "must be a mapping of language -> text, with an English (en) text")
        else:
            for lang, text in texts.items():
                if not isinstance(text, str) or not text.strip():
                    bad((*path, "texts", str(lang)), "must be a non-empty string")
    if "only" in spec and spec["only"] not in ONLY:
        bad((*path, "only"), f"must be one of {', '.join(ONLY)}, not {spec['only']!r}")
    replaces = spec.get("replaces", [])
    if not isinstance(replaces, list):
        bad((*path, "replaces"), "must be a list of URL prefixes")
        return
    for index, prefix in enumerate(replaces):
        if not isinstance(prefix, str) or not is_http_url(prefix):
            bad((*path, "replaces", str(index)), f"not an http(s) URL: {prefix!r}")


def link_table(data: Mapping[str, Any]) -> LinkTable:
    """The link table of a valid ``links.yaml``."""
    placeholders = data.get("placeholders") or {}
    paths = {str(k): v["path"] for k, v in placeholders.items() if isinstance(v, dict) and "path" in v}
    paths.update({str(k): str(v) for k, v in (data.get("pages") or {}).items()})
    urls = {str(k): v["url"] for k, v in placeholders.items() if isinstance(v, dict) and "url" in v}
    specs = {str(k): v for k, v in placeholders.items() if isinstance(v, dict)}
    return LinkTable(
        site=str(data["site"]).rstrip("/"),
        paths=paths,
        urls=urls,
        country_of_lang={str(k).lower(): str(v).lower() for k, v in (data.get("languages") or {}).items()},
        lang_of_country={str(k).lower(): str(v).lower() for k, v in (data.get("countries") or {}).items()},
        url_pages={k: str(v["page"]) for k, v in specs.items() if "page" in v},
        url_texts={
            k: {str(lang).lower(): str(text).strip() for lang, text in v["texts"].items()}
            for k, v in specs.items()
            if "texts" in v
        },
        only={k: str(v["only"]) for k, v in specs.items() if "only" in v},
        replaces=tuple((str(prefix), k) for k, v in specs.items() for prefix in v.get("replaces") or []),
    )
