"""The coordinator's plan as its commands see it: settings, the stored user, zone, event date, replanning."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core.handler import Handler, Turn
from bot.core.messages import Button, Reply
from bot.core.ports import Calendar, UserState
from bot.core.schedule import SchedulePolicy, plan_reminders


@dataclass(frozen=True, slots=True)
class OnboardingSettings:
    """Settings of the plan.

    Attributes:
        default_event_date: The event date of users who set none (``HOC_EVENT_DATE``).
        default_tz: Zone of users whose zone is unknown.
        max_pending: Most pending manual reminders one user may have.
        policy: When automatic reminders go out.
    """

    default_event_date: dt.date
    policy: SchedulePolicy
    default_tz: str = "Europe/Paris"
    max_pending: int = 20


class PlanState:
    """What the plan's commands share: the handler, the calendar, the settings and per-user helpers."""

    def __init__(self, handler: Handler, calendar: Calendar, settings: OnboardingSettings) -> None:
        self.h = handler
        self.calendar = calendar
        self.settings = settings

    def _user(self, turn: Turn) -> UserState:
        return self.h.store.get_user(turn.key) or turn.user

    def _tz(self, user: UserState) -> str:
        return user.tz if user.tz and self.calendar.is_valid_timezone(user.tz) else self.settings.default_tz

    def _event(self, user: UserState) -> dt.date:
        return user.event_date or self.settings.default_event_date

    def _today(self, user: UserState) -> dt.date:
        return self.h.clock.now().astimezone(ZoneInfo(self._tz(user))).date()

    def _save_and_replan(self, user: UserState) -> UserState:
        self.h.store.save_user(dataclasses.replace(user, welcomed=True))
        self.replan(user)
        return user

    def replan(self, user: UserState) -> None:
        """Rebuild the user's automatic reminders from their event date, zone and progress."""
        due: list[tuple[int, dt.datetime]] = []
        if user.reminders_enabled:
            due = plan_reminders(
                self._event(user),
                self._tz(user),
                set(user.steps_done),
                self.settings.policy,
                self.h.clock.now(),
            )
        self.h.store.replace_auto_reminders(user.key, user.chat, due)

    def _step_title(self, turn: Turn, step: int) -> str:
        entry = self.h.kb.step(step)
        if entry is None:
            return str(step)
        _, content = entry.best(turn.lang, self.h.settings.default_locale)
        return content.title

    def _reply(
        self,
        turn: Turn,
        text: str,
        kind: str,
        *,
        buttons: tuple[Button, ...] = (),
        title: str = "",
        replace: bool = False,
    ) -> Reply:
        return Reply(text, buttons=buttons, title=title, lang=turn.lang, kind=kind, replace=replace)
