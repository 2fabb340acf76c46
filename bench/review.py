"""Time to review ten groups of unanswered questions and apply them, retraining included.

    python -m bench.review

Ten questions the shipped model falls back on, in seven languages, each asked in two wordings through
the real handler (an in-memory questions log, a copy of knowledge/ in a temporary directory), are
grouped, assigned to an entry, and applied at once: kb check, retraining in a subprocess, accuracy
on the evaluation sets before and after, swap, reload. Then the twenty wordings are asked again.
Prints the time of each part and the accuracy per language before and after.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from bot.admin.review import Review
from bot.admin.review_eval import eval_dir
from bot.knowledge import default_kb_dir
from bot.knowledge.loader import load_kb
from bot.store.memory import MemoryStore
from tests.auxil.harness import Harness
from tests.integration.test_review import ASSIGNED


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        kb_dir = Path(tmp) / "knowledge"
        shutil.copytree(default_kb_dir(), kb_dir)
        store = MemoryStore()
        harness = Harness({"HOC_KNOWLEDGE_DIR": str(kb_dir)}, store=store)

        def reload() -> list[str]:
            harness.handler.reload(load_kb(kb_dir))
            return []

        def ask(text: str, lang: str, user: str) -> str:
            reply = harness.send(text, user=f"{user}-{lang}", lang=lang)[-1]
            return reply.topic if reply.kind == "answer" and reply.topic else reply.kind

        for lang, _, first, second in ASSIGNED:
            ask(first, lang, "a")
            ask(second, lang, "b")
        review = Review(store, kb_dir, eval_dir=eval_dir({}), reload=reload)
        started = time.perf_counter()
        groups = review.groups()
        listed = time.perf_counter()
        changes = []
        for _, entry, first, _ in ASSIGNED:
            key = next(g.key for g in groups if first in {t.text for t in g.texts})
            changes.append(review.assign([key], entry))
        change = review.merge(*changes)
        decided = time.perf_counter()
        outcome = review.wait(review.start_apply(change))
        applied = time.perf_counter()
        assert outcome is not None
        right = sum(
            ask(text, lang, "c") == entry for lang, entry, first, second in ASSIGNED for text in (first, second)
        )
    print(f"groups: {len(groups)} listed in {1000 * (listed - started):.0f} ms")
    print(f"ten groups assigned (plans against the files) in {decided - listed:.2f} s")
    print(f"apply: {outcome.status} in {applied - decided:.1f} s ({outcome.message})")
    print(f"total, listing to the bot answering: {applied - started:.1f} s")
    print(f"answered with the assigned entry afterwards: {right} of {2 * len(ASSIGNED)}")
    print("lang  before (accuracy, off-topic answered)  after")
    for lang in sorted(outcome.eval_before):
        b, a = outcome.eval_before[lang], outcome.eval_after.get(lang)
        after = f"{a.accuracy:.1f} % {a.offtopic_answered}/{a.offtopic_total}" if a else "-"
        print(f"{lang:<5} {b.accuracy:.1f} % {b.offtopic_answered}/{b.offtopic_total}    {after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
