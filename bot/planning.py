"""Reading the reminder schedule file (knowledge/schedule.yaml): when automatic reminders go out."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from bot.core.errors import KnowledgeError
from bot.core.schedule import AFTER_STEP, SchedulePolicy, ScheduleRule


def load_policy(path: Path) -> SchedulePolicy:
    """Read the reminder schedule from a YAML file (knowledge/schedule.yaml).

    Args:
        path: The YAML file.

    Returns:
        The schedule policy.

    Raises:
        KnowledgeError: The file cannot be read or its content is invalid; each problem is
            reported as ``file:line: message`` in the message and in ``problems``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(f"{path}: cannot read the schedule: {exc}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise KnowledgeError(f"{path}:{line}: invalid YAML: {problem}", [f"{path}:{line}: {problem}"]) from exc
    reader = _PolicyReader(path)
    policy = reader.read(root)
    if reader.problems or policy is None:
        problems = reader.problems or [f"{path}:1: the schedule could not be read"]
        raise KnowledgeError("invalid schedule:\n" + "\n".join(problems), problems)
    return policy


_TIME_TEXT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_INT_TEXT = re.compile(r"^[-+]?\d+$")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}
_TOP_KEYS = {"send_at", "quiet_hours", "skip_weekends", "reminders"}


class _PolicyReader:
    """Walks the YAML node tree so that every problem can name its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def problem(self, node: yaml.Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.path}:{line}: {message}")

    def mapping(self, node: yaml.Node | None, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return None
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"keys of {what} must be plain names")
                continue
            if key in out:
                self.problem(key_node, f"{key!r} appears twice in {what}")
                continue
            out[key] = (key_node, value_node)
        return out

    def scalar(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, f"{what} must be a single value")
            return None
        return str(node.value).strip()

    def time(self, node: yaml.Node, what: str) -> dt.time | None:
        # The raw text is read because YAML 1.1 turns an unquoted 09:00 into the number 540.
        raw = self.scalar(node, what)
        if raw is None:
            return None
        match = _TIME_TEXT.match(raw)
        if match is None:
            self.problem(node, f"{what} must be a time HH:MM (24 h), got {raw!r}")
            return None
        return dt.time(int(match[1]), int(match[2]))

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        raw = self.scalar(node, what)
        if raw is None:
            return None
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        self.problem(node, f"{what} must be true or false, got {raw!r}")
        return None

    def integer(self, node: yaml.Node, what: str, low: int, high: int) -> int | None:
        raw = self.scalar(node, what)
        if raw is None:
            return None
        if not _INT_TEXT.match(raw) or not low <= int(raw) <= high:
            self.problem(node, f"{what} must be a whole number from {low} to {high}, got {raw!r}")
            return None
        return int(raw)

    def rule(self, node: yaml.Node) -> ScheduleRule | None:
        fields = self.mapping(node, "a reminder")
        if fields is None:
            return None
        for key, (key_node, _) in fields.items():
            if key not in {"step", "offset_days"}:
                self.problem(key_node, f"unknown key {key!r} in a reminder (step, offset_days)")
        if "step" not in fields or "offset_days" not in fields:
            self.problem(node, "a reminder needs both step and offset_days")
            return None
        step_node = fields["step"][1]
        step: int | None
        if self.scalar(step_node, "step") == "after":
            step = AFTER_STEP
        else:
            step = self.integer(step_node, "step (or 'after')", 0, 5)
        offset = self.integer(fields["offset_days"][1], "offset_days", -366, 366)
        if step is None or offset is None:
            return None
        return ScheduleRule(step, offset)

    def read(self, root: yaml.Node | None) -> SchedulePolicy | None:
        top = self.mapping(root, "the schedule")
        if top is None:
            return None
        for key, (key_node, _) in top.items():
            if key not in _TOP_KEYS:
                self.problem(key_node, f"unknown key {key!r} (expected {', '.join(sorted(_TOP_KEYS))})")
        options: dict[str, Any] = {}
        if "send_at" in top:
            options["send_at"] = self.time(top["send_at"][1], "send_at")
        if "skip_weekends" in top:
            options["skip_weekends"] = self.boolean(top["skip_weekends"][1], "skip_weekends")
        if "quiet_hours" in top:
            quiet = self.mapping(top["quiet_hours"][1], "quiet_hours") or {}
            for key, (key_node, value_node) in quiet.items():
                if key not in {"start", "end"}:
                    self.problem(key_node, f"unknown key {key!r} in quiet_hours (start, end)")
                else:
                    options[f"quiet_{key}"] = self.time(value_node, f"quiet_hours.{key}")
        if "reminders" not in top:
            self.problem(root, "the schedule needs a list of reminders")
            return None
        rules_node = top["reminders"][1]
        if not isinstance(rules_node, yaml.SequenceNode) or not rules_node.value:
            self.problem(rules_node, "reminders must be a non-empty list")
            return None
        rules: list[ScheduleRule] = []
        seen: set[int] = set()
        for item in rules_node.value:
            rule = self.rule(item)
            if rule is None:
                continue
            if rule.step in seen:
                self.problem(item, f"step {rule.step} has more than one reminder")
                continue
            seen.add(rule.step)
            rules.append(rule)
        if self.problems or None in options.values():
            return None
        return SchedulePolicy(rules=tuple(rules), **options)
