"""The database schema: users, steps, reminders, event ids, questions, inbox, platform state, console sign-ins."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)

from bot.store.question_values import CLARIFY_REF_SIZE, LANG_SIZE
from bot.store.utc import as_utc

#: Execution option of a connection whose transactions only read (on SQLite, a ``BEGIN`` that
#: takes no lock; see :func:`bot.store.engine.make_engine`).
READ_ONLY_OPTION = "hoc_read_only"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every engine.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so values are stored as naive UTC
    and given their UTC zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert to UTC; naive for SQLite, aware elsewhere."""
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """An aware UTC datetime, whatever the driver returned."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# ``user`` is a reserved word in PostgreSQL (``SELECT user`` answers the role name), hence
# ``platform_user`` for the platform's user id.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("workspace", String(64), nullable=False),
    Column("platform_user", String(128), nullable=False),
    Column("chat", String(128), nullable=False),
    Column("locale", String(35)),
    Column("locale_hint", String(35)),
    Column("written_lang", String(35)),
    Column("tz", String(64)),
    Column("tz_chosen", Boolean, nullable=False),
    Column("event_date", Date),
    Column("reminders_enabled", Boolean, nullable=False),
    Column("welcomed", Boolean, nullable=False),
    Column("created_at", UTCDateTime),
    UniqueConstraint("platform", "workspace", "platform_user"),
    sqlite_autoincrement=True,
)

steps = Table(
    "steps",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("step", Integer, nullable=False),
    Column("done_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("user_id", "step"),
)

reminders = Table(
    "reminders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("chat", String(128), nullable=False),
    Column("step", Integer),
    Column("due_at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(128)),
    # Not claimable before this time: set when a transient failure gives the reminder back.
    Column("retry_at", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('auto', 'manual')", name="kind"),
    CheckConstraint("status IN ('pending', 'sent', 'failed', 'cancelled', 'dropped')", name="status"),
    Index(None, "status", "due_at"),
    sqlite_autoincrement=True,
)

#: Longest event id stored as it is (the column's size); a longer one is stored as its digest.
EVENT_ID_SIZE = 128

events = Table(
    "events",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("event_id", String(EVENT_ID_SIZE), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    PrimaryKeyConstraint("platform", "event_id"),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("decision", String(16), nullable=False, index=True),
    Column("topic", String(64)),
    Column("text", Text),
    # Indexed for the retention purge (HOC_QUESTION_RETENTION_DAYS).
    Column("asked_at", UTCDateTime, nullable=False, index=True),
    # What a review of unanswered questions needs (migration 0006); still no user id.
    Column("lang", String(LANG_SIZE)),
    # The matcher's likeliest classes and scores, JSON: [["recruit-schools", 31.5], ["none", 40.2]].
    Column("guesses", Text),
    # The text as typed (markup out), for questions not answered.
    Column("original", Text),
    # The random reference a "did you mean" question's buttons carry, and the entry then clicked.
    Column("ref", String(CLARIFY_REF_SIZE), index=True),
    Column("choice", String(64)),
    # Set when a review dealt with the question: the entry it teaches, "offtopic" or "skipped".
    Column("reviewed_at", UTCDateTime),
    Column("review", String(64)),
    sqlite_autoincrement=True,
)


def stored_key(key: str, size: int) -> str:
    """``key`` itself, or ``sha256:<hex>`` when longer than ``size`` (platforms do not bound their ids;
    a digest still tells them apart)."""
    if len(key) <= size:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def stored_event_id(event_id: str) -> str:
    """``event_id`` as the ``events`` table keeps it: itself, or ``sha256:<hex>`` when longer than the
    column (the platforms do not bound their ids; a digest keeps deduplicating them)."""
    return stored_key(event_id, EVENT_ID_SIZE)


#: Longest inbox order key kept as it is; a longer one is kept as its digest.
ORDER_KEY_SIZE = 200

# Platform events from their acknowledgement until they are handled (see bot.store.inbox). Done
# rows keep only their key, to deduplicate redeliveries, until purged.
inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("event_key", String(EVENT_ID_SIZE), nullable=False),
    Column("order_key", String(ORDER_KEY_SIZE), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("lease_owner", String(64)),
    Column("replies", Text),
    Column("sent", Integer, nullable=False),
    Column("done_at", UTCDateTime),
    UniqueConstraint("platform", "event_key"),
    Index(None, "platform", "done_at", "id"),
    Index(None, "platform", "order_key", "id"),
    sqlite_autoincrement=True,
)


#: Longest name of a platform state value (``access_token``, ``sync_token``).
STATE_NAME_SIZE = 64

#: What a platform keeps between runs that is no user's: the Matrix bot's access token, device id and
#: sync token. Values are the platform's own (an access token is a secret: never logged).
platform_state = Table(
    "platform_state",
    metadata,
    Column("platform", String(32), nullable=False),
    Column("name", String(STATE_NAME_SIZE), nullable=False),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("platform", "name"),
)


#: Digest of a secret kept by the /admin console (hex SHA-256 of a sign-in token or session id).
ADMIN_DIGEST_SIZE = 64
#: Longest admin name (``slack:TEAM:USER``, ``telegram:42``, ``cli:root``).
ADMIN_NAME_SIZE = 200

#: Single-use sign-in links of the /admin console, kept as the digest of their token only.
admin_links = Table(
    "admin_links",
    metadata,
    Column("token_hash", String(ADMIN_DIGEST_SIZE), primary_key=True),
    Column("admin", String(ADMIN_NAME_SIZE), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("used_at", UTCDateTime),
)

#: Signed-in sessions of the /admin console, kept as the digest of the cookie's session id only.
admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("session_hash", String(ADMIN_DIGEST_SIZE), primary_key=True),
    Column("admin", String(ADMIN_NAME_SIZE), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
    Column("lang", String(35)),
    Column("revoked_at", UTCDateTime),
)
