"""Command words in every language, read from the catalogs, and how a message is read as a command.

The words of a command are a translation: the catalog of each language gives, under the context
``command``, a comma-separated list of the words that mean it (``help`` -> ``aide, aidez-moi`` in
French). Every language's words work for everyone, so a message typed in another language than the
user's still works. A message is a command only when all of it parses as one: each command says
which arguments it accepts, and a message whose arguments do not fit is a question.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.core.ports import Translator
from bot.core.text import fold

#: Context of command words in the catalogs.
CONTEXT = "command"

_COMMAND_PREFIX = re.compile(r"^\s*/?(?:hoc)(?:@\w+)?(?:\s+|$)", re.IGNORECASE)
_SLASH = re.compile(r"^\s*/(\w[\w-]*)(?:@\w+)?", re.IGNORECASE)
#: Longest alias, in words.
_MAX_ALIAS_WORDS = 3


def command_words(t: Translator) -> dict[str, str]:
    """The command names and, for each, the comma-separated words of ``t``'s language.

    Each call is written out so that message extraction finds it.
    """
    return {
        "help": t.pgettext("command", "help"),
        "steps": t.pgettext("command", "steps"),
        "step": t.pgettext("command", "step"),
        "topics": t.pgettext("command", "topics"),
        "lang": t.pgettext("command", "lang"),
        "plan": t.pgettext("command", "plan"),
        "done": t.pgettext("command", "done"),
        "undo": t.pgettext("command", "undo"),
        "next": t.pgettext("command", "next"),
        "reset": t.pgettext("command", "reset"),
        "date": t.pgettext("command", "date"),
        "tz": t.pgettext("command", "tz"),
        "remind": t.pgettext("command", "remind"),
        "reminders": t.pgettext("command", "reminders"),
        "cancel": t.pgettext("command", "cancel"),
        "forget": t.pgettext("command", "forget me"),
    }


def argument_words(t: Translator) -> dict[str, str]:
    """Words that commands take as arguments (``reminders off``), comma-separated per language."""
    return {
        "on": t.pgettext("command", "on"),
        "off": t.pgettext("command", "off"),
        "confirm": t.pgettext("command", "yes"),
    }


def split_words(value: str) -> list[tuple[str, ...]]:
    """``"aide, aidez-moi"`` -> ``[("aide",), ("aidez", "moi")]`` (folded)."""
    out = []
    for part in value.split(","):
        words = tuple(fold(part).split())
        if words:
            out.append(words)
    return out


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every language's words for the commands and their arguments.

    Attributes:
        aliases: Folded word sequences -> command name.
        arguments: Folded word sequences -> argument name (``on``, ``off``, ``confirm``).
        first_word: Per language, the first word listed for each command (shown in help texts).
    """

    aliases: Mapping[tuple[str, ...], str]
    arguments: Mapping[tuple[str, ...], str]
    first_word: Mapping[str, Mapping[str, str]]

    @classmethod
    def build(cls, translators: Iterable[Translator], extra: Mapping[str, Iterable[str]] | None = None) -> Vocabulary:
        """The words of ``translators``' languages, plus ``extra`` aliases (name -> words).

        Raises:
            ValueError: One word sequence means two commands (in two languages, say).
        """
        aliases: dict[tuple[str, ...], str] = {}
        arguments: dict[tuple[str, ...], str] = {}
        first: dict[str, dict[str, str]] = {}

        def add(table: dict[tuple[str, ...], str], words: tuple[str, ...], name: str, where: str) -> None:
            known = table.get(words)
            if known is not None and known != name:
                raise ValueError(f"“{' '.join(words)}” ({where}) means both {known} and {name}")
            table[words] = name

        for t in translators:
            lang_first: dict[str, str] = {}
            for name, value in command_words(t).items():
                add(aliases, (name,), name, "canonical")
                for seq in split_words(value):
                    add(aliases, seq, name, t.lang)
                lang_first[name] = value.split(",")[0].strip() or name
            for name, value in argument_words(t).items():
                add(arguments, (name,), name, "canonical")
                for seq in split_words(value):
                    add(arguments, seq, name, t.lang)
            first[t.lang] = lang_first
        for name, values in (extra or {}).items():
            add(aliases, (name,), name, "extra")
            for value in values:
                for seq in split_words(value):
                    add(aliases, seq, name, "extra")
        return cls(aliases, arguments, first)

    def argument(self, args: str) -> str | None:
        """``"off"`` for ``désactiver``, None for anything that is not an argument word."""
        return self.arguments.get(tuple(fold(args).split()))


def strip_prefix(text: str) -> tuple[str, bool]:
    """``/hoc step 2`` -> ``("step 2", True)``; ``/step 2`` -> ``("step 2", True)``; else ``(text, False)``."""
    stripped = text.strip()
    if _COMMAND_PREFIX.match(stripped):
        return _COMMAND_PREFIX.sub("", stripped, count=1), True
    slash = _SLASH.match(stripped)
    if slash:
        return slash.group(1) + stripped[slash.end() :], True
    return stripped, False


def split_command(text: str, aliases: Mapping[tuple[str, ...], str]) -> tuple[str, str] | None:
    """``("done", "1 2")`` for ``fait 1 2``: the longest alias the text starts with, and the rest as typed."""
    raw = text.split()
    for size in range(min(_MAX_ALIAS_WORDS, len(raw)), 0, -1):
        head = tuple(w for part in raw[:size] for w in fold(part).split())
        name = aliases.get(head)
        if name is not None:
            return name, " ".join(raw[size:])
    return None


#: Whether arguments (and the user's language) fit a command.
Accepts = Callable[[str, str], bool]


def no_arguments(args: str, lang: str) -> bool:
    """Commands such as ``plan`` take nothing: ``plan a district event`` is a question."""
    return not fold(args)


_STEP_TOKEN = re.compile(r"(\d+)\s*[-–]\s*(\d+)|(\d+)|([^\W\d_]+)|([^\w\s])")
#: Words that may join step numbers: ``2 et 4``, ``1 and 3``.
_JOINERS = frozenset(fold("et and y e und en ve و i a").split())


def parse_steps(text: str, step_words: Iterable[str] = ()) -> list[int] | None:
    """``1 2 3``, ``1,2``, ``1-3``, ``étape 2 et 4`` -> step numbers (sorted, unique).

    None when the text is anything else than step numbers, ``step_words`` (folded) and joining
    words, or names a step outside 1-5.
    """
    allowed = _JOINERS | set(step_words)
    steps: set[int] = set()
    for low, high, single, word, mark in _STEP_TOKEN.findall(text):
        if low:
            a, b = sorted((int(low), int(high)))
            if a < 1 or b > 5:
                return None
            steps.update(range(a, b + 1))
        elif single:
            if not 1 <= int(single) <= 5 or len(single) > 1:
                return None
            steps.add(int(single))
        elif word:
            folded = fold(word)
            if folded not in allowed and not any(
                folded.endswith(w) and folded[: -len(w)].isdecimal() for w in step_words
            ):
                return None
        elif mark not in ",;&+.!?":
            return None
    return sorted(steps) or None
