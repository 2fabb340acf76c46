"""``hoc-bot``: chat, ask, knowledge base tools, database and worker commands."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.core.errors import BotError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hoc-bot", description="Hour of Code coordinator bot")
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
    ev = kb.add_parser("eval", help="accuracy of the matcher on labelled questions")
    ev.add_argument("file", type=Path, help="labelled questions (YAML: lang -> topic -> questions)")
    ev.add_argument(
        "--min-accuracy", type=float, default=None, help="exit 1 when a language is below this %%"
    )
    ev.add_argument("--quiet", action="store_true", help="no per-question list of misses")
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
        if args.command == "kb":
            return _kb(args, env, stdout, stderr)
        if args.command == "ask":
            return _ask(args, env, stdin, stdout)
        if args.command == "chat":
            return _chat(args, env, stdin, stdout)
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
        r.lang
        for r in reports
        if r.false_answers or (args.min_accuracy is not None and r.accuracy < args.min_accuracy)
    ]
    if failed and args.min_accuracy is not None:
        stderr.write(f"hoc-bot: below the bar or answered off-topic questions: {', '.join(failed)}\n")
        return 1
    return 0


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
            stdout.write("\n\n".join(render(r) for r in replies) + "\n")
            continue
        main_reply = next((r for r in replies if r.kind != "notice"), replies[-1])
        decision = {"answer": "answer", "clarify": "clarify"}.get(main_reply.kind, "fallback")
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


def _chat(args: argparse.Namespace, env: dict[str, str], stdin: TextIO, stdout: TextIO) -> int:
    from bot.adapters.console import ConsoleChat
    from bot.app import build_handler

    settings = _settings(env)
    store = None
    if not args.memory:
        from bot.store.engine import open_store

        store = open_store(settings.database_url)
    handler = build_handler(settings, store=store)
    chat = ConsoleChat(handler.handle, user=args.user, locale=args.lang)
    if stdin.isatty():
        stdout.write("Hour of Code bot: ask a question, type “help”, Ctrl-D to quit.\n")
    return chat.loop(stdin, stdout)
