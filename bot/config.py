"""Settings read once, at the edge, from an environment mapping; errors name the variable."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import ConfigError
from bot.core.matching import MatchConfig

_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True, slots=True)
class Settings:
    """The bot's configuration.

    Attributes:
        default_locale: ``HOC_DEFAULT_LOCALE`` (fr).
        country: ``HOC_COUNTRY``: district country for site links, overriding the locale's.
        knowledge_dir: ``HOC_KNOWLEDGE_DIR`` or the shipped knowledge/.
        locales_dir: ``HOC_LOCALES_DIR`` or the shipped locales/.
        database_url: ``DATABASE_URL``, else SQLite at ``HOC_DB`` (./hoc-bot.sqlite3).
        event_date: ``HOC_EVENT_DATE``: default event date (Computer Science Education Week).
        match: Matcher thresholds (``HOC_MATCH_ANSWER``, ``HOC_MATCH_CLARIFY``, ``HOC_MATCH_MARGIN`` for
            word overlap; ``HOC_MODEL_ANSWER``, ``HOC_MODEL_CLARIFY``, ``HOC_MODEL_MARGIN``,
            ``HOC_MODEL_OFF_TOPIC`` for the trained classifier).
        max_input: ``HOC_MAX_INPUT``: longest message read.
        rate_limit: ``HOC_RATE_LIMIT``: messages one chat user may send per 10 seconds (0: no limit).
        question_retention_days: ``HOC_QUESTION_RETENTION_DAYS``: days the questions log keeps a question.
    """

    default_locale: str = "fr"
    country: str | None = None
    knowledge_dir: Path | None = None
    locales_dir: Path | None = None
    database_url: str = "sqlite:///hoc-bot.sqlite3"
    event_date: dt.date | None = None
    match: MatchConfig = field(default_factory=MatchConfig)
    max_input: int = 2000
    rate_limit: int = 20
    question_retention_days: int = 180
    env: Mapping[str, str] | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from ``env`` (``os.environ`` in production, a dict in tests)."""
        locale = env.get("HOC_DEFAULT_LOCALE", "fr").strip() or "fr"
        if not _LOCALE.match(locale):
            raise ConfigError(f"HOC_DEFAULT_LOCALE: {locale!r} is not a locale such as fr or fr-CA")
        country = env.get("HOC_COUNTRY", "").strip().lower() or None
        if country is not None and not re.fullmatch(r"[a-z]{2}", country):
            raise ConfigError(f"HOC_COUNTRY: {country!r} is not a two-letter country code such as fr or ca")
        event = None
        raw_event = env.get("HOC_EVENT_DATE", "").strip()
        if raw_event:
            try:
                event = dt.date.fromisoformat(raw_event)
            except ValueError:
                raise ConfigError(f"HOC_EVENT_DATE: {raw_event!r} is not a date such as 2026-12-07") from None
        if env.get("DATABASE_URL"):
            url = env["DATABASE_URL"].strip()
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    url = "postgresql+psycopg://" + url[len(prefix) :]
        else:
            url = "sqlite:///" + env.get("HOC_DB", "hoc-bot.sqlite3")
        defaults = MatchConfig()
        match = MatchConfig(
            answer_threshold=_number(env, "HOC_MATCH_ANSWER", defaults.answer_threshold, 0, 100),
            clarify_threshold=_number(env, "HOC_MATCH_CLARIFY", defaults.clarify_threshold, 0, 100),
            margin=_number(env, "HOC_MATCH_MARGIN", defaults.margin, 0, 100),
            model_answer=_number(env, "HOC_MODEL_ANSWER", defaults.model_answer, 0, 100),
            model_clarify=_number(env, "HOC_MODEL_CLARIFY", defaults.model_clarify, 0, 100),
            model_margin=_number(env, "HOC_MODEL_MARGIN", defaults.model_margin, 0, 100),
            model_off_topic=_number(env, "HOC_MODEL_OFF_TOPIC", defaults.model_off_topic, 0, 100),
        )
        if match.clarify_threshold > match.answer_threshold:
            raise ConfigError("HOC_MATCH_CLARIFY: must not be above HOC_MATCH_ANSWER")
        if match.model_clarify > match.model_answer:
            raise ConfigError("HOC_MODEL_CLARIFY: must not be above HOC_MODEL_ANSWER")
        return cls(
            default_locale=locale,
            country=country,
            knowledge_dir=Path(env["HOC_KNOWLEDGE_DIR"]) if env.get("HOC_KNOWLEDGE_DIR") else None,
            locales_dir=Path(env["HOC_LOCALES_DIR"]) if env.get("HOC_LOCALES_DIR") else None,
            database_url=url,
            event_date=event,
            match=match,
            max_input=int(_number(env, "HOC_MAX_INPUT", 2000, 100, 100_000)),
            rate_limit=int(_number(env, "HOC_RATE_LIMIT", 20, 0, 10_000)),
            question_retention_days=int(_number(env, "HOC_QUESTION_RETENTION_DAYS", 180, 1, 3650)),
            env=dict(env),
        )


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a number") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}: {raw!r} is outside {low:g}..{high:g}")
    return value
