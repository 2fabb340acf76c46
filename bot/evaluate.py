"""``hoc-bot kb eval``: accuracy of the matcher on a labelled question set."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.core.matching import Matcher


@dataclass(slots=True)
class LangReport:
    """Figures for one language."""

    lang: str
    total: int = 0
    correct: int = 0
    clarified: int = 0
    none_total: int = 0
    false_answers: int = 0
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        """Strict accuracy: decision ``answer`` with the right topic."""
        return 100.0 * self.correct / self.total if self.total else 100.0

    @property
    def clarify_rate(self) -> float:
        """Share of on-topic questions answered with "did you mean"."""
        return 100.0 * self.clarified / self.total if self.total else 0.0


def load_questions(path: Path) -> dict[str, dict[str, list[str]]]:
    """``{lang: {topic or "none": [questions]}}``; raises ValueError on a malformed file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a mapping of languages")
    out: dict[str, dict[str, list[str]]] = {}
    for lang, topics in data.items():
        if not isinstance(topics, Mapping):
            raise ValueError(f"{path}: {lang}: expected a mapping of topics")
        out[str(lang)] = {}
        for topic, questions in topics.items():
            if not isinstance(questions, list) or not all(isinstance(q, str) for q in questions):
                raise ValueError(f"{path}: {lang}.{topic}: expected a list of questions")
            out[str(lang)][str(topic)] = list(questions)
    return out


def evaluate(matcher: Matcher, questions: Mapping[str, Mapping[str, list[str]]]) -> list[LangReport]:
    """Run every question through the matcher."""
    reports = []
    for lang in sorted(questions):
        report = LangReport(lang)
        for topic, items in questions[lang].items():
            for question in items:
                result = matcher.match(question)
                got = result.topic if result.decision == "answer" else result.decision
                if topic == "none":
                    report.none_total += 1
                    if result.decision == "answer":
                        report.false_answers += 1
                        report.misses.append((question, topic, got or "-", f"{result.score:.0f}"))
                    continue
                report.total += 1
                if result.decision == "answer" and result.topic == topic:
                    report.correct += 1
                    continue
                if result.decision == "clarify":
                    report.clarified += 1
                report.confusions[(topic, got or "-")] += 1
                report.misses.append((question, topic, got or "-", f"{result.score:.0f}"))
        reports.append(report)
    return reports


def format_reports(reports: list[LangReport], verbose: bool = True) -> str:
    """A table per language, then the confusions."""
    lines = [f"{'lang':<6}{'questions':>10}{'accuracy':>10}{'clarify':>9}{'none':>6}{'false':>7}"]
    for r in reports:
        lines.append(
            f"{r.lang:<6}{r.total:>10}{r.accuracy:>9.1f}%{r.clarify_rate:>8.1f}%{r.none_total:>6}{r.false_answers:>7}"
        )
    by_lang: dict[str, list[str]] = defaultdict(list)
    for r in reports:
        for (want, got), n in sorted(r.confusions.items()):
            by_lang[r.lang].append(f"  {want} -> {got}: {n}")
        if verbose:
            for question, want, got, score in r.misses:
                by_lang[r.lang].append(f"    {question!r}: expected {want}, got {got} ({score})")
    for lang, rows in by_lang.items():
        lines.append(f"confusions {lang}:")
        lines.extend(rows)
    return "\n".join(lines)
