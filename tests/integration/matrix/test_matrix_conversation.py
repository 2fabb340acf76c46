"""Conversations with the bot on a real Synapse, in encrypted rooms, as a coordinator's client sees them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.integration.matrix.conftest import BotRun


async def test_encrypted_direct_chat_answered_in_french_with_links(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any]
) -> None:
    run = bot_run()
    async with run.running() as (_, platform), coordinator("camille") as camille:
        room = await camille.direct_chat(run.user_id)
        assert camille.client.rooms[room].encrypted
        await camille.say(room, "comment recruter des écoles ?")
        welcome = await camille.reply(room, 0)
        answer = await camille.reply(room, 1)
        assert welcome.decrypted
        assert answer.decrypted
        assert "Bienvenue" in welcome.body
        assert answer.source["content"]["msgtype"] == "m.notice"
        html = answer.formatted_body or ""
        assert "<strong>Étape 1 sur 5 : Recruter des écoles locales</strong>" in html
        assert '<a href="https://hourofcode.com/fr/promote/resources#sample-emails">ce courriel</a>' in html
        assert "https://hourofcode.com/fr/how-to" in answer.body
        assert "1\ufe0f\u20e3 Étape suivante : 2" in answer.body
        assert platform.health()["ready"] is True


async def test_room_answers_hoc_commands_and_mentions_in_their_thread_only(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any], synapse: Any
) -> None:
    run = bot_run()
    async with run.running(), coordinator("camille") as camille:
        room = await camille.group_room(run.user_id, others=(synapse.register("other"),))
        await camille.say(room, "bonjour à tous, on se voit lundi")  # not for the bot
        await camille.say(room, "!hoc plan")
        first = await camille.reply(room, 0)
        plan = await camille.reply(room, 1)
        assert "Bienvenue" in first.body or "Welcome" in first.body
        assert "2026" in plan.body or "7" in plan.body
        assert plan.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
        count = len(camille.in_room(room))
        root = await camille.say(room, "Une question pour le bot")
        await camille.say(
            room,
            f"{run.user_id} comment recruter des écoles ?",
            **{
                "m.mentions": {"user_ids": [run.user_id]},
                "m.relates_to": {"rel_type": "m.thread", "event_id": root, "is_falling_back": True},
            },
        )
        answer = await camille.reply(room, count)
        relates = answer.source["content"]["m.relates_to"]
        assert (relates["rel_type"], relates["event_id"]) == ("m.thread", root)
        assert "Recruter des écoles" in answer.body
        await camille.say(room, "merci, à plus tard")  # not addressed: no answer
        await camille.say(room, "!hoc aide")
        help_reply = await camille.reply(room, count + 1)
        assert "plan" in help_reply.body  # the one after the thread answer is the help, nothing in between


async def test_buttons_pressed_by_number_and_by_plain_or_encrypted_reaction(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any]
) -> None:
    run = bot_run()
    async with run.running(), coordinator("camille") as camille:
        room = await camille.direct_chat(run.user_id)
        await camille.say(room, "comment recruter des écoles ?")
        answer = await camille.reply(room, 1)
        await camille.react(room, answer.event_id, "1\ufe0f\u20e3", encrypted=True)  # "Étape suivante : 2"
        step2 = await camille.reply(room, 2)
        assert step2.decrypted
        assert "Étape 2 sur 5" in step2.body
        await camille.react(room, step2.event_id, "👍", encrypted=False)  # not a number: nothing
        await camille.react(room, answer.event_id, "2\ufe0f\u20e3", encrypted=False)  # "Toutes les étapes"
        steps = await camille.reply(room, 3)
        assert "Recruter des écoles" in steps.body
        assert "5\ufe0f\u20e3" in steps.body
        await camille.say(room, "3")  # the third of the last buttons: step 3
        step3 = await camille.reply(room, 4)
        assert "Étape 3 sur 5" in step3.body
        assert len(camille.in_room(room)) == 5


async def test_forget_me_erases_the_user_and_leaves_the_direct_chat(
    bot_run: Callable[..., BotRun], coordinator: Callable[[str], Any]
) -> None:
    run = bot_run()
    async with run.running() as (bot, _), coordinator("camille") as camille:
        room = await camille.direct_chat(run.user_id)
        await camille.say(room, "plan")
        await camille.reply(room, 1)
        await camille.say(room, "oublie-moi")
        confirm = await camille.reply(room, 2)
        assert "1\ufe0f\u20e3" in confirm.body
        await camille.say(room, "1")
        done = await camille.reply(room, 3)
        assert "effacé" in done.body
        from bot.core.ports import UserKey

        assert bot.handler.store.get_user(UserKey("matrix", "", camille.client.user_id)) is None
        await camille.wait(lambda: run.user_id not in camille.client.rooms[room].users, what="the bot to leave")
        assert await camille.membership(room, run.user_id) == "leave"
