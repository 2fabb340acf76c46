"""The values of one questions-log row, the same for the SQL store and the memory store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from bot.store.utc import as_utc

#: Longest language tag kept with a question.
LANG_SIZE = 35
#: Longest clarify reference kept with a question.
CLARIFY_REF_SIZE = 32
#: Longest text kept as typed.
ORIGINAL_CHARS = 300


def guesses_json(guesses: Sequence[tuple[str, float]]) -> str | None:
    """The guesses as the log keeps them (compact JSON), or None when there are none."""
    if not guesses:
        return None
    return json.dumps([[str(label)[:64], round(float(score), 1)] for label, score in guesses[:3]])


def guesses_of(value: str | None) -> tuple[tuple[str, float], ...]:
    """The guesses back from their JSON; nothing for a missing or damaged value."""
    if not value:
        return ()
    try:
        data = json.loads(value)
        return tuple((str(label), float(score)) for label, score in data)
    except (ValueError, TypeError):
        return ()


def question_row(
    platform: str,
    decision: str,
    topic: str | None,
    text: str | None,
    at: dt.datetime,
    *,
    lang: str | None,
    guesses: Sequence[tuple[str, float]],
    original: str | None,
    ref: str | None,
) -> dict[str, Any]:
    """The values of one logged question, cut to the columns' sizes."""
    return {
        "platform": platform,
        "decision": decision,
        "topic": topic,
        "text": text,
        "asked_at": as_utc(at),
        "lang": lang[:LANG_SIZE] if lang else None,
        "guesses": guesses_json(guesses),
        "original": original[:ORIGINAL_CHARS] if original else None,
        "ref": ref[:CLARIFY_REF_SIZE] if ref else None,
    }
