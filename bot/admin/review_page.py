"""The review page's route: where the questions review engine plugs into the console.

Until the engine exists, the page says so. The engine's page renders with ``console.page(request,
"review.html", ...)``, reads its POST forms with ``await console.checked_form(request)`` (None when
the CSRF token is missing or wrong: answer 403) and adds its POST routes in :func:`routes`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from bot.admin.web import Console


async def review_page(console: Console, request: web.Request) -> web.StreamResponse:
    """``GET /admin/review``."""
    t = console.translator(request)
    return console.page(
        request,
        "message.html",
        title=t.gettext("Review of questions"),
        message=t.gettext("The review of unanswered questions is not available yet in this version."),
    )


def routes(console: Console) -> list[web.RouteDef]:
    """The review's other routes (POST forms), added to the console's application."""
    return []
