"""``hoc-bot run`` as a process: health, readiness, metrics, SIGHUP reload, SIGTERM, a database gone."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.test_cli import KNOWLEDGE, Cli, _env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
            return response.status, response.read().decode()  # only 127.0.0.1
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read().decode()


class Server:
    """A ``hoc-bot run`` process on a free port of 127.0.0.1."""

    def __init__(self, tmp_path: Path, extra: dict[str, str]) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "run.log"
        env = _env(tmp_path / "hoc.sqlite3", extra)
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if _get(self.base + "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        self._out.close()
        return code


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


@pytest.fixture
def server(tmp_path: Path, kb_dir: Path) -> Iterator[Server]:
    srv = Server(tmp_path, {"HOC_KNOWLEDGE_DIR": str(kb_dir)})
    yield srv
    srv.stop()


def test_health_readiness_and_metrics(server: Server) -> None:
    assert _get(server.base + "/healthz") == (200, json.dumps({"status": "ok"}))
    status, body = _get(server.base + "/readyz")
    assert status == 200
    assert json.loads(body) == {"ready": True}
    status, metrics = _get(server.base + "/metrics")
    assert status == 200
    assert "hoc_handle_seconds_bucket" in metrics
    assert 'hoc_reminders{status="pending"} 0.0' in metrics


def test_metrics_can_require_a_token(tmp_path: Path) -> None:
    token = "metrics-0123456789-token"
    server = Server(tmp_path, {"HOC_METRICS_TOKEN": token})
    try:
        assert _get(server.base + "/metrics")[0] == 401
        assert _get(server.base + "/metrics", {"Authorization": "Bearer wrong"})[0] == 401
        status, body = _get(server.base + "/metrics", {"Authorization": f"Bearer {token}"})
        assert status == 200
        assert "hoc_handle_seconds_bucket" in body
        assert _get(server.base + "/healthz")[0] == 200  # health checks stay open
    finally:
        assert server.stop() == 0
    assert token not in server.log.read_text()


def test_sigterm_stops_cleanly(server: Server) -> None:
    assert server.stop() == 0
    assert "Traceback" not in server.log.read_text()


def test_kb_reload_refuses_an_invalid_kb_and_signals_a_valid_one(server: Server, kb_dir: Path, tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    broken = kb_dir / "entries" / "overview.yaml"
    good = broken.read_text(encoding="utf-8")
    broken.write_text("id: overview\nstep: [\n", encoding="utf-8")
    proc = cli.run("kb", "reload", "--pid", str(server.proc.pid), env={"HOC_KNOWLEDGE_DIR": str(kb_dir)})
    assert proc.returncode == 1
    assert "overview.yaml" in proc.stdout + proc.stderr
    assert "nothing reloaded" in proc.stderr
    broken.write_text(good, encoding="utf-8")
    proc = cli.run("kb", "reload", "--pid", str(server.proc.pid), env={"HOC_KNOWLEDGE_DIR": str(kb_dir)})
    assert proc.returncode == 0, proc.stderr
    deadline = time.monotonic() + 10
    while "knowledge base reloaded" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "knowledge base reloaded: 8 entries" in server.log.read_text()
    assert _get(server.base + "/healthz")[0] == 200


def test_sighup_with_an_invalid_kb_keeps_the_server_up(server: Server, kb_dir: Path) -> None:
    (kb_dir / "links.yaml").write_text("site: [\n", encoding="utf-8")
    os.kill(server.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 10
    while "not reloaded" not in server.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "knowledge base not reloaded" in server.log.read_text()
    assert _get(server.base + "/healthz")[0] == 200
    assert server.proc.poll() is None


def test_unreachable_database_at_start_fails_with_the_url_without_password(tmp_path: Path) -> None:
    proc = Cli(tmp_path).run(
        "run",
        "--port",
        str(_free_port()),
        env={"DATABASE_URL": "postgresql://coord:s3cr3t@127.0.0.1:1/hoc"},
        timeout=30,
    )
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "127.0.0.1:1/hoc" in out
    assert "s3cr3t" not in out
    assert "Traceback" not in out
