"""10,000 random messages and button presses through the handler on a real SQLite store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from bot.app import build_bot
from bot.config import Settings
from bot.core.messages import IncomingMessage, Reply
from bot.store.engine import open_store
from bot.store.sql import SqlStore
from tests.auxil.harness import FakeClock

SLACK_SECTION = 3000
TELEGRAM_MESSAGE = 4096

_COMMANDS = [
    "help",
    "steps",
    "step 3",
    "step 9",
    "plan",
    "done 2",
    "undo 2",
    "next",
    "reset",
    "date 7 décembre",
    "date hier",
    "tz Europe/Paris",
    "tz Mars/Olympus",
    "remind demain 9h step 1",
    "reminders",
    "cancel 1",
    "reminders off",
    "reminders on",
    "forget me",
    "lang en",
    "lang fr",
    "lang xx",
    "/hoc plan",
    "bonjour",
    "merci",
    "comment recruter des écoles ?",
    "quel temps fait-il ?",
    "partager sur facebook",
]


class Conversations(RuleBasedStateMachine):
    """Several users typing, pressing the buttons they were shown, and pressing stale ones."""

    store: SqlStore
    turns = 0

    @initialize()
    def start(self) -> None:
        self.clock = FakeClock()
        self.bot = build_bot(
            Settings.from_env({"HOC_EVENT_DATE": "2026-12-07"}), store=Conversations.store, clock=self.clock
        )
        self.shown: dict[str, list[str]] = {}
        self.last: list[Reply] = []

    def _send(self, user: str, text: str, action: bool = False) -> None:
        msg = IncomingMessage("slack", user, text, workspace="T1", chat=f"D{user}", action=action, locale_hint="fr-FR")
        self.last = self.bot.handler.handle(msg)
        Conversations.turns += 1
        self.shown[user] = [b.id for r in self.last for b in r.buttons]
        self.clock.advance(minutes=7)

    @rule(user=st.sampled_from(["u1", "u2", "u3"]), text=st.sampled_from(_COMMANDS))
    def command(self, user: str, text: str) -> None:
        self._send(user, text)

    @rule(user=st.sampled_from(["u1", "u2", "u3"]), text=st.text(max_size=300))
    def free_text(self, user: str, text: str) -> None:
        self._send(user, text)

    @rule(user=st.sampled_from(["u1", "u2", "u3"]), pick=st.integers(min_value=0, max_value=20))
    def press(self, user: str, pick: int) -> None:
        shown = self.shown.get(user) or ["topic:overview"]
        self._send(user, shown[pick % len(shown)], action=True)

    @rule(
        user=st.sampled_from(["u1", "u2"]),
        button=st.sampled_from(
            ["forget:confirm", "done:7", "step:0", "topic:nope", "tz:Nowhere/City", "remind:9", "x" * 70, ""]
        ),
    )
    def press_stale(self, user: str, button: str) -> None:
        self._send(user, button, action=True)

    @invariant()
    def replies_fit_the_platforms(self) -> None:
        for reply in self.last:
            assert isinstance(reply.text, str)
            assert len(reply.text) < TELEGRAM_MESSAGE
            assert len(reply.text) <= SLACK_SECTION * 10
            for button in reply.buttons:
                assert 0 < len(button.label) <= 75
                assert len(button.id.encode()) <= 64


@pytest.mark.slow
def test_ten_thousand_random_turns(tmp_path: Path) -> None:
    Conversations.store = open_store(f"sqlite:///{tmp_path / 'state.sqlite3'}")
    try:
        run_state_machine_as_test(
            Conversations,
            settings=settings(
                max_examples=125,
                derandomize=True,
                stateful_step_count=100,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
            ),
        )
    finally:
        Conversations.store.close()
    print(f"{Conversations.turns} turns")
    assert Conversations.turns >= 10_000
