"""Matrix settings read from the environment; errors name the variable and never repeat a secret."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.core.errors import ConfigError

_USER_ID = re.compile(r"^@[a-z0-9._=/+-]+:([A-Za-z0-9.-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?)$")
_SERVER = re.compile(r"^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")
_DEVICE = re.compile(r"^[A-Za-z0-9_.+=/-]{1,128}$")
#: Name shown for the bot's device in the users' clients (session lists).
DEVICE_NAME = "hoc-bot"


def server_of(user_id: str) -> str:
    """The server name of a Matrix user id (``@alice:agent.tchap.gouv.fr`` -> ``agent.tchap.gouv.fr``)."""
    return user_id.partition(":")[2].lower()


@dataclass(frozen=True, slots=True)
class MatrixConfig:
    """Matrix settings.

    Attributes:
        homeserver: ``MATRIX_HOMESERVER``: the client-server API base URL (``https://matrix.agent.tchap.gouv.fr``).
        user_id: ``MATRIX_USER_ID``: the bot's account (``@hoc-bot:agent.tchap.gouv.fr``).
        password: ``MATRIX_PASSWORD``: for the first login only (never logged).
        access_token: ``MATRIX_ACCESS_TOKEN``: instead of a password, with ``device_id`` (never logged).
        device_id: ``MATRIX_DEVICE_ID``: the device of ``access_token``.
        store_dir: ``MATRIX_STORE_DIR``: the end-to-end encryption keys (a persistent volume).
        allowed_servers: ``MATRIX_ALLOWED_SERVERS``: servers whose users' invitations are accepted.
    """

    homeserver: str
    user_id: str
    store_dir: Path
    allowed_servers: frozenset[str]
    password: str | None = None
    access_token: str | None = None
    device_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"MatrixConfig(homeserver={self.homeserver!r}, user_id={self.user_id!r}, "
            f"store_dir={str(self.store_dir)!r}, "
            f"allowed_servers={sorted(self.allowed_servers)!r}, device_id={self.device_id!r})"
        )

    @property
    def server(self) -> str:
        """The bot's own server name."""
        return server_of(self.user_id)

    def allows(self, user_id: str) -> bool:
        """True when invitations from ``user_id`` are accepted (its server is allowed)."""
        return server_of(user_id) in self.allowed_servers

    @classmethod
    def from_env(cls, env: Mapping[str, str], database_url: str = "") -> MatrixConfig:
        """Read and check the MATRIX_* variables.

        Args:
            env: The environment.
            database_url: The bot's database URL: the default store directory is beside a SQLite file.
        """
        homeserver = env.get("MATRIX_HOMESERVER", "").strip().rstrip("/")
        parts = urlsplit(homeserver)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigError(
                f"MATRIX_HOMESERVER: {homeserver!r} is not the URL of a homeserver's client API, "
                "such as https://matrix.example.org"
            )
        user_id = env.get("MATRIX_USER_ID", "").strip()
        if not _USER_ID.match(user_id):
            raise ConfigError(f"MATRIX_USER_ID: {user_id!r} is not a Matrix user id such as @hoc-bot:example.org")
        password = env.get("MATRIX_PASSWORD", "") or None
        token = env.get("MATRIX_ACCESS_TOKEN", "").strip() or None
        device = env.get("MATRIX_DEVICE_ID", "").strip() or None
        if token is not None and device is None:
            raise ConfigError("MATRIX_DEVICE_ID: required with MATRIX_ACCESS_TOKEN (the device the token was made for)")
        if device is not None and not _DEVICE.match(device):
            raise ConfigError(f"MATRIX_DEVICE_ID: {device[:40]!r} is not a device id")
        raw_servers = env.get("MATRIX_ALLOWED_SERVERS", "")
        servers = {s.strip().lower() for s in raw_servers.split(",") if s.strip()}
        for server in servers:
            if not _SERVER.match(server):
                raise ConfigError(
                    f"MATRIX_ALLOWED_SERVERS: {server[:60]!r} is not a server name such as agent.tchap.gouv.fr"
                )
        store = env.get("MATRIX_STORE_DIR", "").strip()
        return cls(
            homeserver=homeserver,
            user_id=user_id,
            store_dir=Path(store) if store else default_store_dir(database_url),
            allowed_servers=frozenset(servers or {server_of(user_id)}),
            password=password,
            access_token=token,
            device_id=device,
        )


def default_store_dir(database_url: str) -> Path:
    """``matrix-store`` beside the SQLite file of ``database_url``, or in the working directory."""
    prefix = "sqlite:///"
    if database_url.startswith(prefix) and database_url[len(prefix) :] not in {"", ":memory:"}:
        return Path(database_url[len(prefix) :]).parent / "matrix-store"
    return Path("matrix-store")
