"""Text normalisation and tokenisation shared by matching and command parsing."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

#: Longest input the bot reads; longer messages are cut (with a notice from the handler).
MAX_INPUT_CHARS = 2000

_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)\|([^>]*)>")
_SLACK_BARE = re.compile(r"<((?:https?|mailto):[^>]*)>")
_SLACK_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_SLACK_MENTION = re.compile(r"<[@!][^>]*>")
_TELEGRAM_MENTION = re.compile(r"(?<!\w)@\w{3,}")
_EMPHASIS = re.compile(r"(?<!\w)([*_~`])(\S(?:.*?\S)?)\1(?!\w)")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
_ARABIC = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ـ": None,  # tatweel
        "ؤ": "و",
        "ئ": "ي",
    }
)
_HEBREW_FINALS = str.maketrans({"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ"})


def strip_markup(text: str) -> str:
    """Remove Slack/Telegram markup: mentions, ``<url|label>`` links, emphasis markers."""
    text = _SLACK_LINK.sub(r" \2 ", text)
    text = _SLACK_BARE.sub(" ", text)
    text = _SLACK_CHANNEL.sub(r" \1 ", text)
    text = _SLACK_MENTION.sub(" ", text)
    text = _TELEGRAM_MENTION.sub(" ", text)
    return _EMPHASIS.sub(r"\2", text)


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0xAC00 <= code <= 0xD7AF  # hangul syllables
        or 0x1100 <= code <= 0x11FF
        or 0x3130 <= code <= 0x318F
    )


def fold(text: str) -> str:
    """Lower-case, remove accents and diacritics, unify Arabic letter forms; keep letters and digits.

    Every other character (punctuation, emoji, symbols, control characters) becomes a space.
    """
    text = text.translate(_APOSTROPHES).casefold()
    text = text.translate(_ARABIC).translate(_HEBREW_FINALS)
    decomposed = unicodedata.normalize("NFKD", text)
    kept = []
    for ch in decomposed:
        cat = unicodedata.category(ch)
        if cat == "Mn":
            continue
        kept.append(ch if cat[0] in "LN" else " ")
    # NFC puts Hangul syllables back together after NFKD split them into jamo.
    return " ".join(unicodedata.normalize("NFC", "".join(kept)).split())


def normalize(text: str) -> str:
    """Markup stripped, folded and whitespace-collapsed text."""
    return fold(strip_markup(text[: MAX_INPUT_CHARS * 2]))


def words(folded: str) -> list[str]:
    """Split folded text into words."""
    return folded.split()


def tokens(folded: str, stopwords: Iterable[str] = ()) -> list[str]:
    """Match tokens: words minus stop words; runs of CJK characters become overlapping bigrams.

    Bigrams let a question written without spaces, or with particles glued to its words (Korean
    ``학교를``), share tokens with the knowledge base. Arabic words lose their article and clitic
    prefixes (``بالمدارس`` -> ``مدارس``).
    """
    stop = set(stopwords)
    out: list[str] = []
    for word in folded.split():
        if word in stop:
            continue
        if any(_is_cjk(ch) for ch in word):
            out.extend(_cjk_tokens(word))
        elif len(word) > 1 or word.isdigit():
            out.append(_strip_arabic_prefix(word))
    return out


_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")


def _strip_arabic_prefix(word: str) -> str:
    if not ("\u0600" <= word[0] <= "\u06ff"):
        return word
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            return word[len(prefix) :]
    return word


def _cjk_tokens(word: str) -> list[str]:
    out: list[str] = []
    run = ""
    for ch in word + " ":
        if _is_cjk(ch):
            run += ch
            continue
        if run:
            if len(run) == 1:
                out.append(run)
            else:
                out.extend(run[i : i + 2] for i in range(len(run) - 1))
            run = ""
        if ch.strip() and ch.isalnum():
            out.append(ch)
    return out
