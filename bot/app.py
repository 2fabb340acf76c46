"""The one place that wires real or fake parts together."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from bot.core.handler import Handler, HandlerSettings
from bot.core.knowledge import KnowledgeBase
from bot.core.matching import Matcher
from bot.core.ports import Clock, Store, SystemClock
from bot.i18n import Catalogs, default_locales_dir


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


def build_handler(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    kb: KnowledgeBase | None = None,
) -> Handler:
    """A handler on the real knowledge base and catalogs; an in-memory store unless one is given."""
    kb = kb or load_knowledge(settings)
    if store is None:
        from bot.store.memory import MemoryStore

        store = MemoryStore()
    return Handler(
        kb,
        build_catalogs(settings, kb),
        store,
        clock or SystemClock(),
        HandlerSettings(
            default_locale=settings.default_locale,
            country=settings.country,
            max_input=settings.max_input,
        ),
        Matcher(kb, settings.match),
    )
