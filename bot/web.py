"""The one aiohttp server: platform routes, ``/healthz`` and ``/readyz``."""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.core.ports import Sender

#: Largest request body accepted from a platform (Slack and Telegram send far less).
MAX_BODY = 1024 * 1024


#: Seconds a client has to send a request's body once its headers were accepted.
BODY_DEADLINE = 10.0
#: A body of this size or less is cheap to hold; larger ones (or of unknown size) count as large.
SMALL_BODY = 64 * 1024
#: Large bodies being read at once, across platforms; a request beyond gets a 503 at once.
MAX_LARGE_READS = 16


class BodyReader:
    """Reads request bodies so that clients who stall cost little: a size cap, a deadline, and a cap
    on large bodies being read at once (Slack's and Telegram's requests are a few kilobytes)."""

    def __init__(
        self, limit: int = MAX_BODY, deadline: float = BODY_DEADLINE, max_large: int = MAX_LARGE_READS
    ) -> None:
        self.limit = limit
        self.deadline = deadline
        self.max_large = max_large
        self.large = 0

    async def read(self, request: web.Request) -> bytes:
        """The body of ``request``; raises 413 (too large), 408 (too slow) or 503 (too many at once)."""
        size = request.content_length
        if size is not None and size > self.limit:
            raise web.HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=size)
        large = size is None or size > SMALL_BODY
        if large and self.large >= self.max_large:
            raise web.HTTPServiceUnavailable(text="busy", headers={"Retry-After": "1"})
        self.large += large
        try:
            async with asyncio.timeout(self.deadline):
                body = await request.read()
        except TimeoutError:
            raise web.HTTPRequestTimeout(text="body too slow") from None
        finally:
            self.large -= large
        if len(body) > self.limit:
            raise web.HTTPRequestEntityTooLarge(max_size=self.limit, actual_size=len(body))
        return body


#: The process's reader: the cap on large bodies is shared by every platform's routes.
BODIES = BodyReader()


#: Paths that are not a platform's: they neither count as requests in flight nor wait for them.
OWN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
#: Paths of the /admin console (bot.admin.web): not a platform's either.
CONSOLE_PREFIX = "/admin"
#: Longest time the work of an acknowledged request waits for the requests after it to be acknowledged.
ACK_FIRST_MAX_DELAY = 1.0
#: Seconds without a platform request in flight after which waiting work starts.
ACK_FIRST_QUIET = 0.005


class AckFirst:
    """Acknowledgements first: the work of an acknowledged request waits while others are in flight.

    Slack wants its acknowledgement within 3 seconds and Telegram expects a webhook to answer at
    once; a reply may come a moment later. During a burst of requests, answering the first ones
    would slow down acknowledging the next ones, since both share this process. So the work an
    acknowledged request started waits (:meth:`turn`) until no platform request has been in flight
    for ``quiet`` seconds, or until ``max_delay`` seconds after its request arrived, whichever comes
    first: a burst is acknowledged at the pace of acknowledging alone, and under a sustained load
    replies are late by ``max_delay`` at most, then share the process with acknowledging again.
    Each platform bounds how many of its tasks wait at once.
    """

    def __init__(
        self,
        max_delay: float = ACK_FIRST_MAX_DELAY,
        quiet: float = ACK_FIRST_QUIET,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_delay = max_delay
        self.quiet = quiet
        self.clock = clock
        self.in_flight = 0
        self._open: asyncio.Event | None = None
        self._opening: asyncio.TimerHandle | None = None

    def _event(self) -> asyncio.Event:
        if self._open is None:
            self._open = asyncio.Event()
            if not self.in_flight:
                self._open.set()
        return self._open

    def started(self) -> None:
        """A platform request arrived."""
        self.in_flight += 1
        self._event().clear()
        if self._opening is not None:
            self._opening.cancel()
            self._opening = None

    def finished(self) -> None:
        """A platform request was answered."""
        self.in_flight = max(0, self.in_flight - 1)
        if not self.in_flight and self._opening is None:
            self._opening = asyncio.get_running_loop().call_later(self.quiet, self._reopen)

    def _reopen(self) -> None:
        self._opening = None
        if not self.in_flight:
            self._event().set()

    async def turn(self, since: float) -> None:
        """Return once no request was in flight for ``quiet`` seconds, or ``max_delay`` after ``since``
        (a ``clock`` time, when the request arrived)."""
        event = self._event()
        if event.is_set():
            return
        left = since + self.max_delay - self.clock()
        if left <= 0:
            return
        try:
            async with asyncio.timeout(left):
                await event.wait()
        except TimeoutError:
            pass


class ProblemAccessLogger(AbstractAccessLogger):
    """Logs the requests that failed (status 400 and up) or were slow; every handled message has its own line."""

    #: Seconds after which a successful request is logged too.
    SLOW = 1.0

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if response.status < 400 and time < self.SLOW:
            return
        self.logger.info(
            "%s %s %d in %.0f ms",
            request.method,
            request.path,
            response.status,
            time * 1000,
            extra={"http_status": response.status},
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


class Platform(Protocol):
    """A chat platform served by ``hoc-bot run``.

    Attributes:
        name: ``slack`` or ``telegram`` (the ``platform`` of its users' IncomingMessages).
        sender: Delivers reminders to its users.
        gate: Its work waits for it after a request is acknowledged (set by :func:`create_app`).
    """

    name: str
    sender: Sender
    gate: AckFirst

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
    metrics_token: str | None = None,
    gate: AckFirst | None = None,
) -> web.Application:
    """The aiohttp application with every platform's routes, health endpoints and ``/metrics``.

    The platforms share ``gate`` (a new one by default): their requests count as in flight until
    answered, and the work they start waits for them (see :class:`AckFirst`). With ``metrics_token``,
    ``/metrics`` answers only requests with ``Authorization: Bearer <token>``.
    """
    gate = gate or AckFirst()

    @web.middleware
    async def in_flight(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in OWN_PATHS or request.path.startswith(CONSOLE_PREFIX):
            return await handler(request)
        gate.started()
        try:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                response = web.Response(status=exc.status, text=exc.text, headers=exc.headers)
        finally:
            gate.finished()
        if response.status >= 400:
            # A refused request's body is not read: close the connection rather than let aiohttp buffer
            # the rest of it (a flood of unauthenticated 1 MB bodies would otherwise cost ~128 KB each).
            response.force_close()
        return response

    app = web.Application(client_max_size=MAX_BODY, middlewares=[in_flight])

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        ok = True if ready is None else await ready()
        body: dict[str, object] = {"ready": ok}
        # A platform with a loop of its own (Matrix sync) reports on it: not ready while it fails.
        reports = {p.name: p.health() for p in platforms if callable(getattr(p, "health", None))}  # type: ignore[attr-defined]
        if reports:
            body["platforms"] = reports
            ok = ok and all(bool(report.get("ready", True)) for report in reports.values())
            body["ready"] = ok
        return web.json_response(body, status=200 if ok else 503)

    async def metrics_page(request: web.Request) -> web.Response:
        assert metrics is not None
        if metrics_token is not None:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            # "replace": a header that is not valid text must not turn into a server error.
            if not hmac.compare_digest(given.encode("utf-8", "replace"), metrics_token.encode()):
                return web.Response(status=401, text="token required", headers={"WWW-Authenticate": "Bearer"})
        body = await metrics()
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    if metrics is not None:
        app.router.add_get("/metrics", metrics_page)
    for platform in platforms:
        platform.gate = gate
        app.router.add_routes(platform.routes())

    async def lifecycle(app: web.Application) -> object:
        for platform in platforms:
            await platform.start()
        yield
        # Together: each lets its events in hand finish for a while, and shutdown time is bounded.
        await asyncio.gather(*(platform.stop() for platform in platforms))

    app.cleanup_ctx.append(lifecycle)  # type: ignore[arg-type]
    return app
