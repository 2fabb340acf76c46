"""Store set-up without a database server: URLs, redaction, errors, time checks, SQLite locking."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.core.errors import ConfigError, StoreUnavailable
from bot.store.engine import database_url, make_engine, open_store, redact
from bot.store.memory import as_utc
from bot.store.schema import UTCDateTime


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "sqlite:///./hoc-bot.sqlite3"),
        ({"HOC_DB": "/var/lib/hoc/bot.db"}, "sqlite:////var/lib/hoc/bot.db"),
        ({"HOC_DB": "sqlite:///x.db"}, "sqlite:///x.db"),
        (
            {"DATABASE_URL": "postgres://u:p@db:5432/hoc", "HOC_DB": "ignored"},
            "postgresql+psycopg://u:p@db:5432/hoc",
        ),
        ({"DATABASE_URL": "postgresql://u:p@db/hoc"}, "postgresql+psycopg://u:p@db/hoc"),
        ({"DATABASE_URL": "postgresql+psycopg://u@db/hoc"}, "postgresql+psycopg://u@db/hoc"),
        ({"DATABASE_URL": "  ", "HOC_DB": "a.db"}, "sqlite:///a.db"),
    ],
)
def test_database_url(env: dict[str, str], expected: str) -> None:
    assert database_url(env) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+psycopg://hoc:s3cr%40t@db.example:5432/hoc",
            "postgresql+psycopg://hoc@db.example:5432/hoc",
        ),
        (
            "postgresql+psycopg://hoc@db/hoc?password=s3cret&sslmode=require",
            "postgresql+psycopg://hoc@db/hoc?sslmode=require",
        ),
        ("sqlite:///./hoc-bot.sqlite3", "sqlite:///./hoc-bot.sqlite3"),
        ("not a url://user:s3cret@host", "not a url://user@host"),
    ],
)
def test_redact_removes_the_password(url: str, expected: str) -> None:
    assert redact(url) == expected
    assert "s3cr" not in redact(url)


def test_malformed_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot be parsed"):
        make_engine("nonsense")
    with pytest.raises(ConfigError, match="unknown driver"):
        make_engine("nosuchdb://u:s3cret@h/d")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_unreachable_postgres_names_the_url_without_password() -> None:
    port = _closed_port()
    with pytest.raises(StoreUnavailable) as caught:
        open_store(f"postgresql+psycopg://hoc:s3cret@127.0.0.1:{port}/hoc")
    message = str(caught.value)
    assert f"postgresql+psycopg://hoc@127.0.0.1:{port}/hoc" in message
    assert "s3cret" not in message


def test_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no-such-dir"):
        open_store(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.db'}")


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            conn.commit()
            with conn.begin():
                # Nothing written yet, but the lock is already held: another writer must wait.
                other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
                try:
                    with pytest.raises(sqlite3.OperationalError, match="locked"):
                        other.execute("BEGIN IMMEDIATE")
                    # WAL: readers are not blocked.
                    assert other.execute("SELECT 1").fetchone() == (1,)
                finally:
                    other.close()
    finally:
        engine.dispose()


def test_as_utc_converts_and_refuses_naive() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert as_utc(dt.datetime(2025, 12, 8, 10, 0, tzinfo=paris)) == dt.datetime(2025, 12, 8, 9, 0, tzinfo=dt.UTC)
    assert as_utc(dt.datetime(2025, 12, 8, 10, 0, tzinfo=paris)).tzinfo is dt.UTC
    with pytest.raises(ValueError, match="naive"):
        as_utc(dt.datetime(2025, 12, 8, 10, 0))


def test_utc_column_type_gives_aware_utc_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    column = UTCDateTime()
    try:
        bound = column.process_bind_param(
            dt.datetime(2025, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5))), engine.dialect
        )
        assert bound == dt.datetime(2025, 1, 1, 17, 0)  # naive UTC for SQLite
        back = column.process_result_value(bound, engine.dialect)
        assert back == dt.datetime(2025, 1, 1, 17, 0, tzinfo=dt.UTC)
        assert back is not None
        assert back.tzinfo is dt.UTC
        assert column.process_bind_param(None, engine.dialect) is None
    finally:
        engine.dispose()
