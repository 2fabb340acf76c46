"""The coordinator's plan: checklist, event date, time zone, reminders and erasure."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.core.commands import parse_steps
from bot.core.guide_commands import step_numbers
from bot.core.handler import Handler, Turn
from bot.core.lexicon import STEP_WORDS
from bot.core.messages import Button, Link, Reply, fit_label
from bot.core.ports import Calendar, Reminder, Translator, UserState
from bot.core.schedule import (
    AFTER_STEP,
    STEPS,
    SchedulePolicy,
    adjust_manual,
    days_left,
    next_step,
    plan_reminders,
)
from bot.core.text import fold


def _split_step(text: str) -> tuple[int | None, str]:
    """``demain 9h étape 2`` -> ``(2, "demain 9h")``: the step a reminder names, and the rest as typed."""
    words = text.split()
    for i, word in enumerate(words):
        folded = fold(word)
        if folded.startswith("ال"):  # Arabic article: "الخطوة 2"
            folded = folded[2:]
        if folded in STEP_WORDS and i + 1 < len(words) and words[i + 1].rstrip(".,!?") in {"1", "2", "3", "4", "5"}:
            return int(words[i + 1].rstrip(".,!?")), " ".join(words[:i] + words[i + 2 :])
        glued = re.fullmatch(r"([1-5])(\S+)", folded)
        if glued and glued.group(2) in STEP_WORDS:  # "2단계"
            return int(glued.group(1)), " ".join(words[:i] + words[i + 1 :])
    return None, text


#: The "Keep 23:00" button: the UTC moment asked for, the step (0: none), the reminder it replaces.
_KEEP_ACTION = re.compile(r"(\d{8}T\d{4}) ([0-5]) (\d{1,12})")


def _never(args: str, lang: str) -> bool:
    """A command that only a button calls."""
    return False


def _zone_words(args: str, lang: str) -> bool:
    """``tz Europe/Paris``, ``tz UTC+1``, ``tz new york``: up to three words."""
    return len(args.split()) <= 3


def _numbers(args: str, lang: str) -> bool:
    """``cancel 2``: nothing, a number, or one word meant as one (``cancel abc`` gets told how)."""
    return len(args.split()) <= 1 or bool(re.fullmatch(r"\s*(?:n°|no|#)?\s*\d{1,12}\s*[.!]?\s*", args.lower()))


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


class Onboarding:
    """Adds plan, done, undo, next, reset, date, tz, remind, reminders, cancel and forget to a handler."""

    def __init__(self, handler: Handler, calendar: Calendar, settings: OnboardingSettings) -> None:
        self.h = handler
        self.calendar = calendar
        self.settings = settings
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
        rest = _split_step(args)[1]
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

    # ----------------------------------------------------------------- helpers
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

    # ----------------------------------------------------------------- reminders
    def keep(self, turn: Turn, args: str) -> list[Reply]:
        """The "Keep 23:00" button: the reminder at the time asked for, quiet hours or not."""
        return self.remind(turn, args, keep=True)

    def remind(self, turn: Turn, args: str, *, keep: bool = False) -> list[Reply]:
        """``remind <when> [step N]``, or the "Remind me" button (``remind:N``: tomorrow morning)."""
        t = turn.t
        user = self._user(turn)
        tz = self._tz(user)
        folded = fold(args)
        step: int | None = None
        when_text = args
        moved_from: dt.datetime | None = None
        kept = _KEEP_ACTION.fullmatch(args.strip()) if keep else None
        if keep and kept is None:
            return [
                self._reply(turn, t.gettext("That button is no longer valid. Here are the topics I know:"), "error")
            ]
        named_step, rest = _split_step(args)
        if kept is not None:
            # "Keep 23:00": the time the user asked for, inside the quiet hours.
            step = int(kept.group(2)) or None
            moment = dt.datetime.strptime(kept.group(1), "%Y%m%dT%H%M").replace(tzinfo=dt.UTC)
            when_text = ""
        elif named_step is not None:
            step, when_text = named_step, rest
        elif turn.msg.action and folded.isdecimal() and len(folded) == 1 and 1 <= int(folded) <= 5:
            step, when_text = int(folded), ""
        if kept is not None:
            self.h.store.cancel_reminder(turn.key, int(kept.group(3)))
        elif not when_text.strip():
            if not turn.msg.action:
                return [
                    self._reply(
                        turn,
                        t.gettext(
                            "When should I remind you? For example: remind tomorrow 9am, or remind monday step 2"
                        ),
                        "error",
                    )
                ]
            local_now = self.h.clock.now().astimezone(ZoneInfo(tz))
            tomorrow = local_now.date() + dt.timedelta(days=1)
            moment = dt.datetime.combine(tomorrow, self.settings.policy.send_at, ZoneInfo(tz)).astimezone(dt.UTC)
        else:
            value, error = self.calendar.parse_when(when_text, turn.lang, self.h.clock.now(), tz)
            if value is None:
                if error == "past":
                    text = t.gettext(
                        "That moment has passed. When should I remind you? For example: remind tomorrow 9am"
                    )
                else:
                    text = t.gettext(
                        "I could not read that moment. For example: remind tomorrow 9am, "
                        "remind in 2 days, remind monday step 2"
                    )
                return [self._reply(turn, text, "error")]
            asked = value.astimezone(ZoneInfo(tz))
            moment = adjust_manual(asked, self.settings.policy).astimezone(dt.UTC)
            if moment != value:
                moved_from = value
        if self.h.store.count_pending(turn.key) >= self.settings.max_pending:
            return [
                self._reply(
                    turn,
                    t.ngettext(
                        "You already have {count} pending reminder: cancel one first (see “reminders”).",
                        "You already have {count} pending reminders: cancel one first (see “reminders”).",
                        self.settings.max_pending,
                    ).format(count=self.settings.max_pending),
                    "error",
                )
            ]
        if not user.welcomed or self.h.store.get_user(turn.key) is None:
            self.h.store.save_user(dataclasses.replace(user, welcomed=True))
        reminder = self.h.store.add_reminder(turn.key, user.chat or turn.msg.chat, step, moment)
        when = t.format_datetime(moment.astimezone(ZoneInfo(tz)))
        text = t.gettext("Reminder n°{id} set for {when}.").format(id=self._number_of(turn, reminder.id), when=when)
        buttons: tuple[Button, ...] = ()
        if moved_from is not None:
            policy = self.settings.policy
            asked_local = moved_from.astimezone(ZoneInfo(tz))
            text += " " + t.gettext(
                "You asked for {asked}, which is during the quiet hours ({start}–{end}): "
                "I moved it to the morning. To keep your time, press the button."
            ).format(
                asked=t.format_datetime(asked_local),
                start=policy.quiet_start.strftime("%H:%M"),
                end=policy.quiet_end.strftime("%H:%M"),
            )
            label = t.gettext("Keep {time}").format(time=asked_local.strftime("%H:%M"))
            keep_id = f"{moved_from:%Y%m%dT%H%M} {step or 0} {reminder.id}"
            buttons = (Button(f"keep:{keep_id}", fit_label(label)),)
        if not user.reminders_enabled:
            text += " " + t.gettext("Your reminders are paused: type “reminders on” to receive it.")
        return [self._reply(turn, text, "remind", buttons=buttons)]

    def _number_of(self, turn: Turn, reminder_id: int) -> int:
        """The number the user sees for a reminder: its place in their list of pending reminders."""
        pending = self.h.store.list_reminders(turn.key, status="pending")
        return next((i for i, r in enumerate(pending, start=1) if r.id == reminder_id), len(pending))

    def reminders(self, turn: Turn, args: str) -> list[Reply]:
        """``reminders``, ``reminders off``, ``reminders on``."""
        t = turn.t
        user = self._user(turn)
        switch = self.h.vocabulary.argument(args) if args.strip() else ""
        if switch == "off":
            user = dataclasses.replace(user, reminders_enabled=False)
            self.h.store.save_user(dataclasses.replace(user, welcomed=True))
            self.h.store.set_reminders_enabled(user.key, False)
            self.replan(user)
            return [self._reply(turn, t.gettext("Reminders paused. Type “reminders on” to resume them."), "reminders")]
        if switch == "on":
            user = dataclasses.replace(user, reminders_enabled=True)
            self.h.store.save_user(dataclasses.replace(user, welcomed=True))
            self.h.store.set_reminders_enabled(user.key, True)
            self.replan(user)
            return [self._reply(turn, t.gettext("Reminders on."), "reminders")]
        if switch:
            return [
                self._reply(
                    turn,
                    t.gettext("Type “reminders” for the list, “reminders off” or “reminders on”."),
                    "error",
                )
            ]
        pending = self.h.store.list_reminders(turn.key, status="pending")
        zone = ZoneInfo(self._tz(user))
        if not pending:
            text = t.gettext("You have no pending reminder.")
        else:
            lines = [self._reminder_line(t, n, r, zone, turn) for n, r in enumerate(pending, start=1)]
            text = "\n".join(lines) + "\n" + t.gettext("Cancel one with: cancel N")
        if not user.reminders_enabled:
            text += "\n" + t.gettext("Your reminders are paused: type “reminders on” to receive them.")
        return [self._reply(turn, text, "reminders", title=t.gettext("Your reminders"))]

    def _reminder_line(self, t: Translator, number: int, r: Reminder, zone: ZoneInfo, turn: Turn) -> str:
        when = t.format_datetime(r.due_at.astimezone(zone))
        if r.step == AFTER_STEP:
            what = t.gettext("after the Hour of Code")
        elif r.step is not None:
            what = t.gettext("step {number}: {title}").format(number=r.step, title=self._step_title(turn, r.step))
        else:
            what = t.gettext("your plan")
        return t.gettext("n°{id} — {when} — {what}").format(id=number, when=when, what=what)

    def cancel(self, turn: Turn, args: str) -> list[Reply]:
        """``cancel N``: cancel the N-th reminder of the user's list."""
        t = turn.t
        digits = re.sub(r"[^0-9]", "", args)
        if not digits or len(digits) > 12:
            return [
                self._reply(
                    turn,
                    t.gettext("Which reminder? Type “reminders” to see their numbers, then: cancel N"),
                    "error",
                )
            ]
        number = int(digits)
        pending = self.h.store.list_reminders(turn.key, status="pending")
        if 1 <= number <= len(pending) and self.h.store.cancel_reminder(turn.key, pending[number - 1].id):
            return [self._reply(turn, t.gettext("Reminder n°{id} cancelled.").format(id=number), "cancel")]
        return [
            self._reply(
                turn,
                t.gettext("You have no pending reminder n°{id}. Type “reminders” to see them.").format(id=number),
                "error",
            )
        ]

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

    # ----------------------------------------------------------------- delivery
    def compose_reminder(self, reminder: Reminder, t: Translator, user: UserState | None) -> Reply:
        """The message of a reminder falling due, mentioning its original date when late."""
        now = self.h.clock.now()
        zone = ZoneInfo(self._tz(user) if user else self.settings.default_tz)
        if reminder.step == AFTER_STEP:
            text = t.gettext("Reminder: your Hour of Code is over — here is what comes next.")
            entry = self.h.kb.get("after-hour-of-code")
        elif reminder.step is not None:
            entry = self.h.kb.step(reminder.step)
            title = ""
            if entry is not None:
                _, content = entry.best(t.lang, self.h.settings.default_locale)
                title = content.title
            text = t.gettext("Reminder: step {number}, {title}.").format(number=reminder.step, title=title)
        else:
            entry = None
            text = t.gettext("Reminder: have a look at your Hour of Code plan.")
        if now - reminder.due_at > dt.timedelta(minutes=30):
            text += " " + t.gettext("(It was due on {when}.)").format(
                when=t.format_datetime(reminder.due_at.astimezone(zone))
            )
        links: tuple[Link, ...] = ()
        buttons = [Button("plan", fit_label(t.gettext("See my plan")))]
        if reminder.step in STEPS:
            label = t.gettext("Mark step {number} done").format(number=reminder.step)
            buttons.insert(0, Button(f"done:{reminder.step}", fit_label(label)))
        if entry is not None:
            code, content = entry.best(t.lang, self.h.settings.default_locale)
            locale = (user.locale or user.written_lang or user.locale_hint or code) if user else code
            links = self.h.links_for(content, locale if locale.lower().startswith(code.lower()) else code)
        return Reply(
            text,
            links=links,
            buttons=tuple(buttons),
            lang=t.lang,
            kind="reminder",
            topic=entry.id if entry else None,
        )
