"""The bot's Matrix session: one device for good, its keys in the store directory, its tokens in the database.

The first start logs in with ``MATRIX_PASSWORD`` and keeps the access token and device id in the
database (``platform_state``); every later start restores that login, so the bot stays the same
device, and the end-to-end keys in ``MATRIX_STORE_DIR`` stay valid. ``MATRIX_ACCESS_TOKEN`` with
``MATRIX_DEVICE_ID`` replaces the password for those who create the device themselves.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from nio import AsyncClient, AsyncClientConfig, LoginResponse, WhoamiResponse

from bot.adapters.matrix.config import DEVICE_NAME, MatrixConfig
from bot.core.errors import ConfigError
from bot.core.ports import Clock, PlatformStateStore
from bot.logs import register_secrets

PLATFORM = "matrix"
SESSION = "session"
SYNC_TOKEN = "sync_token"  # noqa: S105 (the name of a value, not a secret)

_log = logging.getLogger(__name__)

#: Loggers of the Matrix libraries: chatty at INFO (every key shared, every room state change).
QUIET_LOGGERS = ("nio", "peewee")


@dataclass(frozen=True, slots=True)
class Session:
    """A login: whose, which device, and its access token (never logged)."""

    user_id: str
    device_id: str
    access_token: str

    def __repr__(self) -> str:
        return f"Session(user_id={self.user_id!r}, device_id={self.device_id!r})"

    def to_json(self) -> str:
        """As kept in the database."""
        return json.dumps({"user_id": self.user_id, "device_id": self.device_id, "access_token": self.access_token})

    @classmethod
    def from_json(cls, data: str) -> Session | None:
        """A kept session, or None when ``data`` is not one."""
        try:
            raw = json.loads(data)
            return cls(str(raw["user_id"]), str(raw["device_id"]), str(raw["access_token"]))
        except (ValueError, KeyError, TypeError):
            return None


def quiet_libraries() -> None:
    """Raise the Matrix libraries' loggers to WARNING (they log per event at INFO and DEBUG)."""
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def new_client(config: MatrixConfig, device_id: str | None = None) -> AsyncClient:
    """A nio client with end-to-end encryption, its keys in ``config.store_dir``."""
    config.store_dir.mkdir(parents=True, exist_ok=True)
    options = AsyncClientConfig(
        encryption_enabled=True,
        # The sync token is kept by the platform, in the database, once the events of a sync are in
        # the inbox (nio would keep it before handing the events over).
        store_sync_tokens=False,
        max_limit_exceeded=5,
        max_timeouts=3,
        request_timeout=45,
    )
    return AsyncClient(
        config.homeserver, config.user_id, device_id=device_id or "", store_path=str(config.store_dir), config=options
    )


def _remember(token: str) -> None:
    # The token came from the database or the homeserver: make sure no log line shows it either.
    register_secrets({"MATRIX_ACCESS_TOKEN": token})


async def open_session(config: MatrixConfig, state: PlatformStateStore, clock: Clock) -> AsyncClient:
    """A logged-in client with its encryption keys loaded, always the same device.

    Raises:
        ConfigError: The homeserver refused the credentials, or there are none to log in with.
    """
    quiet_libraries()
    if config.access_token and config.device_id:
        session = Session(config.user_id, config.device_id, config.access_token)
        _remember(session.access_token)
        client = await _restore(config, session)
        if client is None:
            raise ConfigError("MATRIX_ACCESS_TOKEN: the homeserver refused this token (logged out, or mistyped?)")
        return client
    raw = await asyncio.to_thread(state.load_state, PLATFORM, SESSION)
    kept = Session.from_json(raw) if raw else None
    if kept is not None and kept.user_id == config.user_id:
        _remember(kept.access_token)
        client = await _restore(config, kept)
        if client is not None:
            _log.info("Matrix: signed in as %s, device %s", kept.user_id, kept.device_id)
            return client
        _log.warning("Matrix: the kept access token was refused; signing in again with MATRIX_PASSWORD")
    if not config.password:
        raise ConfigError(
            "MATRIX_PASSWORD: needed for the first sign-in (or set MATRIX_ACCESS_TOKEN and MATRIX_DEVICE_ID)"
        )
    client = new_client(config)
    response = await client.login(config.password, device_name=DEVICE_NAME)
    if not isinstance(response, LoginResponse):
        await client.close()
        raise ConfigError(
            f"MATRIX_PASSWORD: the homeserver refused the sign-in of {config.user_id} ({response.message})"
        )
    session = Session(response.user_id, response.device_id, response.access_token)
    _remember(session.access_token)
    await asyncio.to_thread(state.save_state, PLATFORM, SESSION, session.to_json(), clock.now())
    await asyncio.to_thread(state.delete_state, PLATFORM, SYNC_TOKEN)
    _log.info("Matrix: signed in as %s, new device %s (kept for the next starts)", session.user_id, session.device_id)
    return client


async def _restore(config: MatrixConfig, session: Session) -> AsyncClient | None:
    """The client of a kept login, or None when the homeserver no longer accepts its token."""
    client = new_client(config, session.device_id)
    client.restore_login(session.user_id, session.device_id, session.access_token)
    response = await client.whoami()
    if isinstance(response, WhoamiResponse):
        return client
    await client.close()
    if response.status_code in {"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN"}:
        return None
    raise ConfigError(f"MATRIX_HOMESERVER: the homeserver did not answer as expected ({response.message})")


async def load_sync_token(state: PlatformStateStore, device_id: str) -> str | None:
    """Where the last sync of this device ended (its events are in the inbox), or None."""
    raw = await asyncio.to_thread(state.load_state, PLATFORM, SYNC_TOKEN)
    try:
        kept = json.loads(raw) if raw else None
    except ValueError:
        return None
    if isinstance(kept, dict) and kept.get("device_id") == device_id and isinstance(kept.get("token"), str):
        return str(kept["token"])
    return None


async def save_sync_token(state: PlatformStateStore, device_id: str, token: str, clock: Clock) -> None:
    """Keep where the last sync ended, once its events are in the inbox."""
    value = json.dumps({"device_id": device_id, "token": token})
    await asyncio.to_thread(state.save_state, PLATFORM, SYNC_TOKEN, value, clock.now())
