"""Shared pytest fixtures, one section per area."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.core.ports import Store
from bot.store.engine import open_store
from bot.store.memory import MemoryStore
from bot.store.sql import SqlStore

# --------------------------------------------------------------------------------------------
# Store and PostgreSQL
#
# PostgreSQL tests read the server URL from HOC_TEST_DATABASE_URL (start one with
# `bash .ci/postgres.sh`). Without it they are skipped, except under CI=true where they fail:
# CI must not pass by silently skipping them. Each test gets a fresh schema, dropped afterwards.
# --------------------------------------------------------------------------------------------

PG_URL_ENV = "HOC_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test PostgreSQL server's URL (skip locally, fail under CI when it is not set)."""
    url = os.environ.get(PG_URL_ENV, "").strip()
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{PG_URL_ENV} is not set and CI=true: start PostgreSQL with .ci/postgres.sh")
        pytest.skip(f"{PG_URL_ENV} is not set (start PostgreSQL with .ci/postgres.sh)")
    return url


@pytest.fixture
def pg_schema_url(pg_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema of the test server."""
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(pg_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def _open(kind: str, request: pytest.FixtureRequest) -> SqlStore:
    if kind == "sqlite":
        return open_store(request.getfixturevalue("sqlite_url"))
    return open_store(request.getfixturevalue("pg_schema_url"))


@pytest.fixture(
    params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def any_store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Each Store implementation in turn, empty and migrated."""
    if request.param == "memory":
        yield MemoryStore()
        return
    store = _open(request.param, request)
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_store(request: pytest.FixtureRequest) -> Iterator[SqlStore]:
    """The SQL store on SQLite, then on PostgreSQL, empty and migrated."""
    store = _open(request.param, request)
    yield store
    store.close()
