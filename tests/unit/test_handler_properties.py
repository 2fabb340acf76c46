"""Whatever arrives, the handler answers with at least one reply and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.messages import IncomingMessage
from bot.store.memory import MemoryStore
from tests.auxil.harness import Harness

_HARNESS = Harness(store=MemoryStore())

_emoji = st.sampled_from(["😀", "👋", "🎉", "🏫", "❤️", "👍🏽", "🇫🇷"])
_texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=2000),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=200),
    st.lists(_emoji, max_size=40).map("".join),
    st.integers(min_value=0, max_value=100_000).map(lambda n: "é" * n),
    st.builds(
        lambda a, b: f"/hoc {a} {b}",
        st.sampled_from(["step", "lang", "steps", "help", ""]),
        st.text(max_size=50),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_texts, action=st.booleans(), hint=st.sampled_from([None, "fr", "en-US", "fr-CA", "xx", "", "zz_ZZ"]))
def test_any_input_gets_at_least_one_reply(text: str, action: bool, hint: str | None) -> None:
    replies = _HARNESS.handler.handle(
        IncomingMessage("console", "prop", text, chat="prop", locale_hint=hint, action=action)
    )
    assert replies
    for reply in replies:
        assert isinstance(reply.text, str)
        assert all(len(b.label) <= 75 for b in reply.buttons)
        assert all(len(b.id.encode()) <= 64 for b in reply.buttons)


def test_hundred_thousand_characters_are_cut_with_a_notice() -> None:
    replies = _HARNESS.handler.handle(IncomingMessage("console", "big", "a" * 100_000, chat="big"))
    kinds = [r.kind for r in replies]
    assert "notice" in kinds
    assert kinds[-1] in {"answer", "clarify", "fallback"}
