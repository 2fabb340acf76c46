"""Operations: failures become apologies, floods are limited, reloads are safe, logs keep secrets."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path

import pytest

from bot.app import build_bot
from bot.config import Settings
from bot.core.errors import ConfigError
from bot.core.messages import IncomingMessage
from bot.core.ports import UserKey, UserState
from bot.logs import setup_logging
from bot.store.memory import MemoryStore
from tests.auxil.harness import FakeClock

REPO = Path(__file__).resolve().parents[2]
FAKE_TOKEN = "123456789:" + "fake-token-" * 3  # shaped like a Telegram token, valid nowhere


class FlakyStore(MemoryStore):
    """A store whose database can be switched off."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def get_user(self, key: UserKey) -> UserState | None:
        if self.down:
            raise ConnectionError("server closed the connection unexpectedly")
        return super().get_user(key)


def _msg(text: str, user: str = "U1", platform: str = "slack", hint: str | None = "fr-FR") -> IncomingMessage:
    return IncomingMessage(platform, user, text, workspace="T1", chat="D1", locale_hint=hint)


def test_database_down_gives_an_apology_in_the_users_language_then_recovers() -> None:
    store = FlakyStore()
    bot = build_bot(Settings.from_env({}), store=store, clock=FakeClock())
    store.down = True
    [apology] = bot.handler.handle(_msg("comment recruter des écoles ?"))
    assert apology.kind == "error"
    assert apology.lang == "fr"
    assert "Réessayez" in apology.text
    [english] = bot.handler.handle(_msg("how do I recruit schools", user="U2", hint="en-US"))
    assert english.lang == "en"
    assert "try again" in english.text
    store.down = False
    replies = bot.handler.handle(_msg("comment recruter des écoles ?"))
    assert replies[-1].topic == "recruit-schools"


def test_flooding_user_is_limited_with_one_notice_and_others_are_not() -> None:
    bot = build_bot(Settings.from_env({"HOC_RATE_LIMIT": "20"}), store=MemoryStore(), clock=FakeClock())
    results = [bot.handler.handle(_msg("étapes")) for _ in range(100)]
    answered = [r for r in results if r and r[-1].kind == "steps"]
    notices = [r for r in results if r and r[-1].kind == "notice"]
    silent = [r for r in results if not r]
    assert len(answered) == 20
    assert len(notices) == 1
    assert len(silent) == 79
    assert "très vite" in notices[0][0].text
    other = bot.handler.handle(_msg("étapes", user="U9"))
    assert other[-1].kind == "steps"


def test_console_is_not_rate_limited() -> None:
    bot = build_bot(Settings.from_env({"HOC_RATE_LIMIT": "5"}), store=MemoryStore(), clock=FakeClock())
    kinds = [bot.handler.handle(_msg("étapes", platform="console"))[-1].kind for _ in range(30)]
    assert kinds.count("steps") == 30


def _kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(REPO / "knowledge", target)
    return target


def test_admin_reload_refuses_an_invalid_kb_and_keeps_serving(tmp_path: Path) -> None:
    kb_dir = _kb_copy(tmp_path)
    env = {"HOC_KNOWLEDGE_DIR": str(kb_dir), "HOC_ADMINS": "slack:T1:UADMIN"}
    bot = build_bot(Settings.from_env(env), store=MemoryStore(), clock=FakeClock())
    before = bot.handler.kb
    (kb_dir / "entries" / "social-media.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    replies = bot.handler.handle(_msg("reload", user="UADMIN"))
    assert replies[-1].kind == "error"
    assert "social-media.yaml" in replies[-1].text
    assert bot.handler.kb is before
    assert bot.handler.handle(_msg("partager sur les réseaux sociaux", user="UADMIN"))[-1].topic == "social-media"


def test_admin_reload_serves_the_new_kb(tmp_path: Path) -> None:
    kb_dir = _kb_copy(tmp_path)
    env = {"HOC_KNOWLEDGE_DIR": str(kb_dir), "HOC_ADMINS": "telegram:99,slack:T1:UADMIN"}
    bot = build_bot(Settings.from_env(env), store=MemoryStore(), clock=FakeClock())
    path = kb_dir / "entries" / "recruit-schools.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Recruter des écoles locales", "Recruter les écoles"), encoding="utf-8"
    )
    assert bot.handler.handle(_msg("reload", user="UADMIN"))[-1].kind == "reload"
    reply = bot.handler.handle(_msg("step 1", user="UADMIN"))[-1]
    assert "Recruter les écoles" in reply.title


def test_non_admin_gets_a_polite_refusal_and_the_attempt_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    bot = build_bot(Settings.from_env({"HOC_ADMINS": "slack:T1:UADMIN"}), store=MemoryStore(), clock=FakeClock())
    with caplog.at_level(logging.WARNING, logger="bot.events"):
        for command in ("stats", "reload"):
            [reply] = bot.handler.handle(_msg(command, user="U_SOMEONE"))[-1:]
            assert reply.kind == "error"
            assert "administrateurs" in reply.text
    refusals = [r for r in caplog.records if r.getMessage() == "admin command refused"]
    assert len(refusals) == 2
    assert "U_SOMEONE" not in json.dumps([r.__dict__.get("fields") for r in refusals])


def test_an_admin_is_one_user_of_one_platform_and_workspace() -> None:
    bot = build_bot(
        Settings.from_env({"HOC_ADMINS": "slack:T1:UADMIN, telegram:42"}), store=MemoryStore(), clock=FakeClock()
    )

    def kind(user: str, platform: str = "slack", workspace: str = "T1") -> str:
        msg = IncomingMessage(platform, user, "stats", workspace=workspace, chat="D1", locale_hint="fr-FR")
        return bot.handler.handle(msg)[-1].kind

    assert kind("UADMIN") == "stats"
    assert kind("42", platform="telegram", workspace="") == "stats"
    assert kind("UADMIN", workspace="T2") == "error"  # the same id in another workspace
    assert kind("UADMIN", platform="telegram", workspace="") == "error"
    assert kind("42") == "error"


@pytest.mark.parametrize("value", ["UADMIN", "slack:UADMIN", "slack:T1:", "telegram", "telegram:1:2", ":42"])
def test_admins_without_platform_or_workspace_are_refused_at_start(value: str) -> None:
    with pytest.raises(ConfigError, match="HOC_ADMINS"):
        build_bot(Settings.from_env({"HOC_ADMINS": value}), store=MemoryStore(), clock=FakeClock())


def test_stats_lists_unanswered_questions_without_user_ids() -> None:
    store = MemoryStore()
    bot = build_bot(Settings.from_env({"HOC_ADMINS": "telegram:99,slack:T1:UADMIN"}), store=store, clock=FakeClock())
    for user in ("U1", "U2", "U3"):
        bot.handler.handle(_msg("Horaires de la PISCINE ?", user=user))
    bot.handler.handle(_msg("comment recruter des écoles ?", user="U1"))
    bot.handler.handle(_msg("done 1", user="U2"))
    text = bot.handler.handle(_msg("stats", user="UADMIN"))[-1].text
    assert "horaires de la piscine" in text
    assert "    3  horaires de la piscine" in text
    assert "slack 3" in text  # U1, U2, U3 (the admin is saved after this turn)
    assert "1: 1" in text
    assert "U1" not in text
    figures = store.stats()
    assert figures.questions_by_decision["fallback"] == 3
    assert figures.questions_by_decision["answer"] == 1


def test_questions_older_than_the_retention_period_are_purged() -> None:
    store, clock = MemoryStore(), FakeClock()
    bot = build_bot(Settings.from_env({"HOC_QUESTION_RETENTION_DAYS": "30"}), store=store, clock=clock)
    bot.handler.handle(_msg("Horaires de la PISCINE ?"))
    clock.advance(days=20)
    bot.handler.handle(_msg("horaires de la cantine ?", user="U2"))
    assert [q for q, _ in store.stats().unanswered] == ["horaires de la cantine", "horaires de la piscine"]
    clock.advance(days=11)  # the first question is now 31 days old
    bot.handler.handle(_msg("comment recruter des écoles ?", user="U3"))
    assert [q for q, _ in store.stats().unanswered] == ["horaires de la cantine"]
    with pytest.raises(ConfigError, match="HOC_QUESTION_RETENTION_DAYS"):
        Settings.from_env({"HOC_QUESTION_RETENTION_DAYS": "0"})


def test_json_logs_hash_users_hide_text_and_tokens() -> None:
    stream = io.StringIO()
    setup_logging({}, stream)
    try:
        bot = build_bot(Settings.from_env({}), store=MemoryStore(), clock=FakeClock())
        bot.handler.handle(_msg("comment recruter des écoles ?", user="U0LAN0Z89"))
        logging.getLogger("telegram.ext").info(f"POST https://api.telegram.org/bot{FAKE_TOKEN}/sendMessage")
    finally:
        logging.getLogger().handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [event] = [line for line in lines if line.get("event") == "message"]
    assert event["decision"] == "answer"
    assert event["topic"] == "recruit-schools"
    assert event["user"] != "U0LAN0Z89"
    assert len(event["request_id"]) == 12
    assert "text" not in event
    raw = stream.getvalue()
    assert "U0LAN0Z89" not in raw
    assert "recruter" not in raw
    assert FAKE_TOKEN.split(":")[1] not in raw


def test_secret_settings_never_reach_a_log_line_at_any_level() -> None:
    secrets = {
        "TELEGRAM_WEBHOOK_SECRET": "s3cret-webhook-token_0123456789",
        "SLACK_SIGNING_SECRET": 'signing"secret\\with-quote',
        "MATRIX_PASSWORD": "correct horse battery staple",
        "DATABASE_URL": "postgresql://hoc:db-pass-w0rd@127.0.0.1:5432/hoc",
    }
    stream = io.StringIO()
    setup_logging({**secrets, "HOC_LOG_LEVEL": "DEBUG"}, stream)
    try:
        bot_log = logging.getLogger("telegram.Bot")
        bot_log.debug(
            "Calling Bot API endpoint `setWebhook` with parameters `%s`",
            {"secret_token": secrets["TELEGRAM_WEBHOOK_SECRET"]},
        )
        logging.getLogger("slack").debug("secret %s", secrets["SLACK_SIGNING_SECRET"])
        # WARNING: once the Matrix adapter has started, nio logs nothing below it (see quiet_libraries).
        logging.getLogger("nio").warning("login with " + secrets["MATRIX_PASSWORD"])
        try:
            raise RuntimeError("connect to " + secrets["DATABASE_URL"])
        except RuntimeError:
            logging.getLogger("bot").exception("database")
    finally:
        logging.getLogger().handlers.clear()
        logging.getLogger().setLevel(logging.WARNING)
    raw = stream.getvalue()
    assert len(raw.splitlines()) == 4
    assert raw.count("[redacted]") >= 4
    for value in (*secrets.values(), "db-pass-w0rd"):
        assert value not in raw
        assert json.dumps(value)[1:-1] not in raw


def test_message_text_is_logged_only_when_asked() -> None:
    stream = io.StringIO()
    setup_logging({}, stream)
    try:
        bot = build_bot(Settings.from_env({"HOC_LOG_TEXT": "1"}), store=MemoryStore(), clock=FakeClock())
        bot.handler.handle(_msg("comment recruter des écoles ?"))
    finally:
        logging.getLogger().handlers.clear()
    [event] = [json.loads(x) for x in stream.getvalue().splitlines() if '"event": "message"' in x]
    assert event["text"] == "comment recruter des écoles ?"


def test_platform_api_errors_logged_by_adapters_are_counted() -> None:
    from bot.ops import ApiErrorCounter, Metrics

    metrics = Metrics()
    logger = logging.getLogger("bot.adapters.test")
    counter = ApiErrorCounter(metrics)
    logger.addHandler(counter)
    try:
        fields = {"event": "api_error", "platform": "slack", "code": "ratelimited"}
        logger.warning("slack: chat.postMessage failed", extra={"fields": fields})
        logger.warning("slack: chat.postMessage failed", extra={"fields": fields})
        logger.warning("something else")
    finally:
        logger.removeHandler(counter)
    value = metrics.registry.get_sample_value(
        "hoc_platform_api_errors_total", {"platform": "slack", "code": "ratelimited"}
    )
    assert value == 2.0
