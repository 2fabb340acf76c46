"""The durable inbox kept in memory (for tests and ``hoc-bot chat --memory``): same rules as the SQL one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Sequence

from bot.core.ports import InboxItem, InboxRecord, InboxRow


@dataclasses.dataclass
class _Row:
    id: int
    item: InboxItem
    received_at: dt.datetime
    attempts: int = 0
    lease_until: dt.datetime | None = None
    owner: str | None = None
    replies: str | None = None
    sent: int = 0
    done_at: dt.datetime | None = None


class MemoryInbox:
    """Inbox rows in a dictionary; the order and lease rules of :class:`bot.store.inbox.SqlInbox`."""

    _lock: threading.RLock
    #: One process: the leases of a dead run are freed at start.
    inbox_exclusive = True

    def _init_inbox(self) -> None:
        self._inbox: dict[int, _Row] = {}
        self._inbox_keys: dict[tuple[str, str], int] = {}
        self._inbox_next = 1

    def inbox_add(self, items: Sequence[InboxItem], now: dt.datetime) -> list[bool]:
        """Add ``items``; for each, True if new, False if its key was there already."""
        added: list[bool] = []
        with self._lock:
            for item in items:
                if (item.platform, item.key) in self._inbox_keys:
                    added.append(False)
                    continue
                row = _Row(self._inbox_next, item, now)
                self._inbox_next += 1
                self._inbox[row.id] = row
                self._inbox_keys[(item.platform, item.key)] = row.id
                added.append(True)
        return added

    def inbox_claim(
        self, platform: str, owner: str, now: dt.datetime, lease: dt.timedelta, limit: int
    ) -> list[InboxRow]:
        """Lease up to ``limit`` claimable rows of ``platform`` to ``owner``, oldest first."""
        claimed: list[InboxRow] = []
        with self._lock:
            blocked: set[str] = set()
            for row in sorted(self._inbox.values(), key=lambda r: r.id):
                if len(claimed) >= limit:
                    break
                if row.item.platform != platform or row.done_at is not None:
                    continue
                order, free = row.item.order, row.lease_until is None or row.lease_until <= now
                if free and order not in blocked:
                    row.lease_until, row.owner, row.attempts = now + lease, owner, row.attempts + 1
                    claimed.append(InboxRow(row.id, row.item, row.attempts, row.replies, row.sent))
                blocked.add(order)
        return claimed

    def inbox_extend(self, owner: str, now: dt.datetime, lease: dt.timedelta) -> int:
        """Extend the leases of ``owner``'s unfinished rows."""
        with self._lock:
            rows = [r for r in self._inbox.values() if r.owner == owner and r.done_at is None]
            for row in rows:
                row.lease_until = now + lease
        return len(rows)

    def inbox_answered(self, row_id: int, replies: str) -> None:
        """Keep the handler's replies of a row."""
        self.inbox_record([InboxRecord(row_id, replies=replies)])

    def inbox_progress(self, row_id: int, sent: int, done_at: dt.datetime | None = None) -> None:
        """Record delivered replies; with ``done_at`` the row is done and keeps only its key."""
        self.inbox_record([InboxRecord(row_id, sent=sent, done_at=done_at)])

    def inbox_record(self, records: Sequence[InboxRecord]) -> None:
        """Apply ``records``: replies kept, deliveries, rows done."""
        with self._lock:
            for record in records:
                row = self._inbox.get(record.row_id)
                if row is None:
                    continue
                if record.replies is not None:
                    row.replies = record.replies
                if record.sent is not None:
                    row.sent = record.sent
                if record.done_at is not None:
                    row.done_at, row.replies, row.lease_until, row.owner = record.done_at, None, None, None
                    row.item = InboxItem(row.item.platform, row.item.key, "", "")

    def inbox_release(self, platform: str, owner: str | None) -> int:
        """Free the leases of ``owner``'s unfinished rows of ``platform`` (every owner's with None)."""
        with self._lock:
            rows = [
                r
                for r in self._inbox.values()
                if r.item.platform == platform
                and r.done_at is None
                and r.owner is not None
                and (owner is None or r.owner == owner)
            ]
            for row in rows:
                row.lease_until = row.owner = None
        return len(rows)

    def inbox_purge(self, done_before: dt.datetime) -> int:
        """Delete rows done before ``done_before``."""
        with self._lock:
            gone = [r for r in self._inbox.values() if r.done_at is not None and r.done_at < done_before]
            for row in gone:
                del self._inbox[row.id], self._inbox_keys[(row.item.platform, row.item.key)]
        return len(gone)

    def inbox_pending(self, platform: str | None = None) -> int:
        """Unfinished rows (of ``platform``)."""
        with self._lock:
            return sum(1 for r in self._inbox.values() if r.done_at is None and platform in (None, r.item.platform))
