"""The durable inbox on SQLAlchemy Core: platform events kept from their acknowledgement until handled.

``inbox_claim`` leases rows in one transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so that
several web processes share the work; SQLite's write lock otherwise). A row is claimable when it is
not done, its lease is free or expired, and no earlier unfinished row has its order key: the events
of one user are handled one at a time and in order, whichever process handles them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.core.ports import InboxItem, InboxRecord, InboxRow
from bot.store.schema import EVENT_ID_SIZE, ORDER_KEY_SIZE, inbox, stored_key
from bot.store.utc import as_utc

_earlier = inbox.alias("earlier")
_EARLIER_UNFINISHED = (
    select(_earlier.c.id)
    .where(
        _earlier.c.platform == inbox.c.platform,
        _earlier.c.order_key == inbox.c.order_key,
        _earlier.c.done_at.is_(None),
        _earlier.c.id < inbox.c.id,
    )
    .exists()
)
_ROW_COLUMNS = (
    inbox.c.id,
    inbox.c.platform,
    inbox.c.event_key,
    inbox.c.order_key,
    inbox.c.payload,
    inbox.c.attempts,
    inbox.c.replies,
    inbox.c.sent,
)


class SqlInbox:
    """The inbox queries of :class:`bot.store.sql.SqlStore` (which provides the engine and transactions)."""

    engine: Engine

    def _write(self, *, urgent: bool = False) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    _inbox_insert: Any = None
    inbox_exclusive = False

    def _init_inbox(self) -> None:
        # SQLite is one process's database; PostgreSQL may serve several web processes.
        self.inbox_exclusive = self.engine.dialect.name == "sqlite"
        # Adding a key that is there already is no error: no savepoint needed around it.
        dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(self.engine.dialect.name)
        if dialect is not None:
            self._inbox_insert = dialect.insert(inbox).on_conflict_do_nothing()

    def inbox_add(self, items: Sequence[InboxItem], now: dt.datetime) -> list[bool]:
        """Add ``items`` in one transaction; for each, True if new, False if its key was there already (or
        earlier in ``items``).

        The keys found are read first, then every item is inserted in one ``executemany`` that skips
        the keys there already; a key another process adds in between is still added once (and
        reported new here): what is returned only tells the log about redeliveries.
        """
        now = as_utc(now)
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        keys: list[tuple[str, str]] = []
        for item in items:
            key = (item.platform, stored_key(item.key, EVENT_ID_SIZE))
            keys.append(key)
            rows.setdefault(
                key,
                {
                    "platform": item.platform,
                    "event_key": key[1],
                    "order_key": stored_key(item.order, ORDER_KEY_SIZE),
                    "payload": item.payload,
                    "received_at": now,
                    "attempts": 0,
                    "sent": 0,
                },
            )
        if not rows:
            return []
        added: set[tuple[str, str]] = set()
        # Urgent: these requests wait for this write to be acknowledged.
        with self._write(urgent=True) as conn:
            if self._inbox_insert is not None:
                present: set[tuple[str, str]] = set()
                for platform in {platform for platform, _ in rows}:
                    wanted = [key for p, key in rows if p == platform]
                    found = conn.scalars(_PRESENT, {"platform": platform, "keys": wanted})
                    present.update((platform, key) for key in found)
                fresh = {key: row for key, row in rows.items() if key not in present}
                if fresh:
                    conn.execute(self._inbox_insert, list(fresh.values()))
                added = set(fresh)
            else:
                for key, row in rows.items():
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(inbox), row)
                    except IntegrityError:
                        continue
                    added.add(key)
        out: list[bool] = []
        for key in keys:
            out.append(key in added)
            added.discard(key)  # a key given twice is new once
        return out

    def inbox_claim(
        self, platform: str, owner: str, now: dt.datetime, lease: dt.timedelta, limit: int
    ) -> list[InboxRow]:
        """Lease up to ``limit`` claimable rows of ``platform`` to ``owner``, oldest first."""
        now = as_utc(now)
        if limit <= 0:
            return []
        candidates = (
            select(inbox.c.id)
            .where(
                inbox.c.platform == platform,
                inbox.c.done_at.is_(None),
                or_(inbox.c.lease_until.is_(None), inbox.c.lease_until <= now),
                ~_EARLIER_UNFINISHED,
            )
            .order_by(inbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=inbox)
        )
        with self._write() as conn:
            ids = list(conn.scalars(candidates))
            if not ids:
                return []
            conn.execute(
                update(inbox)
                .where(inbox.c.id.in_(ids))
                .values(lease_until=now + lease, lease_owner=owner, attempts=inbox.c.attempts + 1)
            )
            rows = conn.execute(select(*_ROW_COLUMNS).where(inbox.c.id.in_(ids)).order_by(inbox.c.id)).all()
        return [
            InboxRow(
                id=r.id,
                item=InboxItem(r.platform, r.event_key, r.order_key, r.payload),
                attempts=r.attempts,
                replies=r.replies,
                sent=r.sent,
            )
            for r in rows
        ]

    def inbox_extend(self, owner: str, now: dt.datetime, lease: dt.timedelta) -> int:
        """Extend the leases of ``owner``'s unfinished rows."""
        with self._write() as conn:
            result = conn.execute(
                update(inbox)
                .where(inbox.c.lease_owner == owner, inbox.c.done_at.is_(None))
                .values(lease_until=as_utc(now) + lease)
            )
        return int(result.rowcount)

    def inbox_answered(self, row_id: int, replies: str) -> None:
        """Keep the handler's replies of a row."""
        self.inbox_record([InboxRecord(row_id, replies=replies)])

    def inbox_progress(self, row_id: int, sent: int, done_at: dt.datetime | None = None) -> None:
        """Record delivered replies; with ``done_at`` the row is done and keeps only its key."""
        self.inbox_record([InboxRecord(row_id, sent=sent, done_at=done_at)])

    def inbox_record(self, records: Sequence[InboxRecord]) -> None:
        """Apply ``records`` (at most one per row) in one transaction: replies kept, deliveries, rows done.

        Urgent (see :meth:`_write`): until a delivery is committed, a crash would send its reply again.
        """
        answered = [{"row_id": r.row_id, "replies": r.replies} for r in records if r.replies is not None]
        progress = [{"row_id": r.row_id, "sent": r.sent} for r in records if r.sent is not None and r.done_at is None]
        done = [
            {"row_id": r.row_id, "sent": r.sent or 0, "done_at": as_utc(r.done_at)}
            for r in records
            if r.done_at is not None
        ]
        with self._write(urgent=True) as conn:
            for statement, params in ((_ANSWERED, answered), (_PROGRESS, progress), (_DONE, done)):
                if params:
                    conn.execute(statement, params)

    def inbox_release(self, platform: str, owner: str | None) -> int:
        """Free the leases of ``owner``'s unfinished rows of ``platform`` (every owner's with None)."""
        condition = [inbox.c.platform == platform, inbox.c.done_at.is_(None), inbox.c.lease_owner.is_not(None)]
        if owner is not None:
            condition.append(inbox.c.lease_owner == owner)
        with self._write() as conn:
            result = conn.execute(update(inbox).where(*condition).values(lease_until=None, lease_owner=None))
        return int(result.rowcount)

    def inbox_purge(self, done_before: dt.datetime) -> int:
        """Delete rows done before ``done_before``."""
        with self._write() as conn:
            result = conn.execute(delete(inbox).where(inbox.c.done_at < as_utc(done_before)))
        return int(result.rowcount)

    def inbox_pending(self, platform: str | None = None) -> int:
        """Unfinished rows (of ``platform``)."""
        query = select(func.count()).select_from(inbox).where(inbox.c.done_at.is_(None))
        if platform is not None:
            query = query.where(inbox.c.platform == platform)
        with self._read() as conn:
            return int(conn.scalar(query) or 0)


_PRESENT = select(inbox.c.event_key).where(
    inbox.c.platform == bindparam("platform"), inbox.c.event_key.in_(bindparam("keys", expanding=True))
)
_BY_ID = inbox.c.id == bindparam("row_id")
_ANSWERED = update(inbox).where(_BY_ID).values(replies=bindparam("replies"))
_PROGRESS = update(inbox).where(_BY_ID).values(sent=bindparam("sent"))
# A done row keeps its key (redeliveries are recognised) and nothing said by or to the user.
_DONE = (
    update(inbox)
    .where(_BY_ID)
    .values(
        sent=bindparam("sent"),
        done_at=bindparam("done_at"),
        payload="",
        replies=None,
        order_key="",
        lease_until=None,
        lease_owner=None,
    )
)
