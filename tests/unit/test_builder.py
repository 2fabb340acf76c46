"""Guide markdown -> entries: every shipped guide, damaged input, other languages, and ``kb build``."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.knowledge import ENTRY_IDS, STEP_IDS, LinkTable
from bot.knowledge.builder import BuildResult, BuiltEntry, build_guide
from bot.knowledge.commands import build_command
from bot.knowledge.guide_parse import Guide, GuideError, lang_from_filename, load_reference, normalize_lang, parse_guide
from bot.knowledge.loader import load_kb, load_links

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "knowledge" / "sources"
SHIPPED = ROOT / "knowledge"
GUIDES = ROOT / "tests" / "fixtures" / "kb" / "guides"
LANGS = ("en", "fr", "es", "de", "it", "pt", "nl", "tr", "ko", "ar")
MARKUP = ("{{", "}}", "](", "<a", "</", "<br", "%=", "\\[", "google.com", "hocph", "hocerb")


@pytest.fixture(scope="module")
def links() -> LinkTable:
    return load_links(SHIPPED / "links.yaml")


@pytest.fixture(scope="module")
def reference() -> Guide:
    return load_reference(SOURCES / "en.md")


@pytest.fixture(scope="module")
def built(links: LinkTable, reference: Guide) -> dict[str, BuildResult]:
    out = {}
    for lang in LANGS:
        path = SOURCES / f"{lang}.md"
        out[lang] = build_guide(
            path.read_text(encoding="utf-8"),
            name=path.name,
            lang=lang,
            links=links,
            reference=None if lang == "en" else reference,
        )
    return out


def _entry(result: BuildResult, entry_id: str) -> BuiltEntry:
    return next(e for e in result.entries if e.id == entry_id)


def _keys(result: BuildResult, entry_id: str) -> list[str | None]:
    return [link.key or link.url for link in _entry(result, entry_id).content.links]


def _warnings(result: BuildResult, line: int | None = None) -> list[str]:
    if line is None:
        return list(result.warnings)
    return [w for w in result.warnings if w.split(":")[1] == str(line)]


# --------------------------------------------------------------------------- every shipped guide


@pytest.mark.parametrize("lang", LANGS)
def test_every_guide_gives_the_eight_entries(built: dict[str, BuildResult], lang: str) -> None:
    result = built[lang]
    assert [e.id for e in result.entries] == list(ENTRY_IDS)
    assert {e.step: e.id for e in result.entries if e.step is not None} == dict(STEP_IDS)
    for entry in result.entries:
        content = entry.content
        assert entry.lang == lang
        assert content.title
        assert content.answer
        assert re.fullmatch(rf"{lang}\.md:\d+", content.source)
        for text in (content.title, content.answer, *(link.label for link in content.links)):
            assert not any(bit in text for bit in MARKUP), (entry.id, text)
        for link in content.links:
            assert link.label
            assert (link.key is None) != (link.url is None)


@pytest.mark.parametrize("lang", LANGS)
def test_no_broken_link_reaches_an_entry(built: dict[str, BuildResult], links: LinkTable, lang: str) -> None:
    for entry in built[lang].entries:
        for link in entry.content.links:
            url = links.url_of(link, lang)
            assert url is not None, (entry.id, link)
            assert re.match(r"^https://[a-z0-9.-]+\.[a-z]+(/|$)", url), (entry.id, link)


def test_english_source_has_no_warnings_and_no_fallback(built: dict[str, BuildResult]) -> None:
    result = built["en"]
    assert result.warnings == ()
    assert all(e.content.fallback is None for e in result.entries)
    recruit = _entry(result, "recruit-schools").content
    assert recruit.title == "Recruit local schools"
    assert recruit.answer == (
        "Share this email and teacher how to guide, or include a short blurb in newsletters/district communications."
    )
    assert recruit.source == "en.md:16"
    assert [(lk.label, lk.key) for lk in recruit.links] == [
        ("this email", "promote/sample_emails"),
        ("teacher how to guide", "urls/how_to_guide"),
        ("short blurb", "promote/stats_url"),
    ]
    after = _entry(result, "after-hour-of-code").content
    assert after.title == "What comes after the Hour of Code?"
    assert after.answer.splitlines()[1:] == [
        "• Encourage students to continue to learn online.",
        "• Learn more about implementing a computer science pathway in your district.",
    ]
    overview = _entry(result, "overview").content
    assert overview.title == "Hour of Code How-To for Districts"
    assert overview.answer.startswith("How to involve your entire school district\nEvery school")
    signup = _entry(result, "signup").content
    assert [link.key for link in signup.links] == ["signup_button"]


def test_french_twitter_link_and_english_sentence(built: dict[str, BuildResult], links: LinkTable) -> None:
    result = built["fr"]
    assert len(result.warnings) == 2
    not_a_link, english = sorted(_warnings(result, 25), key=lambda w: "English" in w)
    assert "[Twitter](google.com)" in not_a_link
    assert 'target "google.com" is not a URL' in not_a_link
    assert 'sentence left in English: "Post to Facebook or Twitter."' in english
    social = _entry(result, "social-media").content
    assert social.fallback == "en"
    assert social.title == "Partager sur les réseaux sociaux"
    # The whole English sentence, then the French one: never half a sentence.
    assert social.answer == (
        "Post to Facebook or Twitter. Ou partagez l'une des images et citations inspirantes "
        "des leaders du monde entier, ou des stats."
    )
    twitter = next(link for link in social.links if link.label == "Twitter")
    # The English guide's working link, which links.yaml replaces by a share link in the reader's language.
    assert (twitter.key, twitter.url) == ("share/twitter", None)
    url = links.url_of(twitter, "fr")
    assert url is not None
    assert url.startswith("https://twitter.com/intent/tweet?text=Notre%20district%20participe")
    assert [link.label for link in social.links] == [
        "Facebook",
        "Twitter",
        "des leaders du monde entier",
        "stats",
    ]
    assert [e.id for e in result.entries if e.content.fallback] == ["social-media"]


def test_arabic_corrupted_placeholders_and_raw_html(built: dict[str, BuildResult]) -> None:
    result = built["ar"]
    text = "\n".join(result.warnings)
    for bad in (
        "{{ promotion/sample_emails }}",
        "{{ hoc Logistics plan }}",
        "{{ promotion/resources_social }}",
    ):
        assert f"unknown placeholder {bad}" in text
    assert any(w.startswith("ar.md:19: raw HTML link <a href") for w in result.warnings)
    assert 'ar.md:27: stray HTML "</ a >" removed' in result.warnings
    assert 'ar.md:27: raw HTML "</p>" removed' in result.warnings
    assert all(re.match(r"ar\.md:(19|23|27): ", w) for w in result.warnings)
    # Each broken link replaced by the English reference's link at the same place, label kept.
    recruit = _entry(result, "recruit-schools").content
    assert [(lk.label, lk.key) for lk in recruit.links] == [
        ("هذا البريد الإلكتروني", "promote/sample_emails"),
        ("الدليل الإرشادي للمعلمين", "urls/how_to_guide"),
        ("منشور إعلاني قصير", "promote/stats_url"),
    ]
    assert _keys(result, "logistics-plan") == ["hoc_logistics_plan"]
    social = _entry(result, "social-media").content
    assert [lk.key for lk in social.links][2:] == ["promote/resources_social", "promote/stats_url"]
    assert social.links[3].label == "الإحصائيات"
    assert social.answer.endswith("أو الإحصائيات.")
    assert all(e.content.fallback is None for e in result.entries)


def test_german_erb_leftovers_map_to_placeholders_by_path(built: dict[str, BuildResult]) -> None:
    result = built["de"]
    erb = [w for w in result.warnings if "ERB leftover" in w]
    assert len(erb) == 2
    assert all(w.startswith("de.md:27: ") for w in erb)
    assert "resolve_url('/promote/stats')" in erb[1]
    social = _entry(result, "social-media").content
    assert [(lk.label, lk.key) for lk in social.links][2:] == [
        ("Inspirationsbildern und Zitaten", "promote/resources_social"),
        ("Statistiken", "promote/stats_url"),
    ]
    assert social.fallback is None
    # A German title over an English paragraph keeps the German title.
    recruit = _entry(result, "recruit-schools").content
    assert recruit.title == "Werben Sie Schulen vor Ort an"
    assert recruit.answer.startswith("Share this email and teacher how to guide")
    assert recruit.fallback == "en"


@pytest.mark.parametrize(
    ("lang", "english_entries"),
    [
        (
            "it",
            {
                "overview",
                "recruit-schools",
                "logistics-plan",
                "social-media",
                "district-homepage",
                "district-event",
                "after-hour-of-code",
            },
        ),
        (
            "es",
            {
                "recruit-schools",
                "logistics-plan",
                "social-media",
                "district-homepage",
                "district-event",
                "after-hour-of-code",
            },
        ),
        (
            "pt",
            {
                "overview",
                "recruit-schools",
                "logistics-plan",
                "social-media",
                "district-homepage",
                "district-event",
                "after-hour-of-code",
            },
        ),
        (
            "nl",
            {
                "overview",
                "recruit-schools",
                "logistics-plan",
                "social-media",
                "district-homepage",
                "district-event",
                "after-hour-of-code",
            },
        ),
        ("de", {"recruit-schools", "district-homepage", "after-hour-of-code"}),
        ("tr", {"after-hour-of-code"}),
        ("ko", {"after-hour-of-code"}),
    ],
)
def test_untranslated_paragraphs_are_flagged_and_marked(
    built: dict[str, BuildResult], lang: str, english_entries: set[str]
) -> None:
    result = built[lang]
    assert {e.id for e in result.entries if e.content.fallback == "en"} == english_entries
    assert any("left in English" in w for w in result.warnings)
    assert _entry(result, "signup").content.fallback is None


def test_partly_translated_paragraph_keeps_its_translated_sentence(built: dict[str, BuildResult]) -> None:
    logistics = _entry(built["pt"], "logistics-plan").content
    assert logistics.answer.startswith(
        "Share this sample logistics plan with schools to give them ideas of how to organize whole "
        "school participation. É possível fazer essa atividade"
    )
    assert logistics.title == "Provide a sample logistics plan for schools"
    assert "pt.md:23: sentence left in English" in "\n".join(built["pt"].warnings)


def test_translated_title_kept_over_english_paragraph(built: dict[str, BuildResult]) -> None:
    recruit = _entry(built["nl"], "recruit-schools").content
    assert recruit.title == "Lokale scholen werven"
    assert recruit.fallback == "en"
    assert recruit.answer == _entry(built["en"], "recruit-schools").content.answer


@pytest.mark.parametrize("lang", ["es", "it", "nl", "de"])
def test_outdated_english_bullet_is_replaced_by_the_reference(built: dict[str, BuildResult], lang: str) -> None:
    after = _entry(built[lang], "after-hour-of-code").content
    assert "Attend" not in after.answer
    assert after.answer.endswith("• Learn more about implementing a computer science pathway in your district.")
    # The reference's link to https://code.org/administrators, a placeholder of links.yaml.
    assert "urls/administrators" in _keys(built[lang], "after-hour-of-code")
    assert any(f"{lang}.md:42: paragraph in English but not the reference's" in w for w in built[lang].warnings)


def test_translated_old_bullet_is_kept(built: dict[str, BuildResult]) -> None:
    after = _entry(built["ar"], "after-hour-of-code").content
    assert after.answer.splitlines()[-1].startswith("• احضر ورشة عمل")
    assert _keys(built["ar"], "after-hour-of-code")[-1] == "urls/professional_development_workshops"


# --------------------------------------------------------------------------- other languages, variants


def _build(
    path: Path, links: LinkTable, reference: Guide, lang: str | None = None, text: str | None = None
) -> BuildResult:
    code = lang or lang_from_filename(path)
    assert code is not None
    return build_guide(
        text if text is not None else path.read_text(encoding="utf-8"),
        name=path.name,
        lang=code,
        links=links,
        reference=reference,
    )


def test_japanese_guide_with_full_width_numbers(links: LinkTable, reference: Guide) -> None:
    result = _build(GUIDES / "ja.md", links, reference)
    assert [e.id for e in result.entries] == list(ENTRY_IDS)
    assert _entry(result, "recruit-schools").content.title == "地域の学校を募る"
    assert _entry(result, "district-event").content.title == "学区のアワー・オブ・コードイベントを開催する"
    assert _keys(result, "recruit-schools") == [
        "promote/sample_emails",
        "urls/how_to_guide",
        "promote/stats_url",
    ]
    # Sentences of a script written without spaces are joined without spaces.
    assert "投稿しましょう。世界の" in _entry(result, "social-media").content.answer
    assert [e.id for e in result.entries if e.content.fallback] == ["logistics-plan"]
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith("ja.md:19: paragraph left in English")


def test_russian_guide_without_front_matter_and_parenthesis_numbers(links: LinkTable, reference: Guide) -> None:
    result = _build(GUIDES / "ru.md", links, reference)
    assert [e.id for e in result.entries] == list(ENTRY_IDS)
    overview = _entry(result, "overview").content
    assert overview.title == "Как вовлечь весь школьный округ"
    assert _entry(result, "logistics-plan").content.title == "Предложите школам пример плана"
    social = _entry(result, "social-media").content
    assert [(lk.label, lk.key) for lk in social.links][2:] == [
        ("вдохновляющими фотографиями и цитатами", "promote/resources_social"),
        ("статистикой", "promote/stats_url"),
    ]
    text = "\n".join(result.warnings)
    assert "ru.md:19: broken link" in text
    assert "ERB leftover" in text
    assert "unknown placeholder {{ promote/statistics }}" in text
    assert "ru.md:23: paragraph left in English" in text
    assert [e.id for e in result.entries if e.content.fallback] == ["district-homepage"]


def _same_entries(a: BuildResult, b: BuildResult, *, skip_overview_title: bool = False) -> None:
    for x, y in zip(a.entries, b.entries, strict=True):
        assert x.id == y.id
        if not (skip_overview_title and x.id == "overview"):
            assert x.content.title == y.content.title
        assert x.content.answer == y.content.answer
        assert x.content.links == y.content.links
        assert x.content.fallback == y.content.fallback


FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.mark.parametrize(
    ("lang", "change"),
    [
        ("fr", lambda t: re.sub(r"^### (\d)\. ", r"### \1) ", t, flags=re.M)),
        ("fr", lambda t: re.sub(r"^### (\d)\. ", r"### \1- ", t, flags=re.M)),
        (
            "fr",
            lambda t: re.sub(r"^### (\d\.) ", lambda m: "### " + m.group(1).translate(FULL_WIDTH), t, flags=re.M),
        ),
        (
            "ar",
            lambda t: re.sub(r"^### (\d)", lambda m: "### " + m.group(1).translate(ARABIC_INDIC), t, flags=re.M),
        ),
        ("ko", lambda t: re.sub(r"^(#+) ", r"\1 ", t.replace("{{ ", "{{").replace(" }}", "}}"), flags=re.M)),
        ("de", lambda t: t.replace("\n", "\r\n")),
    ],
)
def test_numbering_and_spacing_variants_give_the_same_entries(
    built: dict[str, BuildResult],
    links: LinkTable,
    reference: Guide,
    lang: str,
    change: Callable[[str], str],
) -> None:
    path = SOURCES / f"{lang}.md"
    variant = change(path.read_text(encoding="utf-8"))
    assert variant != path.read_text(encoding="utf-8")
    _same_entries(built[lang], _build(path, links, reference, text=variant))


def test_guide_without_front_matter_takes_its_title_from_the_h1(
    built: dict[str, BuildResult], links: LinkTable, reference: Guide
) -> None:
    text = (SOURCES / "fr.md").read_text(encoding="utf-8")
    variant = text.split("---\n", 2)[2]
    result = _build(SOURCES / "fr.md", links, reference, text=variant)
    _same_entries(built["fr"], result, skip_overview_title=True)
    assert _entry(result, "overview").content.title == "Comment faire participer l'ensemble de votre district scolaire"


def test_unnumbered_step_headings_are_taken_in_order(
    built: dict[str, BuildResult], links: LinkTable, reference: Guide
) -> None:
    text = (SOURCES / "tr.md").read_text(encoding="utf-8")
    variant = re.sub(r"^### \d\. ", "### ", text, flags=re.M)
    result = _build(SOURCES / "tr.md", links, reference, text=variant)
    _same_entries(built["tr"], result)
    assert sum("step heading without a number" in w for w in result.warnings) == 5


def test_text_without_guide_structure_is_an_error() -> None:
    with pytest.raises(GuideError):
        parse_guide("just a line of text\n\nand another one\n", name="notes.md")


def test_missing_parts_are_reported_not_invented(links: LinkTable, reference: Guide) -> None:
    text = "# Titre\n\n## Appel\n\n### 1. Une étape\n\nFaites ceci.\n"
    result = build_guide(text, name="xx.md", lang="fr", links=links, reference=reference)
    assert [e.id for e in result.entries] == ["overview", "signup", "recruit-schools"]
    assert "xx.md:1: missing step(s) 2, 3, 4, 5" in result.warnings
    assert 'xx.md:1: no H2 "after the Hour of Code" section' in result.warnings
    assert any("sign-up link taken from the English reference" in w for w in result.warnings)


def test_language_codes_from_file_names() -> None:
    assert lang_from_filename("knowledge/sources/fr.md") == "fr"
    assert lang_from_filename("pt-BR.md") == "pt-BR"
    assert lang_from_filename("pt_br.md") == "pt-BR"
    assert lang_from_filename("zh-Hant-TW.md") == "zh-Hant-TW"
    assert lang_from_filename("districts.md.partial") is None
    assert normalize_lang("FR-ca") == "fr-CA"
    with pytest.raises(ValueError, match="not a language code"):
        normalize_lang("français")


# --------------------------------------------------------------------------- kb build


def _out_dir(tmp_path: Path, *, with_entries: bool = False) -> Path:
    out = tmp_path / "knowledge"
    out.mkdir()
    shutil.copy(SHIPPED / "links.yaml", out / "links.yaml")
    if with_entries:
        shutil.copytree(SHIPPED / "entries", out / "entries")
    return out


def _run(
    files: list[Path],
    out: Path,
    *,
    lang: str | None = None,
    dry_run: bool = False,
    as_json: bool = False,
    reference: Path | None = SOURCES / "en.md",
) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = build_command(
        [str(f) for f in files],
        lang=lang,
        dry_run=dry_run,
        as_json=as_json,
        out_dir=out,
        reference=reference,
        stdout=stdout,
        stderr=stderr,
    )
    return code, stdout.getvalue(), stderr.getvalue()


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


ALL_SOURCES = [SOURCES / f"{lang}.md" for lang in LANGS]


def test_build_is_deterministic(tmp_path: Path) -> None:
    out = _out_dir(tmp_path)
    code, stdout, stderr = _run(ALL_SOURCES, out)
    assert code == 0
    first = _snapshot(out)
    assert sorted(first) == sorted(["links.yaml", *(f"entries/{i}.yaml" for i in ENTRY_IDS)])
    assert "ar.md:19:" in stderr
    assert "sources/en.md:" not in stderr
    assert "8 file(s) written" in stdout
    code, stdout, _ = _run(list(reversed(ALL_SOURCES)), out)
    assert code == 0
    assert _snapshot(out) == first
    assert "0 file(s) written" in stdout


def test_shipped_entries_are_up_to_date_with_the_sources(tmp_path: Path) -> None:
    out = _out_dir(tmp_path, with_entries=True)
    code, stdout, _ = _run(ALL_SOURCES, out, dry_run=True)
    assert code == 0
    assert stdout == "no changes\n"


def test_rebuild_keeps_curated_fields_and_other_languages(tmp_path: Path) -> None:
    out = _out_dir(tmp_path, with_entries=True)
    path = out / "entries" / "recruit-schools.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["content"]["fr"]["answer"] = "tampered"
    data["content"]["fr"]["answer_fixed"] = "Une réponse corrigée à la main."
    data["content"]["fr"]["links"] = []
    data["content"]["ja"] = {"title": "学校", "answer": "答え", "questions": ["学校はどう集める?"]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, _, _ = _run([SOURCES / "fr.md"], out)
    assert code == 0
    rebuilt = yaml.safe_load(path.read_text(encoding="utf-8"))
    fr = rebuilt["content"]["fr"]
    assert fr["answer"].startswith("Partagez ce courriel")
    assert len(fr["links"]) == 3
    assert fr["answer_fixed"] == "Une réponse corrigée à la main."
    assert fr["questions"] == data["content"]["fr"]["questions"]
    assert fr["keywords"] == data["content"]["fr"]["keywords"]
    assert rebuilt["content"]["ja"] == data["content"]["ja"]
    assert rebuilt["content"]["en"] == data["content"]["en"]
    assert list(rebuilt["content"]) == sorted(rebuilt["content"])
    assert list(fr) == ["title", "answer", "links", "source", "questions", "keywords", "answer_fixed"]
    kb = load_kb(out)
    entry = kb.get("recruit-schools")
    assert entry is not None
    assert entry.content["fr"].answer == "Une réponse corrigée à la main."


def test_rebuild_keeps_curated_titles_and_link_labels(tmp_path: Path) -> None:
    out = _out_dir(tmp_path, with_entries=True)
    path = out / "entries" / "social-media.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    it = data["content"]["it"]
    it["title"] = "tampered"
    it["links"] = []
    it["title_fixed"] = "Condividi sui social network"
    it["labels_fixed"] = {"promote/stats_url": "dati", "share/twitter": "X (Twitter)"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    code, _, _ = _run([SOURCES / "it.md"], out)
    assert code == 0
    rebuilt = yaml.safe_load(path.read_text(encoding="utf-8"))["content"]["it"]
    assert rebuilt["title"] == "Share on social media"  # the guide's, left in English
    assert rebuilt["title_fixed"] == "Condividi sui social network"
    assert rebuilt["labels_fixed"] == {"promote/stats_url": "dati", "share/twitter": "X (Twitter)"}
    assert [link.get("key") for link in rebuilt["links"]] == [
        "share/facebook",
        "share/twitter",
        "promote/resources_social",
        "promote/stats_url",
    ]
    assert list(rebuilt)[-3:] == ["title_fixed", "answer_fixed", "labels_fixed"]
    content = load_kb(out).get("social-media")
    assert content is not None
    shown = content.content["it"]
    assert shown.title == "Condividi sui social network"
    assert [link.label for link in shown.links] == ["Facebook", "X (Twitter)", "pictures and quotes", "dati"]


@pytest.mark.parametrize("lang", LANGS)
def test_share_links_of_the_guide_become_share_placeholders(
    built: dict[str, BuildResult], links: LinkTable, lang: str
) -> None:
    keys = _keys(built[lang], "social-media")
    assert keys[:2] == ["share/facebook", "share/twitter"]
    for key in keys[:2]:
        url = links.resolve(str(key), lang)
        assert url is not None
        assert "google" not in url
        assert len(url) < 600


def test_rebuild_drops_a_fallback_that_no_longer_applies(tmp_path: Path) -> None:
    out = _out_dir(tmp_path, with_entries=True)
    fixed = tmp_path / "fr.md"
    text = (SOURCES / "fr.md").read_text(encoding="utf-8")
    fixed.write_text(
        text.replace("Post to [Facebook]", "Publiez sur [Facebook]").replace(
            r"or \[Twitter\](google.com)", "ou [Twitter](https://twitter.com/codeorg)"
        ),
        encoding="utf-8",
    )
    code, _, stderr = _run([fixed], out)
    assert code == 0
    assert stderr == ""
    social = yaml.safe_load((out / "entries" / "social-media.yaml").read_text(encoding="utf-8"))["content"]["fr"]
    assert "fallback" not in social
    assert social["answer"].startswith("Publiez sur Facebook ou Twitter.")
    assert social["source"] == "fr.md:25"


def test_dry_run_writes_nothing_and_prints_a_diff(tmp_path: Path) -> None:
    out = _out_dir(tmp_path, with_entries=True)
    path = out / "entries" / "overview.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("title: Hour of Code How-To for Districts", "title: Old"))
    before = _snapshot(out)
    code, stdout, _ = _run([SOURCES / "en.md"], out, dry_run=True)
    assert code == 0
    assert _snapshot(out) == before
    assert stdout.startswith(f"--- a/{path}\n+++ b/{path}\n")
    assert "-    title: Old\n+    title: Hour of Code How-To for Districts\n" in stdout


def test_dry_run_json_lists_entries_with_resolved_links(tmp_path: Path) -> None:
    out = _out_dir(tmp_path)
    code, stdout, stderr = _run([SOURCES / "fr.md", SOURCES / "pt.md"], out, dry_run=True, as_json=True)
    assert code == 0
    assert not (out / "entries").exists()
    entries = json.loads(stdout)
    assert len(entries) == 16
    assert all(set(e) == {"id", "step", "lang", "title", "answer", "links"} for e in entries)
    assert all(set(link) == {"label", "url"} for e in entries for link in e["links"])
    fr = {e["id"]: e for e in entries if e["lang"] == "fr"}
    assert fr["recruit-schools"]["step"] == 1
    assert fr["overview"]["step"] is None
    assert fr["recruit-schools"]["links"][0] == {
        "label": "ce courriel",
        "url": "https://hourofcode.com/fr/promote/resources#sample-emails",
    }
    assert fr["signup"]["links"][0]["url"] == "https://hourofcode.com/fr/#join"
    pt = {e["id"]: e for e in entries if e["lang"] == "pt"}
    assert pt["district-homepage"]["links"][0]["url"] == "https://hourofcode.com/br"
    assert "fr.md:25:" in stderr


def test_explicit_language_for_a_file_named_otherwise(tmp_path: Path) -> None:
    out = _out_dir(tmp_path)
    guide = tmp_path / "districts.md.partial"
    shutil.copy(GUIDES / "ja.md", guide)
    code, stdout, stderr = _run([guide], out, dry_run=True, as_json=True, lang="ja")
    assert code == 0
    entries = json.loads(stdout)
    assert {e["lang"] for e in entries} == {"ja"}
    assert entries[2]["links"][0]["url"] == "https://hourofcode.com/jp/promote/resources#sample-emails"
    code, _, stderr = _run([guide], out, dry_run=True)
    assert code == 1
    assert "cannot tell the language from the file name" in stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot be read"),
        (b"\xff\xfe\x00not utf-8", "cannot be read"),
        (b"no headings at all\n", "no guide structure found"),
    ],
)
def test_unusable_file_fails_and_nothing_is_written(tmp_path: Path, content: bytes | None, message: str) -> None:
    out = _out_dir(tmp_path)
    bad = tmp_path / "es.md"
    if content is not None:
        bad.write_bytes(content)
    code, _, stderr = _run([SOURCES / "fr.md", bad], out)
    assert code == 1
    assert message in stderr
    assert "nothing written" in stderr
    assert not (out / "entries").exists()


def test_lang_option_needs_a_single_file(tmp_path: Path) -> None:
    code, _, stderr = _run([SOURCES / "fr.md", SOURCES / "en.md"], _out_dir(tmp_path), lang="fr")
    assert code == 1
    assert "--lang" in stderr


def test_without_reference_damage_is_still_kept_out(tmp_path: Path, links: LinkTable) -> None:
    result = build_guide((SOURCES / "ar.md").read_text(encoding="utf-8"), name="ar.md", lang="ar", links=links)
    recruit = _entry(result, "recruit-schools").content
    assert [lk.key for lk in recruit.links] == ["urls/how_to_guide"]
    assert any("no replacement, text kept" in w for w in result.warnings)
    assert "هذا البريد الإلكتروني" in recruit.answer


SOURCE_LINES = sorted({line for lang in LANGS for line in (SOURCES / f"{lang}.md").read_text("utf-8").splitlines()})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(SOURCE_LINES), max_size=40))
def test_any_mix_of_guide_lines_builds_or_is_rejected_cleanly(
    links: LinkTable, reference: Guide, lines: list[str]
) -> None:
    try:
        result = build_guide("\n".join(lines), name="mix.md", lang="xx", links=links, reference=reference)
    except GuideError:
        return
    for entry in result.entries:
        for text in (entry.content.title, entry.content.answer):
            assert "hocph" not in text
            assert "hocerb" not in text
        for link in entry.content.links:
            assert link.key in links or (link.url or "").startswith("http")
    assert all(re.match(r"mix\.md:\d+: ", w) for w in result.warnings)
