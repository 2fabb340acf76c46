"""Tests of the reminder schedule rules: weekends, quiet hours, daylight-saving changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.schedule import (
    AFTER_STEP,
    DEFAULT_POLICY,
    SchedulePolicy,
    ScheduleRule,
    adjust_manual,
    days_left,
    get_zone,
    local_datetime,
    next_step,
    plan_reminders,
)

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
NO_QUIET = dict(quiet_start=dt.time(0, 0), quiet_end=dt.time(0, 0))


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    current: dt.datetime

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, delta: dt.timedelta) -> None:
        self.current += delta


@dataclass
class Coordinator:
    """What a store would keep: the plan, what was sent, the steps done."""

    event: dt.date
    tz: str
    done: set[int] = field(default_factory=set)
    pending: list[tuple[int, dt.datetime]] = field(default_factory=list)
    sent: list[tuple[int, dt.datetime, frozenset[int]]] = field(default_factory=list)

    def replan(self, now: dt.datetime) -> None:
        self.pending = plan_reminders(self.event, self.tz, self.done, DEFAULT_POLICY, now)

    def deliver_due(self, now: dt.datetime) -> None:
        due = [item for item in self.pending if item[1] <= now]
        self.pending = [item for item in self.pending if item[1] > now]
        self.sent.extend((step, at, frozenset(self.done)) for step, at in due)


# Local dates expected for each step; the event days are Fridays, so D+1 is a Saturday -> Monday.
SPRING = dt.date(2027, 3, 26)  # Europe springs forward on 2027-03-28, the US on 2027-03-14
AUTUMN = dt.date(2026, 11, 20)  # Europe falls back on 2026-10-25, the US on 2026-11-01
EXPECTED_DATES = {
    SPRING: {
        1: dt.date(2027, 2, 26),
        3: dt.date(2027, 3, 12),
        4: dt.date(2027, 3, 16),
        5: dt.date(2027, 3, 19),
        AFTER_STEP: dt.date(2027, 3, 29),
    },
    AUTUMN: {
        1: dt.date(2026, 10, 23),
        3: dt.date(2026, 11, 6),
        4: dt.date(2026, 11, 10),
        5: dt.date(2026, 11, 13),
        AFTER_STEP: dt.date(2026, 11, 23),
    },
}


@pytest.mark.parametrize("event", [SPRING, AUTUMN], ids=["spring-2027", "autumn-2026"])
@pytest.mark.parametrize("tz", ["Europe/Paris", "America/New_York"])
def test_six_weeks_of_a_plan_driven_by_the_clock(event: dt.date, tz: str) -> None:
    zone = ZoneInfo(tz)
    start = dt.datetime.combine(event - dt.timedelta(days=35), dt.time(5, 30), tzinfo=UTC)
    clock = FakeClock(start)
    user = Coordinator(event, tz)
    user.replan(clock.now())
    for day in range(42):
        clock.advance(dt.timedelta(days=1))
        user.deliver_due(clock.now())
        if day == 9:  # D-25: step 2 is done before its reminder (D-21) comes
            user.done.add(2)
        # Replanning every day, as the handler does after any change, must never resend.
        user.replan(clock.now())

    steps_sent = [step for step, _, _ in user.sent]
    assert sorted(steps_sent) == sorted([1, 3, 4, 5, AFTER_STEP]), "each step once, none for step 2"
    assert len(set(steps_sent)) == len(steps_sent)
    assert not user.pending
    for step, at, done_then in user.sent:
        local = at.astimezone(zone)
        assert at.tzinfo is UTC
        assert local.time() == dt.time(9, 0), (step, local)
        assert local.weekday() < 5, (step, local)
        assert step not in done_then
        assert local.date() == EXPECTED_DATES[event][step]
        if step == AFTER_STEP:
            assert local.date() > event
        else:
            assert local.date() < event
    # The plan crosses a change of UTC offset: 09:00 local is two different UTC hours.
    assert len({at.hour for _, at, _ in user.sent}) == 2
    assert [at for _, at, _ in user.sent] == sorted(at for _, at, _ in user.sent)


def test_offsets_on_both_sides_of_the_spring_change() -> None:
    plan = dict(plan_reminders(SPRING, "America/New_York", set(), DEFAULT_POLICY, dt.datetime(2027, 1, 1, tzinfo=UTC)))
    assert plan[3] == dt.datetime(2027, 3, 12, 14, 0, tzinfo=UTC)  # EST, before 2027-03-14
    assert plan[4] == dt.datetime(2027, 3, 16, 13, 0, tzinfo=UTC)  # EDT, after
    plan = dict(plan_reminders(SPRING, "Europe/Paris", set(), DEFAULT_POLICY, dt.datetime(2027, 1, 1, tzinfo=UTC)))
    assert plan[5] == dt.datetime(2027, 3, 19, 8, 0, tzinfo=UTC)  # CET
    assert plan[AFTER_STEP] == dt.datetime(2027, 3, 29, 7, 0, tzinfo=UTC)  # CEST


def local_plan(
    event: dt.date, policy: SchedulePolicy = DEFAULT_POLICY, tz: str = "Europe/Paris"
) -> dict[int, dt.datetime]:
    now = dt.datetime.combine(event - dt.timedelta(days=60), dt.time(), tzinfo=UTC)
    return {step: at.astimezone(ZoneInfo(tz)) for step, at in plan_reminders(event, tz, (), policy, now)}


def test_weekend_before_the_event_moves_to_the_previous_friday() -> None:
    plan = local_plan(dt.date(2026, 12, 9))  # Wednesday: D-10 is Sunday 29 November
    assert plan[4].date() == dt.date(2026, 11, 27)
    assert plan[4].weekday() == 4
    plan = local_plan(dt.date(2026, 12, 8))  # Tuesday: D-10 is Saturday 28 November
    assert plan[4].date() == dt.date(2026, 11, 27)


def test_weekend_after_the_event_moves_to_the_next_monday() -> None:
    assert local_plan(dt.date(2026, 12, 11))[AFTER_STEP].date() == dt.date(2026, 12, 14)  # Friday event
    saturday_event = local_plan(dt.date(2026, 12, 12))
    assert saturday_event[AFTER_STEP].date() == dt.date(2026, 12, 14)  # D+1 is a Sunday
    assert saturday_event[5].date() == dt.date(2026, 12, 4)  # D-7 is a Saturday


def test_weekdays_are_kept_and_weekends_too_when_not_skipped() -> None:
    assert local_plan(dt.date(2026, 12, 10))[AFTER_STEP].date() == dt.date(2026, 12, 11)  # Thursday -> Friday
    keep = SchedulePolicy(DEFAULT_POLICY.rules, skip_weekends=False)
    assert local_plan(dt.date(2026, 12, 11), keep)[AFTER_STEP].date() == dt.date(2026, 12, 12)


def test_steps_done_and_past_reminders_are_left_out() -> None:
    event = dt.date(2026, 12, 11)
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # after D-28 and D-21
    plan = plan_reminders(event, "Europe/Paris", {3, 5}, DEFAULT_POLICY, now)
    assert [step for step, _ in plan] == [4, AFTER_STEP]
    assert all(at > now for _, at in plan)
    done_all = plan_reminders(event, "Europe/Paris", {1, 2, 3, 4, 5, AFTER_STEP}, DEFAULT_POLICY, now)
    assert done_all == []


def test_a_reminder_due_exactly_now_is_not_planned_again() -> None:
    event = dt.date(2026, 12, 11)
    d1 = dt.datetime(2026, 12, 14, 8, 0, tzinfo=UTC)  # Monday 09:00 in Paris
    assert (AFTER_STEP, d1) in plan_reminders(event, "Europe/Paris", (), DEFAULT_POLICY, d1 - dt.timedelta(seconds=1))
    assert plan_reminders(event, "Europe/Paris", (), DEFAULT_POLICY, d1) == []


def test_send_time_inside_quiet_hours_uses_the_end_of_quiet_hours() -> None:
    late = SchedulePolicy(DEFAULT_POLICY.rules, send_at=dt.time(22, 30))
    plan = local_plan(dt.date(2026, 12, 9), late)
    assert {at.time() for at in plan.values()} == {dt.time(8, 0)}
    assert plan[1].date() == dt.date(2026, 11, 11)


@pytest.mark.parametrize(
    ("wall", "quiet"),
    [
        (dt.time(20, 59), False),
        (dt.time(21, 0), True),
        (dt.time(23, 59), True),
        (dt.time(0, 0), True),
        (dt.time(7, 59), True),
        (dt.time(8, 0), False),
        (dt.time(12, 0), False),
    ],
)
def test_quiet_hours_wrap_around_midnight(wall: dt.time, quiet: bool) -> None:
    assert DEFAULT_POLICY.is_quiet(wall) is quiet


def test_quiet_hours_within_a_day_and_none() -> None:
    lunch = SchedulePolicy((), quiet_start=dt.time(12, 0), quiet_end=dt.time(14, 0))
    assert lunch.is_quiet(dt.time(13, 0))
    assert not lunch.is_quiet(dt.time(14, 0))
    assert not lunch.is_quiet(dt.time(3, 0))
    assert not SchedulePolicy((), **NO_QUIET).is_quiet(dt.time(3, 0))


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (dt.datetime(2026, 12, 8, 3, 0), dt.datetime(2026, 12, 8, 9, 0)),  # "demain 3h"
        (dt.datetime(2026, 12, 8, 22, 30), dt.datetime(2026, 12, 9, 9, 0)),
        (dt.datetime(2026, 12, 8, 21, 0), dt.datetime(2026, 12, 9, 9, 0)),
        (dt.datetime(2026, 12, 8, 7, 59), dt.datetime(2026, 12, 8, 9, 0)),
        (dt.datetime(2026, 12, 8, 8, 0), dt.datetime(2026, 12, 8, 8, 0)),  # quiet_end is allowed
        (dt.datetime(2026, 12, 8, 14, 15), dt.datetime(2026, 12, 8, 14, 15)),
        (dt.datetime(2026, 12, 12, 10, 0), dt.datetime(2026, 12, 12, 10, 0)),  # a Saturday chosen by the user
    ],
)
def test_manual_times_leave_quiet_hours(asked: dt.datetime, expected: dt.datetime) -> None:
    moved = adjust_manual(asked.replace(tzinfo=PARIS), DEFAULT_POLICY)
    assert moved == expected.replace(tzinfo=PARIS)
    assert moved.tzinfo is PARIS


def test_manual_time_uses_quiet_end_when_send_at_would_be_earlier_or_quiet() -> None:
    lunch = SchedulePolicy((), quiet_start=dt.time(12, 0), quiet_end=dt.time(14, 0))
    asked = dt.datetime(2026, 12, 8, 13, 0, tzinfo=PARIS)
    assert adjust_manual(asked, lunch) == dt.datetime(2026, 12, 8, 14, 0, tzinfo=PARIS)
    night_send = SchedulePolicy((), send_at=dt.time(23, 0))
    asked = dt.datetime(2026, 12, 8, 3, 0, tzinfo=PARIS)
    assert adjust_manual(asked, night_send) == dt.datetime(2026, 12, 8, 8, 0, tzinfo=PARIS)


def test_manual_time_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        adjust_manual(dt.datetime(2026, 12, 8, 3, 0), DEFAULT_POLICY)


def test_nonexistent_local_time_moves_forward_by_the_gap() -> None:
    paris = local_datetime(dt.date(2027, 3, 28), dt.time(2, 30), PARIS)
    assert (paris.hour, paris.minute) == (3, 30)
    assert paris.astimezone(UTC) == dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    new_york = local_datetime(dt.date(2027, 3, 14), dt.time(2, 30), NEW_YORK)
    assert new_york.astimezone(UTC) == dt.datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_repeated_local_time_takes_its_first_occurrence() -> None:
    paris = local_datetime(dt.date(2026, 10, 25), dt.time(2, 30), PARIS)
    assert paris.astimezone(UTC) == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # still summer time
    assert paris.utcoffset() == dt.timedelta(hours=2)


def test_reminder_planned_inside_the_spring_gap() -> None:
    night = SchedulePolicy((ScheduleRule(1, -1),), send_at=dt.time(2, 30), skip_weekends=False, **NO_QUIET)
    now = dt.datetime(2027, 3, 1, tzinfo=UTC)
    plan = plan_reminders(dt.date(2027, 3, 29), "Europe/Paris", (), night, now)
    assert plan == [(1, dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC))]


def test_manual_time_inside_the_spring_gap_leaves_quiet_hours() -> None:
    asked = dt.datetime(2027, 3, 28, 2, 30, tzinfo=PARIS)  # does not exist on the wall clock
    quiet_to_three = SchedulePolicy((), quiet_start=dt.time(23, 0), quiet_end=dt.time(3, 0))
    moved = adjust_manual(asked, quiet_to_three)
    assert moved.astimezone(UTC) == dt.datetime(2027, 3, 28, 7, 0, tzinfo=UTC)  # 09:00 CEST


def test_next_step_and_days_left() -> None:
    assert next_step(set()) == 1
    assert next_step({1, 2, 4}) == 3
    assert next_step({1, 2, 3, 4, 5}) is None
    assert next_step({0, 1}) == 2
    assert days_left(dt.date(2026, 12, 7), dt.date(2026, 11, 30)) == 7
    assert days_left(dt.date(2026, 12, 7), dt.date(2026, 12, 7)) == 0
    assert days_left(dt.date(2026, 12, 7), dt.date(2026, 12, 9)) == -2


@pytest.mark.parametrize("name", ["Europe/paris", "Mars/Olympus", "", "../etc/passwd", "/etc/localtime"])
def test_unknown_zones_raise_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        get_zone(name)
    with pytest.raises(ValueError, match="unknown time zone"):
        plan_reminders(dt.date(2026, 12, 7), name, (), DEFAULT_POLICY, dt.datetime(2026, 1, 1, tzinfo=UTC))


def test_invalid_rules_and_naive_now_are_refused() -> None:
    with pytest.raises(ValueError, match="step"):
        ScheduleRule(6, -1)
    with pytest.raises(ValueError, match="more than once"):
        SchedulePolicy((ScheduleRule(1, -28), ScheduleRule(1, -20)))
    with pytest.raises(ValueError, match="time zone"):
        SchedulePolicy((), send_at=dt.time(9, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match="aware"):
        plan_reminders(dt.date(2026, 12, 7), "UTC", (), DEFAULT_POLICY, dt.datetime(2026, 1, 1))


ZONES = ["Europe/Paris", "America/New_York", "America/Sao_Paulo", "Australia/Sydney", "Asia/Seoul", "UTC"]


@settings(max_examples=150, deadline=None)
@given(
    event=st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2030, 12, 31)),
    tz=st.sampled_from(ZONES),
    done=st.sets(st.integers(min_value=0, max_value=5)),
    hours_before=st.integers(min_value=-24 * 10, max_value=24 * 60),
)
def test_every_planned_reminder_keeps_the_rules(event: dt.date, tz: str, done: set[int], hours_before: int) -> None:
    now = dt.datetime.combine(event, dt.time(12), tzinfo=UTC) - dt.timedelta(hours=hours_before)
    plan = plan_reminders(event, tz, done, DEFAULT_POLICY, now)
    assert plan == sorted(plan, key=lambda item: (item[1], item[0]))
    assert len({step for step, _ in plan}) == len(plan)
    for step, at in plan:
        local = at.astimezone(ZoneInfo(tz))
        assert step not in done
        assert at > now
        assert at.utcoffset() == dt.timedelta(0)
        assert local.time() == dt.time(9, 0)
        assert local.weekday() < 5
        assert (local.date() > event) == (step == AFTER_STEP)
