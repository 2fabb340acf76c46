"""Reminder delivery: the worker that sends due reminders through the platforms' Senders."""

from __future__ import annotations

from bot.reminders.runner import ReminderRunner, RunStats

__all__ = ["ReminderRunner", "RunStats"]
