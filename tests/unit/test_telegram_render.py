"""Telegram rendering: HTML escaping, links, splitting below 4,096 characters, keyboards, RTL."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.render import (
    MAX_CALLBACK_DATA,
    MAX_MESSAGE,
    RLM,
    CallbackIds,
    keyboard,
    render,
    utf16_len,
)
from bot.core.messages import Button, IncomingMessage, Link, Reply
from tests.auxil.harness import Harness


class TelegramHTML(HTMLParser):
    """Checks a message as Telegram would: only known tags, balanced, entities well formed."""

    ALLOWED = frozenset({"b", "a"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []
        self.hrefs: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.ALLOWED:
            self.errors.append(f"tag {tag}")
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unbalanced {tag}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def check(message: str) -> TelegramHTML:
    parser = TelegramHTML()
    parser.feed(message)
    parser.close()
    assert parser.errors == [], message[:200]
    assert parser.open == [], message[:200]
    # A bare & or < would be refused by Telegram: each must start an entity or a known tag.
    assert not re.search(r"&(?!(?:amp|lt|gt|quot);)", message), message[:200]
    assert not re.search(r"<(?!/?b>|a href=\"|/a>)", message), message[:200]
    return parser


def visible(message: str) -> str:
    """What the user reads: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", message))


def test_text_title_and_links_are_escaped() -> None:
    reply = Reply(
        "Écoles < 10 & élèves > 3",
        title="Q&A <étape>",
        links=(Link("guide <fr> & co", 'https://example.org/?a=1&b="2"'),),
    )
    (message,) = render(reply).chunks
    assert message == (
        "<b>Q&amp;A &lt;étape&gt;</b>\n\n"
        "Écoles &lt; 10 &amp; élèves &gt; 3\n\n"
        '• <a href="https://example.org/?a=1&amp;b=&quot;2&quot;">guide &lt;fr&gt; &amp; co</a>'
    )
    parsed = check(message)
    assert parsed.hrefs == ['https://example.org/?a=1&b="2"']


def test_plain_fallback_has_no_markup_and_shows_addresses() -> None:
    reply = Reply("a < b", title="T", links=(Link("guide", "https://example.org/x"),))
    (message,) = render(reply, markup=False).chunks
    assert message == "T\n\na < b\n\n• guide: https://example.org/x"


def test_a_short_reply_is_one_message() -> None:
    rendered = render(Reply("Bonjour", buttons=(Button("plan", "Plan"),)))
    assert rendered.chunks == ("Bonjour",)
    assert rendered.keyboard[0][0].data == "plan"


def test_long_replies_split_at_paragraphs_below_the_limit() -> None:
    paragraphs = [f"Paragraphe {n} : " + "école & élèves " * 40 for n in range(30)]
    reply = Reply("\n\n".join(paragraphs), title="Titre", links=(Link("FAQ", "https://hourofcode.com/fr/faq"),))
    chunks = render(reply).chunks
    assert len(chunks) > 1
    assert all(utf16_len(c) <= MAX_MESSAGE for c in chunks)
    for chunk in chunks:
        check(chunk)
    # Cut between paragraphs: each message holds whole paragraphs, in order, none lost.
    shown = [paragraph for chunk in chunks for paragraph in visible(chunk).split("\n\n")]
    assert shown == ["Titre", *paragraphs, "• FAQ"]


def test_a_huge_paragraph_is_cut_between_words_then_inside_a_word() -> None:
    words = [f"mot{n}&<" for n in range(2000)]
    giant = "x" * 9000
    chunks = render(Reply(" ".join(words) + "\n\n" + giant)).chunks
    assert len(chunks) >= 5
    for chunk in chunks:
        assert utf16_len(chunk) <= MAX_MESSAGE
        check(chunk)  # no entity cut in two
    tokens = " ".join(visible(c) for c in chunks).split()
    assert tokens[:2000] == words  # no word cut
    assert "".join(tokens[2000:]) == giant


def test_length_counts_utf16_units_like_telegram() -> None:
    emoji = "🎉" * 3000  # 6,000 UTF-16 units, 3,000 code points
    chunks = render(Reply(emoji)).chunks
    assert len(chunks) == 2
    assert all(utf16_len(c) <= MAX_MESSAGE for c in chunks)
    assert "".join(chunks) == emoji


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("ab <>&\n\n é🎉ع")), max_size=12_000),
    title=st.text(alphabet=st.sampled_from(list("T<&>é ")), max_size=80),
    lang=st.sampled_from(["fr", "ar", "en"]),
)
def test_any_text_renders_into_valid_messages_below_the_limit(text: str, title: str, lang: str) -> None:
    chunks = render(Reply(text, title=title, lang=lang), limit=1000).chunks
    for chunk in chunks:
        assert 0 < utf16_len(chunk) <= 1000
        check(chunk)
    shown = "".join(html.unescape(c.replace("<b>", "").replace("</b>", "")) for c in chunks)
    kept = [ch for ch in text + title if not ch.isspace()]
    assert sorted(ch for ch in shown if not ch.isspace() and ch != RLM) == sorted(kept)


def test_arabic_replies_render_right_to_left_with_valid_markup() -> None:
    harness = Harness()
    handler = harness.handler
    (reply,) = handler.handle(IncomingMessage("telegram", "ar1", "step 1", chat="ar1", locale_hint="ar"))[-1:]
    assert reply.lang == "ar"
    assert reply.links
    (message,) = render(reply).chunks
    parsed = check(message)
    lines = message.split("\n")
    assert all(line.startswith(RLM) for line in lines if line)  # each paragraph laid out right to left
    assert lines[0].startswith(RLM + "<b>")
    assert parsed.hrefs == [link.url for link in reply.links]
    assert "الدليل الإرشادي للمعلمين</a>" in message
    assert all(utf16_len(c) <= MAX_MESSAGE for c in render(Reply(reply.text * 60, lang="ar")).chunks)


def test_latin_replies_get_no_direction_marks() -> None:
    (message,) = render(Reply("Bonjour\nÀ bientôt", title="Titre", lang="fr")).chunks
    assert RLM not in message


def test_short_labels_share_rows_long_labels_do_not() -> None:
    buttons = [
        Button("done:1", "Marquer l’étape 1 comme terminée"),
        Button("step:1", "Voir l’étape 1"),
        Button("remind:1", "Me le rappeler"),
        Button("undo:1", "Décocher"),
        Button("plan", "Plan"),
    ]
    rows = keyboard(buttons)
    assert [[b.data for b in row] for row in rows] == [["done:1"], ["step:1", "remind:1"], ["undo:1", "plan"]]
    assert all(1 <= len(row) <= 2 for row in rows)


def test_long_button_ids_become_short_ids_that_resolve() -> None:
    ids = CallbackIds(capacity=2)
    long_id = "topic:" + "é" * 40  # 86 bytes
    data = ids.encode(long_id)
    assert len(data.encode()) <= MAX_CALLBACK_DATA
    assert data != long_id
    assert ids.decode(data) == long_id
    assert ids.encode("done:1") == "done:1"
    assert ids.decode("done:1") == "done:1"
    assert ids.encode(long_id) == data  # stable
    ids.encode("topic:" + "a" * 70)
    ids.encode("topic:" + "b" * 70)
    assert ids.decode(data) == data  # forgotten beyond capacity: the handler says the button expired


@pytest.mark.parametrize("lang", ["fr", "ar", "en"])
def test_empty_text_with_buttons_still_sends_something(lang: str) -> None:
    rendered = render(Reply("", buttons=(Button("plan", "Plan"),), lang=lang))
    assert rendered.chunks == ("…",)
