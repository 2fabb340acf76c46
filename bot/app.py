"""The one place that wires real or fake parts together."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.handler import Handler, HandlerSettings
from bot.core.knowledge import KnowledgeBase
from bot.core.matching import Matcher
from bot.core.messages import Reply
from bot.core.onboarding import Onboarding
from bot.core.plan_state import OnboardingSettings
from bot.core.ports import Clock, Reminder, Sender, Store, SystemClock
from bot.i18n import Catalogs, default_locales_dir
from bot.ops import Admin, Metrics, Observer, parse_admins

if TYPE_CHECKING:
    from bot.web import Platform

_log = logging.getLogger(__name__)


def knowledge_dir(settings: Settings) -> Path:
    """Where the knowledge base is read from."""
    from bot.knowledge import default_kb_dir

    return settings.knowledge_dir or default_kb_dir(settings.env or {})


def load_knowledge(settings: Settings) -> KnowledgeBase:
    """Load (and validate) the knowledge base; raises KnowledgeError."""
    from bot.knowledge.loader import load_kb

    return load_kb(knowledge_dir(settings))


def build_catalogs(settings: Settings, kb: KnowledgeBase) -> Catalogs:
    """Interface catalogs; languages of the knowledge base are served too (English interface text)."""
    locales = settings.locales_dir or default_locales_dir(dict(settings.env or {}))
    return Catalogs(locales, default=settings.default_locale, extra_languages=kb.languages)


class PlanningCalendar:
    """The Calendar port on bot.dates and bot.timezones (dateparser, zoneinfo)."""

    def parse_date(self, text: str, lang: str, today: dt.date) -> tuple[dt.date | None, str | None]:
        """The event date typed in ``text``."""
        from bot.dates import parse_event_date

        result = parse_event_date(text, lang, today)
        return result.value, result.error

    def parse_when(self, text: str, lang: str, now: dt.datetime, tz: str) -> tuple[dt.datetime | None, str | None]:
        """A moment typed in ``text``."""
        from bot.dates import parse_when

        result = parse_when(text, lang, now, tz)
        return result.value, result.error

    def is_valid_timezone(self, name: str) -> bool:
        """True for an IANA zone name."""
        from bot.timezones import is_valid_timezone

        return is_valid_timezone(name)

    def suggest_timezones(self, text: str, limit: int = 3) -> list[str]:
        """Zones resembling ``text``."""
        from bot.timezones import suggest_timezones

        return suggest_timezones(text, limit)

    def common_timezones(self, lang: str) -> list[str]:
        """A few zones for speakers of ``lang``."""
        from bot.timezones import common_timezones

        return common_timezones(lang)


def csed_week(today: dt.date) -> dt.date:
    """Monday of Computer Science Education Week (the week of December 9), this year or next."""
    for year in (today.year, today.year + 1):
        ninth = dt.date(year, 12, 9)
        monday = ninth - dt.timedelta(days=ninth.weekday())
        if monday >= today:
            return monday
    return monday


def build_onboarding(handler: Handler, settings: Settings) -> Onboarding:
    """Add the plan, date, zone and reminder commands to ``handler``."""
    from bot.planning import load_policy

    policy = load_policy(knowledge_dir(settings) / "schedule.yaml")
    today = handler.clock.now().date()
    return Onboarding(
        handler,
        PlanningCalendar(),
        OnboardingSettings(default_event_date=settings.event_date or csed_week(today), policy=policy),
    )


def build_handler(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    kb: KnowledgeBase | None = None,
) -> Handler:
    """A handler on the real knowledge base and catalogs; an in-memory store unless one is given."""
    return build_bot(settings, store=store, clock=clock, kb=kb).handler


@dataclass(frozen=True, slots=True)
class Bot:
    """The handler with its plan extension, and what delivery and operations need."""

    handler: Handler
    onboarding: Onboarding
    catalogs: Catalogs
    settings: Settings
    metrics: Metrics | None = None

    def reload(self) -> list[str]:
        """Load the knowledge base again; on problems keep serving the current one and return them."""
        from bot.core.errors import KnowledgeError

        try:
            kb = load_knowledge(self.settings)
        except KnowledgeError as exc:
            _log.error("knowledge base not reloaded: %s", exc)
            return list(exc.problems) or [str(exc)]
        self.handler.reload(kb)
        _log.info("knowledge base reloaded: %d entries", len(kb.entries))
        return []

    def compose(self, reminder: Reminder) -> Reply:
        """The message of a reminder, in its user's language."""
        user = self.handler.store.get_user(reminder.key)
        candidates = (user.locale, user.written_lang, user.locale_hint) if user else ()
        lang = self.catalogs.negotiate(*candidates, self.handler.settings.default_locale)
        return self.onboarding.compose_reminder(reminder, self.catalogs.get(lang), user)


def build_bot(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    kb: KnowledgeBase | None = None,
    metrics: bool = False,
) -> Bot:
    """Wire the knowledge base, catalogs, store and clock into a handler with its plan commands."""
    kb = kb or load_knowledge(settings)
    if store is None:
        from bot.store.memory import MemoryStore

        store = MemoryStore()
    catalogs = build_catalogs(settings, kb)
    handler = Handler(
        kb,
        catalogs,
        store,
        clock or SystemClock(),
        HandlerSettings(
            default_locale=settings.default_locale,
            country=settings.country,
            max_input=settings.max_input,
            rate_limit=settings.rate_limit,
        ),
        Matcher(kb, settings.match),
    )
    onboarding = build_onboarding(handler, settings)
    bot = Bot(handler, onboarding, catalogs, settings, Metrics() if metrics else None)
    handler.observers.append(Observer(bot, bot.metrics, log_text=(settings.env or {}).get("HOC_LOG_TEXT") == "1"))
    Admin(bot, parse_admins((settings.env or {}).get("HOC_ADMINS", "")), bot.reload)
    return bot


def build_platforms(settings: Settings, bot: Bot) -> list[Platform]:
    """The chat platforms configured in ``settings`` (tokens in the environment), wired to ``bot``."""
    env = settings.env or {}
    platforms: list[Platform] = []
    if env.get("SLACK_BOT_TOKEN") or env.get("SLACK_CLIENT_ID"):
        from bot.adapters.slack import SlackPlatform

        platforms.append(SlackPlatform.from_env(env, bot))
    if env.get("TELEGRAM_BOT_TOKEN"):
        from bot.adapters.telegram import TelegramPlatform

        platforms.append(TelegramPlatform.from_env(env, bot))
    if env.get("MATRIX_HOMESERVER") or env.get("MATRIX_USER_ID"):
        from bot.adapters.matrix.platform import MatrixPlatform

        platforms.append(MatrixPlatform.from_env(env, bot, settings.database_url))
    return platforms


def platform_senders(settings: Settings, bot: Bot) -> dict[str, Sender]:
    """Senders of the configured chat platforms, by platform name (the console's lives in ``chat``)."""
    return {platform.name: platform.sender for platform in build_platforms(settings, bot)}
