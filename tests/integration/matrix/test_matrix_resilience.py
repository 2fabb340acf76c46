"""Matrix adapter under trouble: restarts (same device, keys kept), an undecryptable message, an invitation
from a server not allowed, a failing sync loop, and reminders."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import pytest
from nio import RoomMessageText
from prometheus_client import generate_latest

from bot.core.messages import Reply
from bot.core.ports import UserKey
from bot.reminders import ReminderRunner
from bot.web import create_app
from tests.integration.matrix.conftest import BotRun


async def test_restart_keeps_the_device_and_decrypts_what_came_while_down(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any]
) -> None:
    run = bot_run()
    async with coordinator("camille") as camille:
        async with run.running() as (_, platform):
            device = platform.client().device_id
            room = await camille.direct_chat(run.user_id)
            await camille.say(room, "aide")
            await camille.reply(room, 0)
        await camille.say(room, "étapes")  # sent while the bot is stopped, same megolm session
        async with run.running() as (_, platform):
            assert platform.client().device_id == device
            steps = await camille.reply(room, 1)
            assert steps.decrypted
            assert "Les cinq étapes" in steps.body
            await camille.say(room, "étape 2")
            step2 = await camille.reply(room, 2)
            assert "Étape 2 sur 5" in step2.body
        assert len(camille.in_room(room)) == 3  # nothing answered twice after the restart


async def test_a_number_typed_after_a_restart_presses_the_buttons_of_the_last_message(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any]
) -> None:
    run = bot_run()
    async with coordinator("camille") as camille:
        async with run.running():
            room = await camille.direct_chat(run.user_id)
            await camille.say(room, "comment recruter des écoles ?")
            answer = await camille.reply(room, 1)
            assert "1\ufe0f\u20e3" in answer.body  # "Étape suivante : 2"
            before = len(camille.in_room(room))
        async with run.running():  # a new process: nothing remembered in memory
            await camille.say(room, "1")
            step2 = await camille.reply(room, 2)
            assert "Étape 2 sur 5" in step2.body
        assert len(camille.in_room(room)) == before + 1


async def test_undecryptable_message_is_logged_its_key_requested_and_the_user_told(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any], caplog: pytest.LogCaptureFixture
) -> None:
    run = bot_run()
    async with run.running() as (_, platform), coordinator("camille") as camille:
        room = await camille.direct_chat(run.user_id)
        await camille.say(room, "bonjour, je coordonne la ville de Lyon")
        await camille.reply(room, 0)  # the welcome answers an introduction
        # Encrypted with a session the bot never received.
        session = "S" * 43
        await camille.raw(
            room,
            "m.room.encrypted",
            {
                "algorithm": "m.megolm.v1.aes-sha2",
                "sender_key": camille.client.olm.account.identity_keys["curve25519"],
                "ciphertext": "AwgAEjD" + "A" * 120,
                "session_id": session,
                "device_id": camille.client.device_id,
            },
        )
        told = await camille.reply(room, 1)
        assert "chiffrement" in told.body or "clé" in told.body  # in French, the language of the user
        assert session in platform.client().outgoing_key_requests
        assert any("could not be decrypted" in r.getMessage() and session in r.getMessage() for r in caplog.records)
        await camille.say(room, "étape 4")  # the bot goes on
        assert "Étape 4 sur 5" in (await camille.reply(room, 2)).body
        assert platform.health()["sync_restarts"] == 0


async def test_invitation_from_a_server_not_allowed_is_refused(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any], caplog: pytest.LogCaptureFixture
) -> None:
    run = bot_run(MATRIX_ALLOWED_SERVERS="agent.tchap.gouv.fr, agent.education.tchap.gouv.fr")
    async with run.running(), coordinator("camille") as camille:
        response = await camille.client.room_create(is_direct=True, invite=[run.user_id])
        room = response.room_id
        await camille.wait(
            lambda: any("refused the invitation" in r.getMessage() for r in caplog.records), what="the refusal"
        )
        for _ in range(100):
            if await camille.membership(room, run.user_id) == "leave":
                break
            await asyncio.sleep(0.05)
        assert await camille.membership(room, run.user_id) == "leave"
        assert not camille.in_room(room)


async def test_a_failing_sync_loop_is_restarted_counted_and_reported(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any]
) -> None:
    run = bot_run()
    async with run.running(restart_delay=0.2) as (bot, platform), coordinator("camille") as camille:
        room = await camille.direct_chat(run.user_id)
        failures = []

        async def broken(room: Any, event: RoomMessageText) -> None:
            if not failures:
                failures.append(event.event_id)
                raise RuntimeError("a bug in an event callback")

        platform.client().add_event_callback(broken, RoomMessageText)
        await camille.say(room, "comment recruter des écoles ?")
        answer = await camille.reply(room, 1)  # answered all the same, once the loop is back
        assert "Étape 1 sur 5" in answer.body
        assert failures
        assert platform.sync_restarts == 1
        metrics = generate_latest(bot.metrics.registry).decode()
        assert 'hoc_platform_sync_restarts_total{platform="matrix"} 1.0' in metrics
        app = create_app([platform])
        readyz = next(r for r in app.router.routes() if r.resource and r.resource.canonical == "/readyz")
        response = await readyz.handler(None)
        assert b'"sync_restarts": 1' in response.body
        assert response.status == 200
        await asyncio.sleep(0.3)
        assert len(camille.in_room(room)) == 2


async def test_reminder_delivered_in_the_users_room(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any]
) -> None:
    run = bot_run()
    async with run.running() as (bot, platform), coordinator("camille") as camille:
        room = await camille.direct_chat(run.user_id)
        await camille.say(room, "bonjour")
        await camille.reply(room, 1)
        key = UserKey("matrix", "", camille.client.user_id)
        store = bot.handler.store
        now = dt.datetime.now(dt.UTC)
        reminder = store.add_reminder(key, room, 2, now - dt.timedelta(minutes=1))
        runner = ReminderRunner(store, {"matrix": platform.sender}, bot.compose, bot.handler.clock, worker_id="t")
        stats = await runner.run_once()
        assert stats.sent == 1
        notice = await camille.reply(room, 2)
        assert notice.decrypted
        assert "Rappel" in notice.body
        assert "étape 2" in notice.body
        [row] = [r for r in store.list_reminders(key, status=None) if r.id == reminder.id]
        assert row.status == "sent"
        # A room the bot is not in: a permanent failure, not retried.
        from bot.core.errors import PermanentSendError

        with pytest.raises(PermanentSendError):
            await platform.sender.send(key, "!nowhere:localhost", Reply("x"))


async def test_secrets_never_reach_the_logs(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    run = bot_run()
    async with run.running() as (_, platform), coordinator("camille") as camille:
        room = await camille.direct_chat(run.user_id)
        await camille.say(room, "aide")
        await camille.reply(room, 0)
        token = platform.client().access_token
    from tests.auxil.synapse import PASSWORD

    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "signed in as" in text
    assert token not in text
    assert PASSWORD not in text
