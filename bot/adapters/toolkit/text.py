"""What the renderers measure and lay out alike: UTF-16 lengths, languages written right to left."""

from __future__ import annotations

#: Languages written right to left: each line starts with a right-to-left mark so that a line
#: opening with Latin text, a digit or an emoji is still laid out right to left.
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "iw", "ps", "sd", "ug", "ur", "yi", "dv", "ckb"})
#: The right-to-left mark.
RLM = "\u200f"


def is_rtl(lang: str) -> bool:
    """True for a language written right to left (``ar``, ``he-IL``, ``fa`` …)."""
    return lang.replace("_", "-").split("-")[0].lower() in RTL_LANGUAGES


def utf16_len(text: str) -> int:
    """Length as Slack and Telegram count it (UTF-16 code units: an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2
