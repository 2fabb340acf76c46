"""Persistence: the Store port on SQLAlchemy (SQLite or PostgreSQL) or in memory."""

from __future__ import annotations

from bot.store.engine import database_url, make_engine, open_store, redact, upgrade
from bot.store.memory import MemoryStore
from bot.store.sql import SqlStore

__all__ = ["MemoryStore", "SqlStore", "database_url", "make_engine", "open_store", "redact", "upgrade"]
