"""``Handler.handle`` never raises: arbitrary messages, languages, time zones and texts, with a working store
and with one that fails on every call."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import Bot, build_bot
from bot.config import Settings
from bot.core.messages import IncomingMessage, Reply
from bot.store.memory import MemoryStore
from tests.auxil.harness import FakeClock

LOCALES = ["fr", "fr-FR", "en-US", "es", "de-AT", "it", "pt-BR", "nl-BE", "tr", "ko-KR", "ar-EG", "zh", "x", ""]
ZONES = ["Europe/Paris", "America/Chicago", "Asia/Seoul", "UTC", "Mars/Olympus", "../../etc/passwd", ""]
WORDS = ["plan", "étapes", "done 1", "fait 9", "remind", "rappel demain 9h", "lang", "lang xx", "date", "aide", "stats"]
WORDS += ["tz:Europe/Paris", "topic:signup", "done:3", "undo:9", "keep:20261205T2300 1 7", "lang:ko", "forget me"]


def _texts() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=300),
        st.sampled_from(WORDS),
        st.builds(lambda w, t: f"{w} {t}", st.sampled_from(WORDS), st.text(max_size=40)),
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), min_size=2000, max_size=2100),
    )


MESSAGES = st.builds(
    IncomingMessage,
    platform=st.sampled_from(["slack", "telegram", "console", "matrix", ""]),
    user=st.one_of(st.sampled_from(["U1", "U2", "42"]), st.text(max_size=200)),
    text=_texts(),
    workspace=st.one_of(st.just(""), st.text(max_size=70)),
    chat=st.one_of(st.just(""), st.text(max_size=150)),
    locale_hint=st.one_of(st.none(), st.sampled_from(LOCALES), st.text(max_size=40)),
    action=st.booleans(),
    tz_hint=st.one_of(st.none(), st.sampled_from(ZONES), st.text(max_size=40)),
)


class FailingStore(MemoryStore):
    """Every call fails, as when the database is gone."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and name != "inbox_exclusive":
            raise OSError("database down")
        return super().__getattribute__(name)


def _check(bot: Bot, msg: IncomingMessage) -> list[Reply]:
    replies = bot.handler.handle(msg)
    assert isinstance(replies, list)
    for reply in replies:
        assert isinstance(reply, Reply)
        assert reply.lang in bot.catalogs.available
    return replies


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MESSAGES, min_size=1, max_size=6))
def test_handle_never_raises(messages: list[IncomingMessage]) -> None:
    clock = FakeClock()
    bot = build_bot(Settings.from_env({"HOC_ADMINS": "slack:T1:U1,telegram:42"}), store=MemoryStore(), clock=clock)
    for msg in messages:
        _check(bot, msg)
        clock.advance(seconds=1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_handle_never_raises_when_the_store_fails(msg: IncomingMessage) -> None:
    bot = build_bot(
        Settings.from_env({}), store=FailingStore(), clock=FakeClock(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    )
    replies = _check(bot, msg)
    assert replies  # at least an apology
