"""The shared handler on the shipped knowledge base, through the console harness."""

from __future__ import annotations

import re

import pytest

from bot.core.handler import _introduction
from bot.core.messages import Reply
from bot.store.memory import MemoryStore
from tests.auxil.harness import Harness


@pytest.fixture
def h() -> Harness:
    harness = Harness(store=MemoryStore())
    harness.meet()
    return harness


def _urls(reply) -> list[str]:
    return [link.url for link in reply.links]


def test_french_question_gets_step_one_in_french_with_french_links(h: Harness) -> None:
    [reply] = h.send("comment recruter des écoles ?")
    assert reply.kind == "answer"
    assert reply.topic == "recruit-schools"
    assert reply.lang == "fr"
    assert "Étape 1" in reply.title
    assert "https://hourofcode.com/fr/promote/resources#sample-emails" in _urls(reply)
    assert "https://hourofcode.com/fr/how-to" in _urls(reply)
    assert all(u.startswith("https://") for u in _urls(reply))


def test_english_user_gets_us_links(h: Harness) -> None:
    [reply] = h.send("how do we recruit local schools?", lang="en-US")
    assert (reply.topic, reply.lang) == ("recruit-schools", "en")
    assert "https://hourofcode.com/us/promote/resources#sample-emails" in _urls(reply)


def test_canadian_french_gets_canadian_links(h: Harness) -> None:
    [reply] = h.send("organiser un événement dans le district", lang="fr-CA")
    assert reply.topic == "district-event"
    assert "https://hourofcode.com/ca/fr/how-to/events" in _urls(reply)


def test_district_country_overrides_locale_country() -> None:
    h = Harness({"HOC_COUNTRY": "be"}, store=MemoryStore())
    h.meet()
    [reply] = h.send("annoncer sur la page d'accueil du site du district")
    assert reply.topic == "district-homepage"
    assert any(u.startswith("https://hourofcode.com/be/") for u in _urls(reply)), _urls(reply)


@pytest.mark.parametrize("text", ["step 2", "/hoc step 2", "/step 2", "hoc step 2", "étape 2", "/hoc étape 2"])
def test_step_command_with_or_without_prefix(h: Harness, text: str) -> None:
    [reply] = h.send(text)
    assert reply.topic == "logistics-plan"
    assert reply.kind == "answer"


@pytest.mark.parametrize("text", ["step 9", "step deux", "step -1"])
def test_step_out_of_range_is_a_clear_error(h: Harness, text: str) -> None:
    [reply] = h.send(text)
    assert reply.kind == "error"
    assert "1" in reply.text
    assert "5" in reply.text
    assert reply.topic is None


def test_step_without_number_asks_which(h: Harness) -> None:
    [reply] = h.send("step")
    assert reply.kind == "error"
    assert "?" in reply.text


def test_steps_lists_five_steps_with_buttons(h: Harness) -> None:
    [reply] = h.send("/hoc steps")
    assert reply.kind == "steps"
    assert [b.id for b in reply.buttons] == [f"step:{n}" for n in range(1, 6)]
    assert len(reply.text.splitlines()) == 5


def test_pressing_a_step_button_shows_the_step(h: Harness) -> None:
    h.send("/hoc steps")
    replies = h.send("3")  # the third button
    assert replies[0].topic == "social-media"


@pytest.mark.parametrize("text", ["bonjour", "Bonjour !", "salut 👋", "hello", "Buongiorno!", "bom dia", "Grüezi"])
def test_greeting_gets_friendly_reply_not_an_entry(h: Harness, text: str) -> None:
    [reply] = h.send(text)
    assert reply.kind == "smalltalk"
    assert reply.topic is None
    assert reply.buttons, "a greeting offers the topics"


@pytest.mark.parametrize("text", ["au revoir", "bye!", "quit", "exit", "quitter", "salir", "종료", "خروج"])
def test_goodbye_or_quit_gets_a_goodbye_not_an_entry(h: Harness, text: str) -> None:
    *_, reply = h.send(text)  # a word of another language may come after a note on the language
    assert reply.kind == "smalltalk"
    assert reply.topic is None
    assert not reply.buttons


@pytest.mark.parametrize(
    "text",
    [
        "merci !",
        "merci mille fois",
        "thank you so much",
        "mil gracias",
        "muito obrigado",
        "valeu!",
        "danke schön",
        "dank je wel",
        "dank u wel",
        "çok teşekkür ederim",
        "sağol",
        "정말 감사합니다",
        "고마워요",
        "شكرا جزيلا",
        "مشكور",
        "يعطيك العافية",
    ],
)
def test_thanks_gets_short_reply(h: Harness, text: str) -> None:
    *_, reply = h.send(text)  # a word of another language may come after a note on the language
    assert reply.kind == "smalltalk"
    assert reply.topic is None
    assert not reply.buttons


@pytest.mark.parametrize(
    "text",
    ["quel temps fera-t-il demain ?", "horaires de la piscine municipale", "j'ai perdu mes clés", "zzzz"],
)
def test_off_topic_falls_back_with_topics_and_faq(h: Harness, text: str) -> None:
    [reply] = h.send(text)
    assert reply.kind == "fallback"
    assert reply.topic is None
    assert "https://hourofcode.com/fr/faq" in _urls(reply)
    assert {b.id for b in reply.buttons} >= {"topic:recruit-schools", "topic:district-event"}


def test_lang_command_switches_language_and_is_remembered(h: Harness) -> None:
    [reply] = h.send("lang en")
    assert reply.kind == "lang"
    assert reply.lang == "en"
    [answer] = h.send("partager sur les réseaux sociaux")
    assert answer.topic == "social-media"
    assert answer.lang == "en"
    assert any("/us/" in u for u in _urls(answer))


def test_unknown_language_is_refused_and_nothing_changes(h: Harness) -> None:
    [reply] = h.send("lang klingon")
    assert reply.kind == "error"
    assert "klingon" in reply.text
    [answer] = h.send("comment recruter des écoles ?")
    assert answer.lang == "fr"


def test_topic_button_and_stale_button(h: Harness) -> None:
    [reply] = h.press("topic:after-hour-of-code")
    assert reply.topic == "after-hour-of-code"
    [stale] = h.press("topic:no-such-entry")
    assert stale.kind == "error"
    assert stale.buttons


def test_long_message_is_cut_with_a_notice(h: Harness) -> None:
    replies = h.send("recruter des écoles " * 500)
    assert replies[0].kind == "notice"
    assert "2000" in replies[0].text.replace("\u202f", "").replace(" ", "").replace(",", "")
    assert len(replies) == 2


def test_help_in_french(h: Harness) -> None:
    [reply] = h.send("/hoc help")
    assert reply.kind == "help"
    assert "étapes" in reply.text


def test_empty_command_prefix_is_help(h: Harness) -> None:
    [reply] = h.send("/hoc")
    assert reply.kind == "help"


def test_first_contact_gets_a_welcome_before_the_answer() -> None:
    h = Harness(store=MemoryStore())
    welcome, answer = h.send("comment recruter des écoles ?", user="new")
    assert welcome.kind == "welcome"
    assert "plan" in {b.id for b in welcome.buttons}
    assert any(b.id.startswith("tz:") for b in welcome.buttons), "no zone known yet: offer some"
    assert answer.topic == "recruit-schools"
    [again] = h.send("comment recruter des écoles ?", user="new")
    assert again.topic == "recruit-schools"


@pytest.mark.parametrize(
    ("text", "lang", "intro"),
    [
        ("réseaux sociaux ou page d'accueil ?", "fr", "Votre question porte sur plusieurs étapes."),
        ("social media and our homepage", "en", "Your question is about several steps."),
        ("redes sociales y página web del ayuntamiento", "es", "Su pregunta trata de varios pasos."),
    ],
)
def test_a_question_about_two_steps_offers_both(h: Harness, text: str, lang: str, intro: str) -> None:
    [reply] = h.send(text, lang=lang)
    assert reply.kind == "clarify"
    assert reply.text.startswith(intro)
    # topic:<entry>:<ref>: one reference for the question, that the questions log keeps with it.
    ids = [b.id.split(":") for b in reply.buttons]
    assert {(kind, entry) for kind, entry, _ in ids} == {("topic", "social-media"), ("topic", "district-homepage")}
    assert len({ref for _, _, ref in ids}) == 1
    assert re.fullmatch(r"[0-9a-f]{16}", ids[0][2])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("quel temps fera-t-il samedi ?", "fr"),
        ("Comment compter les Heures de Code ?", "fr"),
        ("how do I create my own tutorial", "en"),
    ],
)
def test_off_topic_questions_fall_back_with_the_faq_never_a_step(h: Harness, text: str, lang: str) -> None:
    [reply] = h.send(text, lang=lang)
    assert reply.kind == "fallback"
    assert reply.topic is None
    assert any("/faq" in link.url for link in reply.links)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Bonjour ! je suis à la mairie de Rennes", "fr"),
        ("Hallo, ich bin Koordinatorin beim Schulamt Freiburg", "de"),
        ("hi there, I'm the STEM lead for Leeds City Council", "en"),
        ("مرحبا، أنا منسقة في مديرية التعليم", "ar"),
    ],
)
def test_a_first_message_that_introduces_oneself_gets_the_welcome_alone(text: str, lang: str) -> None:
    h = Harness(store=MemoryStore())
    [welcome] = h.send(text)
    assert welcome.kind == "welcome"
    assert welcome.lang == lang
    # Later, the same words are answered as anything else is.
    again = h.send(text)
    assert [r.kind for r in again] in (["fallback"], ["clarify"]), again


@pytest.mark.parametrize(
    "text",
    ["Bonjour, quel temps fera-t-il demain ?", "je suis à la mairie de Rennes", "bonjour, comment recruter des écoles"],
)
def test_a_first_question_is_answered_after_the_welcome(text: str) -> None:
    h = Harness(store=MemoryStore())
    welcome, *replies = h.send(text)
    assert welcome.kind == "welcome"
    assert replies, text
    assert replies[0].kind in {"fallback", "answer"}, replies


@pytest.mark.parametrize(
    ("text", "kinds", "expected"),
    [
        ("Hola, soy coordinadora en la Secretaría de Educación de Puebla", ["clarify"], True),
        ("Hola, soy coordinadora en la Secretaría de Educación de Puebla", ["fallback"], True),
        ("Hola, soy coordinadora en la Secretaría de Educación de Puebla", ["answer"], False),
        ("Hola, ¿qué tiempo hará mañana?", ["fallback"], False),
        ("soy coordinadora en Puebla", ["fallback"], False),
        ("Hola", [], False),
    ],
)
def test_what_counts_as_an_introduction_the_welcome_answers(text: str, kinds: list[str], expected: bool) -> None:
    replies = [Reply("…", kind=kind) for kind in kinds]
    assert _introduction(text, replies) is expected
