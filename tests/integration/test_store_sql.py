"""The Store contract, run on the memory store, a SQLite file and PostgreSQL; then SQL specifics."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from bot.core.ports import InboxItem, Store, UserKey, UserState
from bot.store import engine as engine_module
from bot.store.engine import HEAD_REVISION, make_engine, open_store, upgrade
from bot.store.memory import MemoryStore
from bot.store.schema import events, metadata, reminders, steps, users
from bot.store.sql import SqlStore

UTC = dt.UTC
T0 = dt.datetime(2025, 12, 8, 9, 0, tzinfo=UTC)
PARIS = dt.timezone(dt.timedelta(hours=1))
LEASE = dt.timedelta(minutes=5)
ANN = UserKey("slack", "T1", "U-ann")
BOB = UserKey("telegram", "", "42")


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def full_state(key: UserKey = ANN) -> UserState:
    return UserState(
        key=key,
        chat="C-ann",
        locale="fr",
        locale_hint="fr-FR",
        tz="Europe/Paris",
        tz_chosen=True,
        event_date=dt.date(2025, 12, 9),
        steps_done={1: dt.datetime(2025, 11, 3, 10, 30, 15, 123456, tzinfo=PARIS), 3: at(-60)},
        reminders_enabled=True,
        welcomed=True,
        created_at=dt.datetime(2025, 11, 1, 8, 0, tzinfo=PARIS),
    )


# --------------------------------------------------------------------------------- users


def test_unknown_user_is_none(any_store: Store) -> None:
    assert any_store.get_user(ANN) is None


def test_user_round_trip_with_steps_in_utc(any_store: Store) -> None:
    state = full_state()
    any_store.save_user(state)
    got = any_store.get_user(ANN)
    assert got == state  # equal instants compare equal across zones
    assert got is not None
    assert all(when.utcoffset() == dt.timedelta(0) for when in got.steps_done.values())
    assert got.steps_done[1] == dt.datetime(2025, 11, 3, 9, 30, 15, 123456, tzinfo=UTC)
    assert got.created_at is not None
    assert got.created_at.tzinfo is not None
    assert got.created_at.utcoffset() == dt.timedelta(0)


def test_saving_again_updates_fields_and_replaces_steps(any_store: Store) -> None:
    any_store.save_user(full_state())
    changed = UserState(key=ANN, chat="C-new", locale=None, steps_done={2: at(0)}, reminders_enabled=False)
    any_store.save_user(changed)
    got = any_store.get_user(ANN)
    assert got is not None
    assert got.chat == "C-new"
    assert got.locale is None
    assert got.tz_chosen is False
    assert got.reminders_enabled is False
    assert dict(got.steps_done) == {2: at(0)}
    # A state without created_at keeps the first contact time.
    assert got.created_at == full_state().created_at


def test_users_are_told_apart_by_platform_workspace_and_id(any_store: Store) -> None:
    any_store.save_user(full_state(ANN))
    other = UserKey("slack", "T2", ANN.user)
    any_store.save_user(UserState(key=other, chat="elsewhere"))
    ann, twin = any_store.get_user(ANN), any_store.get_user(other)
    assert ann is not None
    assert twin is not None
    assert (ann.chat, twin.chat) == ("C-ann", "elsewhere")


def test_naive_datetimes_are_refused(any_store: Store) -> None:
    with pytest.raises(ValueError, match="naive"):
        any_store.add_reminder(ANN, "C", 1, dt.datetime(2025, 12, 1, 9, 0))
    with pytest.raises(ValueError, match="naive"):
        any_store.save_user(UserState(key=ANN, steps_done={1: dt.datetime(2025, 12, 1)}))


def test_delete_user_erases_state_and_reminders(any_store: Store) -> None:
    any_store.save_user(full_state(ANN))
    any_store.save_user(full_state(BOB))
    any_store.replace_auto_reminders(ANN, "C-ann", [(1, at(10)), (2, at(20))])
    any_store.add_reminder(ANN, "C-ann", None, at(5))
    kept = any_store.add_reminder(BOB, "C-bob", 2, at(5))
    any_store.delete_user(ANN)
    assert any_store.get_user(ANN) is None
    assert any_store.list_reminders(ANN, status=None) == []
    assert [r.id for r in any_store.list_reminders(None, status=None)] == [kept.id]
    assert any_store.get_user(BOB) is not None
    any_store.delete_user(ANN)  # erasing twice is harmless


# ----------------------------------------------------------------------------- reminders


def test_replace_auto_reminders_keeps_manual_and_finished_ones(any_store: Store) -> None:
    any_store.save_user(full_state())
    any_store.replace_auto_reminders(ANN, "C-ann", [(1, at(10)), (2, at(20)), (3, at(30))])
    manual = any_store.add_reminder(ANN, "C-ann", None, at(15))
    [first] = any_store.claim_due(at(11), limit=1, lease=LEASE, worker="w")
    any_store.mark_sent(first.id, at(11))

    any_store.replace_auto_reminders(ANN, "C-2", [(4, at(40)), (5, dt.datetime(2025, 12, 8, 11, 50, tzinfo=PARIS))])

    pending = any_store.list_reminders(ANN)
    assert [(r.step, r.kind, r.chat) for r in pending] == [
        (None, "manual", "C-ann"),
        (4, "auto", "C-2"),
        (5, "auto", "C-2"),
    ]
    assert pending[0].id == manual.id
    assert pending[2].due_at == at(110)
    assert pending[2].due_at.utcoffset() == dt.timedelta(0)
    assert [r.status for r in any_store.list_reminders(ANN, status="sent")] == ["sent"]
    any_store.replace_auto_reminders(ANN, "C-2", [])
    assert [r.kind for r in any_store.list_reminders(ANN)] == ["manual"]


def test_reminders_of_a_user_never_seen_create_the_user(any_store: Store) -> None:
    any_store.replace_auto_reminders(BOB, "C-bob", [(1, at(1))])
    user = any_store.get_user(BOB)
    assert user is not None
    assert user.chat == "C-bob"
    assert user.reminders_enabled is True
    assert len(any_store.claim_due(at(2), limit=5, lease=LEASE, worker="w")) == 1


def test_add_and_list_with_filters(any_store: Store) -> None:
    late = any_store.add_reminder(ANN, "C", 2, at(30))
    early = any_store.add_reminder(ANN, "C", None, at(10))
    bobs = any_store.add_reminder(BOB, "B", 1, at(20))
    assert (early.kind, early.status, early.attempts, early.step) == ("manual", "pending", 0, None)
    assert [r.id for r in any_store.list_reminders()] == [early.id, bobs.id, late.id]
    assert [r.id for r in any_store.list_reminders(ANN)] == [early.id, late.id]
    assert [r.id for r in any_store.list_reminders(due_before=at(20))] == [early.id, bobs.id]
    assert any_store.list_reminders(BOB)[0].key == BOB
    assert any_store.list_reminders(status="sent") == []


def test_cancel_only_own_pending_reminders(any_store: Store) -> None:
    mine = any_store.add_reminder(ANN, "C", 1, at(10))
    theirs = any_store.add_reminder(BOB, "B", 1, at(10))
    assert any_store.cancel_reminder(ANN, theirs.id) is False
    assert any_store.cancel_reminder(ANN, mine.id) is True
    assert any_store.cancel_reminder(ANN, mine.id) is False
    assert any_store.cancel_reminder(ANN, 999_999) is False
    [cancelled] = any_store.list_reminders(ANN, status="cancelled")
    assert cancelled.id == mine.id
    assert any_store.claim_due(at(60), limit=10, lease=LEASE, worker="w")[0].id == theirs.id


def test_count_pending(any_store: Store) -> None:
    assert any_store.count_pending(ANN) == 0
    a = any_store.add_reminder(ANN, "C", 1, at(1))
    any_store.add_reminder(ANN, "C", 2, at(2))
    any_store.add_reminder(BOB, "B", 2, at(2))
    assert any_store.count_pending(ANN) == 2
    any_store.cancel_reminder(ANN, a.id)
    assert any_store.count_pending(ANN) == 1


# ----------------------------------------------------------------------------- claiming


def test_claim_due_leases_due_reminders_in_order(any_store: Store) -> None:
    ids = [any_store.add_reminder(ANN, "C", i, at(i)).id for i in (3, 1, 2, 9)]
    claimed = any_store.claim_due(at(5), limit=2, lease=LEASE, worker="w1")
    assert [r.id for r in claimed] == [ids[1], ids[2]]
    assert all(r.attempts == 1 and r.lease_until == at(5) + LEASE for r in claimed)
    # Leased ones are not handed out again while the lease holds; the not yet due one never.
    again = any_store.claim_due(at(6), limit=10, lease=LEASE, worker="w2")
    assert [r.id for r in again] == [ids[0]]
    assert any_store.claim_due(at(7), limit=10, lease=LEASE, worker="w3") == []


def test_expired_lease_is_claimable_again(any_store: Store) -> None:
    r = any_store.add_reminder(ANN, "C", 1, at(0))
    [first] = any_store.claim_due(at(1), limit=5, lease=LEASE, worker="dead")
    assert any_store.claim_due(at(1) + LEASE - dt.timedelta(seconds=1), limit=5, lease=LEASE, worker="w") == []
    [second] = any_store.claim_due(at(1) + LEASE, limit=5, lease=LEASE, worker="w")
    assert (first.id, second.id) == (r.id, r.id)
    assert second.attempts == 2


def test_marking_ends_the_claim(any_store: Store) -> None:
    a, b, c = (any_store.add_reminder(ANN, "C", i, at(0)) for i in (1, 2, 3))
    any_store.claim_due(at(1), limit=5, lease=LEASE, worker="w")
    any_store.mark_sent(a.id, at(2))
    any_store.mark_failed(b.id, "blocked")
    any_store.mark_failed(c.id, "too late", status="dropped")
    [sent] = any_store.list_reminders(status="sent")
    assert (sent.id, sent.sent_at, sent.lease_until) == (a.id, at(2), None)
    [failed] = any_store.list_reminders(status="failed")
    assert (failed.id, failed.last_error) == (b.id, "blocked")
    assert [r.id for r in any_store.list_reminders(status="dropped")] == [c.id]
    assert any_store.claim_due(at(60), limit=5, lease=LEASE, worker="w") == []
    with pytest.raises(ValueError, match="failed"):
        any_store.mark_failed(a.id, "x", status="sent")


def test_release_holds_the_reminder_until_retry_at(any_store: Store) -> None:
    r = any_store.add_reminder(ANN, "C", 1, at(0))
    any_store.claim_due(at(1), limit=5, lease=LEASE, worker="w")
    any_store.release(r.id, at(30), "429 rate limited")
    [pending] = any_store.list_reminders(ANN)
    assert (pending.lease_until, pending.last_error, pending.attempts) == (None, "429 rate limited", 1)
    assert pending.due_at == at(0)  # the original time is kept, for "late" wording and the limit
    assert any_store.claim_due(at(29), limit=5, lease=LEASE, worker="w") == []
    [again] = any_store.claim_due(at(30), limit=5, lease=LEASE, worker="w")
    assert again.attempts == 2


def test_paused_users_reminders_are_not_claimed(any_store: Store) -> None:
    any_store.save_user(full_state(ANN))
    mine = any_store.add_reminder(ANN, "C", 1, at(0))
    theirs = any_store.add_reminder(BOB, "B", 1, at(0))
    any_store.set_reminders_enabled(ANN, False)
    assert [r.id for r in any_store.claim_due(at(1), limit=5, lease=LEASE, worker="w")] == [theirs.id]
    user = any_store.get_user(ANN)
    assert user is not None
    assert user.reminders_enabled is False
    any_store.set_reminders_enabled(ANN, True)
    assert [r.id for r in any_store.claim_due(at(1), limit=5, lease=LEASE, worker="w")] == [mine.id]


def test_concurrent_claims_are_exclusive(any_store: Store) -> None:
    ids = {any_store.add_reminder(UserKey("slack", "T", f"u{i % 7}"), "C", 1, at(i % 13)).id for i in range(120)}
    got: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        while batch := any_store.claim_due(at(20), limit=7, lease=LEASE, worker=name):
            with lock:
                got.extend(r.id for r in batch)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert Counter(got) == Counter(ids)


# -------------------------------------------------------------------------------- events


def test_event_ids_of_any_length_deduplicate(any_store: Store) -> None:
    ttl = dt.timedelta(minutes=10)
    long_id, other = "E" * 300, "E" * 299 + "F"
    assert any_store.seen_event("slack", long_id, at(0), ttl) is False
    assert any_store.seen_event("slack", long_id, at(1), ttl) is True
    assert any_store.seen_event("slack", other, at(1), ttl) is False
    assert any_store.seen_event("slack", "é" * 129, at(1), ttl) is False
    assert any_store.seen_event("slack", "é" * 129, at(2), ttl) is True


def test_seen_event_detects_duplicates_until_expiry(any_store: Store) -> None:
    ttl = dt.timedelta(hours=1)
    assert any_store.seen_event("slack", "Ev1", at(0), ttl) is False
    assert any_store.seen_event("slack", "Ev1", at(30), ttl) is True
    assert any_store.seen_event("telegram", "Ev1", at(30), ttl) is False
    # Expired: recorded anew, then a duplicate again.
    assert any_store.seen_event("slack", "Ev1", at(61), ttl) is False
    assert any_store.seen_event("slack", "Ev1", at(62), ttl) is True


# ---------------------------------------------------------------------------- SQL only


def _rows(store: SqlStore) -> dict[str, list[dict[str, object]]]:
    with store.engine.connect() as conn:
        return {t.name: [dict(row._mapping) for row in conn.execute(select(t))] for t in metadata.sorted_tables}


def test_delete_user_leaves_no_row_in_any_table(sql_store: SqlStore) -> None:
    for key in (ANN, BOB):
        sql_store.save_user(full_state(key))
        sql_store.replace_auto_reminders(key, "C", [(1, at(10)), (2, at(20))])
        sql_store.add_reminder(key, "C", None, at(5))
    [claimed] = sql_store.claim_due(at(6), limit=1, lease=LEASE, worker="w")
    sql_store.mark_sent(claimed.id, at(6))
    sql_store.seen_event("slack", "Ev1", at(0), dt.timedelta(hours=1))
    # Ann's last message, handled: the inbox keeps its key only.
    sql_store.inbox_add([InboxItem("slack", "Ev2", f"T:{ANN.user}", f'{{"user": "{ANN.user}"}}')], at(0))
    [row] = sql_store.inbox_claim("slack", "w", at(0), LEASE, 10)
    sql_store.inbox_answered(row.id, f'[{{"text": "{ANN.user}"}}]')
    sql_store.inbox_progress(row.id, 1, at(1))
    # The questions log holds no user id, so it is not part of a user's data; nor is platform state (the
    # Matrix bot's own session), nor are the console's sign-in links and sessions (administrators').
    assert set(_rows(sql_store)) == {
        "users",
        "steps",
        "reminders",
        "events",
        "questions",
        "inbox",
        "platform_state",
        "admin_links",
        "admin_sessions",
    }

    with sql_store.engine.connect() as conn:
        bob_id = conn.scalar(select(users.c.id).where(users.c.platform_user == BOB.user))
    sql_store.delete_user(ANN)

    rows = _rows(sql_store)
    assert [u["platform_user"] for u in rows["users"]] == [BOB.user]
    assert {s["user_id"] for s in rows["steps"]} == {bob_id}
    assert len(rows["steps"]) == 2
    assert {r["user_id"] for r in rows["reminders"]} == {bob_id}
    assert len(rows["reminders"]) == 3
    # No column anywhere still holds Ann's platform id or chat-specific identity.
    flat = [v for table in rows.values() for row in table for v in row.values()]
    assert ANN.user not in flat


def test_datetimes_are_stored_as_utc(sql_store: SqlStore) -> None:
    sql_store.add_reminder(ANN, "C", 1, dt.datetime(2025, 12, 8, 10, 0, tzinfo=PARIS))
    with sql_store.engine.connect() as conn:
        raw = conn.execute(text("SELECT due_at FROM reminders")).scalar_one()
        created = conn.execute(select(reminders.c.created_at)).scalar_one()
    if isinstance(raw, str):  # SQLite: text without zone, in UTC
        assert raw.startswith("2025-12-08 09:00:00")
    else:
        assert raw == T0
    assert created.utcoffset() == dt.timedelta(0)


def test_expired_events_are_purged(sql_store: SqlStore) -> None:
    ttl = dt.timedelta(minutes=10)
    for i in range(5):
        sql_store.seen_event("slack", f"old{i}", at(0), ttl)
    sql_store.seen_event("slack", "new", at(11), ttl)
    with sql_store.engine.connect() as conn:
        assert list(conn.scalars(select(events.c.event_id))) == ["new"]


def test_an_expired_event_id_not_purged_yet_counts_as_new(sql_store: SqlStore) -> None:
    ttl = dt.timedelta(seconds=10)
    assert sql_store.seen_event("slack", "Ev1", at(0), ttl) is False
    # 30 s later: expired, but the next purge is due only a minute after the last one.
    assert sql_store.seen_event("slack", "Ev2", at(0.5), ttl) is False
    with sql_store.engine.connect() as conn:
        assert sorted(conn.scalars(select(events.c.event_id))) == ["Ev1", "Ev2"]
    assert sql_store.seen_event("slack", "Ev1", at(0.5), ttl) is False
    assert sql_store.seen_event("slack", "Ev1", at(0.6), ttl) is True
    with sql_store.engine.connect() as conn:
        assert sorted(conn.scalars(select(events.c.event_id))) == ["Ev1", "Ev2"]


def test_sqlite_reads_do_not_wait_for_a_writer(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    store.save_user(UserState(key=ANN, chat="D1"))
    writer = store.engine.connect()
    try:
        # Another connection holds the write lock (SQLite's busy time-out is 30 s).
        writer.exec_driver_sql("UPDATE users SET chat = 'D2'")
        assert writer.in_transaction()
        result: list[UserState | None] = []
        reader = threading.Thread(target=lambda: result.append(store.get_user(ANN)))
        reader.start()
        reader.join(10)
        assert not reader.is_alive(), "a read waited for the writer"
        assert result[0] is not None
        assert result[0].chat == "D1"
        assert store.count_pending(ANN) == 0
        assert store.list_reminders(ANN) == []
    finally:
        writer.rollback()
        writer.close()
        store.close()


def test_reminder_ids_are_not_reused_after_deletion(sql_store: SqlStore) -> None:
    first = sql_store.add_reminder(ANN, "C", 1, at(0))
    sql_store.delete_user(ANN)
    second = sql_store.add_reminder(ANN, "C", 1, at(0))
    assert second.id > first.id


def test_head_revision_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(Path(engine_module.__file__).with_name("migrations")))
    config.set_main_option("path_separator", "os")
    assert ScriptDirectory.from_config(config).get_heads() == [engine_module.HEAD_REVISION]


def test_a_database_at_head_is_opened_without_loading_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    open_store(url).close()
    code = (
        "import sys; from bot.store.engine import open_store; "
        f"open_store({url!r}).close(); print('alembic' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_an_old_schema_is_brought_to_head(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    config = Config()
    config.set_main_option("script_location", str(Path(engine_module.__file__).with_name("migrations")))
    config.set_main_option("path_separator", "os")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
    assert engine_module.current_revision(engine) == "0001"
    upgrade(engine)
    assert engine_module.current_revision(engine) == engine_module.HEAD_REVISION
    with engine.connect() as conn:
        assert "questions" in inspect(conn).get_table_names()
    engine.dispose()


def _check_fresh_migration(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
        upgrade(engine)
        upgrade(engine)  # already at head: nothing to do
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == {
                "alembic_version",
                "users",
                "steps",
                "reminders",
                "events",
                "questions",
                "inbox",
                "platform_state",
                "admin_links",
                "admin_sessions",
            }
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD_REVISION
            # The migration builds exactly the tables the code declares.
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def test_migrations_from_empty_sqlite(sqlite_url: str) -> None:
    _check_fresh_migration(sqlite_url)


@pytest.mark.postgres
def test_migrations_from_empty_postgres(pg_schema_url: str) -> None:
    _check_fresh_migration(pg_schema_url)


@pytest.mark.postgres
def test_processes_starting_together_migrate_once(pg_schema_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def start() -> None:
        barrier.wait()
        try:
            open_store(pg_schema_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    store = open_store(pg_schema_url)
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(steps)) == 0
    store.close()


def test_memory_store_records_the_lease_owner() -> None:
    store = MemoryStore()
    r = store.add_reminder(ANN, "C", 1, at(0))
    store.claim_due(at(1), limit=1, lease=LEASE, worker="w7")
    assert store.lease_owner(r.id) == "w7"
    store.mark_sent(r.id, at(2))
    assert store.lease_owner(r.id) is None


def test_questions_are_purged_by_age(any_store: Store) -> None:
    any_store.log_question("slack", "fallback", None, "piscine", at(0))
    any_store.log_question("slack", "fallback", None, "cantine", at(60))
    assert any_store.purge_questions(at(30)) == 1
    assert any_store.stats().unanswered == [("cantine", 1)]
