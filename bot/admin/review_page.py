"""The review page's routes: the questions waiting for review, the choices applied in the background.

- ``GET /admin/review``: the groups of questions (filtered by language with ``?language=``), each with
  one choice: leave for later, teach as an entry, off-topic, or skip; all in one form.
- ``POST /admin/review``: skips are recorded at once; assignments and off-topic marks become one change,
  applied by the review engine in a background thread (:meth:`bot.admin.review.Review.start_apply`);
  the browser goes to the job's page.
- ``GET /admin/review/jobs/<id>``: while the job runs, its stage (the page refreshes itself, no
  JavaScript needed); then the outcome: counts, accuracy before and after on the evaluation sets,
  the diff of ``knowledge/``, or what went wrong with the choices kept to try again.
- ``GET /admin/review/jobs/<id>.patch``: the diff as a file (``text/x-diff``).

The engine and its dependencies are imported on the first request of these pages only (``hoc-bot run``
stays lean). The engine reloads the running bot on the server's event loop (see
:func:`bot.admin.web.build_console`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

if TYPE_CHECKING:
    from bot.admin.web import Console

#: Most groups on one page (the most asked first).
PAGE_GROUPS = 50
#: Jobs whose choices the console remembers (to try again after a failure).
KEPT_JOBS = 50
#: Seconds between two refreshes of a running job's page.
REFRESH_SECONDS = 2
JOB = "{job:[0-9a-f]{32}}"


@dataclass(slots=True)
class PageJob:
    """What the console remembers of an apply it started: the choices, to offer them again."""

    id: str
    choices: dict[str, str] = field(default_factory=dict)
    skipped: int = 0


def _unavailable(console: Console, request: web.Request) -> web.Response:
    t = console.translator(request)
    return console.page(
        request,
        "message.html",
        status=404,
        title=t.gettext("Review of questions"),
        message=t.gettext("The review is not available here: this console has no knowledge directory to edit."),
    )


async def review_page(
    console: Console,
    request: web.Request,
    *,
    error: str = "",
    chosen: dict[str, str] | None = None,
    status: int = 200,
) -> web.StreamResponse:
    """``GET /admin/review`` (also the form shown again, with ``error``, after a refused POST)."""
    from bot.admin.progress import language_name
    from bot.admin.review_view import group_view

    review = console.review_service()
    if review is None:
        return _unavailable(console, request)
    t = console.translator(request)
    every = await asyncio.to_thread(review.groups)
    langs = sorted({g.lang for g in every})
    wanted = request.query.get("language") or None
    language = wanted if wanted in langs else None
    groups = [g for g in every if language is None or g.lang == language]
    entries = await asyncio.to_thread(review.entries, console.language(request))
    titles = dict(entries)
    if chosen is None:
        job = console.review_jobs.get(request.query.get("job", ""))
        chosen = dict(job.choices) if isinstance(job, PageJob) else {}
    notice = ""
    skipped = request.query.get("skipped", "")
    if skipped.isdecimal():
        n = int(skipped)
        notice = t.ngettext(
            "{count} question taken out of the queue without teaching anything.",
            "{count} questions taken out of the queue without teaching anything.",
            n,
        ).format(count=t.format_number(n))
    shown = groups[:PAGE_GROUPS]
    return console.page(
        request,
        "review.html",
        status=status,
        groups=[group_view(g, titles, t) for g in shown],
        total=len(groups),
        waiting=t.ngettext(
            "{count} group of questions waiting for review.",
            "{count} groups of questions waiting for review.",
            len(groups),
        ).format(count=t.format_number(len(groups))),
        more=t.gettext("The {shown} most asked are shown; the others come after them.").format(
            shown=t.format_number(len(shown))
        )
        if len(groups) > len(shown)
        else "",
        entries=entries,
        chosen=chosen,
        langs=[(code, language_name(code if code != "und" else "?", t)) for code in langs],
        language=language or "",
        notice=notice,
        error=error,
    )


async def submit(console: Console, request: web.Request) -> web.StreamResponse:
    """``POST /admin/review``: skip now, apply the rest in the background."""
    from bot.admin.review import ReviewError
    from bot.admin.review_view import MARK_OFF_TOPIC, SKIP, decisions_from_form

    form = await console.checked_form(request)
    if form is None:
        return await console.refuse_form(request)
    review = console.review_service()
    if review is None:
        return _unavailable(console, request)
    t = console.translator(request)
    groups = await asyncio.to_thread(review.groups)
    decisions = decisions_from_form(form, [g.key for g in groups])
    entry_ids = {eid for eid, _ in await asyncio.to_thread(review.entries)}
    unknown = [key for key, choice in decisions.items() if choice not in entry_ids | {MARK_OFF_TOPIC, SKIP}]
    if unknown:
        error = t.gettext("A choice names no entry of the knowledge base: choose again.")
        return await review_page(console, request, error=error, chosen=decisions, status=400)
    if not decisions:
        error = t.gettext("Choose what to do with at least one group, then apply.")
        return await review_page(console, request, error=error, chosen=decisions, status=400)
    skips = [key for key, choice in decisions.items() if choice == SKIP]
    by_label: dict[str, list[str]] = {}
    for key, choice in decisions.items():
        if choice != SKIP:
            by_label.setdefault(choice, []).append(key)

    def plan() -> Any:
        changes = [
            review.mark_off_topic(keys) if label == MARK_OFF_TOPIC else review.assign(keys, label)
            for label, keys in by_label.items()
        ]
        return review.merge(*changes) if changes else None

    try:
        change = await asyncio.to_thread(plan)
    except ReviewError:
        error = t.gettext("The review queue changed meanwhile (another tab or a terminal): check the choices again.")
        return await review_page(console, request, error=error, chosen=decisions, status=409)
    skipped = await asyncio.to_thread(review.skip, skips) if skips else 0
    back = {"language": str(form.get("language", ""))} if form.get("language") else {}
    if change is None:
        return _redirect("/admin/review?" + urlencode({**back, "skipped": skipped}))
    job_id = review.start_apply(change)
    kept = {key: choice for key, choice in decisions.items() if choice != SKIP}
    console.review_jobs[job_id] = PageJob(job_id, kept, skipped)
    while len(console.review_jobs) > KEPT_JOBS:
        console.review_jobs.pop(next(iter(console.review_jobs)))
    return _redirect(f"/admin/review/jobs/{job_id}")


async def job_page(console: Console, request: web.Request) -> web.StreamResponse:
    """``GET /admin/review/jobs/<id>``: the stage while it runs, then the outcome."""
    from bot.admin.review_view import outcome_view, stage_name

    review = console.review_service()
    if review is None:
        return _unavailable(console, request)
    t = console.translator(request)
    job_id = request.match_info["job"]
    job = review.status(job_id)
    if job is None:
        return console.page(
            request,
            "message.html",
            status=404,
            title=t.gettext("This review job is not known"),
            message=t.gettext(
                "The bot may have restarted since. What was applied is in the knowledge base; "
                "the other questions are still in the review queue."
            ),
        )
    page_job = console.review_jobs.get(job_id)
    if job.state != "done" or job.outcome is None:
        return console.page(
            request,
            "review_job.html",
            running=True,
            refresh=REFRESH_SECONDS,
            stage=stage_name(job.stage, t),
            started=t.format_datetime(job.started_at),
            job_id=job_id,
        )
    titles = dict(await asyncio.to_thread(review.entries, console.language(request)))
    outcome = job.outcome
    keep = outcome.status in {"busy", "invalid", "failed"} and isinstance(page_job, PageJob)
    return console.page(
        request,
        "review_job.html",
        running=False,
        outcome=outcome_view(outcome, titles, t),
        job_id=job_id,
        retry=sorted(page_job.choices.items()) if keep and isinstance(page_job, PageJob) else [],
        patch_href=f"/admin/review/jobs/{job_id}.patch",
    )


async def patch_file(console: Console, request: web.Request) -> web.StreamResponse:
    """``GET /admin/review/jobs/<id>.patch``: the change to the knowledge directory, as a patch file."""
    review = console.review_service()
    job = review.status(request.match_info["job"]) if review is not None else None
    if job is None or job.outcome is None or not job.outcome.diff:
        t = console.translator(request)
        return console.page(
            request,
            "message.html",
            status=404,
            title=t.gettext("No patch"),
            message=t.gettext("This review job changed no file of the knowledge base."),
        )
    name = f"kb-review-{job.started_at:%Y%m%d-%H%M%S}.patch"
    return web.Response(
        body=job.outcome.diff.encode("utf-8"),
        content_type="text/x-diff",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def routes(console: Console) -> list[web.RouteDef]:
    """The review's other routes (the form's POST, the jobs), added to the console's application."""

    async def post(request: web.Request) -> web.StreamResponse:
        return await submit(console, request)

    async def job(request: web.Request) -> web.StreamResponse:
        return await job_page(console, request)

    async def patch(request: web.Request) -> web.StreamResponse:
        return await patch_file(console, request)

    return [
        web.post("/review", post),
        web.get(f"/review/jobs/{JOB}.patch", patch),
        web.get(f"/review/jobs/{JOB}", job),
    ]
