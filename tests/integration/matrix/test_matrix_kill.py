"""``kill -9`` on ``hoc-bot run`` after a Matrix message was received and before its reply reached the
homeserver: the next run answers it, once."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store.engine import open_store
from bot.store.schema import inbox
from tests.auxil.holding_proxy import HoldingProxy
from tests.auxil.synapse import Synapse, free_port
from tests.integration.matrix.conftest import bot_env
from tests.integration.test_cli import _env

STARTUP_S = 60.0


async def _start(tmp_path: Path, name: str, env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    log = (tmp_path / f"{name}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--port", str(port), stdout=log, stderr=asyncio.subprocess.STDOUT, env=env
    )
    log.close()
    deadline = time.monotonic() + STARTUP_S
    while True:
        assert proc.returncode is None, (tmp_path / f"{name}.log").read_text()
        try:
            body = await asyncio.to_thread(_readyz, port)
        except OSError:
            body = None
        if body is not None and body.get("ready"):
            return proc
        assert time.monotonic() < deadline, "hoc-bot run did not become ready"
        await asyncio.sleep(0.1)


def _readyz(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as exc:
        return dict(json.load(exc))


async def test_killed_between_receiving_and_replying_answers_after_restart(
    synapse: Synapse, tmp_path: Path, coordinator: Callable[[str], Any]
) -> None:
    user_id = synapse.register("hoc-bot")
    db = tmp_path / "bot.sqlite3"
    async with HoldingProxy(synapse.url) as proxy, coordinator("camille") as camille:
        env = _env(db, bot_env(synapse, user_id, tmp_path / "matrix-store", MATRIX_HOMESERVER=proxy.url))
        port = free_port()
        first = await _start(tmp_path, "run1", env, port)
        room = await camille.direct_chat(user_id)
        proxy.holding = True
        await camille.say(room, "comment recruter des écoles ?")
        await asyncio.wait_for(proxy.held.wait(), 30)  # the reply is on its way: the message was received
        first.send_signal(signal.SIGKILL)
        await first.wait()
        store = open_store(f"sqlite:///{db}")
        with store.engine.connect() as conn:
            rows = conn.execute(select(inbox.c.payload, inbox.c.sent).where(inbox.c.done_at.is_(None))).all()
        store.close()
        [(payload, sent)] = rows  # received, kept, not answered
        assert (json.loads(payload)["text"], sent) == ("comment recruter des écoles ?", 0)
        assert camille.in_room(room) == []
        proxy.release()
        second = await _start(tmp_path, "run2", env, port)
        try:
            welcome = await camille.reply(room, 0, within=30)
            answer = await camille.reply(room, 1, within=30)
            assert "Bienvenue" in welcome.body
            assert "Étape 1 sur 5" in answer.body
            assert answer.decrypted
            await asyncio.sleep(1.0)
            assert len(camille.in_room(room)) == 2  # answered once
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0
    log = (tmp_path / "run2.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log
