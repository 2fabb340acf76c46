"""Telegram updates (fixtures PTB 22 parses) to IncomingMessage, and TELEGRAM_* configuration."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Update

from bot.adapters.telegram import TelegramConfig, callback_to_incoming, to_incoming
from bot.core.errors import ConfigError
from bot.core.messages import IncomingMessage
from tests.auxil.fake_telegram_api import BOT_ID, BOT_USERNAME, TOKEN, load_update


def parse(name: str, **changes: Any) -> Update:
    update = Update.de_json(load_update(name, **changes), None)
    assert update is not None
    return update


def convert(name: str, **changes: Any) -> IncomingMessage | None:
    return to_incoming(parse(name, **changes), BOT_ID, BOT_USERNAME)


def command(text: str, length: int, name: str = "hoc_plan") -> dict[str, Any]:
    return {"message.text": text, "message.entities": [{"type": "bot_command", "offset": 0, "length": length}]}


def test_a_private_text_message_is_a_question() -> None:
    msg = convert("text_private")
    assert msg == IncomingMessage(
        platform="telegram",
        workspace="",
        user="424242",
        chat="424242",
        text="comment recruter des écoles ?",
        locale_hint="fr",
    )


@pytest.mark.parametrize(
    ("text", "length", "expected"),
    [
        ("/hoc plan", 4, "/hoc plan"),
        ("/hoc date 7 décembre", 4, "/hoc date 7 décembre"),
        ("/hoc", 4, "/hoc"),
        ("/hoc@hoc_district_bot step 2", 21, "/hoc step 2"),
        ("/start", 6, "plan"),
        ("/start plan", 6, "plan"),
        ("/start step_2", 6, "step 2"),
        ("/help", 5, "help"),
        ("/plan", 5, "plan"),
        ("/steps", 6, "steps"),
        ("/remind tomorrow 9am step 2", 7, "remind tomorrow 9am step 2"),
        ("/lang en", 5, "lang en"),
        ("/Lang en", 5, "lang en"),
        ("/date 7 décembre", 5, "/date 7 décembre"),
    ],
)
def test_commands_map_to_handler_text(text: str, length: int, expected: str) -> None:
    msg = convert("hoc_plan", **command(text, length))
    assert msg is not None
    assert msg.text == expected
    assert not msg.action


def test_the_hoc_plan_fixture_has_its_command_entity_at_offset_0() -> None:
    update = parse("hoc_plan")
    assert update.message is not None
    (entity,) = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 4)
    msg = convert("hoc_plan")
    assert msg is not None
    assert msg.text == "/hoc plan"


def test_a_slash_without_a_command_entity_is_plain_text() -> None:
    msg = convert("text_private", **{"message.text": "/ pas une commande"})
    assert msg is not None
    assert msg.text == "/ pas une commande"


def test_edits_bots_and_non_text_messages_are_ignored() -> None:
    assert convert("edited_message") is None
    bot_sender = {"id": 99, "is_bot": True, "first_name": "Other", "username": "other_bot"}
    assert convert("text_private", **{"message.from": bot_sender}) is None
    photo = load_update("text_private")
    del photo["message"]["text"]
    photo["message"]["photo"] = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    parsed = Update.de_json(photo, None)
    assert parsed is not None
    assert to_incoming(parsed, BOT_ID, BOT_USERNAME) is None


def test_groups_follow_privacy_mode() -> None:
    assert convert("group_plain") is None
    mention = convert("group_mention")
    assert mention is not None
    assert mention.text == "comment recruter des écoles ?"  # the mention is not part of the question
    assert mention.chat == "-1001234567890"
    assert mention.user == "424242"
    reply = convert("group_reply_to_bot")
    assert reply is not None
    assert reply.text == "et pour la deuxième étape ?"
    other_reply = convert(
        "group_reply_to_bot", **{"message.reply_to_message.from": {"id": 7, "is_bot": False, "first_name": "A"}}
    )
    assert other_reply is None
    assert convert("group_plain", **command("/plan", 5)) is not None
    assert convert("group_plain", **command("/plan@other_bot", 15)) is None
    assert convert("group_plain", **command("/date@hoc_district_bot 7 décembre", 22)) is not None
    assert convert("group_plain", **command("/date 7 décembre", 5)) is None  # unknown to the menu, not addressed


def test_a_mention_in_the_middle_of_the_text_uses_utf16_offsets() -> None:
    text = "🎉 bonjour @hoc_district_bot étape 2"
    mention = {"type": "mention", "offset": 11, "length": 17}  # the emoji counts two UTF-16 units
    msg = convert("group_plain", **{"message.text": text, "message.entities": [mention]})
    assert msg is not None
    assert msg.text == "🎉 bonjour   étape 2"


def test_a_callback_query_is_a_button_press() -> None:
    msg = callback_to_incoming(parse("callback_done"))
    assert msg == IncomingMessage(
        platform="telegram",
        workspace="",
        user="424242",
        chat="424242",
        text="done:1",
        locale_hint="fr",
        action=True,
    )
    assert callback_to_incoming(parse("callback_done"), {"done:1": "done:2"}.__getitem__) is not None
    assert callback_to_incoming(parse("text_private")) is None


# --------------------------------------------------------------------------------------- configuration
def test_polling_is_the_default() -> None:
    config = TelegramConfig.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert not config.webhook
    assert config.api_url is None
    assert TOKEN not in repr(config)


def test_webhook_mode_needs_its_secret() -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook"}
    with pytest.raises(ConfigError, match=r"^TELEGRAM_WEBHOOK_SECRET: required"):
        TelegramConfig.from_env(env)
    with pytest.raises(ConfigError, match=r"^TELEGRAM_WEBHOOK_SECRET: use 16 to 256") as caught:
        TelegramConfig.from_env({**env, "TELEGRAM_WEBHOOK_SECRET": "short secret!"})
    assert "short secret" not in str(caught.value)
    config = TelegramConfig.from_env({**env, "TELEGRAM_WEBHOOK_SECRET": "a" * 32})
    assert config.webhook
    assert config.webhook_secret == "a" * 32


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        (
            {"TELEGRAM_WEBHOOK_URL": "http://bot.example.org/hook", "TELEGRAM_WEBHOOK_SECRET": "a" * 20},
            "TELEGRAM_WEBHOOK_URL",
        ),
        ({"TELEGRAM_API_URL": "ftp://127.0.0.1"}, "TELEGRAM_API_URL"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    full = {"TELEGRAM_BOT_TOKEN": TOKEN, **env} if "TELEGRAM_BOT_TOKEN" not in env and env else env
    with pytest.raises(ConfigError, match=f"^{variable}:") as caught:
        TelegramConfig.from_env(full)
    assert TOKEN.split(":")[1] not in str(caught.value)


def test_a_wrong_token_is_not_repeated_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        TelegramConfig.from_env({"TELEGRAM_BOT_TOKEN": "12345:short-secret"})
    assert "short-secret" not in str(caught.value)


def test_api_url_override_is_normalised() -> None:
    config = TelegramConfig.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:8081/"})
    assert config.api_url == "http://127.0.0.1:8081"
