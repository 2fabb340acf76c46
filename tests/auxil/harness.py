"""Conversation harness on the console adapter: tests read like a chat log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from bot.adapters.console import ConsoleChat
from bot.app import build_handler
from bot.config import Settings
from bot.core.handler import Handler
from bot.core.messages import IncomingMessage, Reply
from bot.core.ports import Store


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.current = start or dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += dt.timedelta(**kwargs)


class Harness:
    """``harness.send("comment recruter des écoles ?", user="u1") -> list[Reply]``."""

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        store: Store | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        self.settings = Settings.from_env(dict(env or {}))
        self.handler: Handler = build_handler(self.settings, store=store, clock=self.clock)
        self.chats: dict[str, ConsoleChat] = {}

    def chat(self, user: str, lang: str | None = None) -> ConsoleChat:
        if user not in self.chats:
            self.chats[user] = ConsoleChat(self.handler.handle, user=user, locale=lang)
        elif lang is not None:
            self.chats[user].locale = lang
        return self.chats[user]

    def meet(self, user: str = "u1", lang: str | None = None) -> list[Reply]:
        """First contact (the welcome), so that later turns show only their own replies."""
        return self.send("/hoc help", user=user, lang=lang)

    def send(self, text: str, *, user: str = "u1", lang: str | None = None) -> list[Reply]:
        """Type ``text`` as ``user``; a number presses the matching button of the last turn."""
        return self.chat(user, lang).send(text)

    def press(self, button_id: str, *, user: str = "u1", lang: str | None = None) -> list[Reply]:
        """Press a button by its id."""
        chat = self.chat(user, lang)
        return self.handler.handle(
            IncomingMessage("console", user, button_id, chat=user, locale_hint=chat.locale, action=True)
        )

    def text(self, replies: list[Reply]) -> str:
        return "\n".join(f"{r.title}\n{r.text}" for r in replies)
