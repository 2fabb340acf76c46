"""Persistence: the Store port on SQLAlchemy (SQLite or PostgreSQL) or in memory.

Import ``bot.store.engine``, ``bot.store.sql`` or ``bot.store.memory`` directly: the in-memory
store must not pull in SQLAlchemy (the CLI's cold start depends on it).
"""
