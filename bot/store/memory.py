"""In-memory Store: state on the instance, for unit tests and ``hoc-bot chat --memory``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import Counter
from collections.abc import Collection, Sequence

from bot.core.ports import Reminder, StoreStats, UserKey, UserState
from bot.store.inbox_memory import MemoryInbox
from bot.store.questions_memory import MemoryQuestionsLog
from bot.store.utc import as_utc

__all__ = ["FAILED_STATUSES", "MAX_ERROR_CHARS", "MemoryStore", "as_utc", "check_failed_status"]

#: Statuses a reminder can end in when it is not delivered.
FAILED_STATUSES = frozenset({"failed", "dropped"})

#: Longest ``last_error`` kept; platform errors can be long and are only for operators.
MAX_ERROR_CHARS = 1000


def check_failed_status(status: str) -> None:
    """Reject a status ``mark_failed`` does not accept.

    Raises:
        ValueError: ``status`` is neither ``failed`` nor ``dropped``.
    """
    if status not in FAILED_STATUSES:
        raise ValueError(f"mark_failed status must be 'failed' or 'dropped', not {status!r}")


class MemoryStore(MemoryQuestionsLog, MemoryInbox):
    """A Store kept in dictionaries, guarded by a lock so worker threads can share it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._users: dict[UserKey, UserState] = {}
        self._reminders: dict[int, Reminder] = {}
        self._owners: dict[int, str] = {}
        self._retry_at: dict[int, dt.datetime] = {}
        self._events: dict[tuple[str, str], dt.datetime] = {}
        self._next_id = 1
        self._state: dict[tuple[str, str], str] = {}
        self._init_inbox()
        self._init_questions()

    # ------------------------------------------------------------------ users
    def get_user(self, key: UserKey) -> UserState | None:
        """The user's state, or None on first contact."""
        with self._lock:
            return self._users.get(key)

    def save_user(self, state: UserState) -> None:
        """Insert or update the user's state, step dates included."""
        steps = {int(step): as_utc(when) for step, when in state.steps_done.items()}
        created = as_utc(state.created_at) if state.created_at is not None else None
        with self._lock:
            old = self._users.get(state.key)
            if created is None and old is not None:
                created = old.created_at
            self._users[state.key] = dataclasses.replace(state, steps_done=steps, created_at=created)

    def delete_user(self, key: UserKey) -> None:
        """Erase the user's state and reminders."""
        with self._lock:
            self._users.pop(key, None)
            for rid in [r.id for r in self._reminders.values() if r.key == key]:
                self._forget(rid)

    def set_reminders_enabled(self, key: UserKey, enabled: bool) -> None:
        """Pause or resume the user's reminders; nothing happens for an unknown user."""
        with self._lock:
            user = self._users.get(key)
            if user is not None:
                self._users[key] = dataclasses.replace(user, reminders_enabled=enabled)

    def _forget(self, reminder_id: int) -> None:
        self._reminders.pop(reminder_id, None)
        self._owners.pop(reminder_id, None)
        self._retry_at.pop(reminder_id, None)

    def _ensure_user(self, key: UserKey, chat: str) -> None:
        # Reminders belong to a user row, as in the SQL store's foreign key.
        if key not in self._users:
            self._users[key] = UserState(key=key, chat=chat)

    # -------------------------------------------------------------- reminders
    def _new(self, key: UserKey, chat: str, step: int | None, due_at: dt.datetime, kind: str) -> Reminder:
        rid = self._next_id
        self._next_id += 1
        reminder = Reminder(id=rid, key=key, chat=chat, step=step, due_at=as_utc(due_at), kind=kind)
        self._reminders[rid] = reminder
        return reminder

    def replace_auto_reminders(self, key: UserKey, chat: str, due: Sequence[tuple[int, dt.datetime]]) -> None:
        """Replace the user's pending ``auto`` reminders by ``due`` (step, UTC time)."""
        checked = [(step, as_utc(when)) for step, when in due]
        with self._lock:
            self._ensure_user(key, chat)
            for r in list(self._reminders.values()):
                if r.key == key and r.kind == "auto" and r.status == "pending":
                    self._forget(r.id)
            for step, when in checked:
                self._new(key, chat, step, when, "auto")

    def add_reminder(self, key: UserKey, chat: str, step: int | None, due_at: dt.datetime) -> Reminder:
        """Add a ``manual`` reminder."""
        when = as_utc(due_at)
        with self._lock:
            self._ensure_user(key, chat)
            return self._new(key, chat, step, when, "manual")

    def list_reminders(
        self,
        key: UserKey | None = None,
        *,
        status: str | None = "pending",
        due_before: dt.datetime | None = None,
    ) -> list[Reminder]:
        """Reminders ordered by due time, filtered by user, status and due time."""
        limit = as_utc(due_before) if due_before is not None else None
        with self._lock:
            found = [
                r
                for r in self._reminders.values()
                if (key is None or r.key == key)
                and (status is None or r.status == status)
                and (limit is None or r.due_at <= limit)
            ]
        return sorted(found, key=lambda r: (r.due_at, r.id))

    def cancel_reminder(self, key: UserKey, reminder_id: int) -> bool:
        """Cancel one of the user's pending reminders; False when there is no such reminder."""
        with self._lock:
            r = self._reminders.get(reminder_id)
            if r is None or r.key != key or r.status != "pending":
                return False
            self._reminders[reminder_id] = dataclasses.replace(r, status="cancelled", lease_until=None)
            self._owners.pop(reminder_id, None)
            return True

    def count_pending(self, key: UserKey) -> int:
        """How many pending reminders the user has."""
        with self._lock:
            return sum(1 for r in self._reminders.values() if r.key == key and r.status == "pending")

    def claim_due(
        self,
        now: dt.datetime,
        *,
        limit: int,
        lease: dt.timedelta,
        worker: str,
        platforms: Collection[str] | None = None,
    ) -> list[Reminder]:
        """Lease up to ``limit`` due pending reminders of users who want them."""
        now = as_utc(now)
        with self._lock:
            due = sorted(
                (
                    r
                    for r in self._reminders.values()
                    if r.status == "pending"
                    and r.due_at <= now
                    and (r.lease_until is None or r.lease_until <= now)
                    and self._retry_at.get(r.id, now) <= now
                    and self._enabled(r.key)
                    and (platforms is None or r.key.platform in platforms)
                ),
                key=lambda r: (r.due_at, r.id),
            )[: max(limit, 0)]
            claimed = []
            for r in due:
                leased = dataclasses.replace(r, lease_until=now + lease, attempts=r.attempts + 1)
                self._reminders[r.id] = leased
                self._owners[r.id] = worker
                claimed.append(leased)
            return claimed

    def _enabled(self, key: UserKey) -> bool:
        user = self._users.get(key)
        return user is not None and user.reminders_enabled

    def _unlease(self, reminder_id: int) -> Reminder | None:
        self._owners.pop(reminder_id, None)
        return self._reminders.get(reminder_id)

    def mark_sent(self, reminder_id: int, now: dt.datetime) -> None:
        """Record a delivery."""
        when = as_utc(now)
        with self._lock:
            r = self._unlease(reminder_id)
            if r is not None:
                self._reminders[r.id] = dataclasses.replace(r, status="sent", sent_at=when, lease_until=None)

    def mark_failed(self, reminder_id: int, error: str, *, status: str = "failed") -> None:
        """Record a permanent failure (or ``dropped`` for one too late to send)."""
        check_failed_status(status)
        with self._lock:
            r = self._unlease(reminder_id)
            if r is not None and r.status == "pending":
                self._reminders[r.id] = dataclasses.replace(
                    r, status=status, last_error=error[:MAX_ERROR_CHARS], lease_until=None
                )

    def release(self, reminder_id: int, retry_at: dt.datetime, error: str) -> None:
        """Give a claimed reminder back; it is not claimable again before ``retry_at``."""
        when = as_utc(retry_at)
        with self._lock:
            r = self._unlease(reminder_id)
            if r is not None:
                self._reminders[r.id] = dataclasses.replace(r, lease_until=None, last_error=error[:MAX_ERROR_CHARS])
                self._retry_at[r.id] = when

    def lease_owner(self, reminder_id: int) -> str | None:
        """The worker holding the reminder's lease, if any (for tests and operators)."""
        with self._lock:
            return self._owners.get(reminder_id)

    # ----------------------------------------------------------------- events
    def seen_event(self, platform: str, event_id: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Record an event id; True if it was already recorded and not expired."""
        now = as_utc(now)
        with self._lock:
            for k in [k for k, expires in self._events.items() if expires <= now]:
                del self._events[k]
            if (platform, event_id) in self._events:
                return True
            self._events[(platform, event_id)] = now + ttl
            return False

    # ------------------------------------------------------------------ platform state
    def load_state(self, platform: str, name: str) -> str | None:
        """The value a platform kept under ``name``, or None."""
        with self._lock:
            return self._state.get((platform, name))

    def save_state(self, platform: str, name: str, value: str, now: dt.datetime) -> None:
        """Keep ``value`` under ``name`` for ``platform``."""
        with self._lock:
            self._state[(platform, name)] = value

    def delete_state(self, platform: str, name: str | None = None) -> None:
        """Forget ``platform``'s value under ``name`` (all of its values with None)."""
        with self._lock:
            for key in [k for k in self._state if k[0] == platform and name in (None, k[1])]:
                del self._state[key]

    def stats(self, top: int = 20) -> StoreStats:
        """Figures for operators."""
        with self._lock:
            by_platform = Counter(key.platform for key in self._users)
            done = Counter(step for user in self._users.values() for step in user.steps_done)
            decided, texts = self._question_counts()
            decisions = Counter(decided)
            unanswered = Counter(texts)
            by_status = Counter(r.status for r in self._reminders.values())
        ranked = sorted(unanswered.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        return StoreStats(dict(by_platform), dict(done), dict(decisions), ranked, dict(by_status))
