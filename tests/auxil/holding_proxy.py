"""A reverse proxy in front of the test homeserver that can hold the bot's messages: a reply is then
"on the wire" but not delivered, the moment to kill the bot in a test."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web

from tests.auxil.synapse import free_port

_HOP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


class HoldingProxy:
    """Forwards every request to ``upstream``; while ``holding``, the events it sends to rooms wait."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.holding = False
        self.held = asyncio.Event()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HoldingProxy:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120), auto_decompress=False)
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._release.set()
        assert self._runner is not None
        assert self._http is not None
        await self._runner.cleanup()
        await self._http.close()

    def release(self) -> None:
        self.holding = False
        self._release.set()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        if self.holding and request.method == "PUT" and "/send/" in request.path:
            self.held.set()
            await self._release.wait()
            if request.transport is None or request.transport.is_closing():
                raise ConnectionResetError("the sender is gone")  # a killed bot's send never arrives
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with self._http.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as upstream:
            payload = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
            return web.Response(status=upstream.status, body=payload, headers=out)
