"""Ports the core depends on, as Protocols; adapters and the store implement them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.core.messages import Reply


class Clock(Protocol):
    """Source of the current time."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """The current time in UTC."""
        return dt.datetime.now(dt.UTC)


class Translator(Protocol):
    """Per-user gettext catalog."""

    lang: str

    def gettext(self, message: str) -> str:
        """Translate ``message``."""
        ...

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate with the plural form for ``n``."""
        ...

    def pgettext(self, context: str, message: str) -> str:
        """Translate ``message`` in ``context`` (command words are in context ``command``)."""
        ...

    def format_date(self, value: dt.date) -> str:
        """A date as people of this locale write it in full."""
        ...

    def format_datetime(self, value: dt.datetime) -> str:
        """A date and time as people of this locale write it in full."""
        ...

    def format_list(self, items: Sequence[str]) -> str:
        """``a, b and c`` in this locale."""
        ...


class Translations(Protocol):
    """Gives the Translator of a locale and negotiates locales."""

    def get(self, lang: str) -> Translator:
        """The translator for a supported language code."""
        ...

    def negotiate(self, *candidates: str | None) -> str:
        """The first supported language among ``candidates`` (``fr-CA`` -> ``fr``), else the default."""
        ...


@dataclass(frozen=True, slots=True)
class UserKey:
    """Identity of a user: platform, workspace (Slack team, or empty) and the platform's user id."""

    platform: str
    workspace: str
    user: str


@dataclass(frozen=True, slots=True)
class UserState:
    """What the bot keeps about a user, and nothing more.

    Attributes:
        key: Who.
        chat: Where reminders go.
        locale: The language the user chose with ``lang`` (None: follow the platform's hint).
        locale_hint: The locale the platform last reported.
        written_lang: The language of the user's last whole sentence, when it differed from the one
            they were answered in (None: none seen); it comes before the platform's hint.
        tz: IANA time zone chosen by the user or reported by the platform.
        tz_chosen: True once the user set ``tz`` themselves.
        event_date: The date of the user's event (None: the configured default).
        steps_done: Step number -> when it was marked done (UTC).
        reminders_enabled: False after ``reminders off`` or a permanent delivery failure.
        welcomed: True once the welcome was shown.
        created_at: First contact (UTC).
    """

    key: UserKey
    chat: str = ""
    locale: str | None = None
    locale_hint: str | None = None
    written_lang: str | None = None
    tz: str | None = None
    tz_chosen: bool = False
    event_date: dt.date | None = None
    steps_done: Mapping[int, dt.datetime] = field(default_factory=dict)
    reminders_enabled: bool = True
    welcomed: bool = False
    created_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder row.

    Attributes:
        id: Store id.
        key: The user.
        chat: Where to send.
        step: Step to remind of (1–5), 0 for "after the Hour of Code", None for a plain nudge.
        due_at: When to send (UTC).
        kind: ``auto`` (from the schedule) or ``manual`` (asked by the user).
        status: ``pending``, ``sent``, ``failed``, ``cancelled`` or ``dropped``.
        attempts: Delivery attempts so far.
        lease_until: Claimed by a worker until then (UTC), or None.
        sent_at: When it was delivered.
        last_error: Last delivery error, for operators.
    """

    id: int
    key: UserKey
    chat: str
    step: int | None
    due_at: dt.datetime
    kind: str = "auto"
    status: str = "pending"
    attempts: int = 0
    lease_until: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Figures for operators; no user id in any of them.

    Attributes:
        users_by_platform: Platform -> number of users.
        steps_done: Step -> number of users who marked it done.
        questions_by_decision: ``answer``/``clarify``/``fallback`` -> number of questions.
        unanswered: The most frequent unanswered questions (normalised text, count).
        reminders_by_status: ``pending``/``sent``/``failed``/… -> number of reminders.
    """

    users_by_platform: Mapping[str, int]
    steps_done: Mapping[int, int]
    questions_by_decision: Mapping[str, int]
    unanswered: Sequence[tuple[str, int]]
    reminders_by_status: Mapping[str, int] = field(default_factory=dict)


#: The outcome a review gives a question that was made an off-topic example.
REVIEWED_OFF_TOPIC = "offtopic"


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """A question of the questions log, as a knowledge-base editor reviews it (no user id).

    Attributes:
        id: Its row id.
        platform: Where it was asked.
        decision: ``fallback`` or ``clarify`` (answered questions keep no text).
        topic: The entry the matcher leaned to (``clarify``), else None.
        text: The normalised text (``stats`` counts these).
        original: The text as typed (markup and control characters out, at most 300 characters).
        lang: The language the user was answered in.
        guesses: The matcher's likeliest classes with their scores (0–100), best first, at most three.
        choice: For a "did you mean" question, the entry the user then clicked (an implicit label).
        asked_at: When it was asked (UTC).
    """

    id: int
    platform: str
    decision: str
    topic: str | None
    text: str
    original: str | None
    lang: str | None
    guesses: tuple[tuple[str, float], ...]
    choice: str | None
    asked_at: dt.datetime


class QuestionsLog(Protocol):
    """The questions log: what was asked and how it was answered, for statistics and review."""

    def log_question(
        self,
        platform: str,
        decision: str,
        topic: str | None,
        text: str | None,
        at: dt.datetime,
        *,
        lang: str | None = None,
        guesses: Sequence[tuple[str, float]] = (),
        original: str | None = None,
        ref: str | None = None,
    ) -> None:
        """Record a question's outcome; ``text`` (normalised) and ``original`` only for questions not
        answered; ``ref`` is the reference a "did you mean" question's buttons carry."""
        ...

    def record_choice(self, ref: str, topic: str) -> bool:
        """Record the entry clicked for the "did you mean" question of reference ``ref``; False when
        no question has it (purged, or a button older than the log)."""
        ...

    def questions_to_review(
        self,
        *,
        decisions: Collection[str] = ("fallback", "clarify"),
        platform: str | None = None,
        lang: str | None = None,
        since: dt.datetime | None = None,
        limit: int = 10_000,
    ) -> list[LoggedQuestion]:
        """Questions with a text that no review has dealt with yet, oldest first."""
        ...

    def mark_reviewed(self, ids: Collection[int], outcome: str, at: dt.datetime) -> int:
        """Take questions out of the review queue: ``outcome`` is the entry they now teach,
        :data:`REVIEWED_OFF_TOPIC`, or ``skipped``; how many were still in the queue."""
        ...

    def purge_questions(self, asked_before: dt.datetime) -> int:
        """Delete the questions asked before ``asked_before``; how many there were."""
        ...


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A platform event to keep until it is handled.

    Attributes:
        platform: Whose event it is (``slack``, ``telegram``).
        key: Its idempotency key (event id, update id, digest of a signed request): an item whose
            key is in the inbox already is not added again.
        order: Items with the same order key are handled one at a time, in arrival order (a user,
            a chat).
        payload: What the platform needs to handle it, as JSON text.
    """

    platform: str
    key: str
    order: str
    payload: str


@dataclass(frozen=True, slots=True)
class InboxRow:
    """An unfinished inbox item, as claimed for handling.

    Attributes:
        id: Its row id (arrival order).
        item: The item as added.
        attempts: Claims so far, this one included.
        replies: The replies the handler gave, as JSON text, once it answered (a new claim then sends
            them instead of asking the handler again).
        sent: Replies delivered so far.
    """

    id: int
    item: InboxItem
    attempts: int
    replies: str | None = None
    sent: int = 0


@dataclass(frozen=True, slots=True)
class InboxRecord:
    """What became of a claimed inbox item: its replies kept, some delivered, or it is done.

    Attributes:
        row_id: The item's row id.
        replies: The handler's replies (JSON text) to keep, or None.
        sent: Replies delivered so far, or None.
        done_at: When it was handled (it then keeps only its key), or None.
    """

    row_id: int
    replies: str | None = None
    sent: int | None = None
    done_at: dt.datetime | None = None


class InboxStore(Protocol):
    """The durable inbox: platform events kept from their acknowledgement until they are handled.

    An item is claimed with a lease; a process that dies leaves a lease that expires, and the item
    is claimed again. An item is claimable only when no earlier unfinished item has its order key.

    Attributes:
        inbox_exclusive: True when one process at most uses the inbox (SQLite, memory): the leases
            a dead run left can be freed as soon as the next one starts.
    """

    inbox_exclusive: bool

    def inbox_add(self, items: Sequence[InboxItem], now: dt.datetime) -> list[bool]:
        """Add ``items`` in one transaction; for each, True if new, False if its key was there already."""
        ...

    def inbox_claim(
        self, platform: str, owner: str, now: dt.datetime, lease: dt.timedelta, limit: int
    ) -> list[InboxRow]:
        """Lease up to ``limit`` claimable items of ``platform`` to ``owner`` (each claim adds an attempt)."""
        ...

    def inbox_extend(self, owner: str, now: dt.datetime, lease: dt.timedelta) -> int:
        """Extend the leases of ``owner``'s unfinished items; how many there are."""
        ...

    def inbox_answered(self, row_id: int, replies: str) -> None:
        """Keep the handler's replies (JSON text) of an item."""
        ...

    def inbox_record(self, records: Sequence[InboxRecord]) -> None:
        """Apply ``records`` (at most one per item) in one transaction."""
        ...

    def inbox_progress(self, row_id: int, sent: int, done_at: dt.datetime | None = None) -> None:
        """Record that ``sent`` replies of an item were delivered; with ``done_at``, the item is done."""
        ...

    def inbox_release(self, platform: str, owner: str | None) -> int:
        """Free the leases of ``owner``'s unfinished items of ``platform`` (every owner's with None)."""
        ...

    def inbox_purge(self, done_before: dt.datetime) -> int:
        """Delete items done before ``done_before`` (their keys no longer deduplicate)."""
        ...

    def inbox_pending(self, platform: str | None = None) -> int:
        """Unfinished items (of ``platform``)."""
        ...


@runtime_checkable
class PlatformStateStore(Protocol):
    """Values a platform keeps between runs that belong to no user (a Matrix device and its tokens)."""

    def load_state(self, platform: str, name: str) -> str | None:
        """The value kept under ``name``, or None."""
        ...

    def save_state(self, platform: str, name: str, value: str, now: dt.datetime) -> None:
        """Keep ``value`` under ``name``, replacing the one there."""
        ...

    def delete_state(self, platform: str, name: str | None = None) -> None:
        """Forget the value kept under ``name`` (every value of ``platform`` with None)."""
        ...


class Store(InboxStore, QuestionsLog, Protocol):
    """Persistence of users, reminders, processed event ids, the questions log and the inbox."""

    def get_user(self, key: UserKey) -> UserState | None:
        """The user's state, or None on first contact."""
        ...

    def save_user(self, state: UserState) -> None:
        """Insert or update the user's state, step dates included."""
        ...

    def delete_user(self, key: UserKey) -> None:
        """Erase every row about the user: state, steps and reminders (event ids name no user)."""
        ...

    def replace_auto_reminders(self, key: UserKey, chat: str, due: Sequence[tuple[int, dt.datetime]]) -> None:
        """Replace the user's pending ``auto`` reminders by ``due`` (step, UTC time) in one transaction."""
        ...

    def add_reminder(self, key: UserKey, chat: str, step: int | None, due_at: dt.datetime) -> Reminder:
        """Add a ``manual`` reminder."""
        ...

    def list_reminders(
        self,
        key: UserKey | None = None,
        *,
        status: str | None = "pending",
        due_before: dt.datetime | None = None,
    ) -> list[Reminder]:
        """Reminders ordered by due time, filtered by user, status and due time."""
        ...

    def cancel_reminder(self, key: UserKey, reminder_id: int) -> bool:
        """Cancel one of the user's pending reminders; False when there is no such reminder."""
        ...

    def count_pending(self, key: UserKey) -> int:
        """How many pending reminders the user has."""
        ...

    def claim_due(
        self,
        now: dt.datetime,
        *,
        limit: int,
        lease: dt.timedelta,
        worker: str,
        platforms: Collection[str] | None = None,
    ) -> list[Reminder]:
        """Atomically lease up to ``limit`` pending reminders due at ``now`` whose lease is free or expired.

        ``platforms`` limits the claim to users of those platforms (a worker claims only what it can send).
        """
        ...

    def mark_sent(self, reminder_id: int, now: dt.datetime) -> None:
        """Record a delivery."""
        ...

    def mark_failed(self, reminder_id: int, error: str, *, status: str = "failed") -> None:
        """Record a permanent failure (or ``dropped`` for one too late to send)."""
        ...

    def release(self, reminder_id: int, retry_at: dt.datetime, error: str) -> None:
        """Give a claimed reminder back after a transient failure, to retry at ``retry_at``."""
        ...

    def set_reminders_enabled(self, key: UserKey, enabled: bool) -> None:
        """Pause or resume the user's reminders."""
        ...

    def seen_event(self, platform: str, event_id: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Record an event id; True if it was already recorded and not expired."""
        ...

    def stats(self, top: int = 20) -> StoreStats:
        """Users per platform, steps done, questions by decision, the ``top`` unanswered questions."""
        ...


class Sender(Protocol):
    """Sends a reply outside a conversation turn (reminders)."""

    async def send(self, key: UserKey, chat: str, reply: Reply) -> None:
        """Deliver ``reply``; raise TransientSendError or PermanentSendError on failure."""
        ...


class Calendar(Protocol):
    """Reads dates and time zones as people type them (the edge implements it with dateparser)."""

    def parse_date(self, text: str, lang: str, today: dt.date) -> tuple[dt.date | None, str | None]:
        """The event date typed in ``text``, or None with an error code (``past``, ``unparseable`` …)."""
        ...

    def parse_when(self, text: str, lang: str, now: dt.datetime, tz: str) -> tuple[dt.datetime | None, str | None]:
        """A moment typed in ``text`` (UTC), or None with an error code."""
        ...

    def is_valid_timezone(self, name: str) -> bool:
        """True for an IANA zone name."""
        ...

    def suggest_timezones(self, text: str, limit: int = 3) -> list[str]:
        """Zones whose name resembles ``text``."""
        ...

    def common_timezones(self, lang: str) -> list[str]:
        """A few zones to offer to speakers of ``lang``."""
        ...
