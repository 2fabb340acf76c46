"""SqlStore: the Store on SQLAlchemy Core, one code path for SQLite and PostgreSQL.

Reminder delivery is at least once. ``claim_due`` leases rows (``lease_until``, ``lease_owner``,
``attempts + 1``) in one transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a
transaction that holds SQLite's write lock from its ``BEGIN`` on SQLite (see engine.py). A worker
that dies leaves a lease that expires, and the reminder is claimed again; one it had already sent
but not yet marked is then sent twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Row,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot.core.ports import Reminder, StoreStats, UserKey, UserState
from bot.store.inbox import SqlInbox
from bot.store.memory import MAX_ERROR_CHARS, check_failed_status
from bot.store.questions_log import SqlQuestionsLog
from bot.store.schema import (
    READ_ONLY_OPTION,
    events,
    platform_state,
    questions,
    reminders,
    steps,
    stored_event_id,
    users,
)
from bot.store.utc import as_utc
from bot.store.write_lock import WriteLock

_KEY_COLUMNS = (users.c.platform, users.c.workspace, users.c.platform_user)
_REMINDER_COLUMNS = (*reminders.c, *_KEY_COLUMNS)


def _key_condition(platform: Any, workspace: Any, user: Any) -> Any:
    return and_(users.c.platform == platform, users.c.workspace == workspace, users.c.platform_user == user)


# Statements of every message, built once (building one costs more than running it on SQLite).
_BY_KEY = _key_condition(bindparam("k_platform"), bindparam("k_workspace"), bindparam("k_user"))
_SELECT_USER = select(users).where(_BY_KEY)
_SELECT_STEPS = select(steps.c.step, steps.c.done_at).where(steps.c.user_id == bindparam("uid")).order_by(steps.c.step)
_PURGE_EVENTS = delete(events).where(events.c.expires_at <= bindparam("now"))
_RENEW_EVENT = (
    update(events)
    .where(
        events.c.platform == bindparam("k_platform"),
        events.c.event_id == bindparam("k_event"),
        events.c.expires_at <= bindparam("now"),
    )
    .values(seen_at=bindparam("seen_at"), expires_at=bindparam("expires_at"))
)
#: Time between two purges of expired event ids (by one process).
EVENT_PURGE_INTERVAL = dt.timedelta(minutes=1)


def _key_params(key: UserKey) -> dict[str, str]:
    return {"k_platform": key.platform, "k_workspace": key.workspace, "k_user": key.user}


def _key_filter(key: UserKey) -> Any:
    """The user's row condition with its values in, for statements built on the spot."""
    return _key_condition(key.platform, key.workspace, key.user)


def _user_values(state: UserState) -> dict[str, Any]:
    values: dict[str, Any] = {
        "chat": state.chat,
        "locale": state.locale,
        "locale_hint": state.locale_hint,
        "written_lang": state.written_lang,
        "tz": state.tz,
        "tz_chosen": state.tz_chosen,
        "event_date": state.event_date,
        "reminders_enabled": state.reminders_enabled,
        "welcomed": state.welcomed,
    }
    # The first contact time is kept when a caller saves a state that lost it.
    if state.created_at is not None:
        values["created_at"] = state.created_at
    return values


def _reminder(row: Row[Any]) -> Reminder:
    m = row._mapping
    return Reminder(
        id=m["id"],
        key=UserKey(m["platform"], m["workspace"], m["platform_user"]),
        chat=m["chat"],
        step=m["step"],
        due_at=m["due_at"],
        kind=m["kind"],
        status=m["status"],
        attempts=m["attempts"],
        lease_until=m["lease_until"],
        sent_at=m["sent_at"],
        last_error=m["last_error"],
    )


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the database returned no primary key for an insert")
    return int(key[0])


def _error(message: str) -> str:
    return message[:MAX_ERROR_CHARS]


class SqlStore(SqlQuestionsLog, SqlInbox):
    """The Store on a SQLAlchemy engine made by :func:`bot.store.engine.make_engine`.

    On SQLite the threads of one process take turns for writing on a lock of their own: waiting
    there costs nothing, while SQLite's busy handler makes a blocked writer sleep for up to 100 ms
    at a time. Reads do not wait for writers (WAL).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock: WriteLock | None = WriteLock() if engine.dialect.name == "sqlite" else None
        self._next_purge: dt.datetime | None = None
        self._init_inbox()
        # Recording an event id that is there already is no error: no savepoint needed around it.
        dialect = {"sqlite": sqlite, "postgresql": postgresql}.get(engine.dialect.name)
        self._insert_event: Any = (
            dialect.insert(events).on_conflict_do_nothing().returning(events.c.event_id)
            if dialect is not None
            else None
        )

    @contextmanager
    def _write(self, *, urgent: bool = False) -> Iterator[Connection]:
        """A transaction that may write (on SQLite, one thread of this process at a time, ``urgent``
        ones first)."""
        with self._write_lock.hold(urgent=urgent) if self._write_lock else nullcontext(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A transaction that only reads."""
        with self.engine.connect().execution_options(**{READ_ONLY_OPTION: True}) as conn, conn.begin():
            yield conn

    def close(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()

    def ping(self) -> None:
        """Run a trivial query; raises the driver's error when the database is unreachable."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # ------------------------------------------------------------------ users
    @staticmethod
    def _user_id(conn: Connection, key: UserKey) -> int | None:
        uid: int | None = conn.scalar(select(users.c.id).where(_key_filter(key)))
        return uid

    def _upsert_user(self, conn: Connection, key: UserKey, values: dict[str, Any], *, overwrite: bool) -> int:
        uid = self._user_id(conn, key)
        if uid is None:
            row = {
                "platform": key.platform,
                "workspace": key.workspace,
                "platform_user": key.user,
                "chat": "",
                "tz_chosen": False,
                "reminders_enabled": True,
                "welcomed": False,
                **values,
            }
            try:
                # A concurrent first contact may insert the same user: fall back to updating it.
                with conn.begin_nested():
                    return _new_id(conn.execute(insert(users).values(row)))
            except IntegrityError:
                uid = self._user_id(conn, key)
                if uid is None:
                    raise
        if overwrite:
            conn.execute(update(users).where(users.c.id == uid).values(values))
        return uid

    def get_user(self, key: UserKey) -> UserState | None:
        """The user's state, or None on first contact."""
        with self._read() as conn:
            row = conn.execute(_SELECT_USER, _key_params(key)).first()
            if row is None:
                return None
            done = conn.execute(_SELECT_STEPS, {"uid": row.id}).all()
        return UserState(
            key=key,
            chat=row.chat,
            locale=row.locale,
            locale_hint=row.locale_hint,
            written_lang=row.written_lang,
            tz=row.tz,
            tz_chosen=row.tz_chosen,
            event_date=row.event_date,
            steps_done={step: done_at for step, done_at in done},
            reminders_enabled=row.reminders_enabled,
            welcomed=row.welcomed,
            created_at=row.created_at,
        )

    def save_user(self, state: UserState) -> None:
        """Insert or update the user's state, step dates included."""
        done = [{"step": int(step), "done_at": as_utc(when)} for step, when in state.steps_done.items()]
        with self._write() as conn:
            uid = self._upsert_user(conn, state.key, _user_values(state), overwrite=True)
            conn.execute(delete(steps).where(steps.c.user_id == uid))
            if done:
                conn.execute(insert(steps), [{"user_id": uid, **d} for d in done])

    def delete_user(self, key: UserKey) -> None:
        """Erase every row about the user: steps, reminders and the user row."""
        with self._write() as conn:
            uid = self._user_id(conn, key)
            if uid is None:
                return
            conn.execute(delete(steps).where(steps.c.user_id == uid))
            conn.execute(delete(reminders).where(reminders.c.user_id == uid))
            conn.execute(delete(users).where(users.c.id == uid))

    def set_reminders_enabled(self, key: UserKey, enabled: bool) -> None:
        """Pause or resume the user's reminders; nothing happens for an unknown user."""
        with self._write() as conn:
            conn.execute(update(users).where(_key_filter(key)).values(reminders_enabled=enabled))

    # -------------------------------------------------------------- reminders
    def replace_auto_reminders(self, key: UserKey, chat: str, due: Sequence[tuple[int, dt.datetime]]) -> None:
        """Replace the user's pending ``auto`` reminders by ``due`` (step, UTC time) in one transaction."""
        with self._write() as conn:
            uid = self._upsert_user(conn, key, {"chat": chat}, overwrite=False)
            conn.execute(
                delete(reminders).where(
                    reminders.c.user_id == uid, reminders.c.kind == "auto", reminders.c.status == "pending"
                )
            )
            if due:
                conn.execute(
                    insert(reminders),
                    [
                        {
                            "user_id": uid,
                            "chat": chat,
                            "step": step,
                            "due_at": as_utc(when),
                            "kind": "auto",
                            "status": "pending",
                            "attempts": 0,
                        }
                        for step, when in due
                    ],
                )

    def add_reminder(self, key: UserKey, chat: str, step: int | None, due_at: dt.datetime) -> Reminder:
        """Add a ``manual`` reminder."""
        when = as_utc(due_at)
        with self._write() as conn:
            uid = self._upsert_user(conn, key, {"chat": chat}, overwrite=False)
            rid = _new_id(
                conn.execute(
                    insert(reminders).values(
                        user_id=uid,
                        chat=chat,
                        step=step,
                        due_at=when,
                        kind="manual",
                        status="pending",
                        attempts=0,
                    )
                )
            )
        return Reminder(id=rid, key=key, chat=chat, step=step, due_at=when, kind="manual")

    def list_reminders(
        self,
        key: UserKey | None = None,
        *,
        status: str | None = "pending",
        due_before: dt.datetime | None = None,
    ) -> list[Reminder]:
        """Reminders ordered by due time, filtered by user, status and due time."""
        query = select(*_REMINDER_COLUMNS).join(users, users.c.id == reminders.c.user_id)
        if key is not None:
            query = query.where(_key_filter(key))
        if status is not None:
            query = query.where(reminders.c.status == status)
        if due_before is not None:
            query = query.where(reminders.c.due_at <= as_utc(due_before))
        with self._read() as conn:
            rows = conn.execute(query.order_by(reminders.c.due_at, reminders.c.id)).all()
        return [_reminder(row) for row in rows]

    def cancel_reminder(self, key: UserKey, reminder_id: int) -> bool:
        """Cancel one of the user's pending reminders; False when there is no such reminder."""
        owner = select(users.c.id).where(_key_filter(key)).scalar_subquery()
        with self._write() as conn:
            result = conn.execute(
                update(reminders)
                .where(
                    reminders.c.id == reminder_id,
                    reminders.c.user_id == owner,
                    reminders.c.status == "pending",
                )
                .values(status="cancelled", lease_until=None, lease_owner=None)
            )
        return result.rowcount == 1

    def count_pending(self, key: UserKey) -> int:
        """How many pending reminders the user has."""
        query = (
            select(func.count())
            .select_from(reminders.join(users, users.c.id == reminders.c.user_id))
            .where(_key_filter(key), reminders.c.status == "pending")
        )
        with self._read() as conn:
            return int(conn.scalar(query) or 0)

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

        Only reminders of users with reminders enabled, and not held back by ``retry_at``, are
        claimed. Each claim adds one to ``attempts``.
        """
        now = as_utc(now)
        if limit <= 0:
            return []
        candidates = (
            select(reminders.c.id)
            .join(users, users.c.id == reminders.c.user_id)
            .where(
                reminders.c.status == "pending",
                reminders.c.due_at <= now,
                or_(reminders.c.lease_until.is_(None), reminders.c.lease_until <= now),
                or_(reminders.c.retry_at.is_(None), reminders.c.retry_at <= now),
                users.c.reminders_enabled.is_(True),
                true() if platforms is None else users.c.platform.in_(sorted(platforms)),
            )
            .order_by(reminders.c.due_at, reminders.c.id)
            .limit(limit)
            # PostgreSQL: concurrent workers skip each other's rows instead of waiting. SQLite
            # ignores the clause; its transaction already holds the database's write lock.
            .with_for_update(skip_locked=True, of=reminders)
        )
        with self._write() as conn:
            ids = list(conn.scalars(candidates))
            if not ids:
                return []
            conn.execute(
                update(reminders)
                .where(reminders.c.id.in_(ids))
                .values(lease_until=now + lease, lease_owner=worker, attempts=reminders.c.attempts + 1)
            )
            rows = conn.execute(
                select(*_REMINDER_COLUMNS)
                .join(users, users.c.id == reminders.c.user_id)
                .where(reminders.c.id.in_(ids))
                .order_by(reminders.c.due_at, reminders.c.id)
            ).all()
        return [_reminder(row) for row in rows]

    def mark_sent(self, reminder_id: int, now: dt.datetime) -> None:
        """Record a delivery."""
        with self._write() as conn:
            conn.execute(
                update(reminders)
                .where(reminders.c.id == reminder_id)
                .values(status="sent", sent_at=as_utc(now), lease_until=None, lease_owner=None)
            )

    def mark_failed(self, reminder_id: int, error: str, *, status: str = "failed") -> None:
        """Record a permanent failure (or ``dropped`` for one too late to send)."""
        check_failed_status(status)
        with self._write() as conn:
            conn.execute(
                update(reminders)
                .where(reminders.c.id == reminder_id, reminders.c.status == "pending")
                .values(status=status, last_error=_error(error), lease_until=None, lease_owner=None)
            )

    def release(self, reminder_id: int, retry_at: dt.datetime, error: str) -> None:
        """Give a claimed reminder back; it is not claimable again before ``retry_at``."""
        with self._write() as conn:
            conn.execute(
                update(reminders)
                .where(reminders.c.id == reminder_id)
                .values(retry_at=as_utc(retry_at), last_error=_error(error), lease_until=None, lease_owner=None)
            )

    # ----------------------------------------------------------------- events
    def seen_event(self, platform: str, event_id: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Record an event id; True if it was already recorded and not expired.

        Expired ids are purged on the way (once a minute at most), so the table stays about as small
        as the time to live allows; an expired id not purged yet counts as new.
        """
        now = as_utc(now)
        event_id = stored_event_id(event_id)
        row = {"platform": platform, "event_id": event_id, "seen_at": now, "expires_at": now + ttl}
        with self._write() as conn:
            if self._next_purge is None or not self._next_purge - EVENT_PURGE_INTERVAL <= now < self._next_purge:
                conn.execute(_PURGE_EVENTS, {"now": now})
                self._next_purge = now + EVENT_PURGE_INTERVAL
            if self._record_event(conn, row):
                return False
            renewed = conn.execute(
                _RENEW_EVENT,
                {"k_platform": platform, "k_event": event_id, "now": now, "seen_at": now, "expires_at": now + ttl},
            ).rowcount
        return not renewed

    def _record_event(self, conn: Connection, row: dict[str, Any]) -> bool:
        """Insert an event id; False when it is there already."""
        if self._insert_event is not None:
            return conn.execute(self._insert_event, row).first() is not None
        try:
            with conn.begin_nested():
                conn.execute(insert(events), row)
        except IntegrityError:
            return False
        return True

    # ------------------------------------------------------------------ statistics
    # ------------------------------------------------------------------ platform state
    def load_state(self, platform: str, name: str) -> str | None:
        """The value a platform kept under ``name``, or None."""
        with self._read() as conn:
            value: str | None = conn.scalar(
                select(platform_state.c.value).where(
                    platform_state.c.platform == platform, platform_state.c.name == name
                )
            )
        return value

    def save_state(self, platform: str, name: str, value: str, now: dt.datetime) -> None:
        """Keep ``value`` under ``name`` for ``platform``, replacing the one there."""
        where = and_(platform_state.c.platform == platform, platform_state.c.name == name)
        with self._write() as conn:
            changed = conn.execute(update(platform_state).where(where).values(value=value, updated_at=now)).rowcount
            if not changed:
                conn.execute(insert(platform_state).values(platform=platform, name=name, value=value, updated_at=now))

    def delete_state(self, platform: str, name: str | None = None) -> None:
        """Forget ``platform``'s value under ``name`` (all of its values with None)."""
        where = platform_state.c.platform == platform
        if name is not None:
            where = and_(where, platform_state.c.name == name)
        with self._write() as conn:
            conn.execute(delete(platform_state).where(where))

    def stats(self, top: int = 20) -> StoreStats:
        """Figures for operators."""
        with self.engine.connect() as conn:
            by_platform: dict[str, int] = dict(
                conn.execute(select(users.c.platform, func.count()).group_by(users.c.platform)).all()
            )
            done: dict[int, int] = dict(conn.execute(select(steps.c.step, func.count()).group_by(steps.c.step)).all())
            decisions: dict[str, int] = dict(
                conn.execute(select(questions.c.decision, func.count()).group_by(questions.c.decision)).all()
            )
            by_status: dict[str, int] = dict(
                conn.execute(select(reminders.c.status, func.count()).group_by(reminders.c.status)).all()
            )
            count = func.count().label("n")
            unanswered = conn.execute(
                select(questions.c.text, count)
                .where(questions.c.decision != "answer", questions.c.text.is_not(None))
                .group_by(questions.c.text)
                .order_by(count.desc(), questions.c.text)
                .limit(top)
            ).all()
        ranked = [(str(t), int(n)) for t, n in unanswered]
        return StoreStats(by_platform, done, decisions, ranked, by_status)
