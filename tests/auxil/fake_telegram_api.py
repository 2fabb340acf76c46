"""A fake Telegram Bot API on 127.0.0.1 (port 0) that records every call, for the real PTB stack.

It answers ``/bot<token>/<method>`` for getMe, sendMessage, editMessageText, answerCallbackQuery,
setMyCommands, setWebhook, deleteWebhook and getUpdates (queued updates, honouring ``offset``),
and can be told to fail the next calls of a method with 429 (``retry_after``), 403 (blocked),
400 (chat not found) or 500, or to enforce flood control (``limit_rate``: about 30 messages/s).
Faults of the network: an error answered late (``fail(..., delay=)``, a client timeout) and a
cut connection (``reset``); ``hold``/``hold_method`` keep sends waiting while a test acts.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.auxil.connection import reset_connection
from tests.auxil.token_bucket import TokenBucket

TOKEN = "123456789:fake_token_for_tests_01234"
BOT_ID = 123456789
BOT_USERNAME = "hoc_district_bot"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"

#: Parameters PTB sends JSON-encoded inside its form bodies.
_JSON_PARAMS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "link_preview_options",
    "reply_parameters",
    "entities",
    "scope",
}
_INT_PARAMS = {"chat_id", "message_id", "offset", "timeout", "limit", "message_thread_id"}
#: Methods that send or change a message: those flood control counts.
_MESSAGING = {"sendMessage", "editMessageText"}


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake received: method, decoded parameters and when (``time.monotonic``)."""

    method: str
    params: dict[str, Any]
    at: float
    status: int
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def buttons(self) -> list[list[dict[str, Any]]]:
        markup = self.params.get("reply_markup") or {}
        rows: list[list[dict[str, Any]]] = markup.get("inline_keyboard", [])
        return rows

    @property
    def message_id(self) -> int:
        """The id of the message this call sent or edited."""
        return int(self.result["message_id"])

    @property
    def callback_data(self) -> list[str]:
        return [b["callback_data"] for row in self.buttons for b in row]


@dataclass(slots=True)
class _Failure:
    status: int
    description: str
    retry_after: int | None = None
    migrate_to: int | None = None
    delay: float = 0.0
    cut: bool = False


@dataclass(slots=True)
class _State:
    calls: list[Call] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    confirmed: int = 0
    failures: dict[str, list[_Failure]] = field(default_factory=dict)
    next_message_id: int = 1000


def load_update(name: str, **changes: Any) -> dict[str, Any]:
    """A fixture update (tests/fixtures/telegram/<name>.json) with top-level or dotted-path changes.

    ``load_update("text_private", update_id=5, **{"message.text": "hi"})``.
    """
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    for path, value in changes.items():
        target = data
        *parents, last = path.split(".")
        for part in parents:
            target = target[part]
        target[last] = value
    return data


class FakeTelegramAPI:
    """The fake Bot API server; ``async with FakeTelegramAPI() as api`` starts and stops it."""

    def __init__(self, token: str = TOKEN, *, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_id = bot_id
        self.username = username
        self.state = _State()
        self._changed = asyncio.Condition()
        self._gates: dict[int, asyncio.Event] = {}
        self._method_gates: dict[str, asyncio.Event] = {}
        self._arrived: list[str] = []
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._flood: TokenBucket | None = None
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> FakeTelegramAPI:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        app.router.add_get("/bot{token}/{method}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._closing = True
        for gate in self._method_gates.values():
            gate.set()
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegramAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The base URL to give as TELEGRAM_API_URL."""
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ scripting
    def queue_updates(self, *updates: Mapping[str, Any]) -> None:
        """Updates served by getUpdates to a poller whose offset has not confirmed them."""
        self.state.updates.extend(copy.deepcopy(dict(u)) for u in updates)
        self._notify()

    def redeliver(self, update: Mapping[str, Any]) -> None:
        """Serve an update again whatever the offset, as Telegram does after a lost confirmation."""
        self.state.updates.append({**copy.deepcopy(dict(update)), "_redelivered": True})
        self._notify()

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        migrate_to: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error, after ``delay`` seconds.

        429 carries ``parameters.retry_after``; 403 is "bot was blocked by the user"; 400 defaults to
        "chat not found"; 500 is an internal server error. A ``delay`` longer than the client's
        timeout makes a timeout in which nothing was sent.
        """
        default = {
            429: f"Too Many Requests: retry after {retry_after}",
            403: "Forbidden: bot was blocked by the user",
            400: "Bad Request: chat not found",
            500: "Internal Server Error",
        }.get(status, "Error")
        failure = _Failure(status, description or default, retry_after, migrate_to, delay)
        self.state.failures.setdefault(method, []).extend([failure] * times)

    def reset(self, method: str, *, times: int = 1) -> None:
        """Cut the connection of the next ``times`` calls of ``method`` (a TCP reset), answering nothing."""
        failure = _Failure(0, "connection reset", cut=True)
        self.state.failures.setdefault(method, []).extend([failure] * times)

    def hold_method(self, method: str) -> asyncio.Event:
        """Keep every call of ``method`` waiting, before anything else, until the returned event is set."""
        gate = self._method_gates[method] = asyncio.Event()
        return gate

    def arrived_count(self, method: str) -> int:
        """Calls of ``method`` that arrived so far, answered or not."""
        return self._arrived.count(method)

    async def wait_arrived(self, method: str, count: int = 1, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until ``count`` calls of ``method`` have arrived, answered or not."""

        async def arrived() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self._arrived.count(method) >= count)

        await asyncio.wait_for(arrived(), timeout)

    def limit_rate(self, per_second: float = 30.0, *, burst: float = 1.0) -> None:
        """Enforce flood control: sends and edits beyond ``per_second`` overall answer 429.

        A token bucket of ``burst`` messages refilled at ``per_second``; the 429 carries
        ``retry_after``, the wait until the next token in whole seconds (at least 1), as Telegram does.
        """
        self._flood = TokenBucket(per_second, burst)

    def hold(self, chat_id: int) -> asyncio.Event:
        """Keep every send or edit to ``chat_id`` waiting until the returned event is set."""
        gate = self._gates[chat_id] = asyncio.Event()
        return gate

    @property
    def calls(self) -> list[Call]:
        return list(self.state.calls)

    def sent(self, method: str = "sendMessage", *, ok: bool = True) -> list[Call]:
        """Calls of ``method``; only the successful ones unless ``ok`` is False."""
        return [c for c in self.state.calls if c.method == method and (c.ok or not ok)]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:  # noqa: ASYNC109
        """Wait until ``count`` successful calls of ``method`` were made; raises TimeoutError otherwise."""

        async def reached() -> list[Call]:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.sent(method)) >= count)
            return self.sent(method)

        return await asyncio.wait_for(reached(), timeout)

    def _notify(self) -> None:
        async def wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        asyncio.get_running_loop().create_task(wake())

    # ------------------------------------------------------------------ HTTP
    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        async with self._changed:
            self._arrived.append(method)
            self._changed.notify_all()
        method_gate = self._method_gates.get(method)
        if method_gate is not None:
            await method_gate.wait()
        failures = self.state.failures.get(method)
        if failures:
            failure = failures.pop(0)
            if failure.delay:
                await asyncio.sleep(failure.delay)
            await self._record(method, params, failure.status)
            if failure.cut:
                return reset_connection(request)
            extra: dict[str, Any] = {}
            if failure.retry_after is not None:
                extra["retry_after"] = failure.retry_after
            if failure.migrate_to is not None:
                extra["migrate_to_chat_id"] = failure.migrate_to
            return _error(failure.status, failure.description, extra)
        if self._flood is not None and method in _MESSAGING:
            wait = self._flood.take(time.monotonic())
            if wait > 0:
                retry = max(1, math.ceil(wait))
                await self._record(method, params, 429)
                return _error(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        if method == "getUpdates":
            result: Any = await self._get_updates(params)
            await self._record(method, params, 200, result)
            return _ok(result)
        gate = self._gates.get(params.get("chat_id", 0)) if method in {"sendMessage", "editMessageText"} else None
        if gate is not None and not self._closing:
            await gate.wait()
        answer = getattr(self, f"_m_{method}", None)
        if answer is None:
            await self._record(method, params, 404)
            return _error(404, "Not Found")
        result = answer(params)
        await self._record(method, params, 200, result)
        return _ok(result)

    async def _record(self, method: str, params: dict[str, Any], status: int, result: Any = None) -> None:
        async with self._changed:
            self.state.calls.append(Call(method, params, time.monotonic(), status, result))
            self._changed.notify_all()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        if offset:
            self.state.confirmed = max(self.state.confirmed, offset)
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset or u.get("_redelivered")]
        # Long polling, but never holding a request long enough to slow a test's shutdown.
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = asyncio.get_running_loop().time() + wait
        while not self.state.updates and not self._closing:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    break
        limit = int(params.get("limit") or 100)
        served = self.state.updates[:limit]
        # A redelivered update is served once; the others stay until an offset confirms them.
        self.state.updates = [u for u in self.state.updates if not (u.get("_redelivered") and u in served)]
        return [{k: v for k, v in u.items() if k != "_redelivered"} for u in served]

    # ------------------------------------------------------------------ methods
    def _me(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Hour of Code",
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._me()

    def _message(self, params: dict[str, Any], message_id: int | None = None) -> dict[str, Any]:
        if message_id is None:
            self.state.next_message_id += 1
            message_id = self.state.next_message_id
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "from": self._me(),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "text": params.get("text", ""),
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params)

    def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._message(params, int(params["message_id"]))

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _m_setMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    def _m_close(self, params: dict[str, Any]) -> bool:
        return True


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return dict(body) if isinstance(body, dict) else {}
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        raw = value if isinstance(value, str) else str(value)
        if key in _JSON_PARAMS:
            params[key] = json.loads(raw)
        elif key in _INT_PARAMS and raw.lstrip("-").isdecimal():
            params[key] = int(raw)
        else:
            params[key] = raw
    return params


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, description: str, parameters: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def telegram_env(api: FakeTelegramAPI, **extra: str) -> dict[str, str]:
    """Environment pointing the Telegram platform at ``api``."""
    return {"TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_URL": api.url, **extra}
