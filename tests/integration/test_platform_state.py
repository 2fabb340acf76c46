"""Platform state (the Matrix bot's session and sync position) on every store."""

from __future__ import annotations

import datetime as dt

from bot.core.ports import PlatformStateStore, Store

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def test_platform_state_is_kept_replaced_and_forgotten(any_store: Store) -> None:
    assert isinstance(any_store, PlatformStateStore)
    assert any_store.load_state("matrix", "session") is None
    any_store.save_state("matrix", "session", '{"device_id": "A"}', NOW)
    any_store.save_state("matrix", "session", '{"device_id": "B"}', NOW)
    any_store.save_state("matrix", "sync_token", "s1", NOW)
    any_store.save_state("other", "session", "x", NOW)
    assert any_store.load_state("matrix", "session") == '{"device_id": "B"}'
    any_store.delete_state("matrix", "sync_token")
    assert any_store.load_state("matrix", "sync_token") is None
    assert any_store.load_state("matrix", "session") == '{"device_id": "B"}'
    any_store.delete_state("matrix")
    assert any_store.load_state("matrix", "session") is None
    assert any_store.load_state("other", "session") == "x"
