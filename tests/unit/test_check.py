"""``kb check``: one small broken knowledge base per kind of error, and the shipped one."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from bot.knowledge.check import check_kb
from bot.knowledge.commands import check_command

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kb"
SHIPPED = Path(__file__).resolve().parents[2] / "knowledge"


def _kb(tmp_path: Path, overlay: str | None = None) -> Path:
    """A copy of the valid base KB with the files of ``overlay`` laid over it."""
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURES / "base", kb)
    if overlay:
        shutil.copytree(FIXTURES / overlay, kb, dirs_exist_ok=True)
    return kb


def _relative(problems: list[str], kb: Path) -> list[str]:
    return [p.replace(f"{kb}/", "") for p in problems]


def test_base_fixture_is_valid(tmp_path: Path) -> None:
    assert check_kb(_kb(tmp_path)) == []


def test_shipped_knowledge_base_is_valid() -> None:
    assert check_kb(SHIPPED) == []


EXPECTED = {
    "yaml_syntax": [
        "entries/signup.yaml:6: entry signup: yaml: syntax error: while scanning a quoted scalar: "
        "found unexpected end of stream",
    ],
    "unknown_field": [
        "entries/overview.yaml:4: entry overview: content.en.answer: missing field",
        "entries/overview.yaml:6: entry overview: content.en.anwser: unknown field "
        "(expected title, answer, links, fallback, source, questions, keywords, title_fixed, answer_fixed, "
        "labels_fixed)",
    ],
    "missing_field": [
        "entries/logistics-plan.yaml:1: entry logistics-plan: step: missing field",
        "entries/logistics-plan.yaml:6: entry logistics-plan: content.fr.title: missing field",
    ],
    "wrong_type": [
        "entries/recruit-schools.yaml:2: entry recruit-schools: step: must be a step number or null, not str",
        "entries/recruit-schools.yaml:7: entry recruit-schools: content.en.questions: must be a list, not str",
        "entries/recruit-schools.yaml:13: entry recruit-schools: content.fr.keywords[1]: "
        "must be a non-empty string, not int",
    ],
    "duplicate_id": [
        "entries/signup-copy.yaml:1: entry signup: id: does not match the file name signup-copy.yaml",
        "entries/signup.yaml:1: entry signup: id: duplicate id (also in entries/signup-copy.yaml:1)",
    ],
    "missing_answer": [
        "entries/social-media.yaml:3: entry social-media: content: missing French content (content.fr): "
        "a French answer is required",
        "entries/social-media.yaml:6: entry social-media: content.en.answer: empty English answer",
    ],
    "unknown_link_key": [
        "entries/district-homepage.yaml:8: entry district-homepage: content.en.links[0].key: "
        "link key 'urls/homepage' is not in links.yaml",
    ],
    "bad_url": [
        "entries/district-event.yaml:8: entry district-event: content.en.links[0].url: "
        "not an http(s) URL: 'ftp://hourofcode.com/how-to/events'",
        "entries/district-event.yaml:13: entry district-event: content.fr.links[0].url: "
        "not an http(s) URL: 'google.com'",
    ],
    "near_duplicate": [
        "entries/overview.yaml:17: entry overview: content.fr.questions[0]: near-duplicate of "
        '"Parle-moi de vue d\'ensemble !" in entry after-hour-of-code (entries/after-hour-of-code.yaml:13, '
        "similarity 100): they collide in matching",
    ],
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_kind_of_error_is_reported_with_file_line_entry_and_field(tmp_path: Path, kind: str) -> None:
    kb = _kb(tmp_path, kind)
    assert _relative(check_kb(kb), kb) == EXPECTED[kind]


def test_near_duplicates_only_count_across_entries_of_one_language(tmp_path: Path) -> None:
    kb = _kb(tmp_path)
    path = kb / "entries" / "signup.yaml"
    text = path.read_text(encoding="utf-8")
    # The same question in another language, and twice in one entry, is not a collision.
    text = text.replace(
        "      - tell me about sign up\n", "      - tell me about sign up\n      - tell me about sign up!\n"
    )
    text = text.replace('      - "parle-moi de inscription"\n', "      - tell me about overview\n")
    path.write_text(text, encoding="utf-8")
    assert check_kb(kb) == []


def test_links_yaml_problems_are_reported(tmp_path: Path) -> None:
    kb = _kb(tmp_path)
    links = kb / "links.yaml"
    text = links.read_text(encoding="utf-8")
    text = text.replace(
        'urls/learn_beyond: {url: "https://code.org/learn/beyond"}', "urls/learn_beyond: {url: code.org}"
    )
    text = text.replace("  fr: fr\ncountries:", "  fr: fr\n  nb: no\ncountries:")
    links.write_text(text, encoding="utf-8")
    problems = _relative(check_kb(kb), kb)
    assert "links.yaml:6: placeholders.urls/learn_beyond.url: not an http(s) URL: 'code.org'" in problems
    assert any(p.startswith("links.yaml:12: languages.nb: codes must be strings") for p in problems)


def test_missing_entry_file_is_reported(tmp_path: Path) -> None:
    kb = _kb(tmp_path)
    (kb / "entries" / "district-event.yaml").unlink()
    assert _relative(check_kb(kb), kb) == [
        "entries/district-event.yaml:1: entry district-event: id: missing entry: no file defines it"
    ]


def test_check_command_prints_problems_and_fails(tmp_path: Path) -> None:
    kb = _kb(tmp_path, "bad_url")
    out, err = io.StringIO(), io.StringIO()
    assert check_command(kb, stdout=out, stderr=err) == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("content.en.links[0].url: not an http(s) URL: 'ftp://hourofcode.com/how-to/events'")
    assert lines[-1] == f"{kb}: 2 problem(s)"


def test_check_command_passes_on_a_valid_kb(tmp_path: Path) -> None:
    out = io.StringIO()
    assert check_command(_kb(tmp_path), stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().endswith(": ok\n")


# --------------------------------------------------------------------------- text left untranslated

SOCIAL_MEDIA = """\
id: social-media
step: 3
content:
  de:
    title: In sozialen Netzwerken teilen
    answer: Teile auf Facebook oder Twitter, mit einem Link zur Hour of Code.
    links:
      - {label: Facebook, key: urls/home}
      - {label: Hour of Code, key: urls/learn_beyond}
    source: de.md:1
  en:
    title: Share on social media
    answer: Post to Facebook or Twitter. Or share these stats.
    links:
      - {label: Facebook, key: urls/home}
      - {label: Hour of Code, key: urls/learn_beyond}
    source: en.md:1
    questions:
      - tell me about social media
  fr:
    title: Share on Social Media!
    answer: Publiez sur Facebook ou Twitter. Or share these stats.
    links:
      - {label: Facebook, key: urls/home}
      - {label: hour of code, key: urls/learn_beyond}
    source: fr.md:1
    questions:
      - parle-moi de réseaux sociaux
"""


def test_text_left_in_english_in_another_language_is_reported(tmp_path: Path) -> None:
    kb = _kb(tmp_path)
    (kb / "entries" / "social-media.yaml").write_text(SOCIAL_MEDIA, encoding="utf-8")
    where = "entries/social-media.yaml"
    assert _relative(check_kb(kb), kb) == [
        f"{where}:21: entry social-media: content.fr.title: the text is the en text of content.en.title "
        '("share on social media"): left untranslated? translate it in title_fixed',
        f"{where}:22: entry social-media: content.fr.answer: a sentence of the answer is the en text of "
        'content.en.answer ("or share these stats"): left untranslated? translate it in answer_fixed',
        # Facebook is the same in every language; German says "die Hour of Code", French does not.
        f"{where}:25: entry social-media: content.fr.links[1].label: the text is the en text of "
        'content.en.links[1].label ("hour of code"): left untranslated? translate it in labels_fixed',
    ]


def test_curated_title_answer_and_labels_fix_text_left_in_english(tmp_path: Path) -> None:
    kb = _kb(tmp_path)
    curated = SOCIAL_MEDIA + (
        "    title_fixed: Partager sur les réseaux sociaux\n"
        "    answer_fixed: Publiez sur Facebook ou Twitter. Ou partagez ces statistiques.\n"
        "    labels_fixed:\n"
        "      urls/learn_beyond: l'Heure de Code\n"
    )
    (kb / "entries" / "social-media.yaml").write_text(curated, encoding="utf-8")
    assert check_kb(kb) == []


def test_labels_fixed_must_name_a_link_of_the_same_language(tmp_path: Path) -> None:
    kb = _kb(tmp_path)
    curated = SOCIAL_MEDIA + (
        "    title_fixed: ' '\n"
        "    answer_fixed: Publiez sur Facebook ou Twitter. Ou partagez ces statistiques.\n"
        "    labels_fixed:\n"
        "      urls/learn_beyond: l'Heure de Code\n"
        "      urls/how_to: guide\n"
        "      urls/home: 3\n"
    )
    (kb / "entries" / "social-media.yaml").write_text(curated, encoding="utf-8")
    where = "entries/social-media.yaml"
    assert _relative(check_kb(kb), kb) == [
        f"{where}:29: entry social-media: content.fr.title_fixed: empty",
        f"{where}:33: entry social-media: content.fr.labels_fixed.urls/how_to: "
        "no link of content.fr.links has this key or url",
        f"{where}:34: entry social-media: content.fr.labels_fixed.urls/home: must be a non-empty string, not int",
    ]
