"""The coordinator's plan: checklist, event date, time zone and erasure, with the reminder commands."""

from __future__ import annotations

import dataclasses
import re

from bot.core.commands import parse_steps
from bot.core.guide_commands import step_numbers
from bot.core.handler import Handler, Turn
from bot.core.lexicon import STEP_WORDS
from bot.core.messages import Button, Reply, fit_label
from bot.core.plan_state import OnboardingSettings
from bot.core.ports import Calendar, Translator, UserState
from bot.core.reminder_commands import ReminderCommands, split_step
from bot.core.schedule import STEPS, days_left, next_step
from bot.core.text import fold


def _never(args: str, lang: str) -> bool:
    """A command that only a button calls."""
    return False


def _zone_words(args: str, lang: str) -> bool:
    """``tz Europe/Paris``, ``tz UTC+1``, ``tz new york``: up to three words."""
    return len(args.split()) <= 3


def _numbers(args: str, lang: str) -> bool:
    """``cancel 2``: nothing, a number, or one word meant as one (``cancel abc`` gets told how)."""
    return len(args.split()) <= 1 or bool(re.fullmatch(r"\s*(?:n°|no|#)?\s*\d{1,12}\s*[.!]?\s*", args.lower()))


class Onboarding(ReminderCommands):
    """Adds plan, done, undo, next, reset, date, tz, remind, reminders, cancel and forget to a handler."""

    def __init__(self, handler: Handler, calendar: Calendar, settings: OnboardingSettings) -> None:
        super().__init__(handler, calendar, settings)
        handler.register("plan", self.plan)
        handler.register("done", self.done, accepts=step_numbers)
        handler.register("undo", self.undo, accepts=step_numbers)
        handler.register("next", self.next)
        handler.register("reset", self.reset, accepts=self._accepts_confirm)
        handler.register("date", self.date, accepts=self._accepts_date)
        handler.register("tz", self.tz, accepts=_zone_words)
        handler.register("remind", self.remind, accepts=self._accepts_when)
        handler.register("reminders", self.reminders, accepts=self._accepts_switch)
        handler.register("cancel", self.cancel, accepts=_numbers)
        handler.register("keep", self.keep, accepts=_never)
        handler.register("forget", self.forget, accepts=self._accepts_confirm)
        handler.typed_buttons.append(self._typed_button)
        handler.help_lines.append(self._help_lines)
        handler.welcome = self.welcome

    # ----------------------------------------------------------------- what the commands accept
    def _accepts_confirm(self, args: str, lang: str) -> bool:
        """``reset``, ``forget me``: nothing more, or ``yes``."""
        return not args.strip() or self.h.vocabulary.argument(args) == "confirm"

    def _accepts_switch(self, args: str, lang: str) -> bool:
        """``reminders``, ``reminders off``."""
        return not args.strip() or self.h.vocabulary.argument(args) in {"on", "off"}

    def _accepts_date(self, args: str, lang: str) -> bool:
        """A date the calendar reads, or a short text with a number in it (a date mistyped)."""
        if not args.strip():
            return True
        if len(args.split()) <= 3 or (any(ch.isdigit() for ch in args) and len(args.split()) <= 5):
            return True  # "date n'importe quoi" gets told how to write a date
        value, error = self.calendar.parse_date(args, lang, self.h.clock.now().date())
        return value is not None or error in {"past", "too_far"}

    def _accepts_when(self, args: str, lang: str) -> bool:
        """A moment the calendar reads (with or without a step), or a short text with a number in it."""
        if not args.strip():
            return True
        rest = split_step(args)[1]
        if not rest or len(args.split()) <= 3 or (any(ch.isdigit() for ch in args) and len(args.split()) <= 6):
            return True
        value, error = self.calendar.parse_when(rest, lang, self.h.clock.now(), self.settings.default_tz)
        return value is not None or error in {"past", "too_far"}

    def _typed_button(self, turn: Turn, text: str) -> str | None:
        """A zone name, or the label of one of the plan's buttons, typed instead of pressed."""
        name = text.strip()
        if "/" in name and " " not in name and self.calendar.is_valid_timezone(name):
            return f"tz:{name}"
        typed = fold(text)
        t = turn.t
        upcoming = next_step(set(self._user(turn).steps_done)) or 5
        if typed == fold(t.gettext("See my plan")):
            return "plan"
        if typed == fold(t.gettext("Remind me")):
            return f"remind:{upcoming}"
        for number in STEPS:
            if typed == fold(t.gettext("Mark step {number} done").format(number=number)):
                return f"done:{number}"
            if typed == fold(t.gettext("Undo step {number}").format(number=number)):
                return f"undo:{number}"
        return None

    def _help_lines(self, t: Translator) -> list[str]:
        return [
            t.gettext("plan: your checklist, event date and next step"),
            t.gettext("done N / undo N: mark step N done or not done"),
            t.gettext("date 7 december: the date of your event"),
            t.gettext("tz Europe/Paris: your time zone"),
            t.gettext("remind tomorrow 9am step 2: a reminder; reminders: the list; cancel N"),
            t.gettext("reminders off / reminders on; forget me: erase everything about you"),
        ]

    # ----------------------------------------------------------------- welcome
    def welcome(self, turn: Turn) -> Reply:
        """First contact: what the bot does and how to start."""
        t = turn.t
        text = t.gettext(
            "Welcome! I help district coordinators bring every school into the Hour of Code, "
            "step by step, and I remind you of each step before your event. "
            "Ask a question, or type “plan” to see your checklist."
        )
        buttons = [
            Button("plan", fit_label(t.gettext("See my plan"))),
            Button("steps", fit_label(t.gettext("All steps"))),
        ]
        if not turn.user.tz:
            text += "\n" + t.gettext("Which time zone are you in? Pick one or type, for example: tz Europe/Paris")
            buttons += [Button(f"tz:{zone}", zone) for zone in self.calendar.common_timezones(turn.lang)[:4]]
        return self._reply(turn, text, "welcome", buttons=tuple(buttons))

    # ----------------------------------------------------------------- plan
    def checklist(self, turn: Turn, user: UserState, *, replace: bool = False) -> Reply:
        """The checklist with the event date, days left and the next step."""
        t = turn.t
        lines = []
        for step in STEPS:
            mark = "✅" if step in user.steps_done else "⬜"
            lines.append(f"{mark} {step}. {self._step_title(turn, step)}")
        event = self._event(user)
        left = days_left(event, self._today(user))
        when = t.format_date(event)
        if left > 0:
            lines.append(
                t.ngettext("Your event: {date} (in {count} day)", "Your event: {date} (in {count} days)", left).format(
                    date=when, count=left
                )
            )
        elif left == 0:
            lines.append(t.gettext("Your event: {date} (today!)").format(date=when))
        else:
            lines.append(t.gettext("Your event: {date} (past)").format(date=when))
        if user.event_date is None:
            lines.append(t.gettext("Set your own date with, for example: date 7 december"))
        upcoming = next_step(set(user.steps_done))
        buttons: list[Button] = []
        if upcoming is None:
            lines.append(t.gettext("All five steps are done. Bravo!"))
        else:
            lines.append(
                t.gettext("Next step: {number}. {title}").format(
                    number=upcoming, title=self._step_title(turn, upcoming)
                )
            )
            buttons = [
                Button(
                    f"done:{upcoming}",
                    fit_label(t.gettext("Mark step {number} done").format(number=upcoming)),
                ),
                Button(f"step:{upcoming}", fit_label(t.gettext("Show step {number}").format(number=upcoming))),
                Button(f"remind:{upcoming}", fit_label(t.gettext("Remind me"))),
            ]
        if user.steps_done:
            last = max(user.steps_done)
            buttons.append(Button(f"undo:{last}", fit_label(t.gettext("Undo step {number}").format(number=last))))
        return self._reply(
            turn,
            "\n".join(lines),
            "plan",
            title=t.gettext("Your Hour of Code plan"),
            buttons=tuple(buttons),
            replace=replace,
        )

    def plan(self, turn: Turn, args: str) -> list[Reply]:
        """``plan``."""
        return [self.checklist(turn, self._user(turn))]

    def done(self, turn: Turn, args: str) -> list[Reply]:
        """``done N``, ``done 1 2 3``, ``done 1-3``: mark steps done and replan."""
        steps = parse_steps(args, STEP_WORDS)
        if steps is None:
            return [
                self._reply(
                    turn, turn.t.gettext("Which step is done? Type a number from 1 to 5, for example: done 2"), "error"
                )
            ]
        user = self._user(turn)
        new = {step: self.h.clock.now() for step in steps if step not in user.steps_done}
        if new:
            user = dataclasses.replace(user, steps_done={**user.steps_done, **new})
            self._save_and_replan(user)
        return [self.checklist(turn, user, replace=turn.msg.action)]

    def undo(self, turn: Turn, args: str) -> list[Reply]:
        """``undo N``, ``undo 1 2``: mark steps not done and replan."""
        steps = parse_steps(args, STEP_WORDS)
        if steps is None:
            return [
                self._reply(
                    turn,
                    turn.t.gettext("Which step is not done? Type a number from 1 to 5, for example: undo 2"),
                    "error",
                )
            ]
        user = self._user(turn)
        if any(step in user.steps_done for step in steps):
            user = dataclasses.replace(user, steps_done={k: v for k, v in user.steps_done.items() if k not in steps})
            self._save_and_replan(user)
        return [self.checklist(turn, user, replace=turn.msg.action)]

    def next(self, turn: Turn, args: str) -> list[Reply]:
        """``next``: the next step not done, in detail."""
        upcoming = next_step(set(self._user(turn).steps_done))
        if upcoming is None:
            entry = self.h.kb.get("after-hour-of-code")
            if entry is None:
                return [self._reply(turn, turn.t.gettext("All five steps are done. Bravo!"), "plan")]
            return [
                self._reply(turn, turn.t.gettext("All five steps are done. Bravo!"), "plan"),
                self.h.entry_reply(turn, entry),
            ]
        entry = self.h.kb.step(upcoming)
        assert entry is not None
        return [self.h.entry_reply(turn, entry)]

    def reset(self, turn: Turn, args: str) -> list[Reply]:
        """``reset``: all steps back to not done (asks first)."""
        if self.h.vocabulary.argument(args) != "confirm":
            t = turn.t
            return [
                self._reply(
                    turn,
                    t.gettext("Mark all five steps as not done?"),
                    "confirm",
                    buttons=(
                        Button("reset:confirm", fit_label(t.gettext("Yes, start over"))),
                        Button("plan", fit_label(t.gettext("No, keep my plan"))),
                    ),
                )
            ]
        user = dataclasses.replace(self._user(turn), steps_done={})
        self._save_and_replan(user)
        return [self.checklist(turn, user, replace=turn.msg.action)]

    # ----------------------------------------------------------------- date and zone
    def date(self, turn: Turn, args: str) -> list[Reply]:
        """``date <when>``: the event date."""
        t = turn.t
        user = self._user(turn)
        if not args.strip():
            return [
                self._reply(
                    turn,
                    t.gettext("When is your event? Type for example: date 7 december, or date 2026-12-07"),
                    "error",
                )
            ]
        value, error = self.calendar.parse_date(args, turn.lang, self._today(user))
        if value is None:
            if error == "past":
                text = t.gettext("That date has passed. When is your event? For example: date 7 december")
            elif error == "too_far":
                text = t.gettext(
                    "That date is more than two years away. When is your event? For example: date 7 december"
                )
            else:
                text = t.gettext(
                    "I could not read that date. When is your event? For example: date 7 december, or date 2026-12-07"
                )
            return [self._reply(turn, text, "error")]
        user = self._save_and_replan(dataclasses.replace(user, event_date=value))
        text = t.gettext("Your event is on {date}. I will remind you of each step before it.").format(
            date=t.format_date(value)
        )
        return [self._reply(turn, text, "date"), self.checklist(turn, user)]

    def tz(self, turn: Turn, args: str) -> list[Reply]:
        """``tz <zone>``: the user's time zone."""
        t = turn.t
        name = args.strip()
        if not name:
            zones = self.calendar.common_timezones(turn.lang)[:5]
            return [
                self._reply(
                    turn,
                    t.gettext("Which time zone are you in? For example: tz Europe/Paris"),
                    "error",
                    buttons=tuple(Button(f"tz:{z}", z) for z in zones),
                )
            ]
        if not self.calendar.is_valid_timezone(name):
            zones = self.calendar.suggest_timezones(name[:100])
            if len(zones) == 1 and fold(zones[0]) == fold(name):
                name = zones[0]
            else:
                text = t.gettext("I don't know the time zone “{name}”.").format(name=name[:60])
                if zones:
                    text += " " + t.gettext("Did you mean:")
                return [self._reply(turn, text, "error", buttons=tuple(Button(f"tz:{z}", z) for z in zones))]
        self._save_and_replan(dataclasses.replace(self._user(turn), tz=name, tz_chosen=True))
        text = t.gettext("Time zone set: {zone}. Reminders come at {time} your time.").format(
            zone=name, time=self.settings.policy.send_at.strftime("%H:%M")
        )
        return [self._reply(turn, text, "tz", buttons=(Button("plan", fit_label(t.gettext("See my plan"))),))]

    # ----------------------------------------------------------------- erasure
    def forget(self, turn: Turn, args: str) -> list[Reply]:
        """``forget me``: erase everything about the user, after a confirmation button."""
        t = turn.t
        if self.h.vocabulary.argument(args) == "confirm" and turn.msg.action:
            self.h.store.delete_user(turn.key)
            return [self._reply(turn, t.gettext("Done: I erased everything I kept about you."), "forget", replace=True)]
        return [
            self._reply(
                turn,
                t.gettext("Erase your progress, event date, time zone and reminders? This cannot be undone."),
                "confirm",
                buttons=(
                    Button("forget:confirm", fit_label(t.gettext("Yes, erase everything"))),
                    Button("plan", fit_label(t.gettext("No, keep my plan"))),
                ),
            )
        ]
