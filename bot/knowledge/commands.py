"""``kb build`` and ``kb check``: guide files -> entry YAML files, and validation of a knowledge directory."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any, TextIO

import yaml

from bot.core.errors import KnowledgeError
from bot.core.knowledge import LinkTable
from bot.knowledge import default_kb_dir
from bot.knowledge.builder import BuildResult, build_guide, entries_by_id
from bot.knowledge.check import check_kb
from bot.knowledge.entry_yaml import dump_entry, merge_entry
from bot.knowledge.guide_parse import Guide, GuideError, lang_from_filename, load_reference, normalize_lang
from bot.knowledge.loader import load_links
from bot.knowledge.train import training_problems


def build_command(
    files: list[str],
    *,
    lang: str | None,
    dry_run: bool,
    as_json: bool,
    out_dir: Path,
    reference: Path | None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """Build entry files from guide markdown files.

    Without ``dry_run`` the entries are merged into ``out_dir/entries/<id>.yaml``: the guide fields
    of the built languages are rewritten, curated fields and other languages are kept. With
    ``dry_run`` nothing is written and a unified diff is printed; with ``as_json`` too, the extracted
    entries are printed as a JSON list instead (links resolved for each language). Warnings
    (``file:line: message``) go to ``stderr``.

    Args:
        files: Guide files; each file's language comes from its name (``fr.md``) unless ``lang``.
        lang: Language of the file (only with a single file).
        dry_run: Write nothing.
        as_json: Print the extracted entries as JSON.
        out_dir: Knowledge directory (``links.yaml``, ``entries/``).
        reference: The English guide to compare translations with (default: ``sources/en.md``).
        stdout: Where results go.
        stderr: Where warnings and errors go.

    Returns:
        0 when every file was built; 1 when a file cannot be read or has no guide structure (then
        nothing is written).
    """
    if lang is not None and len(files) > 1:
        stderr.write("kb build: --lang needs a single file; name several files after their language\n")
        return 1
    links = _links(out_dir, stderr)
    if links is None:
        return 1
    ref_guide, ref_path = _reference(out_dir, reference, stderr)
    results: list[BuildResult] = []
    failed = False
    for name in files:
        result = _build_one(name, lang, links, ref_guide, ref_path, stderr)
        if result is None:
            failed = True
            continue
        results.append(result)
        for warning in result.warnings:
            stderr.write(warning + "\n")
    if failed:
        stderr.write("kb build: nothing written\n")
        return 1
    if as_json:
        json.dump(_json_entries(results, links), stdout, ensure_ascii=False, indent=2)
        stdout.write("\n")
        if dry_run:
            return 0
    changes = _changes(results, out_dir, stderr)
    if changes is None:
        return 1
    if dry_run:
        for path, old, new in changes:
            stdout.writelines(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            )
        if not changes and not as_json:
            stdout.write("no changes\n")
        return 0
    for path, _, new in changes:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new, encoding="utf-8")
    if not as_json:
        langs = ", ".join(r.lang for r in results)
        stdout.write(f"built {langs}: {len(changes)} file(s) written under {out_dir / 'entries'}\n")
    return 0


def _links(out_dir: Path, stderr: TextIO) -> LinkTable | None:
    path = out_dir / "links.yaml"
    if not path.is_file():
        fallback = default_kb_dir() / "links.yaml"
        stderr.write(f"kb build: {path} not found; using {fallback}\n")
        path = fallback
    try:
        return load_links(path)
    except KnowledgeError as exc:
        stderr.write(f"kb build: {exc}\n")
        for problem in exc.problems:
            stderr.write(f"  {problem}\n")
        return None


def _reference(out_dir: Path, reference: Path | None, stderr: TextIO) -> tuple[Guide | None, Path | None]:
    candidates = (
        [reference]
        if reference is not None
        else [
            out_dir / "sources" / "en.md",
            default_kb_dir() / "sources" / "en.md",
        ]
    )
    for path in candidates:
        if path is not None and path.is_file():
            try:
                return load_reference(path), path
            except (OSError, UnicodeDecodeError, GuideError) as exc:
                stderr.write(f"kb build: reference {path} unusable: {exc}\n")
                return None, None
    stderr.write("kb build: no English reference found: untranslated text and broken links cannot be repaired\n")
    return None, None


def _build_one(
    name: str,
    lang: str | None,
    links: LinkTable,
    ref_guide: Guide | None,
    ref_path: Path | None,
    stderr: TextIO,
) -> BuildResult | None:
    path = Path(name)
    try:
        code = normalize_lang(lang) if lang else lang_from_filename(path)
    except ValueError as exc:
        stderr.write(f"{name}: {exc}\n")
        return None
    if code is None:
        stderr.write(f"{name}: cannot tell the language from the file name; give --lang\n")
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        stderr.write(f"{name}: cannot be read: {exc}\n")
        return None
    same_file = ref_path is not None and path.resolve() == ref_path.resolve()
    try:
        return build_guide(text, name=name, lang=code, links=links, reference=None if same_file else ref_guide)
    except GuideError as exc:
        stderr.write(f"{exc}\n")
        return None


def _json_entries(results: list[BuildResult], links: LinkTable) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for result in results:
        for entry in result.entries:
            content = entry.content
            out.append(
                {
                    "id": entry.id,
                    "step": entry.step,
                    "lang": entry.lang,
                    "title": content.title,
                    "answer": content.answer,
                    "links": [{"label": link.label, "url": links.url_of(link, entry.lang)} for link in content.links],
                }
            )
    return out


def _changes(results: list[BuildResult], out_dir: Path, stderr: TextIO) -> list[tuple[Path, str, str]] | None:
    """(path, old text, new text) of every entry file that the build changes."""
    changes: list[tuple[Path, str, str]] = []
    ok = True
    for entry_id, (step, contents) in entries_by_id(results).items():
        path = out_dir / "entries" / f"{entry_id}.yaml"
        old = ""
        existing: Any = None
        if path.is_file():
            old = path.read_text(encoding="utf-8")
            try:
                existing = yaml.safe_load(old)
            except yaml.YAMLError as exc:
                stderr.write(f"{path}: cannot merge into a file that is not valid YAML: {exc}\n")
                ok = False
                continue
        new = dump_entry(merge_entry(existing if isinstance(existing, dict) else None, entry_id, step, contents))
        if new != old:
            changes.append((path, old, new))
    return changes if ok else None


def check_command(kb_dir: Path, *, stdout: TextIO, stderr: TextIO) -> int:
    """Validate a knowledge directory and print every problem.

    Args:
        kb_dir: The directory to check.
        stdout: Where problems go, one ``file:line: entry <id>: <field>: message`` per line, then
            a summary.
        stderr: Unused; kept for a uniform command signature.

    Returns:
        0 when the knowledge base is valid, else 1. Problems of the training examples
        (``examples/*.yaml``) count, and so does a model trained on other examples than today's.
    """
    problems = check_kb(kb_dir) + training_problems(kb_dir)
    del stderr
    for problem in problems:
        stdout.write(problem + "\n")
    if problems:
        stdout.write(f"{kb_dir}: {len(problems)} problem(s)\n")
        return 1
    stdout.write(f"{kb_dir}: ok\n")
    return 0
