"""One real Synapse per test session (127.0.0.1, a free port, SQLite in a temporary directory), and the bot's
Matrix platform started in the test's event loop against it."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.matrix.platform import MatrixPlatform
from bot.adapters.matrix.session import QUIET_LOGGERS
from bot.app import Bot, build_bot
from bot.config import Settings
from bot.store.engine import open_store
from bot.store.sql import SqlStore
from tests.auxil.matrix_client import Coordinator
from tests.auxil.synapse import PASSWORD, Synapse, synapse_installed


@pytest.fixture(autouse=True)
def _library_log_levels() -> Iterator[None]:
    """The platform raises the Matrix libraries' loggers to WARNING: their levels go back after each test, so
    that tests run later see the levels they set up themselves."""
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    """The test homeserver (skipped without matrix-synapse, except under CI=true where that fails)."""
    if not synapse_installed():
        if os.environ.get("CI") == "true":
            pytest.fail("matrix-synapse is not installed and CI=true: install requirements-test.txt")
        pytest.skip("matrix-synapse is not installed (pip install -r requirements-test.txt)")
    server = Synapse(tmp_path_factory.mktemp("synapse")).start()
    yield server
    server.stop()


def bot_env(synapse: Synapse, user_id: str, store_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "HOC_EVENT_DATE": "2026-12-07",
        "MATRIX_HOMESERVER": synapse.url,
        "MATRIX_USER_ID": user_id,
        "MATRIX_PASSWORD": PASSWORD,
        "MATRIX_STORE_DIR": str(store_dir),
        **extra,
    }


class BotRun:
    """The bot as ``hoc-bot run`` wires it, on a SQLite file kept across its restarts."""

    def __init__(self, synapse: Synapse, directory: Path, **env: str) -> None:
        self.synapse = synapse
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.user_id = synapse.register("hoc-bot")
        self.env = bot_env(synapse, self.user_id, directory / "matrix-store", **env)
        self.db_url = f"sqlite:///{directory / 'bot.sqlite3'}"

    @asynccontextmanager
    async def running(self, **options: Any) -> AsyncIterator[tuple[Bot, MatrixPlatform]]:
        store: SqlStore = open_store(self.db_url)
        settings = Settings.from_env(self.env)
        bot = build_bot(settings, store=store, metrics=True)
        platform = MatrixPlatform.from_env(self.env, bot, settings.database_url)
        for name, value in options.items():
            setattr(platform, name, value)
        await platform.start()
        try:
            assert await platform._wait_ready(30), "the bot did not sync"
            yield bot, platform
        finally:
            await platform.stop()
            store.close()


@pytest.fixture
def bot_run(synapse: Synapse, tmp_path: Path) -> Callable[..., BotRun]:
    def make(**env: str) -> BotRun:
        return BotRun(synapse, tmp_path / f"bot-{len(list(tmp_path.iterdir()))}", **env)

    return make


@pytest.fixture
def coordinator(synapse: Synapse, tmp_path: Path) -> Callable[[str], Any]:
    """``async with coordinator("camille") as camille:`` a new user with an encrypting client."""

    def make(name: str) -> Coordinator:
        return Coordinator(synapse.url, synapse.register(name), tmp_path / f"client-{name}")

    return make


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
