"""The /admin console's routes on the bot's aiohttp server: sign-in, progress, review, sign-out.

Pages are rendered on the server with Jinja2 (autoescaped), imported on the first request only so
that ``hoc-bot run`` stays lean while nobody uses the console. Every page but the landing page,
the sign-in page and the stylesheet needs a live session (see :mod:`bot.admin.auth`); a request
without one is sent to the landing page (GET) or refused (POST). Every POST checks its form's CSRF
token. The interface language comes from ``?lang=``, kept in the session, else from the browser's
Accept-Language, among the bot's catalogs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from bot.admin.auth import COOKIE, LINK_TTL, SESSION_IDLE, SESSION_MAX, SIGNIN_COOKIE, AdminAuth, Session
from bot.i18n import BabelTranslator, Catalogs, negotiate

if TYPE_CHECKING:
    import jinja2

_log = logging.getLogger("bot.admin")

HERE = Path(__file__).resolve().parent
#: Languages written right to left.
RTL = frozenset({"ar", "fa", "he", "ur"})
#: Headers of every console response.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
#: Paths (below /admin) open without a session.
PUBLIC = frozenset({"/admin/", "/admin/signin", "/admin/static/admin.css"})
#: Where the guard leaves the request's session (None when signed out).
SESSION_KEY: web.RequestKey[Session | None] = web.RequestKey("hoc_admin_session")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def accept_languages(header: str) -> list[str]:
    """The tags of an Accept-Language header, most wanted first (``*`` and q=0 left out)."""
    ranked = []
    for n, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, n, tag))
    return [tag for _, _, tag in sorted(ranked)]


class Console:
    """The console of one process: its routes, templates and sign-in.

    Args:
        auth: Links and sessions in the bot's database.
        catalogs: The bot's interface catalogs.
        engine_now: The clock (UTC) of the figures shown.
        admins: Who may be signed in (``platform:workspace:user`` as links record them); a session of
            someone removed from ``HOC_ADMINS`` stops working. Links made by ``hoc-bot admin link``
            (``cli:…``) need shell access to the server and are always accepted.
        figures: Reads the progress figures (``(filters, today) -> ProgressFigures``), run in a thread.
        review: Makes the questions review service (:class:`bot.admin.review.Review`) on the first
            request of the review page, inside the server's event loop (None: no review here).
    """

    def __init__(
        self,
        auth: AdminAuth,
        catalogs: Catalogs,
        *,
        now: Callable[[], dt.datetime],
        admins: Collection[str],
        figures: Callable[[Any, dt.date], Any],
        review: Callable[[], Any] | None = None,
    ) -> None:
        self.auth = auth
        self.catalogs = catalogs
        self.now = now
        self.admins = frozenset(admins)
        self.figures = figures
        self.languages = [lang for lang in catalogs.available if lang in catalogs.languages] or ["en"]
        self._templates: jinja2.Environment | None = None
        self._make_review = review
        self._review: Any = None
        #: State of the review page kept between requests (its jobs' choices), see review_page.
        self.review_jobs: dict[str, Any] = {}

    # ------------------------------------------------------------------ application
    def app(self) -> web.Application:
        """The sub-application to mount at ``/admin``."""
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self.index)
        app.router.add_get("/signin", self.signin_page)
        app.router.add_post("/signin", self.signin)
        app.router.add_get("/progress", self.progress)
        app.router.add_get("/progress.csv", self.progress_csv)
        app.router.add_get("/review", self.review)
        app.router.add_post("/signout", self.signout)
        app.router.add_get("/static/admin.css", self.stylesheet)
        from bot.admin.review_page import routes

        app.router.add_routes(routes(self))
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        session = await asyncio.to_thread(self.auth.session, request.cookies.get(COOKIE))
        if session is not None and not self._still_admin(session):
            session = None
        request[SESSION_KEY] = session
        if session is None and request.path not in PUBLIC:
            if request.method == "GET":
                response: web.StreamResponse = redirect("/admin/")
            else:
                response = await self._error(request, 403, "ended")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                _secure(exc)
                raise
        return _secure(response)

    def _still_admin(self, session: Session) -> bool:
        return session.admin.startswith("cli:") or session.admin in self.admins

    # ------------------------------------------------------------------ rendering
    def templates(self) -> jinja2.Environment:
        """The template environment, made on first use (Jinja2 is imported only then)."""
        if self._templates is None:
            import jinja2

            self._templates = jinja2.Environment(
                loader=jinja2.FileSystemLoader(HERE / "templates"),
                autoescape=True,
                undefined=jinja2.StrictUndefined,
                trim_blocks=True,
                lstrip_blocks=True,
            )
        return self._templates

    def language(self, request: web.Request) -> str:
        """The page's language: ``?lang=``, the session's, the browser's, else the bot's default."""
        session = request.get(SESSION_KEY)
        candidates = [request.query.get("lang"), session.lang if session else None]
        candidates += accept_languages(request.headers.get("Accept-Language", ""))
        for candidate in candidates:
            found = negotiate(candidate, self.languages)
            if found:
                return found
        default = self.catalogs.default
        return default if default in self.languages else self.languages[0]

    def translator(self, request: web.Request) -> BabelTranslator:
        """The translator of the page's language."""
        return self.catalogs.get(self.language(request))

    def page(self, request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
        """Render ``template`` with what every page needs (translator, language menu, session)."""
        lang = self.language(request)
        t = self.catalogs.get(lang)
        session = request.get(SESSION_KEY)
        query = {k: v for k, v in request.query.items() if k not in {"lang", "token"}}
        menu = [
            {
                "code": code,
                "name": _language_name(code),
                "href": request.path + "?" + urlencode({**query, "lang": code}),
                "current": code == lang,
            }
            for code in self.languages
        ]
        html = (
            self.templates()
            .get_template(template)
            .render(
                gettext=t.gettext,
                ngettext=t.ngettext,
                t=t,
                lang=lang,
                dir="rtl" if lang.split("-")[0] in RTL else "ltr",
                languages=menu,
                session=session,
                csrf=session.csrf if session else "",
                path=request.path,
                **context,
            )
        )
        return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)

    async def _error(self, request: web.Request, status: int, reason: str) -> web.Response:
        """A page saying why a request was refused: ``ended`` (no session), ``signin`` (sign-in form
        without its browser's token) or ``form`` (a form without the session's CSRF token)."""
        t = self.translator(request)
        titles = {
            "ended": t.gettext("Your session has ended: sign in again."),
            "signin": t.gettext("The form has expired: open the sign-in link again."),
            "form": t.gettext("The form has expired: reload the page and try again."),
        }
        return self.page(request, "message.html", status=status, title=titles[reason], message="")

    # ------------------------------------------------------------------ pages
    async def index(self, request: web.Request) -> web.StreamResponse:
        """Signed in: the progress page; otherwise how to get a sign-in link."""
        if request.get(SESSION_KEY) is not None:
            return redirect("/admin/progress")
        return self.page(request, "landing.html", minutes=int(LINK_TTL.total_seconds() // 60))

    async def signin_page(self, request: web.Request) -> web.StreamResponse:
        """The page of a sign-in link: a button that spends it (opening the link alone does not)."""
        import secrets

        token = request.query.get("token", "")
        state = await asyncio.to_thread(self.auth.link_state, token) if token and len(token) <= 100 else "unknown"
        if state != "valid":
            return self._bad_link(request, state)
        nonce = secrets.token_urlsafe(24)
        chosen = negotiate(request.query.get("lang"), self.languages)
        action = "/admin/signin" + (f"?lang={chosen}" if chosen else "")
        response = self.page(
            request, "signin.html", token=token, signin_csrf=self.auth.signin_csrf(nonce), action=action
        )
        _set_cookie(response, SIGNIN_COOKIE, nonce, LINK_TTL)
        return response

    def _bad_link(self, request: web.Request, state: str) -> web.Response:
        t = self.translator(request)
        title = {
            "expired": t.gettext("This sign-in link has expired."),
            "used": t.gettext("This sign-in link was already used."),
        }.get(state, t.gettext("This sign-in link is not valid."))
        message = t.gettext("Ask the bot for a new one: send “admin” to it, or run “hoc-bot admin link”.")
        return self.page(request, "message.html", status=403, title=title, message=message)

    async def signin(self, request: web.Request) -> web.StreamResponse:
        """Spend the link and open a session."""
        form = await request.post()
        token = str(form.get("token", ""))
        if not self.auth.check_signin_csrf(request.cookies.get(SIGNIN_COOKIE), str(form.get("csrf", ""))):
            return await self._error(request, 403, "signin")
        lang = negotiate(request.query.get("lang"), self.languages)
        session_id = await asyncio.to_thread(self.auth.redeem, token, lang) if len(token) <= 100 else None
        if session_id is None:
            state = await asyncio.to_thread(self.auth.link_state, token) if len(token) <= 100 else "unknown"
            return self._bad_link(request, state)
        _log.info("admin signed in", extra={"fields": {"event": "admin_signin"}})
        response = redirect("/admin/progress")
        _set_cookie(response, COOKIE, session_id, SESSION_MAX)
        response.del_cookie(SIGNIN_COOKIE, path="/admin")
        return response

    async def signout(self, request: web.Request) -> web.StreamResponse:
        """End the session everywhere."""
        session = self.session(request)
        form = await request.post()
        if not self.auth.check_csrf(session, str(form.get("csrf", ""))):
            return await self._error(request, 403, "form")
        await asyncio.to_thread(self.auth.revoke, session)
        response = redirect("/admin/")
        response.del_cookie(COOKIE, path="/admin")
        return response

    async def _remember_language(self, request: web.Request) -> None:
        session = self.session(request)
        chosen = negotiate(request.query.get("lang"), self.languages)
        if chosen and chosen != session.lang:
            await asyncio.to_thread(self.auth.set_lang, session, chosen)

    async def _figures(self, request: web.Request) -> tuple[Any, Any, dt.date]:
        from bot.store.progress import Filters

        today = self.now().date()
        raw = Filters(request.query.get("platform") or None, request.query.get("language") or None)
        figures = await asyncio.to_thread(self.figures, raw, today)
        # Only values offered by the form filter anything; another value is ignored.
        filters = Filters(
            raw.platform if raw.platform in figures.platforms else None,
            raw.lang if raw.lang in figures.langs else None,
        )
        if filters != raw:
            figures = await asyncio.to_thread(self.figures, filters, today)
        return figures, filters, today

    async def progress(self, request: web.Request) -> web.StreamResponse:
        """The programme's progress: charts and tables of counts."""
        from bot.admin.progress import language_name, platform_name, sections

        await self._remember_language(request)
        figures, filters, today = await self._figures(request)
        t = self.translator(request)
        query = {k: v for k, v in (("platform", filters.platform), ("language", filters.lang)) if v}
        return self.page(
            request,
            "progress.html",
            sections=sections(figures, t, today),
            platforms=[(p, platform_name(p)) for p in figures.platforms],
            langs=[(code, language_name(code, t)) for code in figures.langs],
            filters=filters,
            coordinators=t.format_number(figures.coordinators),
            today=t.format_date(today),
            csv_href="/admin/progress.csv" + ("?" + urlencode(query) if query else ""),
        )

    async def progress_csv(self, request: web.Request) -> web.StreamResponse:
        """The progress page's tables as one CSV file."""
        from bot.admin.progress import sections, to_csv

        figures, _, today = await self._figures(request)
        body = to_csv(sections(figures, self.translator(request), today))
        return web.Response(
            body=body.encode("utf-8-sig"),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="hoc-progress-{today.isoformat()}.csv"'},
        )

    async def review(self, request: web.Request) -> web.StreamResponse:
        """The questions review (see :mod:`bot.admin.review_page`)."""
        from bot.admin.review_page import review_page

        await self._remember_language(request)
        return await review_page(self, request)

    async def stylesheet(self, request: web.Request) -> web.StreamResponse:
        """The console's one stylesheet."""
        return web.Response(
            body=(HERE / "static" / "admin.css").read_bytes(),
            content_type="text/css",
            charset="utf-8",
            headers={"Cache-Control": "max-age=3600"},
        )

    def review_service(self) -> Any:
        """The questions review service, made on first use; None when this console has none."""
        if self._review is None and self._make_review is not None:
            self._review = self._make_review()
        return self._review

    def session(self, request: web.Request) -> Session:
        """The signed-in session of a page past the guard."""
        session = request[SESSION_KEY]
        assert session is not None, "a page past the guard has a session"
        return session

    async def refuse_form(self, request: web.Request) -> web.Response:
        """403: a form without the session's CSRF token."""
        return await self._error(request, 403, "form")

    async def checked_form(self, request: web.Request) -> Mapping[str, Any] | None:
        """A POST's form when its CSRF token is the session's; None otherwise (answer 403)."""
        form = await request.post()
        if not self.auth.check_csrf(self.session(request), str(form.get("csrf", ""))):
            return None
        return form


def redirect(location: str) -> web.Response:
    """303 See Other to ``location`` (after a POST, the browser GETs it)."""
    return web.Response(status=303, headers={"Location": location})


def _secure(response: web.StreamResponse) -> web.StreamResponse:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _language_name(code: str) -> str:
    from bot.admin.progress import LANGUAGE_NAMES

    return LANGUAGE_NAMES.get(code, code)


def _set_cookie(response: web.StreamResponse, name: str, value: str, lifetime: dt.timedelta) -> None:
    """A cookie only this console reads: HttpOnly, Secure, SameSite=Strict, path /admin."""
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        path="/admin",
        httponly=True,
        secure=True,
        samesite="Strict",
    )


def admin_names(admins: Collection[tuple[str, str, str]]) -> set[str]:
    """``HOC_ADMINS`` entries as sign-in links record them (``platform:workspace:user``)."""
    return {":".join(admin) for admin in admins}


def mount(app: web.Application, console: Console) -> None:
    """Serve ``console`` at ``/admin/`` (``/admin`` redirects there)."""

    async def to_index(_: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/admin/")

    app.router.add_get("/admin", to_index)
    app.add_subapp("/admin", console.app())


def build_console(
    store: object,
    catalogs: Catalogs,
    env: Mapping[str, str],
    now: Callable[[], dt.datetime],
    *,
    kb_dir: Path | None = None,
    reload: Callable[[], list[str]] | None = None,
) -> Console | None:
    """The console on ``store``'s database; None when the store has none (an in-memory store).

    With ``kb_dir``, the review page edits that knowledge directory and calls ``reload`` (the running
    bot's ``Bot.reload``) on the server's event loop after a change, as SIGHUP does.
    """
    from bot.ops import parse_admins
    from bot.store.progress import progress_figures

    engine = getattr(store, "engine", None)
    if engine is None:
        return None

    def review() -> Any:
        from bot.admin.review import Review
        from bot.admin.review_eval import eval_dir

        assert kb_dir is not None
        loop = asyncio.get_running_loop()
        on_loop = None if reload is None else call_on_loop(loop, reload)
        return Review(store, kb_dir, eval_dir=eval_dir(env), reload=on_loop, env=_subprocess_env(env))  # type: ignore[arg-type]

    return Console(
        AdminAuth.from_env(engine, dict(env), now),
        catalogs,
        now=now,
        admins=admin_names(parse_admins(env.get("HOC_ADMINS", ""))),
        figures=lambda filters, today: progress_figures(engine, filters, today),
        review=review if kb_dir is not None else None,
    )


#: Longest a reload may wait for the event loop (it runs between two requests).
RELOAD_WAIT = 120.0


def call_on_loop(loop: asyncio.AbstractEventLoop, func: Callable[[], list[str]]) -> Callable[[], list[str]]:
    """``func`` made callable from another thread: it runs on ``loop`` (as SIGHUP's reload does in
    ``hoc-bot run``) and the calling thread waits for its result."""

    async def call() -> list[str]:
        return func()

    def from_thread() -> list[str]:
        try:
            return asyncio.run_coroutine_threadsafe(call(), loop).result(RELOAD_WAIT)
        except TimeoutError:
            return [f"the bot did not reload within {RELOAD_WAIT:.0f} s"]

    return from_thread


def _subprocess_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the review's training and evaluation: the process's, with ``env`` over it."""
    import os

    return {**os.environ, **env}


#: Stated in the README: how long sessions and links last.
LIFETIMES = {"link": LINK_TTL, "session": SESSION_MAX, "idle": SESSION_IDLE}
