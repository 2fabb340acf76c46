"""What operators see: metrics, the questions log, one JSON log line per message, admin commands."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import sys
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from bot.core.errors import ConfigError
from bot.core.handler import Turn, clarify_choice
from bot.core.messages import IncomingMessage, Reply, fit_label
from bot.core.ports import Store
from bot.core.text import normalize, strip_markup

if TYPE_CHECKING:
    from bot.app import Bot

_log = logging.getLogger("bot.events")
_DECISIONS = frozenset({"answer", "clarify", "fallback"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def user_hash(platform: str, user: str) -> str:
    """A short stable hash of a user id: enough to follow one user in the logs, not to name them."""
    return hashlib.sha256(f"{platform}:{user}".encode()).hexdigest()[:12]


class Metrics:
    """Prometheus metrics of one process."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

        self.registry = CollectorRegistry()
        # process_resident_memory_bytes, process_cpu_seconds_total, open file descriptors...
        ProcessCollector(registry=self.registry)
        self.heap_blocks = Gauge(
            "hoc_python_heap_blocks",
            "Memory blocks held by Python objects (sys.getallocatedblocks): flat while the resident "
            "memory grows means the allocator keeps freed memory, not a leak",
            registry=self.registry,
        )
        self.heap_blocks.set_function(sys.getallocatedblocks)
        self.messages = Counter(
            "hoc_messages",
            "Messages handled, by platform and decision",
            ["platform", "decision"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hoc_handle_seconds",
            "Time to answer a message (matching included)",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=self.registry,
        )
        self.reminders = Gauge(
            "hoc_reminders",
            "Reminders by status (read from the database at scrape time)",
            ["status"],
            registry=self.registry,
        )
        self.sync_restarts = Counter(
            "hoc_platform_sync_restarts",
            "Restarts of a platform's event loop after it failed (Matrix sync), by platform",
            ["platform"],
            registry=self.registry,
        )
        self.api_errors = Counter(
            "hoc_platform_api_errors",
            "Platform API errors, by platform and code",
            ["platform", "code"],
            registry=self.registry,
        )


#: Time between two purges of questions older than the retention period.
QUESTION_PURGE_EVERY = dt.timedelta(hours=1)


class Observer:
    """Called after every message: metrics, the questions log and one JSON-able log line."""

    def __init__(self, bot: Bot, metrics: Metrics | None, *, log_text: bool = False) -> None:
        self.bot = bot
        self.metrics = metrics
        self.log_text = log_text
        self._next_purge: dt.datetime | None = None

    def __call__(self, msg: IncomingMessage, replies: list[Reply], seconds: float) -> None:
        """Record one handled message."""
        main = next((r for r in reversed(replies) if r.kind in _DECISIONS), None)
        decision = main.kind if main else (replies[-1].kind if replies else "none")
        if self.metrics is not None:
            self.metrics.messages.labels(msg.platform, decision).inc()
            self.metrics.latency.observe(seconds)
        if main is not None and msg.action:
            self._record_choice(msg)
        if main is not None and not msg.action:
            text = None if main.kind == "answer" else normalize(msg.text)[:300] or None
            now = self.bot.handler.clock.now()
            store = self.bot.handler.store
            store.log_question(
                msg.platform,
                main.kind,
                main.topic,
                text,
                now,
                lang=main.lang,
                guesses=_guesses(main.meta.get("guesses")),
                original=typed_text(msg.text) if text is not None else None,
                ref=str(main.meta["ref"]) if main.kind == "clarify" and main.meta.get("ref") else None,
            )
            if self._next_purge is None or now >= self._next_purge:
                # The retention period, applied about once an hour by each process.
                self._next_purge = now + QUESTION_PURGE_EVERY
                store.purge_questions(now - dt.timedelta(days=self.bot.settings.question_retention_days))
        extra: dict[str, object] = {
            "event": "message",
            "platform": msg.platform,
            "user": user_hash(msg.platform, msg.user),
            "decision": decision,
            "topic": main.topic if main else None,
            "ms": round(seconds * 1000, 2),
        }
        if self.log_text:
            extra["text"] = msg.text[:500]
        _log.info("message handled", extra={"fields": extra})

    def _record_choice(self, msg: IncomingMessage) -> None:
        """A "did you mean" button pressed: its entry becomes the question's implicit label."""
        entry, ref = clarify_choice(msg.text)
        if entry and ref and self.bot.handler.kb.get(entry) is not None:
            self.bot.handler.store.record_choice(ref, entry)


def typed_text(text: str) -> str | None:
    """A question as the questions log keeps it for review: markup and control characters out,
    spaces collapsed, at most 300 characters."""
    cleaned = " ".join(strip_markup(_CONTROL.sub(" ", text)).split())[:300]
    return cleaned or None


def _guesses(value: object) -> list[tuple[str, float]]:
    """The matcher's guesses from a reply's meta (``[[label, score], ...]``)."""
    if not isinstance(value, list | tuple):
        return []
    out = []
    for item in value[:3]:
        if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[1], int | float):
            out.append((str(item[0]), float(item[1])))
    return out


#: Platforms whose user ids are only unique within a workspace: an admin names the workspace too.
_WORKSPACE_PLATFORMS = frozenset({"slack"})


def parse_admins(value: str) -> frozenset[tuple[str, str, str]]:
    """The admins of ``HOC_ADMINS`` as ``(platform, workspace, user)``: ``slack:T123:U456`` (a Slack
    user id is only unique within its workspace), ``telegram:42``, ``console:me``; comma-separated.

    Raises ConfigError naming ``HOC_ADMINS`` for an entry without its platform, or a Slack one
    without its workspace: either would let someone else with the same id in.
    """
    admins = set()
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        parts = entry.split(":")
        platform = parts[0].lower()
        if platform in _WORKSPACE_PLATFORMS and len(parts) == 3 and all(parts):
            admins.add((platform, parts[1], parts[2]))
        elif platform not in _WORKSPACE_PLATFORMS and len(parts) == 2 and all(parts):
            admins.add((platform, "", parts[1]))
        else:
            raise ConfigError(
                f"HOC_ADMINS: {entry[:40]!r} is not platform:user"
                " (slack:TEAM:USER for Slack, telegram:ID, console:NAME)"
            )
    return frozenset(admins)


class Admin:
    """``stats``, ``reload`` and ``admin`` (a sign-in link to the /admin console) for the users listed in
    ``HOC_ADMINS`` (see :func:`parse_admins`)."""

    def __init__(self, bot: Bot, admins: Collection[tuple[str, str, str]], reload: Callable[[], list[str]]) -> None:
        self.bot = bot
        self.admins = frozenset(admins)
        self.reload_kb = reload
        bot.handler.register("stats", self.stats)
        bot.handler.register("reload", self.reload)
        bot.handler.register("admin", self.admin_link)

    def _allowed(self, turn: Turn) -> bool:
        msg = turn.msg
        workspace = msg.workspace if msg.platform in _WORKSPACE_PLATFORMS else ""
        return (msg.platform, workspace, msg.user) in self.admins

    def _refuse(self, turn: Turn, command: str) -> list[Reply]:
        _log.warning(
            "admin command refused",
            extra={
                "fields": {
                    "event": "admin_refused",
                    "command": command,
                    "user": user_hash(turn.msg.platform, turn.msg.user),
                }
            },
        )
        return [
            Reply(
                turn.t.gettext("Sorry, this command is reserved for the bot's administrators."),
                lang=turn.lang,
                kind="error",
            )
        ]

    def stats(self, turn: Turn, args: str) -> list[Reply]:
        """Figures for administrators."""
        if not self._allowed(turn):
            return self._refuse(turn, "stats")
        return [Reply(format_stats(self.bot.handler.store), lang=turn.lang, kind="stats")]

    def admin_link(self, turn: Turn, args: str) -> list[Reply]:
        """A single-use sign-in link to the /admin console (see :mod:`bot.admin.link`)."""
        if not self._allowed(turn):
            return self._refuse(turn, "admin")
        from bot.admin.link import issue

        msg, t = turn.msg, turn.t
        workspace = msg.workspace if msg.platform in _WORKSPACE_PLATFORMS else ""
        env = self.bot.settings.env or {}
        link = issue(
            self.bot.handler.store, env, self.bot.handler.clock.now(), f"{msg.platform}:{workspace}:{msg.user}"
        )
        if link is None:
            text = t.gettext("The console needs the bot's database: it is not available in this mode.")
            return [Reply(text, lang=turn.lang, kind="error")]
        text = t.ngettext(
            "Your sign-in link to the console, valid {minutes} minute and only once:\n{url}",
            "Your sign-in link to the console, valid {minutes} minutes and only once:\n{url}",
            link.minutes,
        ).format(minutes=link.minutes, url=link.url)
        if not link.complete:
            text += "\n" + t.gettext(
                "HOC_PUBLIC_URL is not set: put the bot's public address (https://…) before this link."
            )
        return [Reply(text, lang=turn.lang, kind="admin_link")]

    def reload(self, turn: Turn, args: str) -> list[Reply]:
        """Reload the knowledge base; an invalid one is refused and the current one kept."""
        if not self._allowed(turn):
            return self._refuse(turn, "reload")
        problems = self.reload_kb()
        t = turn.t
        if problems:
            text = t.gettext("The knowledge base was not reloaded; the current one stays in service:")
            return [Reply(text + "\n" + "\n".join(problems[:20]), lang=turn.lang, kind="error")]
        count = len(self.bot.handler.kb.entries)
        return [
            Reply(
                t.ngettext(
                    "Knowledge base reloaded: {count} entry.", "Knowledge base reloaded: {count} entries.", count
                ).format(count=count),
                lang=turn.lang,
                kind="reload",
                buttons=(),
            )
        ]


def format_stats(store: Store) -> str:
    """Users per platform, steps completed, questions by decision, the 20 most frequent unanswered."""
    figures = store.stats(20)
    lines = ["users: " + (", ".join(f"{p} {n}" for p, n in sorted(figures.users_by_platform.items())) or "0")]
    lines.append("steps done: " + ", ".join(f"{s}: {figures.steps_done.get(s, 0)}" for s in range(1, 6)))
    lines.append(
        "questions: " + (", ".join(f"{d} {n}" for d, n in sorted(figures.questions_by_decision.items())) or "0")
    )
    if figures.unanswered:
        lines.append("most frequent unanswered questions:")
        lines.extend(f"{n:>5}  {fit_label(text, 100)}" for text, n in figures.unanswered)
    return "\n".join(lines)


def refresh_reminder_gauge(bot: Bot, metrics: Metrics) -> None:
    """Set the reminders gauge from the database's counts."""
    counts = bot.handler.store.stats(0).reminders_by_status
    for status in ("pending", "sent", "failed", "dropped", "cancelled"):
        metrics.reminders.labels(status).set(counts.get(status, 0))


class ApiErrorCounter(logging.Handler):
    """Counts the platform API errors that adapters log (records whose fields say ``api_error``)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(logging.WARNING)
        self.metrics = metrics

    def emit(self, record: logging.LogRecord) -> None:
        """Count the record if it reports an API error."""
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields.get("event") == "api_error":
            self.metrics.api_errors.labels(str(fields.get("platform")), str(fields.get("code"))).inc()
