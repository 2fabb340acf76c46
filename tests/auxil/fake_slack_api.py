"""A fake Slack on loopback: the Web API methods the bot uses, response_url, Socket Mode, and signed deliveries."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.auxil.connection import reset_connection
from tests.auxil.token_bucket import TokenBucket

#: Methods answered without a bot token.
_NO_BOT_TOKEN = {"oauth.v2.access", "apps.connections.open"}
#: Methods that post a message in a channel: those Slack rate-limits per channel.
_POSTING = {"chat.postMessage", "chat.postEphemeral"}


@dataclass
class Call:
    """One request the fake received.

    Attributes:
        method: Web API method (``chat.postMessage``), or ``response_url`` for a post to a response URL.
        params: Query, form or JSON parameters, merged.
        token: The bearer token (or ``token`` parameter) sent, if any.
        at: ``time.monotonic()`` when the request arrived.
        status: HTTP status answered.
        ok: False when the fake answered an error.
        path: Request path (the response URL's tag for ``response_url``).
    """

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    status: int = 200
    ok: bool = True
    path: str = ""


@dataclass
class Failure:
    """An answer to give instead of the normal one (``reset``: no answer, the connection is cut)."""

    status: int = 200
    error: str = "internal_error"
    retry_after: float | None = None
    delay: float = 0.0
    reset: bool = False


@dataclass
class Workspace:
    """A workspace the fake knows: its bot token and bot user."""

    team: str
    token: str
    bot_user: str
    bot_id: str
    name: str = ""


@dataclass
class FakeSlackApi:
    """Answers Web API calls on ``http://127.0.0.1:<port>/api/``, records them, fails on demand.

    ``fail("chat.postMessage", status=429, retry_after=2)`` makes the next call of that method
    answer 429 with ``Retry-After: 2``; ``fail(..., error="channel_not_found")`` an ``ok: false``.
    ``limit_channel_rate(1.0)`` enforces Slack's posting limit of about one message per second
    per channel (off unless called).
    """

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    oauth_codes: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0
    _failures: dict[str, list[Failure]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _changed: asyncio.Condition | None = None
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _socket_ready: asyncio.Event | None = None
    _gates: dict[str, asyncio.Event] = field(default_factory=dict)
    _arrived: list[str] = field(default_factory=list)
    _channel_limit: tuple[float, float] | None = None
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> FakeSlackApi:
        self._changed = asyncio.Condition()
        self._socket_ready = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{tag}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for gate in self._gates.values():
            gate.set()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, tag: str) -> str:
        return f"{self.base_url}/response/{tag}"

    # ------------------------------------------------------------------ set-up
    def add_workspace(self, team: str, token: str, *, bot_user: str = "UBOT", code: str | None = None) -> Workspace:
        workspace = Workspace(team, token, bot_user, f"B{team}", name=f"District {team}")
        self.workspaces[token] = workspace
        if code is not None:
            self.oauth_codes[code] = token
        return workspace

    def add_user(self, user: str, team: str, *, locale: str = "en-US", tz: str = "America/New_York") -> None:
        self.users[user] = {"id": user, "team_id": team, "locale": locale, "tz": tz, "is_bot": False}

    def fail(
        self,
        method: str,
        *,
        status: int = 200,
        error: str = "internal_error",
        retry_after: float | None = None,
        delay: float = 0.0,
        times: int = 1,
        reset: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error (after ``delay`` seconds).

        With ``reset``, the connection is cut instead (a TCP reset), with no answer at all.
        """
        if status == 429 and error == "internal_error":
            error = "ratelimited"
        failure = Failure(status, error, retry_after, delay, reset)
        self._failures.setdefault(method, []).extend(failure for _ in range(times))

    def hold(self, method: str) -> asyncio.Event:
        """Keep every call of ``method`` waiting, before it is answered, until the returned event is set."""
        gate = self._gates[method] = asyncio.Event()
        return gate

    def arrived_count(self, method: str) -> int:
        """Calls of ``method`` that arrived so far, answered or not."""
        return self._arrived.count(method)

    async def wait_arrived(self, method: str, count: int = 1, within: float = 10.0) -> None:
        """Wait until ``count`` calls of ``method`` have arrived (answered or not yet)."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self._arrived.count(method) >= count), within)

    def limit_channel_rate(self, per_second: float = 1.0, *, burst: float = 1.0) -> None:
        """Answer posts beyond ``per_second`` per channel with 429 ``ratelimited`` and a Retry-After.

        Each channel has a token bucket of ``burst`` messages refilled at ``per_second``; the
        Retry-After is the wait until the next token, in whole seconds (at least 1), as Slack sends it.
        """
        self._channel_limit = (per_second, burst)
        self._buckets.clear()

    # ------------------------------------------------------------------ inspection
    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls of ``method``; ``ok=True`` only the answered ones, ``ok=False`` only the failed ones."""
        return [c for c in self.calls if c.method == method and (ok is None or c.ok == ok)]

    def sent(self) -> list[Call]:
        """Every message the bot made visible: posts, ephemerals, updates, response URLs, views."""
        visible = {"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url", "views.publish"}
        return [c for c in self.calls if c.method in visible and c.ok]

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Call]:
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.calls_to(method)) >= count), within)
        return self.calls_to(method)

    async def _record(self, call: Call) -> None:
        assert self._changed is not None
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    # ------------------------------------------------------------------ Web API
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                params.update(json.loads(raw))
            else:
                params.update(parse_qsl(raw, keep_blank_values=True))
        token = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        token = params.pop("token", None) or token
        call = Call(method, params, token, time.monotonic())
        assert self._changed is not None
        async with self._changed:
            self._arrived.append(method)
            self._changed.notify_all()
        gate = self._gates.get(method)
        if gate is not None:
            await gate.wait()
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            if failure.delay:
                await asyncio.sleep(failure.delay)
            call.status = 0 if failure.reset else failure.status
            call.ok = False
            await self._record(call)
            if failure.reset:
                return reset_connection(request)
            headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)
        workspace = self.workspaces.get(token or "")
        if method not in _NO_BOT_TOKEN and workspace is None:
            call.ok = False
            await self._record(call)
            return web.json_response({"ok": False, "error": "invalid_auth"})
        if self._channel_limit is not None and method in _POSTING:
            rate, burst = self._channel_limit
            bucket = self._buckets.setdefault(str(params.get("channel")), TokenBucket(rate, burst))
            wait = bucket.take(call.at)
            if wait > 0:
                call.status = 429
                call.ok = False
                await self._record(call)
                headers = {"Retry-After": str(max(1, math.ceil(wait)))}
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
        body = self._answer(method, params, workspace)
        call.ok = bool(body.get("ok"))
        await self._record(call)
        return web.json_response(body)

    def _answer(self, method: str, params: dict[str, Any], ws: Workspace | None) -> dict[str, Any]:
        ts = f"1700000000.{next(self._ts):06d}"
        if method == "auth.test":
            assert ws is not None
            return {
                "ok": True,
                "url": f"https://{ws.team.lower()}.slack.com/",
                "team": ws.name,
                "user": "hocbot",
                "team_id": ws.team,
                "user_id": ws.bot_user,
                "bot_id": ws.bot_id,
                "is_enterprise_install": False,
            }
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"text": params.get("text")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts"), "text": params.get("text")}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{params.get('users')}"}}
        if method == "users.info":
            user = self.users.get(str(params.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            info = dict(user)
            if str(params.get("include_locale")).lower() not in ("true", "1"):
                info.pop("locale", None)
            return {"ok": True, "user": info}
        if method == "views.publish":
            return {"ok": True, "view": {"id": f"V{next(self._ts)}", **_as_json(params.get("view"))}}
        if method == "oauth.v2.access":
            token = self.oauth_codes.get(str(params.get("code")))
            if token is None:
                return {"ok": False, "error": "invalid_code"}
            installed = self.workspaces[token]
            return {
                "ok": True,
                "access_token": installed.token,
                "token_type": "bot",
                "scope": "app_mentions:read,chat:write,commands,im:history,im:write,users:read",
                "bot_user_id": installed.bot_user,
                "app_id": "A0HOCBOT",
                "team": {"id": installed.team, "name": installed.name},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": f"U{installed.team}ADMIN"},
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}
        return {"ok": False, "error": "unknown_method"}

    async def _response_url(self, request: web.Request) -> web.Response:
        params = await request.json()
        await self._record(Call("response_url", params, None, time.monotonic(), path=request.match_info["tag"]))
        return web.Response(text="ok")

    # ------------------------------------------------------------------ Socket Mode
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0HOCBOT"}})
        assert self._socket_ready is not None
        self._socket_ready.set()
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        self._sockets.remove(ws)
        return ws

    async def push_socket_event(self, envelope_id: str, payload: dict[str, Any], kind: str = "events_api") -> None:
        """Deliver ``payload`` through the open Socket Mode connection."""
        assert self._socket_ready is not None
        await asyncio.wait_for(self._socket_ready.wait(), 10)
        await self._sockets[-1].send_json(
            {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": False}
        )


def _as_json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        loaded = json.loads(value)
        return loaded if isinstance(loaded, dict) else {}
    return dict(value) if isinstance(value, Mapping) else {}


# ---------------------------------------------------------------------- Slack's side of deliveries
def signature(secret: str, timestamp: str, body: str) -> str:
    """``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``, as Slack signs requests (slack_sdk's verifier)."""
    signed = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signed is not None
    return signed


def signed_headers(secret: str, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, ts, body),
    }


def form_body(fields: Mapping[str, Any]) -> str:
    """A slash command's form body."""
    return urlencode({k: "" if v is None else str(v) for k, v in fields.items()})


def interactive_body(payload: Mapping[str, Any]) -> str:
    """An interaction's form body (``payload=<json>``)."""
    return urlencode({"payload": json.dumps(payload)})


class SlackDelivery:
    """Slack's side of the bot's HTTP endpoint: signs payloads and posts them to ``/slack/events``."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.base_url = base_url
        self.secret = secret
        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def post(
        self,
        body: str | bytes,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        signed: bool = True,
        timestamp: int | None = None,
        secret: str | None = None,
    ) -> tuple[int, str]:
        text = body.decode() if isinstance(body, bytes) else body
        sent = {"Content-Type": content_type}
        if signed:
            sent = signed_headers(secret or self.secret, text, timestamp=timestamp, content_type=content_type)
        sent.update(headers or {})
        data = io.BytesIO(text.encode())  # aiohttp warns about large raw bytes bodies
        async with self.session.post(f"{self.base_url}/slack/events", data=data, headers=sent) as response:
            return response.status, await response.text()

    async def event(self, payload: Mapping[str, Any], *, retry: int | None = None) -> tuple[int, str]:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return await self.post(json.dumps(payload), headers=headers)

    async def command(self, fields: Mapping[str, Any]) -> tuple[int, str]:
        return await self.post(form_body(fields), content_type="application/x-www-form-urlencoded")

    async def action(self, payload: Mapping[str, Any]) -> tuple[int, str]:
        return await self.post(interactive_body(payload), content_type="application/x-www-form-urlencoded")


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    """Run ``app`` on 127.0.0.1, port 0; returns the runner and the base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"
