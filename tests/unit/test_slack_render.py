"""Block Kit rendering: mrkdwn escaping, links, Slack's size limits, right-to-left text, Slack markup to plain text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack.render import (
    MAX_ACTIONS,
    MAX_BUTTON_CHARS,
    MAX_HOME_BLOCKS,
    MAX_MESSAGE_BLOCKS,
    MAX_SECTION_CHARS,
    block_owner,
    escape,
    fallback_text,
    fit_button_label,
    link,
    plain,
    render_home,
    render_messages,
    reply_blocks,
    split_text,
    utf16_len,
)
from bot.core.messages import Button, Link, Reply

_ENTITY_CUT = re.compile(r"&(a|am|amp|l|lt|g|gt)?$")


def texts(blocks: list[dict[str, object]]) -> list[str]:
    out = []
    for block in blocks:
        if block["type"] == "section":
            out.append(block["text"]["text"])  # type: ignore[index]
        elif block["type"] == "context":
            out.extend(e["text"] for e in block["elements"])  # type: ignore[attr-defined]
    return out


def test_user_text_is_escaped_and_nothing_else() -> None:
    [message] = render_messages(Reply("Tom & Jerry <b>*bold*</b> > 3 — l’école", title="Q&A <1>"))
    title, body = texts(message.blocks)
    assert title == "*Q&amp;A &lt;1&gt;*"
    assert body == "Tom &amp; Jerry &lt;b&gt;*bold*&lt;/b&gt; &gt; 3 — l’école"
    assert "<" not in message.text.replace("&lt;", "")


def test_a_mention_typed_by_a_user_cannot_ping_a_channel() -> None:
    [message] = render_messages(Reply("<!channel> hello <@U123>"))
    assert texts(message.blocks) == ["&lt;!channel&gt; hello &lt;@U123&gt;"]


def test_links_are_slack_links_with_escaped_labels() -> None:
    reply = Reply("Voir :", links=(Link("Q&A <FAQ> | aide", "https://hourofcode.com/fr/faq?a=1&b=2"),))
    [message] = render_messages(reply)
    assert texts(message.blocks)[-1] == "• <https://hourofcode.com/fr/faq?a=1&amp;b=2|Q&amp;A &lt;FAQ&gt; ¦ aide>"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "ftp://example.org/x"])
def test_unsafe_urls_are_shown_as_text_not_linked(url: str) -> None:
    assert link(Link("label", url)) == "label"


def test_urls_with_spaces_pipes_and_brackets_stay_inside_the_link() -> None:
    rendered = link(Link("guide", "https://example.org/a b|c>d<e"))
    assert rendered == "<https://example.org/a%20b%7Cc%3Ed%3Ce|guide>"


def test_right_to_left_labels_keep_the_link_markup_intact() -> None:
    label = "دليل \u202eالمعلم\u202c <ساعة البرمجة>"
    rendered = link(Link(label, "https://hourofcode.com/ar/how-to\u202e"))
    assert rendered == "<https://hourofcode.com/ar/how-to|دليل المعلم &lt;ساعة البرمجة&gt;>"
    assert rendered.count("<") == 1
    assert rendered.count(">") == 1
    [message] = render_messages(Reply("ساعة البرمجة", links=(Link(label, "https://hourofcode.com/ar/"),), lang="ar"))
    assert texts(message.blocks) == ["ساعة البرمجة", "• <https://hourofcode.com/ar/|دليل المعلم &lt;ساعة البرمجة&gt;>"]


def test_long_text_is_split_into_sections_of_at_most_3000_characters() -> None:
    paragraph = "Recrutez les écoles & les enseignants <tous>. " * 40
    text = "\n".join([paragraph] * 5)
    blocks = reply_blocks(Reply(text))
    sections = texts(blocks)
    assert len(sections) > 1
    assert all(len(s) <= MAX_SECTION_CHARS for s in sections)
    assert not any(_ENTITY_CUT.search(s) for s in sections)
    assert "".join(sections).replace(" ", "").replace("\n", "") == escape(text).replace(" ", "").replace("\n", "")


@given(st.text(alphabet=st.sampled_from("ab &<>\n é"), max_size=400), st.integers(min_value=5, max_value=60))
def test_splitting_keeps_every_character_and_every_entity(text: str, limit: int) -> None:
    chunks = split_text(text, limit)
    assert all(len(c) <= limit for c in chunks)
    for chunk in chunks:
        assert re.sub(r"&(amp|lt|gt);", "", chunk).count("&") == 0
    squeeze = str.maketrans("", "", " \n")
    assert "".join(chunks).translate(squeeze) == escape(text).translate(squeeze)


def test_a_word_longer_than_a_section_is_cut() -> None:
    assert [len(c) for c in split_text("x" * 7000)] == [3000, 3000, 1000]


def test_messages_hold_at_most_50_blocks_and_the_buttons_come_last() -> None:
    text = "\n".join(f"ligne {i} " + "x" * 2990 for i in range(60))
    reply = Reply(text, title="Long", buttons=(Button("plan", "Voir mon plan"),))
    messages = render_messages(reply)
    assert [len(m.blocks) for m in messages] == [MAX_MESSAGE_BLOCKS, 12]
    assert messages[-1].blocks[-1]["type"] == "actions"
    assert all(0 < len(m.text) <= 3000 for m in messages)


def test_buttons_carry_their_id_fit_labels_and_unique_action_ids() -> None:
    long_label = "Marquer l’étape 1 comme terminée " * 5
    buttons = tuple(Button(f"topic:{i}", long_label if i == 0 else f"Sujet {i}") for i in range(30))
    blocks = reply_blocks(Reply("Sujets", buttons=buttons), owner="U0001")
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [len(b["elements"]) for b in actions] == [MAX_ACTIONS, 5]
    elements = [e for b in actions for e in b["elements"]]
    assert [e["value"] for e in elements] == [b.id for b in buttons]
    assert len({e["action_id"] for e in elements}) == 30
    assert all(e["action_id"].startswith("hoc:") for e in elements)
    assert all(len(e["text"]["text"]) <= MAX_BUTTON_CHARS for e in elements)
    assert elements[0]["text"]["text"].endswith("…")
    assert [block_owner(b["block_id"]) for b in actions] == ["U0001", "U0001"]
    assert len({b["block_id"] for b in actions}) == 2


def test_button_labels_are_cut_by_slacks_count_of_characters() -> None:
    label = "🎉" * 50  # 100 UTF-16 units
    fitted = fit_button_label(label)
    assert utf16_len(fitted) <= MAX_BUTTON_CHARS
    assert fitted.endswith("…")
    assert fit_button_label("Voir l’étape 2") == "Voir l’étape 2"


def test_notices_are_context_blocks_and_empty_replies_send_nothing() -> None:
    [notice] = render_messages(Reply("Votre message était long.", kind="notice"))
    assert notice.blocks[0]["type"] == "context"
    assert render_messages(Reply("")) == []


def test_fallback_text_never_ends_inside_an_entity_or_a_link() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 2990 + " &amp; <https://x.org/long|x>"}}]
    fallback = fallback_text(blocks)
    assert len(fallback) <= 3000
    assert not _ENTITY_CUT.search(fallback[:-1])
    assert "<https" not in fallback


def test_home_view_has_at_most_100_blocks_and_distinct_action_ids() -> None:
    replies = [Reply("x\n" * 10, buttons=(Button("plan", "Plan"), Button("steps", "Étapes"))) for _ in range(60)]
    view = render_home(replies, "Prochain rappel : lundi 7 décembre 2026 à 09:00")
    assert view["type"] == "home"
    assert len(view["blocks"]) <= MAX_HOME_BLOCKS
    assert view["blocks"][-1]["type"] == "context"
    ids = [e["action_id"] for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("slack", "typed"),
    [
        ("<@UBOT1> comment recruter des écoles&nbsp;?", "comment recruter des écoles&nbsp;?"),
        ("Q&amp;A &lt;écoles&gt;", "Q&A <écoles>"),
        ("voir <https://hourofcode.com/fr|le site> et <#C123|general>", "voir le site et #general"),
        ("<https://example.org>", "https://example.org"),
        ("<!here> plan", " plan"),
    ],
)
def test_slack_markup_becomes_what_the_user_typed(slack: str, typed: str) -> None:
    assert plain(slack).strip() == typed.strip()
