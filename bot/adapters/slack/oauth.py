"""OAuth installs in many workspaces: signed ``state`` values and the installation store in our database."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot as SlackBot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.adapters.toolkit.caches import TtlCache
from bot.core.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

_log = logging.getLogger(__name__)


class SignedStateStore(AsyncOAuthStateStore):
    """OAuth ``state`` values signed with ``SLACK_STATE_SECRET``: any replica can check them.

    A state is ``nonce.expiry.signature``; it is accepted once per process and until it expires.
    Bolt also checks that the browser finishing the install holds the state cookie it started with.
    """

    def __init__(self, secret: str, *, expiration_seconds: int = 600, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret.encode()
        self.expiration_seconds = expiration_seconds
        self.clock = clock
        self._used: TtlCache[str, bool] = TtlCache(10_000, expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        """Where bolt may log about states."""
        return _log

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state."""
        payload = f"{secrets.token_urlsafe(16)}.{int(self.clock()) + self.expiration_seconds}"
        return f"{payload}.{self._sign(payload)}"

    async def async_consume(self, state: str) -> bool:
        """True once for a state this app issued that has not expired."""
        nonce, _, rest = (state or "").partition(".")
        expiry, _, signature = rest.partition(".")
        if not (nonce and expiry.isdecimal() and signature):
            return False
        if not hmac.compare_digest(self._sign(f"{nonce}.{expiry}"), signature):
            return False
        if int(expiry) < self.clock() or self._used.get(nonce):
            return False
        self._used.put(nonce, True)
        return True


class ThreadedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store in our database, its blocking calls in threads.

    Its tables (``slack_installations``, ``slack_bots``) are created on first use.
    """

    def __init__(self, client_id: str, engine: Engine) -> None:
        # Imported here: the module imports SQLAlchemy's asyncio extension, which needs greenlet;
        # single-workspace deployments do without it.
        try:
            from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
        except ImportError as exc:
            raise ConfigError(
                "SLACK_CLIENT_ID: OAuth installs keep tokens with slack_sdk's SQLAlchemy store, which needs "
                f"SQLAlchemy's asyncio extra (pip install 'sqlalchemy[asyncio]'): {exc}"
            ) from exc

        self.store = SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=_log)
        self._ready = False
        self._lock = threading.Lock()

    @property
    def logger(self) -> logging.Logger:
        """Where the store logs."""
        return _log

    def _ensure_tables(self) -> None:
        with self._lock:
            if not self._ready:
                try:
                    self.store.create_tables()  # type: ignore[no-untyped-call]
                except Exception:
                    # Another process may have created them between the check and the CREATE.
                    self.store.create_tables()  # type: ignore[no-untyped-call]
                self._ready = True

    async def _run(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        def call() -> Any:
            self._ensure_tables()
            return fn(**kwargs)

        return await asyncio.to_thread(call)

    async def async_save(self, installation: Installation) -> None:
        """Save an installation (and its bot)."""
        await self._run(self.store.save, installation=installation)

    async def async_save_bot(self, bot: SlackBot) -> None:
        """Save a bot installation."""
        await self._run(self.store.save_bot, bot=bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> SlackBot | None:
        """The latest bot installation of a workspace."""
        found: SlackBot | None = await self._run(
            self.store.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The latest installation of a workspace (by a user)."""
        found: Installation | None = await self._run(
            self.store.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return found

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete a workspace's bot tokens."""
        await self._run(self.store.delete_bot, enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Delete a workspace's installations (by a user)."""
        await self._run(self.store.delete_installation, enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Delete everything kept about a workspace's installation."""
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


def installation_engine(store: object) -> Engine:
    """The store's SQLAlchemy engine, or an in-memory SQLite one for a store without (tests, MemoryStore)."""
    from sqlalchemy import Engine, create_engine
    from sqlalchemy.pool import StaticPool

    engine = getattr(store, "engine", None)
    if isinstance(engine, Engine):
        return engine
    return create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
