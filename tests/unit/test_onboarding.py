"""The coordinator's plan: checklist, steps done, event date, zone, reminders, erasure."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.core.ports import UserKey
from bot.store.memory import MemoryStore
from tests.auxil.harness import FakeClock, Harness

KEY = UserKey("console", "", "u1")
ENV = {"HOC_EVENT_DATE": "2026-12-07"}


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def h(store: MemoryStore) -> Harness:
    harness = Harness(ENV, store=store, clock=FakeClock(dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)))
    harness.meet()
    return harness


def _auto_steps(store: MemoryStore) -> list[int | None]:
    return sorted(r.step for r in store.list_reminders(KEY) if r.kind == "auto")  # type: ignore[type-var]


def test_plan_shows_checklist_event_date_and_next_step(h: Harness) -> None:
    [plan] = h.send("plan")
    assert plan.kind == "plan"
    assert plan.text.count("⬜") == 5
    assert "✅" not in plan.text
    assert "7 décembre 2026" in plan.text
    assert "35" in plan.text  # days left
    assert [b.id for b in plan.buttons] == ["done:1", "step:1", "remind:1"]


def test_done_button_updates_the_checklist_in_place_and_replans(h: Harness, store: MemoryStore) -> None:
    h.send("plan")
    [updated] = h.press("done:1")
    assert updated.replace is True
    assert updated.text.count("✅") == 1
    assert updated.text.splitlines()[0].startswith("✅ 1.")
    user = store.get_user(KEY)
    assert user is not None
    assert set(user.steps_done) == {1}
    assert 1 not in _auto_steps(store)
    [undone] = h.send("undo 1")
    assert "✅" not in undone.text
    assert set(store.get_user(KEY).steps_done) == set()  # type: ignore[union-attr]


def test_event_date_in_french_words_is_stored_and_reminders_follow(h: Harness, store: MemoryStore) -> None:
    replies = h.send("date le 14 décembre")
    assert replies[0].kind == "date"
    assert "14 décembre 2026" in replies[0].text
    assert store.get_user(KEY).event_date == dt.date(2026, 12, 14)  # type: ignore[union-attr]
    due = {r.step: r.due_at for r in store.list_reminders(KEY) if r.kind == "auto"}
    # Step 5 at D-7: Monday 7 December, 09:00 in Paris = 08:00 UTC.
    assert due[5] == dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
    assert due[0] == dt.datetime(2026, 12, 15, 8, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["date hier", "date 1900-01-01", "date n'importe quoi", "date 32/13", "date"])
def test_bad_event_date_gets_a_question_and_nothing_is_stored(h: Harness, store: MemoryStore, text: str) -> None:
    [reply] = h.send(text)
    assert reply.kind == "error"
    assert "?" in reply.text
    assert store.get_user(KEY).event_date is None  # type: ignore[union-attr]


def test_wrong_zone_gets_suggestions_and_nothing_is_stored(h: Harness, store: MemoryStore) -> None:
    [reply] = h.send("tz Europe/Pariss")
    assert reply.kind == "error"
    assert "tz:Europe/Paris" in [b.id for b in reply.buttons]
    assert store.get_user(KEY).tz is None  # type: ignore[union-attr]
    [ok] = h.press("tz:America/New_York")
    assert ok.kind == "tz"
    user = store.get_user(KEY)
    assert (user.tz, user.tz_chosen) == ("America/New_York", True)  # type: ignore[union-attr]
    due = {r.step: r.due_at for r in store.list_reminders(KEY) if r.kind == "auto"}
    # Step 5 at D-7 = Monday 30 November, 09:00 in New York = 14:00 UTC.
    assert due[5] == dt.datetime(2026, 11, 30, 14, 0, tzinfo=dt.UTC)


def test_remind_list_and_cancel(h: Harness, store: MemoryStore) -> None:
    [set_] = h.send("remind demain 9h step 2")
    assert set_.kind == "remind"
    manual = [r for r in store.list_reminders(KEY) if r.kind == "manual"]
    assert len(manual) == 1
    assert manual[0].step == 2
    assert manual[0].due_at == dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC)
    [listing] = h.send("reminders")
    assert "mardi 3 novembre 2026" in listing.text
    assert "09:00" in listing.text
    [cancelled] = h.send(f"cancel {manual[0].id}")
    assert cancelled.kind == "cancel"
    assert not [r for r in store.list_reminders(KEY) if r.kind == "manual"]
    [again] = h.send(f"cancel {manual[0].id}")
    assert again.kind == "error"


def test_remind_me_button_sets_a_reminder_tomorrow_morning(h: Harness, store: MemoryStore) -> None:
    [reply] = h.press("remind:1")
    assert reply.kind == "remind"
    [manual] = [r for r in store.list_reminders(KEY) if r.kind == "manual"]
    assert manual.step == 1
    assert manual.due_at == dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.UTC)


def test_manual_reminders_are_capped_with_a_clear_message(h: Harness, store: MemoryStore) -> None:
    kinds = [h.send(f"remind dans {n + 1} jours")[0].kind for n in range(25)]
    manual = [r for r in store.list_reminders(KEY) if r.kind == "manual"]
    assert len(manual) <= 20
    assert kinds.count("remind") == len(manual)
    assert kinds[-1] == "error"


@pytest.mark.parametrize("text", ["remind", "remind n'importe quand", "cancel", "cancel abc", "done", "undo 9", "tz"])
def test_commands_with_missing_or_bad_arguments(h: Harness, store: MemoryStore, text: str) -> None:
    before = store.list_reminders(KEY)
    [reply] = h.send(text)
    assert reply.kind == "error"
    assert store.list_reminders(KEY) == before


def test_reminders_off_clears_automatic_reminders_and_on_restores_them(h: Harness, store: MemoryStore) -> None:
    h.send("plan")
    h.send("date 2026-12-14")
    assert _auto_steps(store)
    [off] = h.send("reminders off")
    assert off.kind == "reminders"
    assert store.get_user(KEY).reminders_enabled is False  # type: ignore[union-attr]
    assert _auto_steps(store) == []
    h.send("reminders on")
    assert _auto_steps(store) == [0, 1, 2, 3, 4, 5]


def test_forget_me_asks_first_then_erases_everything(h: Harness, store: MemoryStore) -> None:
    h.send("date 2026-12-14")
    h.send("done 1")
    h.send("remind demain 9h")
    [confirm] = h.send("forget me")
    assert confirm.kind == "confirm"
    assert store.get_user(KEY) is not None
    assert next(b.id for b in confirm.buttons) == "forget:confirm"
    [done] = h.press("forget:confirm")
    assert done.kind == "forget"
    assert store.get_user(KEY) is None
    assert store.list_reminders(KEY, status=None) == []


def test_typed_forget_confirm_is_not_enough(h: Harness, store: MemoryStore) -> None:
    [reply] = h.send("forget confirm")
    assert reply.kind == "confirm"
    assert store.get_user(KEY) is not None


def test_next_shows_first_step_not_done(h: Harness) -> None:
    h.send("done 1")
    h.send("done 2")
    [reply] = h.send("next")
    assert reply.topic == "social-media"


def test_reset_asks_then_clears_steps(h: Harness, store: MemoryStore) -> None:
    h.send("done 1")
    [ask] = h.send("reset")
    assert ask.kind == "confirm"
    assert set(store.get_user(KEY).steps_done) == {1}  # type: ignore[union-attr]
    h.press("reset:confirm")
    assert set(store.get_user(KEY).steps_done) == set()  # type: ignore[union-attr]
