"""The plan's reminder commands (remind, keep, reminders, cancel) and the message of a reminder falling due."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from zoneinfo import ZoneInfo

from bot.core.handler import Turn
from bot.core.lexicon import STEP_WORDS
from bot.core.messages import Button, Link, Reply, fit_label
from bot.core.plan_state import PlanState
from bot.core.ports import Reminder, Translator, UserState
from bot.core.schedule import AFTER_STEP, STEPS, adjust_manual
from bot.core.text import fold


def split_step(text: str) -> tuple[int | None, str]:
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


class ReminderCommands(PlanState):
    """remind, keep, reminders and cancel, and the text of reminders when they fall due."""

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
        named_step, rest = split_step(args)
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
