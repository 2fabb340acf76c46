"""Knowledge entry files: built guide fields merged with the curated ones, and dumped as deterministic YAML."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.knowledge import LinkRef
from bot.knowledge.builder import BuiltContent
from bot.knowledge.yaml_dump import Flow, dump_yaml

#: Fields of an entry's content that the guide provides; a rebuild rewrites exactly these.
GUIDE_FIELDS: tuple[str, ...] = ("title", "answer", "links", "fallback", "source")
#: Fields curated by hand; a rebuild never touches them. ``title_fixed`` and ``answer_fixed`` are
#: shown instead of the guide's title and answer, ``labels_fixed`` (link key or url -> label) instead of
#: the guide's link labels: the way to translate what the guide left in English, or to correct it.
CURATED_FIELDS: tuple[str, ...] = ("questions", "keywords", "title_fixed", "answer_fixed", "labels_fixed")


_HEADER = (
    "# Knowledge entry. title, answer, links, fallback and source are rewritten by `hoc-bot kb build`\n"
    "# from the guide; questions, keywords, title_fixed, answer_fixed and labels_fixed (link key or url\n"
    "# -> label) are curated by hand and kept, and are shown instead of the guide's title, answer and labels.\n"
)
_CONTENT_ORDER = (*GUIDE_FIELDS, *CURATED_FIELDS)


def content_fields(content: BuiltContent) -> dict[str, Any]:
    """The guide fields of a built content as plain YAML data."""
    data: dict[str, Any] = {"title": content.title, "answer": content.answer}
    data["links"] = [_link_data(link) for link in content.links]
    if content.fallback:
        data["fallback"] = content.fallback
    data["source"] = content.source
    return data


def _link_data(link: LinkRef) -> dict[str, str]:
    data = {"label": link.label}
    if link.key:
        data["key"] = link.key
    if link.url:
        data["url"] = link.url
    return data


def merge_entry(
    existing: Mapping[str, Any] | None, entry_id: str, step: int | None, built: Mapping[str, BuiltContent]
) -> dict[str, Any]:
    """Merge built guide fields into an entry file's data.

    Guide fields of the built languages are replaced; curated fields and other languages are kept.
    """
    old_content = existing.get("content") if isinstance(existing, Mapping) else None
    content: dict[str, Any] = {}
    if isinstance(old_content, Mapping):
        for lang, fields in old_content.items():
            content[str(lang)] = dict(fields) if isinstance(fields, Mapping) else fields
    for lang, built_content in built.items():
        previous = content.get(lang)
        kept = {}
        if isinstance(previous, dict):
            kept = {k: v for k, v in previous.items() if k not in GUIDE_FIELDS}
        content[lang] = {**content_fields(built_content), **kept}
    data: dict[str, Any] = {"id": entry_id, "step": step}
    if isinstance(existing, Mapping):
        for key, value in existing.items():
            if key not in ("id", "step", "content"):
                data[str(key)] = value
    data["content"] = {lang: content[lang] for lang in sorted(content)}
    return data


def dump_entry(data: Mapping[str, Any]) -> str:
    """Entry data as YAML text, deterministic: fixed key order, sorted languages, no line wrapping."""
    out: dict[str, Any] = {"id": data.get("id"), "step": data.get("step")}
    for key, value in data.items():
        if key not in ("id", "step", "content"):
            out[key] = value
    content: dict[str, Any] = {}
    raw_content = data.get("content")
    if isinstance(raw_content, Mapping):
        for lang in sorted(raw_content, key=str):
            fields = raw_content[lang]
            content[str(lang)] = _ordered_fields(fields) if isinstance(fields, Mapping) else fields
    out["content"] = content
    return _HEADER + dump_yaml(out, indent_lists=True)


def _ordered_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    ordered: dict[str, Any] = {}
    for key in _CONTENT_ORDER:
        if key in fields:
            ordered[key] = fields[key]
    for key in sorted(k for k in fields if k not in _CONTENT_ORDER):
        ordered[key] = fields[key]
    if isinstance(ordered.get("links"), list):
        ordered["links"] = [Flow(_ordered_link(lk)) if isinstance(lk, Mapping) else lk for lk in ordered["links"]]
    return ordered


def _ordered_link(link: Mapping[str, Any]) -> dict[str, Any]:
    order = ("label", "key", "url")
    out = {k: link[k] for k in order if k in link}
    out.update({k: link[k] for k in sorted(link) if k not in order})
    return out
