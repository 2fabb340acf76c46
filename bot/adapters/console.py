"""Console adapter: the real handler in a terminal, buttons as numbered choices."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from typing import TextIO

from bot.core.messages import Button, IncomingMessage, Reply
from bot.core.ports import UserKey


def render(reply: Reply, first_choice: int = 1) -> str:
    """A reply as plain text; buttons numbered from ``first_choice``."""
    parts: list[str] = []
    if reply.title:
        parts.append(f"== {reply.title} ==")
    if reply.text:
        parts.append(reply.text)
    for link in reply.links:
        note = f" {link.note}" if link.note else ""
        parts.append(f"  → {link.label}{note}: {link.url}")
    for i, button in enumerate(reply.buttons, start=first_choice):
        parts.append(f"  [{i}] {button.label}")
    return "\n".join(parts)


class ConsoleChat:
    """A chat session: turns typed lines into messages, numbers into button presses."""

    def __init__(
        self,
        handle: Callable[[IncomingMessage], list[Reply]],
        *,
        user: str = "console",
        locale: str | None = None,
    ) -> None:
        self.handle = handle
        self.user = user
        self.locale = locale
        self.choices: list[Button] = []
        #: The prompt shown while waiting for a line ("" when stdin is not a terminal).
        self.prompt = ""

    def send(self, line: str) -> list[Reply]:
        """Handle one typed line; a number that names a shown button presses it."""
        stripped = line.strip()
        if stripped.isdecimal() and len(stripped) < 4 and 1 <= int(stripped) <= len(self.choices):
            button = self.choices[int(stripped) - 1]
            msg = IncomingMessage("console", self.user, button.id, chat=self.user, locale_hint=self.locale, action=True)
        else:
            msg = IncomingMessage("console", self.user, line, chat=self.user, locale_hint=self.locale)
        replies = self.handle(msg)
        self.choices = [b for r in replies for b in r.buttons]
        return replies

    def render(self, replies: Iterable[Reply]) -> str:
        """Replies as the user sees them, buttons numbered across the whole turn."""
        out = []
        n = 1
        for reply in replies:
            out.append(render(reply, n))
            n += len(reply.buttons)
        return "\n\n".join(out)

    def loop(
        self,
        stdin: TextIO = sys.stdin,
        stdout: TextIO = sys.stdout,
        prompt: str = "> ",
        before_line: Callable[[], None] | None = None,
    ) -> int:
        """Read lines until EOF; interactive prompts only when stdin is a terminal.

        ``before_line`` runs before each line is handled (delivery of reminders now due).
        """
        interactive = stdin.isatty()
        self.prompt = prompt if interactive else ""
        while True:
            if before_line is not None:
                before_line()
            if interactive:
                stdout.write(prompt)
                stdout.flush()
            line = stdin.readline()
            if not line:
                break
            if not line.strip():
                continue
            stdout.write(self.render(self.send(line.rstrip("\n"))) + "\n\n")
            stdout.flush()
        return 0


class ConsoleSender:
    """Delivers reminders of console users by printing them (``hoc-bot chat``)."""

    def __init__(self, stdout: TextIO, lock: threading.Lock | None = None, chat: ConsoleChat | None = None) -> None:
        self.stdout = stdout
        self.lock = lock or threading.Lock()
        self.chat = chat
        self.sent: list[tuple[UserKey, Reply]] = []

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Print ``reply`` as a reminder; its buttons become the numbers to type, and the prompt is redrawn."""
        with self.lock:
            self.stdout.write("\n⏰ " + render(reply) + "\n\n")
            if self.chat is not None:
                self.chat.choices = list(reply.buttons)
                self.stdout.write(self.chat.prompt)
            self.stdout.flush()
            self.sent.append((key, reply))
