"""Platform limits on translated interface text: button labels fit, callback ids fit, each language names itself."""

from __future__ import annotations

import ast
import datetime as dt
import string
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel import Locale
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.core.handler import CLARIFY_REF_CHARS
from bot.core.knowledge import ENTRY_IDS, KnowledgeBase
from bot.core.messages import MAX_BUTTON_LABEL
from bot.knowledge.loader import load_kb

REPO = Path(__file__).resolve().parents[2]
LOCALES = REPO / "locales"
CORE = REPO / "bot" / "core"
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
#: Telegram's limit on callback_data, the strictest of the platforms for a button id.
MAX_CALLBACK_BYTES = 64
#: The languages the bot speaks; each one's catalog must say "I will answer you in <its name>".
LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "nl", "tr", "ko", "ar")
SWITCH_MSGID = "From now on I will answer you in English."

MsgKey = str | tuple[str, str]


def _lang(po: Path) -> str:
    return po.parent.parent.name


def _read(po: Path) -> Catalog:
    with po.open("rb") as fh:
        return read_po(fh, locale=_lang(po), abort_invalid=True)


# --------------------------------------------------------------------------------------------
# What the code shows on buttons, read from its syntax tree so that a new button is covered


@dataclass(frozen=True, slots=True)
class ButtonSource:
    """Strings of bot/core that end up on buttons, and the ids buttons carry."""

    labels: frozenset[MsgKey]
    ids: tuple[tuple[str, ast.expr], ...]  # (where, expression of the id)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _text(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _messages_in(node: ast.AST, functions: dict[str, list[ast.AST]], seen: set[str]) -> set[MsgKey]:
    """gettext/ngettext literals under ``node``, following calls into functions of bot/core."""
    found: set[MsgKey] = set()
    for sub in ast.walk(node):
        if not isinstance(sub, ast.Call):
            continue
        name = _called_name(sub)
        if name == "gettext" and sub.args and (msgid := _text(sub.args[0])) is not None:
            found.add(msgid)
        elif name == "ngettext" and len(sub.args) >= 2:
            singular, plural = _text(sub.args[0]), _text(sub.args[1])
            if singular is not None and plural is not None:
                found.add((singular, plural))
        elif name in functions and name not in seen:
            # A helper such as Handler._title builds the label: its strings are labels too.
            seen.add(name)
            for body in functions[name]:
                found |= _messages_in(body, functions, seen)
    return found


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    if len(call.args) > position:
        return call.args[position]
    return next((kw.value for kw in call.keywords if kw.arg == keyword), None)


def scan_buttons(directory: Path) -> ButtonSource:
    """Labels passed to ``fit_label`` or ``Button`` and the ids given to ``Button`` in ``directory``."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.py"))}
    functions: dict[str, list[ast.AST]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.setdefault(node.name, []).append(node)
    labels: set[MsgKey] = set()
    ids: list[tuple[str, ast.expr]] = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _called_name(node)
            if name == "fit_label" and node.args:
                labels |= _messages_in(node.args[0], functions, set())
            elif name == "Button":
                label = _argument(node, 1, "label")
                if label is not None:
                    labels |= _messages_in(label, functions, set())
                button_id = _argument(node, 0, "id")
                assert button_id is not None, f"{path.name}:{node.lineno}: a Button without an id"
                ids.append((f"{path.name}:{node.lineno}", button_id))
    return ButtonSource(frozenset(labels), tuple(ids))


@pytest.fixture(scope="module")
def buttons() -> ButtonSource:
    return scan_buttons(CORE)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(REPO / "knowledge")


# --------------------------------------------------------------------------------------------
# Labels


def _longest_step_title(kb: KnowledgeBase, lang: str) -> str:
    """The longest title a step button can show in ``lang`` (its own, or the fallbacks the bot uses)."""
    titles = []
    for number in range(1, 6):
        entry = kb.step(number)
        assert entry is not None, f"no entry for step {number}"
        titles += [entry.best(lang, fallback)[1].title for fallback in ("fr", "en")]
    return max(titles, key=len)


def _values(kb: KnowledgeBase, lang: str) -> dict[str, object]:
    """Realistic, long-ish values for every placeholder a label may use."""
    locale = Locale.parse(lang)
    date = format_date(dt.date(2026, 12, 30), format="full", locale=locale)
    return {
        "number": 5,
        "total": 5,
        "count": 20,
        "id": 123456,
        "title": _longest_step_title(kb, lang),
        "date": date,
        "time": "09:00",
        "when": f"{date} 09:00",
        "zone": "America/Argentina/Buenos_Aires",
        "name": "America/Argentina/Buenos_Aires",
        "code": "pt-BR",
        "languages": ", ".join(LANGUAGES),
        "what": _longest_step_title(kb, lang),
    }


def _forms(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    assert isinstance(value, tuple | list), value
    return [str(form) for form in value]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_scan_finds_the_button_labels(buttons: ButtonSource) -> None:
    # Without these, a change in how buttons are built could make the label test check nothing.
    assert {"See my plan", "All steps", "Step {number}: {title}", "Mark step {number} done"} <= buttons.labels


@pytest.mark.parametrize("po", CATALOGS, ids=_lang)
def test_button_labels_fit_the_platform_limit(po: Path, buttons: ButtonSource, kb: KnowledgeBase) -> None:
    catalog = _read(po)
    values = _values(kb, _lang(po))
    too_long = []
    for label in sorted(buttons.labels, key=repr):
        msgid = label if isinstance(label, str) else label[0]
        message = catalog.get(msgid)
        assert message is not None, f"{po}: the button label {msgid!r} is not in the catalog"
        for form in _forms(message.string):
            unknown = _fields(form) - set(values)
            assert not unknown, f"give the placeholders {sorted(unknown)} of {msgid!r} a realistic value in _values"
            shown = " ".join(form.format(**values).split())
            if len(shown) > MAX_BUTTON_LABEL:
                too_long.append(f"{msgid!r} -> {shown!r} ({len(shown)} characters)")
    assert not too_long, f"{po}: labels over {MAX_BUTTON_LABEL} characters would be cut:\n" + "\n".join(too_long)


# --------------------------------------------------------------------------------------------
# Callback ids


def _id_values(kb: KnowledgeBase) -> dict[str, list[str]]:
    """Every value each kind of button id (``prefix:value``) can carry."""
    zones = sorted(zoneinfo.available_timezones())
    languages = sorted(set(kb.languages) | {_lang(po) for po in CATALOGS})
    steps = [str(number) for number in range(1, 6)]
    return {
        "tz:": zones,
        # An entry, and after a "did you mean" the entry and the question's reference.
        "topic:": sorted(
            (ids := {entry.id for entry in kb.entries} | set(ENTRY_IDS))
            | {f"{eid}:{'f' * CLARIFY_REF_CHARS}" for eid in ids}
        ),
        "lang:": languages,
        "step:": steps,
        "done:": steps,
        "undo:": steps,
        "remind:": steps,
        # "Keep 23:00": the moment asked for (UTC), the step (0: none), the reminder it replaces.
        "keep:": [f"20261205T2300 {step} 999999999999" for step in range(6)],
    }


def _possible_ids(where: str, expr: ast.expr, values: dict[str, list[str]]) -> Iterator[str]:
    if (text := _text(expr)) is not None:
        yield text
        return
    assert isinstance(expr, ast.JoinedStr), f"{where}: a button id built as {ast.unparse(expr)}; make it a literal"
    parts = expr.values
    prefix = "".join(_text(part) or "" for part in parts[:-1] if isinstance(part, ast.Constant))
    shape_ok = len(parts) == 2 and isinstance(parts[-1], ast.FormattedValue)  # f"prefix:{value}"
    assert shape_ok, f"{where}: the button id {ast.unparse(expr)} is not of the form f'prefix:{{value}}'"
    assert prefix in values, f"{where}: new button id {ast.unparse(expr)}; list its possible values in _id_values"
    yield from (prefix + value for value in values[prefix])


def test_callback_ids_fit_telegram(buttons: ButtonSource, kb: KnowledgeBase) -> None:
    values = _id_values(kb)
    assert buttons.ids, "no Button found in bot/core"
    checked = 0
    too_long = []
    for where, expr in buttons.ids:
        for button_id in _possible_ids(where, expr, values):
            checked += 1
            if len(button_id.encode("utf-8")) > MAX_CALLBACK_BYTES:
                too_long.append(f"{where}: {button_id!r}")
    assert checked > len(buttons.ids)
    assert not too_long, f"button ids over {MAX_CALLBACK_BYTES} bytes:\n" + "\n".join(too_long)


def test_the_longest_zone_id_is_among_those_checked(kb: KnowledgeBase) -> None:
    zone_ids = [f"tz:{zone}" for zone in _id_values(kb)["tz:"]]
    assert "tz:America/Argentina/Buenos_Aires" in zone_ids
    assert max(len(zone_id.encode()) for zone_id in zone_ids) <= MAX_CALLBACK_BYTES


# --------------------------------------------------------------------------------------------
# The language switch


def test_every_language_has_a_catalog() -> None:
    assert set(LANGUAGES) <= {_lang(po) for po in CATALOGS}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_language_switch_is_said_in_that_language(lang: str) -> None:
    message = _read(LOCALES / lang / "LC_MESSAGES" / "messages.po").get(SWITCH_MSGID)
    assert message is not None
    assert isinstance(message.string, str)
    assert message.string
    if lang == "en":
        assert message.string == SWITCH_MSGID
        return
    assert message.string != SWITCH_MSGID, f"{lang}: still says it will answer in English"
    own_name = Locale.parse(lang).language_name
    assert own_name is not None
    assert own_name.casefold() in message.string.casefold(), f"{lang}: {message.string!r} does not name {own_name!r}"
