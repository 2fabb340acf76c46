"""``hoc-bot kb review`` on a SQLite questions log filled by the real handler, and a copy of the knowledge base."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.knowledge import default_kb_dir
from bot.store.engine import open_store
from tests.auxil.harness import Harness

QUESTIONS = [("en", "do the kids need headphones"), ("fr", "comment remercier les bénévoles après")]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    kb = tmp_path / "knowledge"
    shutil.copytree(default_kb_dir(), kb)
    (tmp_path / "no-eval").mkdir()
    env = {
        "HOC_DB": str(tmp_path / "bot.sqlite3"),
        "HOC_KNOWLEDGE_DIR": str(kb),
        "HOC_EVAL_DIR": str(tmp_path / "no-eval"),
    }
    store = open_store("sqlite:///" + env["HOC_DB"])
    h = Harness(env, store=store)
    for lang, text in QUESTIONS:
        assert h.send(text, user=f"u-{lang}", lang=lang)[-1].kind == "fallback"
    store.close()
    return env


def _run(argv: list[str], env: dict[str, str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_list_numbers_the_groups(env: dict[str, str]) -> None:
    code, out, _ = _run(["kb", "review", "--list"], env)
    assert code == 0
    # As often asked, the latest first.
    assert "[1] fr ×1 (fallback 1) 'comment remercier les bénévoles après'" in out
    assert "[2] en ×1 (fallback 1) 'do the kids need headphones'" in out
    assert "guesses none " in out


@pytest.mark.slow
def test_assign_applies_writes_the_patch_and_the_bot_answers(env: dict[str, str], tmp_path: Path) -> None:
    patch = tmp_path / "review.patch"
    code, out, err = _run(
        ["kb", "review", "--assign", "2=logistics-plan", "--assign", "1=8", "--patch", str(patch)], env
    )
    assert code == 0, err
    assert "applying: 2 to add, 0 there already, 0 refused" in out
    assert "applied: 2 example(s) added" in out
    assert "no evaluation set" in out
    assert f"diff: {patch}" in out
    assert "+  - do the kids need headphones" in patch.read_text(encoding="utf-8")
    code, out, _ = _run(["kb", "review", "--list"], env)
    assert "no question waiting for review" in out
    code, out, _ = _run(["ask", "--json", "do the kids need headphones"], env)
    assert '"decision": "answer", "topic": "logistics-plan"' in out
    code, out, _ = _run(["ask", "--json", "comment remercier les bénévoles après"], env)
    assert '"decision": "answer", "topic": "after-hour-of-code"' in out


def test_interactive_skip_and_errors(env: dict[str, str]) -> None:
    code, out, _ = _run(["kb", "review"], env, stdin="nope\ns\nq\n")
    assert code == 0
    assert "no entry 'nope'" in out
    assert "skipped: 1 question(s)" in out
    code, out, _ = _run(["kb", "review", "--list"], env)
    assert "[1] en" in out
    code, _, err = _run(["kb", "review", "--off-topic", "9"], env)
    assert code == 2
    assert "no group '9'" in err
