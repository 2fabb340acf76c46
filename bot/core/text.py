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
        "ک": "ك",  # Persian and Urdu keyboards type these for Arabic kaf and ya
        "ی": "ي",
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Eastern Arabic-Indic digits
    }
)
# Dotless ı has no decomposition: without this, "nasıl" and "nasil" (typed without a Turkish
# keyboard) would be two different words.
_TURKISH = str.maketrans({"ı": "i"})
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
    text = text.translate(_ARABIC).translate(_HEBREW_FINALS).translate(_TURKISH)
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
    """Match tokens: words minus stop words, with light per-script rules.

    - Runs of Han, katakana or Hangul characters become overlapping bigrams, so that a question
      written without spaces shares tokens with the knowledge base. Hiragana runs, which carry
      Japanese particles and verb endings (を, ですか, してください), are dropped.
    - Korean words first lose their particles and endings (``학교를`` -> ``학교``, ``등록하나요`` ->
      ``등록``), which would otherwise make bigrams of their own.
    - Arabic words lose their article with its clitic prefixes (``بالمدارس`` -> ``مدارس``) and
      possessive suffixes (``موقعنا`` -> ``موقع``, ``منطقتك`` -> ``منطقه``).
    """
    return [tok for tok, _ in token_parts(folded, stopwords)]


def token_parts(folded: str, stopwords: Iterable[str] = ()) -> list[tuple[str, float]]:
    """:func:`tokens`, each with the share of its word it stands for: 1 for a whole word, ``1/n`` for
    each of the ``n`` bigrams of a word, so that a long Korean or Chinese word does not outweigh the
    rest of the question."""
    stop = stopwords if isinstance(stopwords, (set, frozenset)) else frozenset(stopwords)
    out: list[tuple[str, float]] = []
    for word in folded.split():
        if word in stop:
            continue
        if any(_is_cjk(ch) for ch in word):
            out.extend(_cjk_tokens(word, stop))
        elif len(word) > 1 or word.isdigit():
            out.append((_strip_arabic_affixes(word), 1.0))
    return out


def _longest_first(words: str) -> tuple[str, ...]:
    return tuple(sorted(words.split(), key=len, reverse=True))


_ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
_ARABIC_PRONOUNS = ("كم", "هم", "ها", "نا")


def _strip_arabic_affixes(word: str) -> str:
    if not ("\u0600" <= word[0] <= "\u06ff"):
        return word
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix) :]
            break
    for suffix in _ARABIC_PRONOUNS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return _ta_marbuta(word[: -len(suffix)])
    # "your" and "my" after a feminine noun: the noun's ة is written ت before them.
    if len(word) >= 5 and word[-2:] in ("تك", "تي"):
        return word[:-2] + "ه"
    return word


def proclitic_stems(tok: str) -> tuple[str, ...]:
    """An Arabic token without the one- or two-letter proclitics it may start with (و ف ب ك ل):
    ``لساعه`` -> ``ساعه``, ``وبرابط`` -> ``رابط``, ``برابط``.

    Only a candidate: many words start with these letters (برنامج, فعاليه); the matcher takes it
    when the knowledge base knows the shorter word.
    """
    out: list[str] = []
    if len(tok) >= 4 and tok[0] in _ARABIC_PROCLITICS:
        if len(tok) >= 5 and tok[1] in _ARABIC_PROCLITICS:
            out.append(tok[2:])
        out.append(tok[1:])
    return tuple(out)


_ARABIC_PROCLITICS = "وفبكل"


# Endings of agglutinated Turkish words, folded (ı -> i, ü -> u, ğ -> g), longest first: okullarımızda
# -> okul, bulurum -> bul, sınıfların -> sinif, katılacağı -> katil. Many also end Romance or Germanic
# words (scuole, scuola -> scuol): stems only ever widen the search for a word the base does not know.
_SUFFIXES = _longest_first(
    """lar ler lari leri larin lerin lara lere larda lerde lardan lerden larimiz lerimiz imiz imizi imizin imizde
    imizdeki umuz umuzu miz muz iniz inizi unuz niz nuz i u in un nin nun a e ya ye da de ta te dan den tan ten daki
    deki ndaki ndeki yi yu yla yle la le ki mak mek mayi meyi ma me iyor uyor iyoruz uyoruz ir ur irim urum iriz
    uruz im um eriz ariz erim arim acak ecek acagi ecegi ebilir abilir ebiliriz abiliriz ebilirim abilirim meli mali
    meliyiz maliyiz dik tik di du ti tu mis mus sin sun siniz sunuz"""
)
# A stem-final consonant softens before a vowel: etkinlik -> etkinliği, kitap -> kitabı.
_SOFTENED = str.maketrans({"g": "k", "b": "p", "d": "t"})


def light_stem(word: str) -> str:
    """``word`` without up to three inflection endings, keeping at least three letters (Latin script)."""
    if not word.isascii() or not word.isalpha():
        return word
    stem = word
    for _ in range(3):
        for suffix in _SUFFIXES:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 3:
                stem = stem[: -len(suffix)]
                break
        else:
            break
    return stem if stem == word else stem[:-1] + stem[-1].translate(_SOFTENED)


def variants(tok: str) -> tuple[str, ...]:
    """Other forms of a token that mean the same for matching.

    An Arabic present-tense verb changes its first letter with the person: ننظم (we organise),
    تنظم, ينظم, انظم.
    """
    if len(tok) >= 4 and tok[0] in _ARABIC_PERSONS:
        return tuple(p + tok[1:] for p in _ARABIC_PERSONS if p != tok[0])
    return ()


_ARABIC_PERSONS = "اتني"


def _ta_marbuta(stem: str) -> str:
    return stem[:-1] + "ه" if len(stem) >= 4 and stem.endswith("ت") else stem


def script_of(ch: str) -> str:
    """The Unicode script of a letter (``LATIN``, ``ARABIC``, ``HANGUL``, ``HAN``, ``HIRAGANA``...)."""
    kind = _script(ch)
    if kind != "other":
        return kind.upper()
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else ""


def _script(ch: str) -> str:
    code = ord(ch)
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if 0x3040 <= code <= 0x309F:
        return "hiragana"
    if 0x30A0 <= code <= 0x30FF:
        return "katakana"
    if _is_cjk(ch):
        return "han"
    return "other"


def _cjk_tokens(word: str, stop: frozenset[str] | set[str] = frozenset()) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    start = 0
    for end in range(1, len(word) + 1):
        if end < len(word) and _script(word[end]) == _script(word[start]):
            continue
        run, kind = word[start:end], _script(word[start])
        start = end
        if kind == "other":
            if (len(run) > 1 or run.isdigit()) and run not in stop:
                out.append((run, 1.0))
            continue
        if kind == "hangul":
            # A particle glued to a Latin word or a number ("SNS에", "hourofcode.com에") is dropped.
            run = _hangul_stem(run, stop, attached=len(run) < len(word))
        elif kind == "hiragana":
            continue
        grams = _bigrams(run)
        out.extend((gram, 1.0 / len(grams)) for gram in grams)
    return out


def _bigrams(run: str) -> list[str]:
    if len(run) <= 2:
        return [run] if run else []
    return [run[i : i + 2] for i in range(len(run) - 1)]


# Syllables that start the verb part of a Korean word after its noun: 등록+하나요, 참여+시키다, 진행+되나요.
_KO_VERB = frozenset("하해할합했한함되돼된될됐됩")
# Particles and endings.
_KO_ENDINGS = _longest_first(
    """에서는 으로는 에게서 이라도 이에요 입니다 인가요 습니까 습니다 주세요 으려면 을까요 적으로
    에서 에게 한테 으로 까지 부터 보다 처럼 이나 에는 에도 로는 이랑 께서 나요 어요 아요 여요
    세요 까요 려면 도록 니다 는데 어야 아야 고요 예요 에요 인지 이죠 지요 적인 이고 이면 라도 마다
    을 를 은 는 에 께 와 요 죠 이 가 의 도 로 과 만 들 용 기 고 면 적"""
)
# These one-syllable endings are also the last syllable of many nouns (참가, 회의, 내용, 진로): they
# are only taken off a word of three syllables or more.
_KO_AMBIGUOUS = frozenset("이가의도로과만들용기고면적")
_KO_ENDING_SET = frozenset(_KO_ENDINGS)


def _hangul_stem(run: str, stop: frozenset[str] | set[str] = frozenset(), *, attached: bool = False) -> str:
    """The noun or verb stem of a Korean word; empty for a stop word or a lone particle."""
    if run in stop or (attached and run in _KO_ENDING_SET):
        return ""
    for i in range(2, len(run)):
        if run[i] in _KO_VERB or run[i : i + 2] in ("시키", "시켜"):
            run = run[:i]
            break
    changed = True
    while changed:
        changed = False
        for ending in _KO_ENDINGS:
            if run.endswith(ending) and len(run) - len(ending) >= (2 if ending in _KO_AMBIGUOUS else 1):
                run = run[: -len(ending)]
                changed = True
                break
    return "" if run in stop else run
