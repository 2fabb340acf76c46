"""A coordinator's conversation in French, through the console adapter, as a chat log."""

from __future__ import annotations

import io

from bot.adapters.console import ConsoleChat
from bot.store.memory import MemoryStore
from tests.auxil.harness import Harness


def test_french_coordinator_conversation() -> None:
    h = Harness(store=MemoryStore())
    welcome, hello = h.send("Bonjour !")
    assert welcome.kind == "welcome"
    assert hello.kind == "smalltalk"
    assert "Heure de Code" in hello.text

    [answer] = h.send("comment recruter des écoles ?")
    assert answer.topic == "recruit-schools"
    assert answer.lang == "fr"
    assert any("courriel" in link.label.lower() for link in answer.links)
    next_button = answer.buttons[0]
    assert next_button.id == "step:2"

    [step2] = h.send("1")  # press "Étape suivante"
    assert step2.topic == "logistics-plan"
    assert any(link.url.endswith("HOC_Logistics_plan.pdf") for link in step2.links)

    [social] = h.send("qu'est-ce qu'on publie sur twitter ?")
    assert social.topic == "social-media"
    # The French guide's Twitter link is broken; the working one from the English guide is used.
    assert all("google.com" not in link.url or "twitter.com" in link.url for link in social.links)
    assert any(link.url.startswith("https://twitter.com/") for link in social.links)

    [off] = h.send("quel temps fera-t-il demain ?")
    assert off.kind == "fallback"

    [thanks] = h.send("merci beaucoup")
    assert thanks.kind == "smalltalk"


def test_scripted_console_session_prints_replies() -> None:
    h = Harness(store=MemoryStore())
    chat = ConsoleChat(h.handler.handle, user="script")
    out = io.StringIO()
    chat.loop(io.StringIO("aide\nétapes\n2\n"), out)
    text = out.getvalue()
    assert "[1]" in text
    assert "[5]" in text
    assert "== Étape 2 sur 5" in text
