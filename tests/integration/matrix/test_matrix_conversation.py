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
        assert welcome.decrypted and answer.decrypted
        assert "Bienvenue" in welcome.body
        assert answer.source["content"]["msgtype"] == "m.notice"
        html = answer.formatted_body or ""
        assert "<strong>Étape 1 sur 5 : Recruter des écoles locales</strong>" in html
        assert '<a href="https://hourofcode.com/fr/promote/resources#sample-emails">ce courriel</a>' in html
        assert "https://hourofcode.com/fr/how-to" in answer.body
        assert "1\ufe0f\u20e3 Étape suivante : 2" in answer.body
        assert platform.health()["ready"] is True
