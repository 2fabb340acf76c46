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
