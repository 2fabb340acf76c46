"""The inbox queries on every store: keys deduplicate, claims keep each user's order, leases expire."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import select

from bot.core.ports import InboxItem, InboxRecord, Store
from bot.store.schema import inbox
from bot.store.sql import SqlStore

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=30)


def item(key: str, order: str = "T:U1", payload: str = '{"text": "hello"}') -> InboxItem:
    return InboxItem("slack", key, order, payload)


def test_a_key_is_kept_once_per_platform(any_store: Store) -> None:
    assert any_store.inbox_add([item("Ev1"), item("Ev2"), item("Ev1")], T0) == [True, True, False]
    assert any_store.inbox_add([InboxItem("telegram", "Ev1", "chat:1", "{}")], T0) == [True]
    assert any_store.inbox_pending("slack") == 2
    assert any_store.inbox_pending() == 3


def test_keys_of_any_length_deduplicate(any_store: Store) -> None:
    long_key, long_order = "E" * 5000, "T:" + "U" * 5000
    assert any_store.inbox_add([item(long_key, long_order)], T0) == [True]
    assert any_store.inbox_add([item(long_key, long_order)], T0) == [False]
    assert any_store.inbox_add([item(long_key[:-1] + "F", long_order)], T0) == [True]
    [first] = any_store.inbox_claim("slack", "w", T0, LEASE, 10)  # the second waits: same (long) order key
    assert first.item.payload == '{"text": "hello"}'


def test_claims_take_the_oldest_event_of_each_user_and_leave_the_next_ones_waiting(any_store: Store) -> None:
    any_store.inbox_add([item("a1", "T:A"), item("b1", "T:B"), item("a2", "T:A"), item("c1", "T:C")], T0)
    claimed = any_store.inbox_claim("slack", "w1", T0, LEASE, 10)
    assert [r.item.key for r in claimed] == ["a1", "b1", "c1"]
    assert [r.attempts for r in claimed] == [1, 1, 1]
    assert any_store.inbox_claim("slack", "w2", T0, LEASE, 10) == []  # a2 waits for a1
    any_store.inbox_progress(claimed[0].id, 0, T0)
    [a2] = any_store.inbox_claim("slack", "w2", T0, LEASE, 10)
    assert a2.item.key == "a2"
    assert any_store.inbox_claim("telegram", "w2", T0, LEASE, 10) == []


def test_a_lease_expires_unless_extended_and_a_release_frees_it(any_store: Store) -> None:
    any_store.inbox_add([item("Ev1")], T0)
    [row] = any_store.inbox_claim("slack", "w1", T0, LEASE, 10)
    assert any_store.inbox_claim("slack", "w2", T0 + dt.timedelta(seconds=29), LEASE, 10) == []
    assert any_store.inbox_extend("w1", T0 + dt.timedelta(seconds=20), LEASE) == 1
    assert any_store.inbox_claim("slack", "w2", T0 + dt.timedelta(seconds=40), LEASE, 10) == []
    [again] = any_store.inbox_claim("slack", "w2", T0 + dt.timedelta(seconds=51), LEASE, 10)
    assert (again.id, again.attempts) == (row.id, 2)
    assert any_store.inbox_release("slack", "w1") == 0  # no longer w1's
    assert any_store.inbox_release("slack", "w2") == 1
    [third] = any_store.inbox_claim("slack", "w3", T0 + dt.timedelta(seconds=52), LEASE, 10)
    assert third.attempts == 3


def test_kept_replies_and_progress_come_back_with_a_new_claim(any_store: Store) -> None:
    any_store.inbox_add([item("Ev1")], T0)
    [row] = any_store.inbox_claim("slack", "w1", T0, LEASE, 10)
    assert (row.replies, row.sent) == (None, 0)
    any_store.inbox_answered(row.id, '["kept"]')
    any_store.inbox_progress(row.id, 1)
    [again] = any_store.inbox_claim("slack", "w2", T0 + dt.timedelta(minutes=1), LEASE, 10)
    assert (again.replies, again.sent) == ('["kept"]', 1)


def test_records_of_several_events_apply_together(any_store: Store) -> None:
    any_store.inbox_add([item("Ev1"), item("Ev2", "T:U2"), item("Ev3", "T:U3")], T0)
    first, second, third = any_store.inbox_claim("slack", "w1", T0, LEASE, 10)
    any_store.inbox_record(
        [
            InboxRecord(first.id, replies='["a", "b"]'),
            InboxRecord(second.id, sent=1),
            InboxRecord(third.id, sent=2, done_at=T0),
        ]
    )
    again = any_store.inbox_claim("slack", "w2", T0 + dt.timedelta(minutes=1), LEASE, 10)
    assert [(r.item.key, r.replies, r.sent) for r in again] == [("Ev1", '["a", "b"]', 0), ("Ev2", None, 1)]
    assert any_store.inbox_pending("slack") == 2
    assert any_store.inbox_add([item("Ev3")], T0) == [False]  # done, its key kept


def test_handled_events_keep_their_key_until_purged(any_store: Store) -> None:
    any_store.inbox_add([item("Ev1"), item("Ev2", "T:U2")], T0)
    first, second = any_store.inbox_claim("slack", "w", T0, LEASE, 10)
    any_store.inbox_progress(first.id, 2, T0 + dt.timedelta(minutes=1))
    any_store.inbox_progress(second.id, 1, T0 + dt.timedelta(minutes=30))
    assert any_store.inbox_pending() == 0
    assert any_store.inbox_add([item("Ev1")], T0) == [False]
    assert any_store.inbox_purge(T0 + dt.timedelta(minutes=10)) == 1
    assert any_store.inbox_add([item("Ev1"), item("Ev2")], T0) == [True, False]


def test_a_handled_event_keeps_nothing_said_by_or_to_the_user(sql_store: SqlStore) -> None:
    sql_store.inbox_add([item("Ev1", "T:U1", '{"text": "mon adresse est 3 rue X"}')], T0)
    [row] = sql_store.inbox_claim("slack", "w", T0, LEASE, 10)
    sql_store.inbox_answered(row.id, '["Bonjour U1"]')
    sql_store.inbox_progress(row.id, 1, T0)
    with sql_store.engine.connect() as conn:
        [kept] = conn.execute(select(inbox)).mappings().all()
    assert (kept["event_key"], kept["payload"], kept["replies"], kept["order_key"]) == ("Ev1", "", None, "")


def test_two_processes_claiming_at_once_never_share_an_event(sql_store: SqlStore) -> None:
    sql_store.inbox_add([item(f"Ev{n}", f"T:U{n}") for n in range(200)], T0)
    claims: dict[str, list[int]] = {"w1": [], "w2": []}

    def claim(owner: str) -> None:
        while rows := sql_store.inbox_claim("slack", owner, T0, LEASE, 7):
            claims[owner] += [r.id for r in rows]

    threads = [threading.Thread(target=claim, args=(owner,)) for owner in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(claims["w1"]) & set(claims["w2"])
    assert len(claims["w1"]) + len(claims["w2"]) == 200
