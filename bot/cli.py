"""``hoc-bot``: chat, ask, knowledge base tools, database and worker commands."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.core.errors import BotError

if TYPE_CHECKING:
    import asyncio

    from bot.app import Bot
    from bot.core.ports import Sender
    from bot.reminders.runner import ReminderRunner


def _version() -> str:
    """The installed package's version, else pyproject's (a checkout run with ``python -m bot``)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hoc-bot")
    except PackageNotFoundError:
        import tomllib

        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hoc-bot", description="Hour of Code coordinator bot")
    parser.add_argument("--version", action="version", version=f"hoc-bot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--lang", help="your language (fr, en, fr-CA, …)")
    chat.add_argument("--user", default="console", help="who you are (progress is kept per user)")
    chat.add_argument("--memory", action="store_true", help="keep nothing: use an in-memory store")

    ask = sub.add_parser("ask", help="answer one question (or one per line of stdin)")
    ask.add_argument("question", nargs="*", help="the question; read from stdin when absent")
    ask.add_argument("--lang", help="the asker's language")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")

    kb = sub.add_parser("kb", help="knowledge base tools").add_subparsers(dest="kb_command", required=True)
    build = kb.add_parser("build", help="build the knowledge base from guide files")
    build.add_argument("files", nargs="+", help="guide markdown files (fr.md, en.md, …)")
    build.add_argument("--lang", help="language of the file(s), instead of the file name")
    build.add_argument("--dry-run", action="store_true", help="write nothing; show the diff")
    build.add_argument("--json", action="store_true", help="with --dry-run: print the extracted entries")
    build.add_argument("--out", type=Path, help="knowledge directory to write (default: the shipped one)")
    build.add_argument("--reference", type=Path, help="English guide to compare translations with")
    check = kb.add_parser("check", help="validate the knowledge base")
    check.add_argument("--dir", type=Path, help="knowledge directory (default: the shipped one)")
    train = kb.add_parser("train", help="fit the question classifier on the examples (needs scikit-learn)")
    train.add_argument("--dir", type=Path, help="knowledge directory (default: the shipped one)")
    reload = kb.add_parser("reload", help="validate the knowledge base, then tell a running bot to reload it")
    reload.add_argument("--pid", type=int, help="process id of `hoc-bot run` (SIGHUP); without it, only validate")
    from bot.admin.review_cli import add_arguments as review_arguments

    review_arguments(kb.add_parser("review", help="turn unanswered questions into examples, retrain, reload"))
    ev = kb.add_parser("eval", help="accuracy of the matcher on labelled questions")
    ev.add_argument("file", type=Path, help="labelled questions (YAML: lang -> topic -> questions)")
    ev.add_argument("--min-accuracy", type=float, default=None, help="exit 1 when a language is below this %%")
    ev.add_argument("--quiet", action="store_true", help="no per-question list of misses")
    db = sub.add_parser("db", help="database tools").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply the database migrations")

    sub.add_parser("worker", help="deliver due reminders through the configured platforms")

    sub.add_parser("stats", help="users, steps done, questions by decision, most frequent unanswered questions")

    admin = sub.add_parser("admin", help="the /admin web console").add_subparsers(dest="admin_command", required=True)
    admin.add_parser("link", help="print a single-use sign-in link to the console (valid 10 minutes)")

    run = sub.add_parser("run", help="serve the configured chat platforms (and deliver reminders)")
    run.add_argument("--port", type=int, help="HTTP port (default: $PORT or 3000)")
    run.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")  # noqa: S104
    run.add_argument("--no-worker", action="store_true", help="leave reminders to a separate `hoc-bot worker`")

    rem = sub.add_parser("reminders", help="reminders, for operators").add_subparsers(
        dest="reminders_command", required=True
    )
    listing = rem.add_parser("list", help="pending reminders")
    listing.add_argument("--json", action="store_true", help="one JSON object per reminder")
    listing.add_argument("--due-before", help="only those due before this ISO date or time (UTC if no zone)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    env: dict[str, str] | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run a command; returns the exit code."""
    env = dict(os.environ) if env is None else env
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        if args.command == "kb" and args.kb_command == "review":
            return _review(args, env, stdin, stdout, stderr)
        if args.command == "kb":
            return _kb(args, env, stdout, stderr)
        if args.command == "ask":
            return _ask(args, env, stdin, stdout)
        if args.command == "chat":
            return _chat(args, env, stdin, stdout)
        if args.command == "db":
            return _db(env, stdout)
        if args.command == "reminders":
            return _reminders(args, env, stdout, stderr)
        if args.command == "worker":
            return _worker(env, stderr)
        if args.command == "run":
            return _run(args, env, stdout, stderr)
        if args.command == "stats":
            return _stats(env, stdout)
        if args.command == "admin":
            return _admin(env, stdout, stderr)
    except BotError as exc:
        stderr.write(f"hoc-bot: {exc}\n")
        for problem in getattr(exc, "problems", []):
            stderr.write(f"  {problem}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    return 2


def _settings(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from bot.config import Settings

    return Settings.from_env(env)


def _kb(args: argparse.Namespace, env: dict[str, str], stdout: TextIO, stderr: TextIO) -> int:
    from bot.app import knowledge_dir

    settings = _settings(env)
    if args.kb_command == "build":
        from bot.knowledge.commands import build_command

        return build_command(
            args.files,
            lang=args.lang,
            dry_run=args.dry_run,
            as_json=args.json,
            out_dir=args.out or knowledge_dir(settings),
            reference=args.reference,
            stdout=stdout,
            stderr=stderr,
        )
    if args.kb_command == "check":
        from bot.knowledge.commands import check_command

        return check_command(args.dir or knowledge_dir(settings), stdout=stdout, stderr=stderr)
    if args.kb_command == "train":
        from bot.knowledge.train import train_command

        return train_command(args.dir or knowledge_dir(settings), stdout=stdout, stderr=stderr)
    if args.kb_command == "reload":
        import signal

        from bot.knowledge.commands import check_command

        if check_command(knowledge_dir(settings), stdout=stdout, stderr=stderr) != 0:
            stderr.write("hoc-bot: the knowledge base is invalid: nothing reloaded\n")
            return 1
        if args.pid is not None:
            try:
                os.kill(args.pid, signal.SIGHUP)
            except OSError as exc:
                stderr.write(f"hoc-bot: could not signal process {args.pid}: {exc.strerror}\n")
                return 1
            stdout.write(f"asked process {args.pid} to reload the knowledge base\n")
        return 0
    from bot.app import load_knowledge
    from bot.core.matching import Matcher
    from bot.evaluate import evaluate, format_reports, load_questions

    try:
        questions = load_questions(args.file)
    except (OSError, ValueError) as exc:
        stderr.write(f"hoc-bot: {exc}\n")
        return 2
    reports = evaluate(Matcher(load_knowledge(settings), settings.match), questions)
    stdout.write(format_reports(reports, verbose=not args.quiet) + "\n")
    failed = [
        r.lang for r in reports if r.false_answers or (args.min_accuracy is not None and r.accuracy < args.min_accuracy)
    ]
    if failed and args.min_accuracy is not None:
        stderr.write(f"hoc-bot: below the bar or answered off-topic questions: {', '.join(failed)}\n")
        return 1
    return 0


def _review(args: argparse.Namespace, env: dict[str, str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from bot.admin.review import Review
    from bot.admin.review_cli import review_command
    from bot.admin.review_eval import eval_dir
    from bot.app import knowledge_dir
    from bot.store.engine import open_store

    settings = _settings(env)
    store = open_store(settings.database_url)
    try:
        review = Review(store, args.dir or knowledge_dir(settings), eval_dir=args.eval_dir or eval_dir(env), env=env)
        return review_command(args, review, stdin=stdin, stdout=stdout, stderr=stderr)
    finally:
        store.close()


def _ask(args: argparse.Namespace, env: dict[str, str], stdin: TextIO, stdout: TextIO) -> int:
    from bot.adapters.console import render
    from bot.app import build_handler
    from bot.core.messages import IncomingMessage

    handler = build_handler(_settings(env))
    questions = [" ".join(args.question)] if args.question else [line.rstrip("\n") for line in stdin]
    for n, question in enumerate(questions):
        if not args.question and not question.strip():
            continue
        msg = IncomingMessage("cli", f"ask-{n}", question, locale_hint=args.lang)
        replies = handler.handle(msg)
        if not args.json:
            # One-off questions: the first-contact welcome would only be noise here.
            stdout.write("\n\n".join(render(r) for r in replies if r.kind != "welcome") + "\n")
            continue
        main_reply = next((r for r in replies if r.kind not in {"notice", "welcome"}), replies[-1])
        decision = _decision(main_reply.kind)
        topic = main_reply.topic if decision == "answer" else None
        entry = handler.kb.get(topic) if topic else None
        meta = main_reply.meta
        score = meta.get("score", 100.0 if decision == "answer" else 0.0)
        record = {
            "question": question,
            "lang": main_reply.lang,
            "decision": decision,
            "topic": topic,
            "step": entry.step if entry else None,
            "score": score,
            "suggestions": list(meta.get("suggestions", []) or []),  # type: ignore[call-overload]
        }
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def _decision(kind: str) -> str:
    """What ``ask --json`` says the bot did, from the kind of its main reply."""
    return kind if kind in {"answer", "clarify", "fallback", "smalltalk"} else "command"


def _chat(args: argparse.Namespace, env: dict[str, str], stdin: TextIO, stdout: TextIO) -> int:
    import asyncio
    import threading

    from bot.adapters.console import ConsoleChat, ConsoleSender
    from bot.app import build_bot
    from bot.core.ports import Store
    from bot.reminders.runner import ReminderRunner

    settings = _settings(env)
    store: Store
    if args.memory:
        from bot.store.memory import MemoryStore

        store = MemoryStore()
    else:
        from bot.store.engine import open_store

        store = open_store(settings.database_url)
    bot = build_bot(settings, store=store)
    chat = ConsoleChat(bot.handler.handle, user=args.user, locale=args.lang)
    sender = ConsoleSender(stdout, chat=chat)
    runner = ReminderRunner(store, {"console": sender}, bot.compose, bot.handler.clock, worker_id=f"chat-{os.getpid()}")
    if not stdin.isatty():
        # Scripted: deliver what fell due before each line, deterministically.
        def deliver_due() -> None:
            asyncio.run(runner.run_once())

        return chat.loop(stdin, stdout, before_line=deliver_due)
    stop = threading.Event()

    def deliver() -> None:
        while not stop.wait(5.0):
            asyncio.run(runner.run_once())

    threading.Thread(target=deliver, name="reminders", daemon=True).start()
    t = bot.catalogs.get(bot.catalogs.negotiate(args.lang, settings.default_locale))
    stdout.write(t.gettext("Hour of Code bot: ask a question or type “help”. Ctrl-D to quit.") + "\n")
    try:
        return chat.loop(stdin, stdout)
    finally:
        stop.set()


def _stats(env: dict[str, str], stdout: TextIO) -> int:
    from bot.ops import format_stats
    from bot.store.engine import open_store

    store = open_store(_settings(env).database_url)
    stdout.write(format_stats(store) + "\n")
    store.close()
    return 0


def _admin(env: dict[str, str], stdout: TextIO, stderr: TextIO) -> int:
    import datetime as dt
    import getpass

    from bot.admin.link import link_command
    from bot.store.engine import open_store

    store = open_store(_settings(env).database_url)
    try:
        code, out, err = link_command(store, env, dt.datetime.now(dt.UTC), getpass.getuser())
    finally:
        store.close()
    stdout.write(out)
    stderr.write(err)
    return code


def _db(env: dict[str, str], stdout: TextIO) -> int:
    from bot.store.engine import open_store, redact

    settings = _settings(env)
    open_store(settings.database_url).close()
    stdout.write(f"database is up to date: {redact(settings.database_url)}\n")
    return 0


def _reminders(args: argparse.Namespace, env: dict[str, str], stdout: TextIO, stderr: TextIO) -> int:
    import datetime as dt

    from bot.store.engine import open_store

    due_before = None
    if args.due_before:
        try:
            due_before = dt.datetime.fromisoformat(args.due_before)
        except ValueError:
            stderr.write(f"hoc-bot: --due-before: {args.due_before!r} is not an ISO date such as 2026-12-07T09:00\n")
            return 2
        if due_before.tzinfo is None:
            due_before = due_before.replace(tzinfo=dt.UTC)
    store = open_store(_settings(env).database_url)
    rows = store.list_reminders(None, status="pending", due_before=due_before)
    if rows and not args.json:
        stdout.write(f"{'id':>8}  {'due (UTC)':<17} {'platform':<9} {'what':<17} kind\n")
    for r in rows:
        record = {
            "id": r.id,
            "platform": r.key.platform,
            "step": r.step,
            "due_at": r.due_at.isoformat(),
            "kind": r.kind,
            "attempts": r.attempts,
        }
        if args.json:
            stdout.write(json.dumps(record) + "\n")
        else:
            what = _reminder_what(r.step)
            stdout.write(f"{r.id:>8}  {r.due_at:%Y-%m-%d %H:%M}Z  {r.key.platform:<9} {what:<17} {r.kind}\n")
    if not args.json:
        stdout.write(f"{len(rows)} pending\n")
    store.close()
    return 0


def _reminder_what(step: int | None) -> str:
    """``step 2``, ``after the event`` (what comes after the Hour of Code) or ``the plan``."""
    from bot.core.schedule import AFTER_STEP

    if step == AFTER_STEP:
        return "what comes after"
    return "the plan" if step is None else f"step {step}"


def _worker(env: dict[str, str], stderr: TextIO) -> int:
    import asyncio

    from bot.app import build_bot, build_platforms
    from bot.logs import setup_logging
    from bot.store.engine import open_store

    setup_logging(env)
    settings = _settings(env)
    store = open_store(settings.database_url)
    bot = build_bot(settings, store=store)
    platforms = build_platforms(settings, bot)
    if not platforms:
        stderr.write(
            "hoc-bot: no chat platform is configured for delivering reminders "
            "(set SLACK_BOT_TOKEN or TELEGRAM_BOT_TOKEN)\n"
        )
        return 2
    # A platform whose reminders only ``hoc-bot run`` may send (Matrix: one process per device) is left out.
    senders = {p.name: p.sender for p in platforms if getattr(p, "sends_from_worker", True)}
    if not senders:
        stderr.write("hoc-bot: the reminders of the configured platforms are sent by hoc-bot run itself\n")
        return 2
    runner = _runner(bot, senders)

    async def serve() -> None:
        stop = _stop_on_signals()
        await runner.run_forever(stop)

    asyncio.run(serve())
    store.close()
    return 0


def _runner(bot: Bot, senders: dict[str, Sender]) -> ReminderRunner:
    import socket

    from bot.reminders.runner import ReminderRunner

    return ReminderRunner(
        bot.handler.store,
        senders,
        bot.compose,
        bot.handler.clock,
        worker_id=f"{socket.gethostname()}-{os.getpid()}",
    )


#: Seconds ``hoc-bot run`` takes at most to stop after SIGTERM.
SHUTDOWN_LIMIT = 25.0


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (call inside the running loop)."""
    import asyncio
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _run(args: argparse.Namespace, env: dict[str, str], stdout: TextIO, stderr: TextIO) -> int:
    import asyncio

    from aiohttp import web

    from bot.app import build_bot, build_platforms
    from bot.logs import setup_logging
    from bot.store.engine import open_store
    from bot.web import ProblemAccessLogger, create_app

    setup_logging(env)
    settings = _settings(env)
    port = args.port
    if port is None:
        raw = env.get("PORT", "3000")
        if not raw.isdecimal() or not 0 < int(raw) < 65536:
            stderr.write(f"hoc-bot: PORT: {raw!r} is not a port number\n")
            return 2
        port = int(raw)
    store = open_store(settings.database_url)
    bot = build_bot(settings, store=store, metrics=True)
    from bot.ops import ApiErrorCounter

    assert bot.metrics is not None
    logging.getLogger("bot.adapters").addHandler(ApiErrorCounter(bot.metrics))
    platforms = build_platforms(settings, bot)
    if not platforms:
        stderr.write(
            "hoc-bot: no chat platform is configured (SLACK_BOT_TOKEN, TELEGRAM_BOT_TOKEN, MATRIX_HOMESERVER); "
            "serving health checks only\n"
        )

    def reachable() -> bool:
        try:
            store.ping()
        except Exception:  # any driver error means "not ready"
            return False
        return True

    async def ready() -> bool:
        return await asyncio.to_thread(reachable)

    async def metrics() -> bytes:
        from prometheus_client import generate_latest

        from bot.ops import refresh_reminder_gauge

        assert bot.metrics is not None
        await asyncio.to_thread(refresh_reminder_gauge, bot, bot.metrics)
        return bytes(generate_latest(bot.metrics.registry))

    async def serve() -> None:
        stop = _stop_on_signals()
        import gc
        import signal

        # What was built so far lives as long as the process: keep the collector from going
        # through it again and again (its full passes would pause the server for longer).
        gc.collect()
        gc.freeze()

        # SIGHUP (`hoc-bot kb reload`): load the knowledge base again, keep the current one if invalid.
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, bot.reload)
        app = create_app(platforms, ready=ready, metrics=metrics, metrics_token=env.get("HOC_METRICS_TOKEN") or None)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log_class=ProblemAccessLogger,
            # At shutdown, requests in flight get this long (bodies are read within 10 s already).
            shutdown_timeout=2.0,
            # Idle keep-alive connections are closed after this long (aiohttp's default is an hour).
            keepalive_timeout=75.0,
            # A refused request's connection is closed at once, not kept 10 s to drain what the client
            # still sends (an unauthenticated flood would hold memory for that long).
            lingering_time=0.0,
        )
        from bot.admin.web import build_console, mount
        from bot.app import knowledge_dir

        # The review page reloads this bot on this loop, as SIGHUP does.
        console = build_console(
            store, bot.catalogs, env, bot.handler.clock.now, kb_dir=knowledge_dir(settings), reload=bot.reload
        )
        if console is not None:
            mount(app, console)
        await runner.setup()
        site = web.TCPSite(runner, host=args.host, port=port)
        await site.start()
        stdout.write(f"hoc-bot: listening on http://{args.host}:{port}\n")
        stdout.flush()
        worker = None
        # With --no-worker, reminders of platforms a separate worker cannot send for (Matrix) still go from here.
        senders = {
            p.name: p.sender for p in platforms if not args.no_worker or not getattr(p, "sends_from_worker", True)
        }
        if senders:
            worker = asyncio.create_task(_runner(bot, senders).run_forever(stop))
        await stop.wait()
        try:
            # Container platforms kill the process 30 s after SIGTERM: what is not finished by then
            # stays in the inbox (and reminders stay claimable) for the next start.
            async with asyncio.timeout(SHUTDOWN_LIMIT):
                if worker is not None:
                    await worker
                await runner.cleanup()
        except TimeoutError:
            logging.getLogger("bot").warning(
                "shutdown took over %.0f s; the rest waits for the next start", SHUTDOWN_LIMIT
            )

    asyncio.run(serve())
    store.close()
    return 0
