"""The installed package carries its data, and the CLI's question path stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_wheel_carries_knowledge_locales_and_migrations(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("hoc_bot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for entry in ("overview", "signup", "recruit-schools", "after-hour-of-code"):
        assert f"bot/_data/knowledge/entries/{entry}.yaml" in names
    assert "bot/_data/knowledge/links.yaml" in names
    assert "bot/_data/knowledge/schedule.yaml" in names
    assert "bot/_data/knowledge/sources/fr.md" in names
    for lang in ("fr", "en", "ar", "ko"):
        assert f"bot/_data/locales/{lang}/LC_MESSAGES/messages.po" in names
    assert "bot/_data/locales/formats.json" in names
    assert any(n.startswith("bot/store/migrations/versions/0003") for n in names)


def test_ask_imports_no_platform_sdk_nor_sqlalchemy(tmp_path: Path) -> None:
    code = (
        "import io, json, sys\n"
        "from bot.cli import main\n"
        "out = io.StringIO()\n"
        "main(['ask', '--json', 'comment recruter des écoles ?'], env={}, stdout=out)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'slack_sdk', 'slack_bolt', 'telegram', "
        "'sqlalchemy', 'alembic', 'aiohttp', 'dateparser', 'prometheus_client'})\n"
        "print(json.dumps({'answer': json.loads(out.getvalue()), 'heavy': heavy}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOC_") and k != "DATABASE_URL"}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path, check=True
    )
    result = json.loads(proc.stdout)
    assert result["answer"]["topic"] == "recruit-schools"
    assert result["heavy"] == []


def test_the_lock_installs_into_a_fresh_virtualenv_and_the_console_answers(tmp_path: Path) -> None:
    """The README's first command, in a new virtualenv: install from the lock, then chat once."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    install = subprocess.run(
        [*pip, "-r", str(REPO / "requirements.txt")], capture_output=True, text=True, timeout=600, check=False
    )
    assert install.returncode == 0, install.stderr[-3000:]
    project = subprocess.run(
        [*pip, "--no-deps", str(REPO)], capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path
    )
    assert project.returncode == 0, project.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOC_") and k not in {"DATABASE_URL", "PYTHONPATH"}}
    chat = subprocess.run(
        [str(venv / "bin" / "hoc-bot"), "chat"],
        input="comment recruter des écoles ?\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert chat.returncode == 0, chat.stderr
    assert "Traceback" not in chat.stderr
    assert "Recruter des écoles locales" in chat.stdout
    assert (tmp_path / "hoc-bot.sqlite3").exists()
    version = subprocess.run(
        [str(venv / "bin" / "hoc-bot"), "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert version.stdout.startswith("hoc-bot ")
