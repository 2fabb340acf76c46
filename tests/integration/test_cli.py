"""The real ``hoc-bot`` command in subprocesses, on a SQLite file of the test's own."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KNOWLEDGE = REPO / "knowledge"
QUESTIONS = REPO / "tests" / "fixtures" / "eval" / "questions.yaml"
TIMEOUT_S = 20.0

JSON_KEYS = {"question", "lang", "decision", "topic", "step", "score", "suggestions"}


def _env(db: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # Nothing from the caller's configuration may leak in: a DATABASE_URL would win over HOC_DB.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOC_") and k != "DATABASE_URL"}
    # This checkout first, whatever the installed package points at.
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONIOENCODING"] = "utf-8"
    env["HOC_DB"] = str(db)
    env.update(extra or {})
    return env


class Cli:
    """Runs ``python -m bot`` with a private database."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.db = tmp_path / "hoc.sqlite3"

    def run(
        self,
        *args: str,
        stdin: str = "",
        env: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT_S,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=stdin,
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=_env(self.db, env),
            cwd=self.dir,
            timeout=timeout,
            check=False,
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    return proc.stdout


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- chat


def test_progress_persists_across_processes_per_user(cli: Cli) -> None:
    first = _ok(cli.run("chat", "--user", "alice", stdin="done 1\n"))
    assert "✅ 1." in first
    assert cli.db.is_file()

    second = _ok(cli.run("chat", "--user", "alice", stdin="plan\n"))
    assert "✅ 1." in second
    assert "⬜ 2." in second
    assert "⬜ 1." not in second

    other = _ok(cli.run("chat", "--user", "bob", stdin="plan\n"))
    assert "⬜ 1." in other
    assert "✅" not in other


def test_memory_chat_keeps_nothing_between_runs(cli: Cli) -> None:
    first = _ok(cli.run("chat", "--memory", "--user", "alice", stdin="done 1\n"))
    assert "✅ 1." in first
    second = _ok(cli.run("chat", "--memory", "--user", "alice", stdin="plan\n"))
    assert "⬜ 1." in second
    assert "✅" not in second
    assert not cli.db.exists()


# ----------------------------------------------------------------------------- ask


def test_ask_json_prints_one_object_per_question(cli: Cli) -> None:
    questions = ["comment recruter des écoles ?", "where is the parking", "on veut poster sur twitter"]
    out = _ok(cli.run("ask", "--json", stdin="\n".join([questions[0], "", *questions[1:]]) + "\n"))
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [r["question"] for r in records] == questions
    for record in records:
        assert set(record) == JSON_KEYS
        assert isinstance(record["score"], int | float)
        assert 0 <= record["score"] <= 100
        assert isinstance(record["suggestions"], list)
        assert record["decision"] in {"answer", "clarify", "fallback"}
    recruit, parking, twitter = records
    assert recruit["decision"] == "answer", recruit
    assert recruit["topic"] == "recruit-schools"
    assert recruit["step"] == 1
    assert recruit["lang"] == "fr"
    assert recruit["score"] > 0
    assert parking["decision"] == "fallback"
    assert parking["topic"] is None
    assert parking["step"] is None
    assert twitter["decision"] == "answer", twitter
    assert (twitter["topic"], twitter["step"]) == ("social-media", 3)


def test_ask_prints_the_answer_with_french_links(cli: Cli) -> None:
    out = _ok(cli.run("ask", "comment recruter des écoles ?"))
    assert "https://hourofcode.com/fr/" in out
    assert "Recruter des écoles locales" in out


# ----------------------------------------------------------------------------- kb eval and check


def test_kb_eval_passes_the_bar_and_prints_a_table(cli: Cli) -> None:
    out = _ok(cli.run("kb", "eval", str(QUESTIONS), "--min-accuracy", "95", "--quiet"))
    first_words = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"fr", "en"} <= first_words
    assert "%" in out


def test_kb_eval_fails_an_impossible_bar(cli: Cli) -> None:
    proc = cli.run("kb", "eval", str(QUESTIONS), "--min-accuracy", "101", "--quiet")
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    _no_traceback(proc)
    assert "fr" in proc.stderr


def test_kb_eval_rejects_a_file_of_the_wrong_shape(cli: Cli) -> None:
    bad = cli.dir / "shape.yaml"
    bad.write_text("fr:\n  - a question without a topic\n", encoding="utf-8")
    proc = cli.run("kb", "eval", str(bad), "--quiet")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    _no_traceback(proc)
    assert "shape.yaml" in proc.stderr
    assert "fr" in proc.stderr


def test_kb_eval_rejects_a_file_that_is_not_yaml(cli: Cli) -> None:
    bad = cli.dir / "broken.yaml"
    bad.write_text("fr: [not closed\n", encoding="utf-8")
    proc = cli.run("kb", "eval", str(bad), "--quiet")
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    _no_traceback(proc)
    assert "broken.yaml" in proc.stderr


def test_kb_check_accepts_the_shipped_knowledge(cli: Cli) -> None:
    _ok(cli.run("kb", "check"))


def test_kb_check_names_file_and_line_of_a_broken_entry(cli: Cli) -> None:
    kb = cli.dir / "knowledge"
    shutil.copytree(KNOWLEDGE, kb)
    entry = kb / "entries" / "recruit-schools.yaml"
    lines = entry.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith("step:"))
    lines[number - 1] = "step: one"
    entry.write_text("\n".join(lines) + "\n", encoding="utf-8")

    proc = cli.run("kb", "check", "--dir", str(kb))
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    out = _no_traceback(proc)
    assert f"recruit-schools.yaml:{number}" in out


# ----------------------------------------------------------------------------- database


def test_db_upgrade_creates_the_sqlite_file(cli: Cli) -> None:
    assert not cli.db.exists()
    out = _ok(cli.run("db", "upgrade"))
    assert cli.db.is_file()
    assert str(cli.db) in out
    assert "sqlite" in out
    with sqlite3.connect(cli.db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "reminders", "alembic_version"} <= tables
    # A second run is a no-op, not an error.
    _ok(cli.run("db", "upgrade"))


def test_db_upgrade_on_unreachable_postgres_fails_fast_without_the_password(cli: Cli) -> None:
    url = "postgresql://user:secret@127.0.0.1:1/x"
    # Nothing listens on port 1; the timeout bounds how long the command may take.
    proc = cli.run("db", "upgrade", env={"DATABASE_URL": url}, timeout=10.0)
    assert proc.returncode != 0
    out = _no_traceback(proc)
    assert "127.0.0.1:1/x" in out
    assert "secret" not in out


# ----------------------------------------------------------------------------- reminders


def test_reminders_list_shows_a_reminder_set_in_chat(cli: Cli) -> None:
    chat = _ok(cli.run("chat", "--user", "carol", "--lang", "fr", stdin="remind demain 9h step 2\n"))
    assert "Rappel n°" in chat

    records = [json.loads(line) for line in _ok(cli.run("reminders", "list", "--json")).splitlines()]
    assert len(records) == 1
    [record] = records
    assert (record["platform"], record["step"], record["kind"]) == ("console", 2, "manual")
    due = dt.datetime.fromisoformat(record["due_at"])
    assert due.tzinfo is not None
    assert due > dt.datetime.now(dt.UTC)

    assert _ok(cli.run("reminders", "list", "--json", "--due-before", "2000-01-01")).strip() == ""
    later = _ok(cli.run("reminders", "list", "--json", "--due-before", "2100-01-01"))
    assert [json.loads(line)["id"] for line in later.splitlines()] == [record["id"]]

    table = _ok(cli.run("reminders", "list"))
    assert "1 pending" in table


def test_reminders_list_rejects_a_bad_date(cli: Cli) -> None:
    proc = cli.run("reminders", "list", "--due-before", "garbage")
    assert proc.returncode == 2
    out = _no_traceback(proc)
    assert "--due-before" in out
    assert "garbage" in out


# ----------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("name", "value", "args"),
    [
        ("HOC_DEFAULT_LOCALE", "!!", ("ask", "bonjour")),
        ("HOC_MATCH_ANSWER", "abc", ("ask", "bonjour")),
        ("HOC_MATCH_ANSWER", "abc", ("chat", "--memory")),
        ("HOC_DEFAULT_LOCALE", "!!", ("db", "upgrade")),
    ],
)
def test_bad_configuration_exits_2_naming_the_variable(cli: Cli, name: str, value: str, args: tuple[str, ...]) -> None:
    proc = cli.run(*args, env={name: value})
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    _no_traceback(proc)
    assert name in proc.stderr
    assert value in proc.stderr


# ----------------------------------------------------------------------------- a newcomer's first hour


def test_version(cli: Cli) -> None:
    out = _ok(cli.run("--version"))
    assert out.startswith("hoc-bot ")
    assert any(ch.isdigit() for ch in out)


def test_ask_json_names_commands_and_small_talk(cli: Cli) -> None:
    lines = ["plan", "merci", "au revoir", "aide", "comment recruter des écoles ?"]
    out = _ok(cli.run("ask", "--json", stdin="\n".join(lines) + "\n"))
    decisions = [json.loads(line)["decision"] for line in out.splitlines() if line.strip()]
    assert decisions[:4] == ["command", "smalltalk", "smalltalk", "command"]
    assert decisions[4] == "answer"


def test_reminders_list_has_a_header_and_names_what_comes_after(cli: Cli) -> None:
    # The plan's automatic reminders include the one after the event.
    _ok(cli.run("chat", "--user", "dan", "--lang", "fr", stdin="date 2027-01-20\n"))
    table = _ok(cli.run("reminders", "list"))
    header, *rows = table.splitlines()
    assert header.split() == ["id", "due", "(UTC)", "platform", "what", "kind"]
    assert any("what comes after" in row for row in rows)
    assert not any("step 0" in row for row in rows)


def test_a_console_reminder_button_does_what_it_says(cli: Cli) -> None:
    # A reminder for step 3 falls due while chatting: its first button ticks step 3 off.
    _ok(cli.run("chat", "--user", "eve", "--lang", "fr", stdin="rappel demain 10h étape 3\n"))
    with sqlite3.connect(cli.db) as conn:
        due = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S.000000")
        assert conn.execute("UPDATE reminders SET due_at = ?", (due,)).rowcount == 1
    out = _ok(cli.run("chat", "--user", "eve", "--lang", "fr", stdin="1\nplan\n"))
    reminder = out[out.index("⏰") :]
    assert "[1] Marquer l’étape 3 comme terminée" in reminder
    plan = out[out.rindex("== Votre plan") :]
    assert "✅ 3." in plan
    assert "⬜ 1." in plan
