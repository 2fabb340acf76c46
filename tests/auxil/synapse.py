"""A real Synapse homeserver on 127.0.0.1 for the Matrix tests and benchmark: SQLite, no federation,
shared-secret registration, rate limits out of the way, no sync response cache."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

SERVER_NAME = "localhost"
SHARED_SECRET = "test-registration-secret"
PASSWORD = "test-password-0123"
STARTUP_S = 60.0

_UNLIMITED = {"per_second": 10000, "burst_count": 100000}


def synapse_installed() -> bool:
    """True when matrix-synapse is importable by this interpreter."""
    try:
        import synapse  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(directory: Path, port: int) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "log_config": str(directory / "log.yaml"),
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "registration_shared_secret": SHARED_SECRET,
        "macaroon_secret_key": uuid.uuid4().hex,
        "form_secret": uuid.uuid4().hex,
        "report_stats": False,
        "enable_registration": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "federation_domain_whitelist": [],
        "presence": {"enabled": False},
        "caches": {"sync_response_cache_duration": 0},
        "rc_message": _UNLIMITED,
        "rc_registration": _UNLIMITED,
        "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
        "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
        "rc_joins_per_room": _UNLIMITED,
        "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
        "rc_key_requests": _UNLIMITED,
        "rc_room_creation": _UNLIMITED,
        "rc_admin_redaction": _UNLIMITED,
    }


_LOG_CONFIG = """version: 1
formatters:
  plain: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}
handlers:
  file: {class: logging.FileHandler, filename: LOGFILE, formatter: plain}
loggers:
  synapse.storage.SQL: {level: WARNING}
  synapse.access: {level: WARNING}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


class Synapse:
    """One homeserver process in ``directory``; ``url`` is its client API."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Synapse:
        from signedjson.key import generate_signing_key, write_signing_keys

        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "signing.key").open("w") as key_file:
            write_signing_keys(key_file, [generate_signing_key("a_test")])
        (self.directory / "log.yaml").write_text(
            _LOG_CONFIG.replace("LOGFILE", json.dumps(str(self.directory / "homeserver.log")))
        )
        config = self.directory / "homeserver.yaml"
        # JSON is YAML.
        config.write_text(json.dumps(_config(self.directory, self.port)))
        with (self.directory / "stdout.log").open("wb") as output:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "synapse.app.homeserver", "-c", str(config)],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + STARTUP_S
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Synapse exited: see {self.directory / 'stdout.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=1):
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError("Synapse did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            result: dict[str, Any] = json.load(response)
            return result

    def register(self, prefix: str) -> str:
        """A new account (``@<prefix>-<random>:localhost``) with :data:`PASSWORD`; its user id."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        nonce = self._request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), name.encode(), PASSWORD.encode(), b"notadmin"]))
        body = {"nonce": nonce, "username": name, "password": PASSWORD, "admin": False, "mac": mac.hexdigest()}
        return str(self._request("POST", "/_synapse/admin/v1/register", body)["user_id"])
