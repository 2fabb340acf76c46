"""The commands about the guide itself: ``help``, ``topics``, ``steps``, ``step N`` and ``lang xx``."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.core.commands import parse_steps
from bot.core.lexicon import STEP_WORDS
from bot.core.messages import Button, Reply, fit_label
from bot.core.text import fold

if TYPE_CHECKING:
    from bot.core.handler import Handler, Turn


class GuideCommands:
    """Registers the guide's commands on a handler and answers them."""

    def __init__(self, handler: Handler) -> None:
        self.h = handler
        handler.register("help", self.help)
        handler.register("steps", self.steps)
        handler.register("topics", self.topics)
        handler.register("step", self.step, accepts=_one_step)
        handler.register("lang", self.lang, accepts=_one_word)

    def help(self, turn: Turn, args: str) -> list[Reply]:
        t = turn.t
        lines = [
            t.gettext("I answer questions about the Hour of Code guide for districts, in your language."),
            t.gettext("Ask in your own words, for example: “how do I recruit schools?”"),
            t.gettext("Commands:"),
            t.gettext("steps: the five steps of the plan"),
            t.gettext("step N: one step in detail"),
            t.gettext("lang xx: answer me in another language (fr, en, …)"),
        ]
        for extra in self.h.help_lines:
            lines.extend(extra(t))
        return [
            Reply(
                "\n".join(lines),
                buttons=self.h.topic_buttons(turn),
                lang=turn.lang,
                kind="help",
                title=t.gettext("Help"),
            )
        ]

    def topics(self, turn: Turn, args: str) -> list[Reply]:
        return [
            Reply(
                turn.t.gettext("Here are the topics I know:"),
                buttons=self.h.topic_buttons(turn),
                lang=turn.lang,
                kind="topics",
            )
        ]

    def steps(self, turn: Turn, args: str) -> list[Reply]:
        t = turn.t
        lines = []
        buttons = []
        for number in range(1, 6):
            entry = self.h.kb.step(number)
            if entry is None:
                continue
            lines.append(self.h.title(entry, turn))
            buttons.append(Button(f"step:{number}", fit_label(t.gettext("Show step {number}").format(number=number))))
        return [
            Reply(
                "\n".join(lines),
                buttons=tuple(buttons),
                lang=turn.lang,
                kind="steps",
                title=t.gettext("The five steps"),
            )
        ]

    def step(self, turn: Turn, args: str) -> list[Reply]:
        t = turn.t
        arg = args.strip().rstrip(".?!").strip()
        steps = parse_steps(arg, STEP_WORDS)
        if steps is not None and len(steps) == 1:
            arg = str(steps[0])
        if not arg:
            return [
                Reply(
                    t.gettext("Which step? Type a number from 1 to 5, for example: step 2"),
                    lang=turn.lang,
                    kind="error",
                )
            ]
        if not (arg.isdecimal() and len(arg) < 3) or not 1 <= int(arg) <= 5:
            return [
                Reply(
                    t.gettext("There are five steps: type a number from 1 to 5, for example: step 2"),
                    lang=turn.lang,
                    kind="error",
                )
            ]
        entry = self.h.kb.step(int(arg))
        if entry is None:
            return [self.h.fallback(turn)]
        return [self.h.entry_reply(turn, entry)]

    def lang(self, turn: Turn, args: str) -> list[Reply]:
        t = turn.t
        wanted = args.strip().split()[0] if args.strip() else ""
        choices = sorted(set(self.h.kb.languages))
        if not wanted:
            return [
                Reply(
                    t.gettext("Which language? Available: {languages}").format(languages=", ".join(choices)),
                    buttons=tuple(Button(f"lang:{c}", c) for c in choices),
                    lang=turn.lang,
                    kind="error",
                )
            ]
        code = wanted.strip().lower().replace("_", "-")
        match = next((c for c in choices if c.lower() == code or c.lower() == code.split("-")[0]), None)
        if match is None:
            return [
                Reply(
                    t.gettext("I don't know the language “{code}”. Available: {languages}").format(
                        code=wanted[:20], languages=", ".join(choices)
                    ),
                    lang=turn.lang,
                    kind="error",
                )
            ]
        chosen = wanted.replace("_", "-") if wanted.lower().startswith(match) and len(wanted) <= 10 else match
        current = self.h.store.get_user(turn.key) or turn.user
        self.h.store.save_user(dataclasses.replace(current, locale=chosen, welcomed=True))
        lang = self.h.translations.negotiate(chosen, self.h.settings.default_locale)
        new_t = self.h.translations.get(lang)
        return [Reply(new_t.gettext("From now on I will answer you in English."), lang=lang, kind="lang")]


def step_numbers(args: str, lang: str) -> bool:
    """``done 1 2 3``, and what was meant as step numbers (``done 9``, ``done two``): the command says
    what is wrong. Several words that are not numbers (``next steps after the event``) are a question."""
    words = args.split()
    return len(words) <= 1 or parse_steps(args, STEP_WORDS) is not None or all(_numeric(w) for w in words)


def _numeric(word: str) -> bool:
    return any(ch.isdigit() for ch in word) or fold(word) in STEP_WORDS


def _one_step(args: str, lang: str) -> bool:
    """``step 2``, and a single word meant as a step number (``step 9``, ``step deux``)."""
    return step_numbers(args, lang)


def _one_word(args: str, lang: str) -> bool:
    """``lang fr-CA``: nothing, or one short word."""
    words = args.split()
    return len(words) <= 1 and all(len(w) <= 20 for w in words)
