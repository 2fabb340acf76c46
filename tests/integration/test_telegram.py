"""Telegram end to end in long-polling mode: the real PTB stack against the fake Bot API."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram import TelegramConfig, TelegramPlatform, menu
from bot.app import Bot, build_bot
from bot.config import Settings
from bot.core.messages import Button, Reply
from bot.core.ports import InboxItem
from bot.store.memory import MemoryStore
from tests.auxil.fake_telegram_api import BOT_ID, Call, FakeTelegramAPI, load_update, telegram_env
from tests.auxil.harness import FakeClock

CAMILLE = 424242
GROUP = -1001234567890


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns on every RetryAfter unless this opt-in is set; the adapter reads both forms.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    async with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
def bot() -> Bot:
    clock = FakeClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC))
    return build_bot(Settings.from_env({"HOC_EVENT_DATE": "2026-12-07"}), store=MemoryStore(), clock=clock)


@pytest.fixture
async def platform(api: FakeTelegramAPI, bot: Bot) -> AsyncIterator[TelegramPlatform]:
    polling = TelegramPlatform(TelegramConfig.from_env(telegram_env(api)), bot, poll_timeout=1)
    await polling.start()
    yield polling
    await polling.stop()


def to(chat: int, calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.params["chat_id"] == chat]


async def test_french_conversation_answer_checklist_and_done_button(
    api: FakeTelegramAPI, platform: TelegramPlatform
) -> None:
    api.queue_updates(load_update("text_private"))
    welcome, answer = await api.wait_for("sendMessage", 2)
    assert "Bienvenue" in welcome.text
    assert "tz:Europe/Paris" in welcome.callback_data  # Telegram gives no zone: onboarding asks
    assert answer.params["parse_mode"] == "HTML"
    assert answer.params["chat_id"] == CAMILLE
    assert answer.text.startswith("<b>Étape 1 sur 5 : Recruter des écoles locales</b>\n\n")
    assert '<a href="https://hourofcode.com/fr/how-to">le guide de l\'enseignant</a>' in answer.text
    assert "hourofcode.com/fr/" in answer.text
    assert "hourofcode.com/us" not in answer.text
    assert answer.callback_data == ["step:2", "steps"]

    api.queue_updates(load_update("hoc_plan"))
    plan = (await api.wait_for("sendMessage", 3))[-1]
    assert "<b>Votre plan pour l’Heure de Code</b>" in plan.text
    assert "⬜ 1. Recruter des écoles locales" in plan.text
    assert plan.callback_data == ["done:1", "step:1", "remind:1"]
    assert all(len(row) <= 2 for row in plan.buttons)

    api.queue_updates(load_update("callback_done", **{"callback_query.message.message_id": plan.message_id}))
    (edit,) = await api.wait_for("editMessageText")
    (answered,) = api.sent("answerCallbackQuery")
    assert answered.params["callback_query_id"] == "4382bfdwdsb323b2d9"
    assert answered.at <= edit.at  # the spinner stops before the work is done
    assert edit.params["message_id"] == plan.message_id
    assert edit.params["chat_id"] == CAMILLE
    assert "✅ 1. Recruter des écoles locales" in edit.text
    assert edit.callback_data == ["done:2", "step:2", "remind:2", "undo:1"]
    assert len(api.sent("sendMessage")) == 3  # edited in place, nothing new sent


async def test_polling_advances_the_offset_and_answers_a_repeated_update_once(
    api: FakeTelegramAPI, platform: TelegramPlatform, bot: Bot
) -> None:
    first = load_update("text_private", update_id=500)
    api.queue_updates(first)
    await api.wait_for("sendMessage", 2)
    api.redeliver(first)  # as after a crash that lost the confirmation
    api.queue_updates(load_update("edited_message", update_id=501), load_update("hoc_plan", update_id=502))
    sent = await api.wait_for("sendMessage", 3)
    assert "Votre plan" in sent[-1].text  # the plan came after the repeat and the edit, in order
    await platform.stop()
    offsets = [c.params.get("offset") for c in api.sent("getUpdates")]
    assert 501 in offsets
    assert 503 in offsets
    assert offsets == sorted(offsets, key=lambda o: o or 0)
    assert len(api.sent("sendMessage")) == 3  # no answer to the repeat nor to the edit
    assert api.sent("getUpdates")[-1].params["offset"] == 503  # confirmed on the way out
    # Its key is kept in the inbox: a redelivery would not be handled again.
    assert bot.handler.store.inbox_add([InboxItem("telegram", "502", "", "{}")], bot.handler.clock.now()) == [False]


async def test_chats_are_served_concurrently_and_each_in_order(
    api: FakeTelegramAPI, platform: TelegramPlatform
) -> None:
    slow = api.hold(CAMILLE)  # Camille's sends hang, as on a congested route
    other = {"id": 555, "is_bot": False, "first_name": "Noor", "language_code": "fr"}
    api.queue_updates(
        load_update("text_private", update_id=450),
        load_update("hoc_plan", update_id=451),
        load_update(
            "text_private", update_id=452, **{"message.from": other, "message.chat": {"id": 555, "type": "private"}}
        ),
    )
    served = await api.wait_for("sendMessage", 2)  # Noor's welcome and answer, while Camille waits
    assert [c.params["chat_id"] for c in served] == [555, 555]
    slow.set()
    sent = await api.wait_for("sendMessage", 5)
    camille = [c.text for c in to(CAMILLE, sent)]
    assert len(camille) == 3
    assert "Bienvenue" in camille[0]
    assert "Étape 1 sur 5" in camille[1]
    assert "Votre plan" in camille[2]  # the second update of the chat waited for the first


async def test_start_with_a_deep_link_payload_runs_that_command(
    api: FakeTelegramAPI, platform: TelegramPlatform
) -> None:
    api.queue_updates(load_update("start_payload"))
    welcome, plan = await api.wait_for("sendMessage", 2)
    assert "Bienvenue" in welcome.text
    assert "Votre plan pour l’Heure de Code" in plan.text
    api.queue_updates(load_update("start_payload", update_id=600, **{"message.text": "/start step_3"}))
    step = (await api.wait_for("sendMessage", 3))[-1]
    assert step.text.startswith("<b>Étape 3 sur 5 :")


async def test_short_commands_map_to_the_console_commands(api: FakeTelegramAPI, platform: TelegramPlatform) -> None:
    steps = {"type": "bot_command", "offset": 0, "length": 6}
    api.queue_updates(load_update("hoc_plan", update_id=700, **{"message.text": "/steps", "message.entities": [steps]}))
    sent = await api.wait_for("sendMessage", 2)  # welcome, then the steps
    assert "<b>Les cinq étapes</b>" in sent[-1].text
    assert sent[-1].callback_data == [f"step:{n}" for n in range(1, 6)]
    lang = {"type": "bot_command", "offset": 0, "length": 5}
    api.queue_updates(
        load_update("hoc_plan", update_id=701, **{"message.text": "/lang en", "message.entities": [lang]})
    )
    sent = await api.wait_for("sendMessage", 3)
    assert sent[-1].text == "From now on I will answer you in English."


async def test_groups_answer_only_mentions_replies_and_commands(
    api: FakeTelegramAPI, platform: TelegramPlatform
) -> None:
    other_bot = {"type": "bot_command", "offset": 0, "length": 15}
    api.queue_updates(
        load_update("group_plain", update_id=800),
        load_update(
            "group_plain",
            update_id=801,
            **{"message.message_id": 54, "message.text": "/plan@other_bot", "message.entities": [other_bot]},
        ),
        load_update("group_mention", update_id=802),
    )
    welcome, answer = await api.wait_for("sendMessage", 2)
    assert to(GROUP, [welcome, answer]) == [welcome, answer]
    assert answer.params["reply_parameters"]["message_id"] == 51  # the mention, not the plain message
    assert answer.text.startswith("<b>Étape 1 sur 5 :")
    api.queue_updates(load_update("group_reply_to_bot", update_id=803))
    replied = (await api.wait_for("sendMessage", 3))[-1]
    assert replied.params["reply_parameters"]["message_id"] == 53
    mine = {"type": "bot_command", "offset": 0, "length": 22}
    api.queue_updates(
        load_update(
            "group_plain",
            update_id=804,
            **{"message.message_id": 55, "message.text": "/plan@hoc_district_bot", "message.entities": [mine]},
        )
    )
    plan = (await api.wait_for("sendMessage", 4))[-1]
    assert "Votre plan" in plan.text
    replied_to = [c.params["reply_parameters"]["message_id"] for c in api.sent("sendMessage")]
    assert 52 not in replied_to
    assert 54 not in replied_to


async def test_command_menus_are_set_per_language(api: FakeTelegramAPI, platform: TelegramPlatform, bot: Bot) -> None:
    menus = {c.params.get("language_code"): c.params["commands"] for c in api.sent("setMyCommands")}
    assert set(menus) == {None, *bot.catalogs.available}
    assert {"en", "fr", "ar"} <= set(menus)
    for code, commands in menus.items():
        t = bot.catalogs.get(code or bot.catalogs.default)
        assert commands == [{"command": c.command, "description": c.description} for c in menu(t)]
    assert [c["command"] for c in menus["fr"]] == ["start", "plan", "steps", "remind", "lang", "hoc", "help"]


async def test_the_token_never_reaches_the_logs(
    api: FakeTelegramAPI, bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    polling = TelegramPlatform(TelegramConfig.from_env(telegram_env(api)), bot, poll_timeout=1)
    await polling.start()
    api.queue_updates(load_update("text_private", update_id=900))
    await api.wait_for("sendMessage", 2)
    await polling.stop()
    assert any(r.name.startswith("telegram") for r in caplog.records)  # PTB did log, at DEBUG
    secret_part = api.token.split(":", 1)[1]
    assert secret_part not in caplog.text


async def test_a_long_button_id_travels_as_a_short_id(api: FakeTelegramAPI, platform: TelegramPlatform) -> None:
    long_id = "tz:America/Argentina/ComodRivadavia/" + "x" * 40
    await platform.outbox.deliver(CAMILLE, Reply("Fuseau ?", buttons=(Button(long_id, "Rivadavia"),)))
    (sent,) = await api.wait_for("sendMessage")
    (data,) = sent.callback_data
    assert len(data.encode()) <= 64
    assert platform.ids.decode(data) == long_id


async def test_bot_id_matches_the_fake(api: FakeTelegramAPI, platform: TelegramPlatform) -> None:
    assert platform.application.bot.id == BOT_ID
    assert [c.method for c in api.calls[:1]] == ["getMe"]
