"""Database URL from the environment, engine set-up, migrations and opening the store."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from bot.core.errors import ConfigError, StoreUnavailable
from bot.store.schema import READ_ONLY_OPTION
from bot.store.sql import SqlStore

#: SQLite file used when neither ``DATABASE_URL`` nor ``HOC_DB`` is set.
DEFAULT_SQLITE_PATH = "./hoc-bot.sqlite3"
#: Seconds to wait for PostgreSQL to accept a connection.
CONNECT_TIMEOUT_S = 5
#: Seconds a SQLite transaction waits for another one to release the write lock.
SQLITE_BUSY_TIMEOUT_S = 30.0
#: Page cache of one SQLite connection, in KiB.
SQLITE_CACHE_KIB = 512
#: Key of the PostgreSQL advisory lock that serialises migrations of processes starting together.
MIGRATION_LOCK_KEY = 0x686F_6362  # "hocb"

#: The newest migration of ``migrations/versions`` (a test checks that they agree).
HEAD_REVISION = "0007"

_MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(env: Mapping[str, str]) -> str:
    """The SQLAlchemy URL of the database to use.

    Args:
        env: The environment; ``DATABASE_URL`` wins, else the SQLite file ``HOC_DB``
            (default ``./hoc-bot.sqlite3``).

    Returns:
        A URL; ``postgres://`` and ``postgresql://`` (as hosting platforms write them) become
        ``postgresql+psycopg://`` so that the psycopg 3 driver is used.
    """
    url = env.get("DATABASE_URL", "").strip()
    if url:
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url
    path = env.get("HOC_DB", "").strip() or DEFAULT_SQLITE_PATH
    if path.startswith("sqlite:"):
        return path
    return f"sqlite:///{path}"


def redact(url: str) -> str:
    """``url`` without its password, fit for logs and error messages."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1@", url)
    if "password" in parsed.query:
        parsed = parsed.difference_update_query(["password"])
    bare = URL.create(
        parsed.drivername,
        username=parsed.username,
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare.render_as_string(hide_password=False)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"the database URL {redact(url)!r} cannot be parsed: {exc}") from exc


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    # pysqlite's own transaction handling emits a deferred BEGIN only before DML; take it over so
    # every transaction begins with the write lock (no lock upgrade deadlocks between workers,
    # and SAVEPOINT works).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            # Each pooled connection keeps a page cache of its own (2 MB by default); the
            # operating system caches the file for all of them.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            if wal:
                # Readers do not block the writer; NORMAL is durable enough in WAL mode.
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # A read-only transaction takes no lock at BEGIN: in WAL mode it reads a snapshot while
        # another connection writes.
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION, False)
        # Straight to the driver: one statement, none of the bookkeeping of a SQLAlchemy execution.
        conn.connection.driver_connection.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine configured for the store.

    SQLite: every transaction but those of connections with the :data:`READ_ONLY_OPTION` takes the
    write lock at ``BEGIN`` (``BEGIN IMMEDIATE``), waits up to
    :data:`SQLITE_BUSY_TIMEOUT_S` for it, and a file database uses WAL. PostgreSQL: psycopg 3,
    a connect timeout of :data:`CONNECT_TIMEOUT_S` seconds and pre-ping of pooled connections.

    Args:
        url: A SQLAlchemy URL, e.g. from :func:`database_url`.

    Returns:
        The engine; nothing is connected yet.

    Raises:
        ConfigError: The URL cannot be parsed or names a driver that is not installed.
    """
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            options: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}}
            if memory:
                # One connection, or every checkout would see a new empty database.
                options["poolclass"] = StaticPool
            engine = create_engine(parsed, **options)
            _configure_sqlite(engine, wal=not memory)
            return engine
        if backend == "postgresql":
            connect_args: dict[str, Any] = {}
            if "connect_timeout" not in parsed.query:
                connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
            return create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        return create_engine(parsed, pool_pre_ping=True)
    except NoSuchModuleError as exc:
        raise ConfigError(f"the database URL {redact(url)!r} names an unknown driver: {exc}") from exc


def current_revision(engine: Engine) -> str | None:
    """The schema's Alembic revision, or None when the database has none (empty, or not ours)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        revision = conn.scalar(text("SELECT version_num FROM alembic_version"))
    return None if revision is None else str(revision)


def upgrade(engine: Engine) -> None:
    """Apply the Alembic migrations shipped in the package up to the newest one.

    A database at :data:`HEAD_REVISION` already is left alone without loading Alembic (which
    would cost the process about 10 MB of memory). Processes starting together on PostgreSQL
    take turns (advisory lock); on SQLite the transaction's write lock does the same.
    """
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def _reason(exc: DBAPIError) -> str:
    lines = str(exc.orig).strip().splitlines()
    return lines[0].strip() if lines else type(exc.orig).__name__


def open_store(url: str) -> SqlStore:
    """Connect, bring the schema up to date and return the store.

    Args:
        url: A SQLAlchemy URL, e.g. from :func:`database_url`.

    Raises:
        StoreUnavailable: The database cannot be reached (the message names the URL, without
            its password).
        ConfigError: The URL is malformed.
    """
    engine = make_engine(url)
    try:
        upgrade(engine)
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        raise StoreUnavailable(f"cannot reach the database at {redact(url)}: {_reason(exc)}") from exc
    return SqlStore(engine)
