"""The one aiohttp server: platform routes, ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiohttp import web

from bot.core.ports import Sender

#: Largest request body accepted from a platform (Slack and Telegram send far less).
MAX_BODY = 1024 * 1024


class Platform(Protocol):
    """A chat platform served by ``hoc-bot run``.

    Attributes:
        name: ``slack`` or ``telegram`` (the ``platform`` of its users' IncomingMessages).
        sender: Delivers reminders to its users.
    """

    name: str
    sender: Sender

    def routes(self) -> Sequence[web.RouteDef]:
        """HTTP routes to add to the shared server (none in Socket Mode or long polling)."""
        ...

    async def start(self) -> None:
        """Connect (Socket Mode, polling, webhook registration, command menus)."""
        ...

    async def stop(self) -> None:
        """Stop receiving and finish what is in flight."""
        ...


def create_app(
    platforms: Sequence[Platform],
    *,
    ready: Callable[[], Awaitable[bool]] | None = None,
    metrics: Callable[[], Awaitable[bytes]] | None = None,
) -> web.Application:
    """The aiohttp application with every platform's routes, health endpoints and ``/metrics``."""
    app = web.Application(client_max_size=MAX_BODY)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ok = True if ready is None else await ready()
        return web.json_response({"ready": ok}, status=200 if ok else 503)

    async def metrics_page(_: web.Request) -> web.Response:
        assert metrics is not None
        body = await metrics()
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if metrics is not None:
        app.router.add_get("/metrics", metrics_page)
    for platform in platforms:
        app.router.add_routes(platform.routes())

    async def lifecycle(app: web.Application) -> object:
        for platform in platforms:
            await platform.start()
        yield
        for platform in reversed(platforms):
            await platform.stop()

    app.cleanup_ctx.append(lifecycle)  # type: ignore[arg-type]
    return app
