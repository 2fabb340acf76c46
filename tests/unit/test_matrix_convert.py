"""Matrix conversion and rendering: what is for the bot, HTML escaping, numbered buttons, reactions, settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.matrix.config import MatrixConfig, default_store_dir
from bot.adapters.matrix.convert import Me, addressed_text, incoming, reaction_payload, text_payload, typed_number
from bot.adapters.matrix.render import BUTTONS_FIELD, KEYCAPS, buttons_of, reaction_number, render
from bot.core.errors import ConfigError
from bot.core.messages import Button, Link, Reply

ME = Me("@hoc-bot:agent.tchap.gouv.fr", "HoC bot")


def test_reply_html_escapes_user_text_and_keeps_a_plain_body() -> None:
    reply = Reply(
        "Tapez <script>alert(1)</script> & voyez\nligne 2",
        title="Étape <1>",
        links=(Link("guide & co", 'https://example.org/a?b=1&c="x"', "(en anglais)"),),
        lang="fr",
    )
    [notice] = render(reply)
    content = notice.content()
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    html = content["formatted_body"]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; voyez<br>ligne 2" in html
    assert "<strong>Étape &lt;1&gt;</strong>" in html
    assert '<a href="https://example.org/a?b=1&amp;c=&quot;x&quot;">guide &amp; co</a> (en anglais)' in html
    assert content["body"].startswith("Étape <1>\n\nTapez <script>alert(1)</script> & voyez\nligne 2")
    assert '• guide & co (en anglais): https://example.org/a?b=1&c="x"' in content["body"]
    assert content["m.mentions"] == {}
    assert BUTTONS_FIELD not in content


def test_buttons_become_a_numbered_list_kept_in_the_content() -> None:
    buttons = tuple(Button(f"id{i}", f"Label {i}") for i in range(1, 12))
    [notice] = render(Reply("Choisissez", buttons=buttons, lang="fr"), hint="Répondez par un numéro.")
    body = notice.content()["body"]
    assert "1\ufe0f\u20e3 Label 1\n2\ufe0f\u20e3 Label 2" in body
    assert "\U0001f51f Label 10\n11. Label 11\nRépondez par un numéro." in body
    assert buttons_of(notice.content()) == buttons
    assert buttons_of({BUTTONS_FIELD: [["a", 1], "x"]}) == ()


def test_right_to_left_lines_start_with_a_mark() -> None:
    [notice] = render(Reply("مرحبا\n1 2 3", lang="ar"))
    assert all(line.startswith("\u200f") for line in notice.body.split("\n") if line)


def test_long_reply_is_cut_into_events_that_fit() -> None:
    text = "\n\n".join("paragraphe " * 400 for _ in range(20))
    notices = render(Reply(text, buttons=(Button("plan", "Plan"),)))
    assert len(notices) > 1
    assert all(len(n.body.encode()) < 60_000 for n in notices)
    assert [bool(n.buttons) for n in notices] == [False] * (len(notices) - 1) + [True]


@pytest.mark.parametrize(
    ("key", "number"),
    [("1\ufe0f\u20e3", 1), ("1\u20e3", 1), ("9\ufe0f\u20e3", 9), ("\U0001f51f", 10), ("👍", None), ("0\u20e3", None)],
)
def test_reaction_keys(key: str, number: int | None) -> None:
    assert reaction_number(key) == number


def test_every_keycap_maps_to_its_number() -> None:
    assert [reaction_number(k) for k in KEYCAPS] == list(range(1, 11))


def test_what_is_for_the_bot() -> None:
    assert addressed_text({"body": "comment recruter ?"}, ME, direct=True) == "comment recruter ?"
    assert addressed_text({"body": "comment recruter ?"}, ME, direct=False) is None
    assert addressed_text({"body": "!hoc plan"}, ME, direct=False) == "/hoc plan"
    assert addressed_text({"body": "!HOC"}, ME, direct=False) == "/hoc"
    assert addressed_text({"body": "!hocus pocus"}, ME, direct=False) is None
    pill = {
        "body": "HoC bot: étapes",
        "formatted_body": '<a href="https://matrix.to/#/%40hoc-bot%3Aagent.tchap.gouv.fr">HoC bot</a>: étapes',
    }
    assert addressed_text(pill, ME, direct=False) == "étapes"
    mentioned = {"body": "HoC bot, aide", "m.mentions": {"user_ids": [ME.user_id]}}
    assert addressed_text(mentioned, ME, direct=False) == "aide"
    assert addressed_text({"body": f"{ME.user_id}"}, ME, direct=False) == "help"
    reply = {"body": "> <@a:b> old\n\nnouvelle question", "m.relates_to": {"m.in_reply_to": {"event_id": "$e"}}}
    assert addressed_text(reply, ME, direct=True) == "nouvelle question"
    assert addressed_text({"body": 3}, ME, direct=True) is None


def test_payloads_and_messages() -> None:
    content = {"body": "!hoc plan", "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}}
    payload = text_payload("$e", "@camille:a.fr", 5, "!r:a.fr", content, ME, direct=False)
    assert payload is not None
    assert (payload["text"], payload["thread"]) == ("/hoc plan", "$root")
    msg = incoming(payload, payload["text"])
    assert (msg.platform, msg.user, msg.chat, msg.locale_hint, msg.action) == (
        "matrix",
        "@camille:a.fr",
        "!r:a.fr",
        None,
        False,
    )
    assert reaction_payload("$x", "@c:a.fr", 1, "!r", "$m", "👍", True) is None
    reaction = reaction_payload("$x", "@c:a.fr", 1, "!r", "$m", "2\ufe0f\u20e3", True)
    assert reaction is not None
    assert (reaction["reacts_to"], reaction["number"]) == ("$m", 2)
    assert [typed_number(t) for t in ("2", " 3. ", "2)", "2 écoles", "étape 2")] == [2, 3, 2, None, None]


def test_settings(tmp_path: Path) -> None:
    env = {"MATRIX_HOMESERVER": "https://matrix.agent.tchap.gouv.fr/", "MATRIX_USER_ID": "@hoc:agent.tchap.gouv.fr"}
    config = MatrixConfig.from_env({**env, "MATRIX_PASSWORD": "secret-password-1"}, f"sqlite:///{tmp_path}/b.db")
    assert config.homeserver == "https://matrix.agent.tchap.gouv.fr"
    assert config.allowed_servers == {"agent.tchap.gouv.fr"}
    assert config.store_dir == tmp_path / "matrix-store"
    assert "secret-password-1" not in repr(config)
    assert config.allows("@camille:agent.tchap.gouv.fr")
    assert not config.allows("@eve:matrix.org")
    tchap = MatrixConfig.from_env(
        {**env, "MATRIX_ALLOWED_SERVERS": "agent.tchap.gouv.fr, Agent.Education.Tchap.Gouv.fr"}
    )
    assert tchap.allows("@p:agent.education.tchap.gouv.fr")
    assert default_store_dir("postgresql+psycopg://u@h/db") == Path("matrix-store")
    with pytest.raises(ConfigError, match="MATRIX_DEVICE_ID"):
        MatrixConfig.from_env({**env, "MATRIX_ACCESS_TOKEN": "syt_abcdefghijkl"})
    with pytest.raises(ConfigError, match="MATRIX_USER_ID"):
        MatrixConfig.from_env({**env, "MATRIX_USER_ID": "hoc"})
    with pytest.raises(ConfigError, match="MATRIX_HOMESERVER"):
        MatrixConfig.from_env({**env, "MATRIX_HOMESERVER": "matrix.org"})
    with pytest.raises(ConfigError, match="MATRIX_ALLOWED_SERVERS"):
        MatrixConfig.from_env({**env, "MATRIX_ALLOWED_SERVERS": "bad server"})
