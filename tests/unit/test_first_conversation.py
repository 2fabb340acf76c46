"""A newcomer's first conversation in each shipped language, typed as people type, with no dead end.

Each script starts with ``lang xx`` (the welcome must come in that language), then uses that
language's command words, short input that must not change the language, several steps at once,
today's date, a reminder inside the quiet hours, the numbers of the reminders list, button labels
typed as text, small talk, and questions that start with a command word.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from bot.core.ports import UserKey
from bot.store.memory import MemoryStore
from tests.auxil.harness import FakeClock, Harness

#: Friday 4 December 2026, 11:00 in Paris.
NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Script:
    """What a newcomer types in one language."""

    lang: str
    today: str  # today's date as people write it, after the date command word
    thanks: str
    bye: str
    ok: str
    words: dict[str, str]  # command -> the word typed (the language's own)


SCRIPTS = [
    Script("fr", "4 décembre", "merci", "au revoir", "ok", {
        "next": "suivant", "step": "étape", "done": "fait", "undo": "défaire", "date": "date",
        "remind": "rappel", "reminders": "rappels", "cancel": "annuler", "steps": "étapes", "help": "aide",
        "plan": "plan", "forget": "oublie-moi",
    }),
    Script("en", "December 4", "thanks", "bye", "ok", {
        "next": "next", "step": "step", "done": "done", "undo": "undo", "date": "date", "remind": "remind",
        "reminders": "reminders", "cancel": "cancel", "steps": "steps", "help": "help", "plan": "plan",
        "forget": "forget me",
    }),
    Script("es", "4 de diciembre", "gracias", "adiós", "vale", {
        "next": "siguiente", "step": "paso", "done": "hecho", "undo": "deshacer", "date": "fecha",
        "remind": "recordar", "reminders": "recordatorios", "cancel": "cancelar", "steps": "pasos",
        "help": "ayuda", "plan": "plan", "forget": "olvídame",
    }),
    Script("de", "4. Dezember", "danke", "tschüss", "alles klar", {
        "next": "weiter", "step": "schritt", "done": "erledigt", "undo": "rückgängig", "date": "datum",
        "remind": "erinnere mich", "reminders": "erinnerungen", "cancel": "abbrechen", "steps": "schritte",
        "help": "hilfe", "plan": "plan", "forget": "vergiss mich",
    }),
    Script("it", "4 dicembre", "grazie", "arrivederci", "va bene", {
        "next": "prossimo", "step": "passo", "done": "fatto", "undo": "disfa", "date": "data",
        "remind": "ricordami", "reminders": "promemoria", "cancel": "annulla", "steps": "passi",
        "help": "aiuto", "plan": "piano", "forget": "dimenticami",
    }),
    Script("pt", "4 de dezembro", "obrigado", "tchau", "beleza", {
        "next": "próximo", "step": "etapa", "done": "feito", "undo": "desfazer", "date": "data",
        "remind": "lembrar", "reminders": "lembretes", "cancel": "cancelar", "steps": "etapas",
        "help": "ajuda", "plan": "plano", "forget": "esqueça-me",
    }),
    Script("nl", "4 december", "bedankt", "doei", "oké", {
        "next": "volgende", "step": "stap", "done": "klaar", "undo": "ongedaan", "date": "datum",
        "remind": "herinner me", "reminders": "herinneringen", "cancel": "annuleer", "steps": "stappen",
        "help": "hulp", "plan": "plan", "forget": "vergeet mij",
    }),
    Script("tr", "4 Aralık", "teşekkürler", "görüşürüz", "tamam", {
        "next": "sonraki", "step": "adım", "done": "bitti", "undo": "geri al", "date": "tarih",
        "remind": "hatırlat", "reminders": "hatırlatıcılar", "cancel": "iptal", "steps": "adımlar",
        "help": "yardım", "plan": "plan", "forget": "beni unut",
    }),
    Script("ko", "12월 4일", "감사합니다", "안녕히 계세요", "알겠습니다", {
        "next": "다음", "step": "단계", "done": "완료", "undo": "되돌리기", "date": "날짜", "remind": "알림",
        "reminders": "알림 목록", "cancel": "취소", "steps": "단계 목록", "help": "도움말", "plan": "계획",
        "forget": "나를 잊어",
    }),
    Script("ar", "4 ديسمبر", "شكرا", "مع السلامة", "حسنا", {
        "next": "التالي", "step": "الخطوة", "done": "تم", "undo": "تراجع", "date": "التاريخ",
        "remind": "ذكرني", "reminders": "التذكيرات", "cancel": "إلغاء", "steps": "الخطوات",
        "help": "مساعدة", "plan": "الخطة", "forget": "انسني",
    }),
]  # fmt: skip


@pytest.fixture(params=SCRIPTS, ids=lambda s: s.lang)
def script(request: pytest.FixtureRequest) -> Script:
    return request.param  # type: ignore[no-any-return]


def _user(h: Harness) -> object:
    return h.handler.store.get_user(UserKey("console", "", "u1"))


def test_first_conversation(script: Script) -> None:
    lang, w = script.lang, script.words
    store = MemoryStore()
    h = Harness(store=store, clock=FakeClock(NOW))
    t = h.handler.translations.get(lang)

    # "lang xx" as the very first message: the welcome comes in that language, not in French.
    replies = h.send(f"lang {lang}")
    assert [r.kind for r in replies] == ["welcome", "lang"]
    assert {r.lang for r in replies} == {lang}

    # Short or unrecognised input keeps the language.
    for text in (w["next"], f"{w['step']} 2", "SELECT * FROM users;--", "?"):
        replies = h.send(text)
        assert replies, text
        assert {r.lang for r in replies} == {lang}, (text, [(r.kind, r.lang) for r in replies])
    [step2] = h.send(f"{w['step']} 2")
    assert step2.topic == "logistics-plan"

    # Several steps at once, in the three ways people write them.
    h.send(f"{w['done']} 1 2 3")
    assert set(store.get_user(UserKey("console", "", "u1")).steps_done) == {1, 2, 3}  # type: ignore[union-attr]
    h.send(f"{w['undo']} 1,2")
    assert set(store.get_user(UserKey("console", "", "u1")).steps_done) == {3}  # type: ignore[union-attr]
    h.send(f"{w['done']} 1-2")
    assert set(store.get_user(UserKey("console", "", "u1")).steps_done) == {1, 2, 3}  # type: ignore[union-attr]

    # The list of steps and the help, in the language's own words.
    [steps] = h.send(w["steps"])
    assert steps.kind == "steps"
    [help_] = h.send(w["help"])
    assert help_.kind == "help"
    assert w["remind"].split()[0] in help_.text
    assert w["forget"].split()[0] in help_.text
    if lang != "en":
        assert "remind " not in help_.text
        assert "forget me" not in help_.text

    # Today's date is today.
    date_reply, _plan = h.send(f"{w['date']} {script.today}")
    assert date_reply.kind == "date", date_reply
    assert store.get_user(UserKey("console", "", "u1")).event_date == dt.date(2026, 12, 4)  # type: ignore[union-attr]

    # A reminder in the quiet hours says it moved, and why, and offers the time asked for.
    [moved] = h.send(f"{w['remind']} 2026-12-05 23:00 {w['step']} 3")
    assert moved.kind == "remind", moved
    assert "23:00" in moved.text
    assert "09:00" in moved.text
    [keep] = moved.buttons
    assert keep.id.startswith("keep:")
    assert "23:00" in keep.label
    [kept] = h.press(keep.id)
    assert kept.kind == "remind"
    pending = store.list_reminders(UserKey("console", "", "u1"))
    asked = [r for r in pending if r.step == 3 and r.kind == "manual"]
    assert [r.due_at for r in asked] == [dt.datetime(2026, 12, 5, 22, 0, tzinfo=dt.UTC)]

    # Reminders are numbered 1, 2, … in list order, and "cancel 1" cancels the first of the list.
    [listing] = h.send(w["reminders"])
    lines = listing.text.splitlines()
    assert "1" in lines[0]
    assert "2" in lines[1]
    first = pending[0]
    [cancelled] = h.send(f"{w['cancel']} 1")
    assert cancelled.kind == "cancel", cancelled
    assert first.id not in {r.id for r in store.list_reminders(UserKey("console", "", "u1"))}

    # What the bot offers, typed: a zone name, a button label.
    [tz] = h.send("Europe/Paris")
    assert tz.kind == "tz"
    [plan] = h.send(t.gettext("See my plan"))
    assert plan.kind == "plan"
    [remind] = h.send(t.gettext("Remind me"))
    assert remind.kind == "remind"

    # Small talk gets a fitting reply, not the greeting.
    greeting = t.gettext(
        "Hello! I help you bring every school of your district into the Hour of Code. "
        "Ask me a question, or pick a topic."
    )
    for text in (script.thanks, script.bye, script.ok):
        [reply] = h.send(text)
        assert reply.kind == "smalltalk", text
        assert reply.text != greeting, text
        assert reply.lang == lang

    # A question that starts with a command word is a question.
    replies = h.send(f"{w['plan']} event district mayor press school 2026 ?")
    assert all(r.kind != "plan" for r in replies)

    # Forgetting, in the language's words, asks first.
    [confirm] = h.send(w["forget"])
    assert confirm.kind == "confirm"
    assert confirm.buttons[0].id == "forget:confirm"


def test_lang_accepts_a_regional_variant() -> None:
    h = Harness(store=MemoryStore(), clock=FakeClock(NOW))
    h.meet()
    [reply] = h.send("lang fr-CA")
    assert reply.kind == "lang"
    [answer] = h.send("comment recruter des écoles ?")
    assert any("/ca/fr/" in link.url for link in answer.links), answer.links


def test_a_french_user_is_not_switched_by_short_english_words() -> None:
    h = Harness(store=MemoryStore(), clock=FakeClock(NOW))
    h.meet()
    for text in ("next", "step 2", "ok", "SELECT * FROM users;--", "stats"):
        assert {r.lang for r in h.send(text)} == {"fr"}, text


def test_a_whole_sentence_in_another_language_switches_and_says_so() -> None:
    h = Harness(store=MemoryStore(), clock=FakeClock(NOW))
    h.meet()
    notice, answer = h.send("how do we organise a district event with the press?")
    assert notice.kind == "notice"
    assert notice.lang == "en"
    assert "lang fr" in notice.text
    assert answer.lang == "en"
    [short] = h.send("next")  # and it stays
    assert short.lang == "en"


def test_an_explicit_language_is_kept() -> None:
    h = Harness(store=MemoryStore(), clock=FakeClock(NOW))
    h.meet()
    h.send("lang de")
    replies = h.send("how do we organise a district event with the press?")
    assert {r.lang for r in replies} == {"de"}


@pytest.mark.parametrize(
    "text",
    ["stats to share online", "plan a district event with the mayor", "next steps after the event"],
)
def test_a_question_starting_with_a_command_word_is_answered_as_a_question(text: str) -> None:
    h = Harness(store=MemoryStore(), clock=FakeClock(NOW))
    h.meet(lang="en")
    replies = h.send(text, lang="en")
    assert [r.kind for r in replies] in (["answer"], ["clarify"], ["fallback"]), replies
    assert all(r.kind not in {"plan", "error"} for r in replies)


def test_a_moment_tonight_is_understood() -> None:
    h = Harness(store=MemoryStore(), clock=FakeClock(NOW))
    h.meet()
    [reply] = h.send("rappel ce soir 20h")
    assert reply.kind == "remind", reply
    [r] = [r for r in h.handler.store.list_reminders(UserKey("console", "", "u1")) if r.kind == "manual"]
    assert r.due_at == dt.datetime(2026, 12, 4, 19, 0, tzinfo=dt.UTC)


def test_tz_with_an_offset_suggests_zones() -> None:
    h = Harness(store=MemoryStore(), clock=FakeClock(NOW))
    h.meet()
    [reply] = h.send("tz UTC+1")
    assert reply.kind == "error"
    assert {b.id for b in reply.buttons} >= {"tz:Europe/Paris", "tz:Etc/GMT-1"}
