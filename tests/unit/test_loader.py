"""Loading the shipped knowledge base, the link table, and where the knowledge directory is found."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz

import bot.knowledge
from bot.core.errors import KnowledgeError
from bot.core.knowledge import ENTRY_IDS, STEP_IDS, Entry, KnowledgeBase
from bot.core.text import normalize
from bot.knowledge import default_kb_dir
from bot.knowledge.loader import load_kb, load_links

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "knowledge"
EVAL = ROOT / "tests" / "fixtures" / "eval" / "questions.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "kb"
GUIDE_LANGS = ("ar", "de", "en", "es", "fr", "it", "ko", "nl", "pt", "tr")


def _get(kb: KnowledgeBase, entry_id: str) -> Entry:
    entry = kb.get(entry_id)
    assert entry is not None
    return entry


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_kb(SHIPPED)


def test_shipped_kb_has_every_entry_in_guide_order(kb: KnowledgeBase) -> None:
    assert [e.id for e in kb.entries] == list(ENTRY_IDS)
    assert {e.step: e.id for e in kb.entries if e.step is not None} == dict(STEP_IDS)
    assert kb.languages == GUIDE_LANGS


@pytest.mark.parametrize("entry_id", ENTRY_IDS)
def test_every_entry_has_french_and_english_answers_and_curated_questions(kb: KnowledgeBase, entry_id: str) -> None:
    entry = _get(kb, entry_id)
    for lang in ("fr", "en"):
        content = entry.content[lang]
        assert content.title.strip()
        assert len(content.answer) > 20
        assert len(content.questions) >= 8, (entry_id, lang)
        assert content.keywords, (entry_id, lang)
    for lang in GUIDE_LANGS:
        assert len(entry.content[lang].questions) >= 2, (entry_id, lang)


def test_every_link_resolves_to_an_http_url_in_every_language(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        for lang, content in entry.content.items():
            for link in content.links:
                url = kb.links.url_of(link, lang)
                assert url is not None, (entry.id, lang, link)
                assert url.startswith(("https://", "http://")), url


def test_answer_fixed_replaces_the_guide_answer(kb: KnowledgeBase) -> None:
    data = yaml.safe_load((SHIPPED / "entries" / "signup.yaml").read_text(encoding="utf-8"))
    for lang in ("fr", "en"):
        fields = data["content"][lang]
        assert fields["answer_fixed"].strip() != fields["answer"].strip()
        assert _get(kb, "signup").content[lang].answer == fields["answer_fixed"].strip()
    signup_fr = _get(kb, "signup").content["fr"]
    assert "inscri" in signup_fr.answer
    assert [link.key for link in signup_fr.links] == ["signup_button"]
    assert kb.links.url_of(signup_fr.links[0], "fr") == "https://hourofcode.com/fr/#join"


def test_french_answers_are_french_where_the_guide_was_fixed(kb: KnowledgeBase) -> None:
    social = _get(kb, "social-media").content["fr"]
    assert "Post to" not in social.answer
    assert social.fallback == "en"  # the guide text it was fixed from had English in it


def test_curated_questions_are_not_copies_of_the_evaluation_set(kb: KnowledgeBase) -> None:
    labelled = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    for entry in kb.entries:
        for lang, content in entry.content.items():
            held_out = [normalize(q) for qs in labelled.get(lang, {}).values() for q in qs]
            for question in content.questions:
                mine = normalize(question)
                closest = max((fuzz.ratio(mine, other) for other in held_out), default=0.0)
                assert closest < 80, (entry.id, lang, question)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("fr", "https://hourofcode.com/fr/how-to"),
        ("en", "https://hourofcode.com/us/how-to"),
        ("fr-CA", "https://hourofcode.com/ca/fr/how-to"),
        ("en-CA", "https://hourofcode.com/ca/how-to"),
        ("pt-BR", "https://hourofcode.com/br/how-to"),
        ("pt", "https://hourofcode.com/br/how-to"),
        ("es", "https://hourofcode.com/es/how-to"),
        ("es-MX", "https://hourofcode.com/mx/how-to"),
        ("ko", "https://hourofcode.com/kr/how-to"),
        ("ar", "https://hourofcode.com/sa/how-to"),
        ("ja", "https://hourofcode.com/jp/how-to"),
    ],
)
def test_link_table_localises_site_links(locale: str, expected: str) -> None:
    links = load_links(SHIPPED / "links.yaml")
    assert links.resolve("urls/how_to_guide", locale) == expected


def test_link_table_has_every_guide_placeholder_and_pages() -> None:
    links = load_links(SHIPPED / "links.yaml")
    for key in (
        "signup_button",
        "promote/sample_emails",
        "urls/how_to_guide",
        "promote/stats_url",
        "hoc_logistics_plan",
        "promote/resources_social",
        "urls/home",
        "urls/how_to_events",
        "urls/learn_beyond",
        "urls/professional_development_workshops",
        "faq",
        "promote_resources",
    ):
        assert key in links
    assert links.resolve("hoc_logistics_plan", "fr") == "https://hourofcode.com/files/HOC_Logistics_plan.pdf"
    assert links.resolve("urls/home", "fr") == "https://hourofcode.com/fr"
    assert links.resolve("faq", "en") == "https://hourofcode.com/us/faq"
    assert links.resolve("nope", "en") is None


def test_load_links_rejects_an_invalid_table(tmp_path: Path) -> None:
    path = tmp_path / "links.yaml"
    path.write_text("site: hourofcode.com\nplaceholders: {a: {path: x}}\nextra: 1\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        load_links(path)
    assert raised.value.problems == [
        f"{path}:1: site: must be an http(s) URL",
        f"{path}:2: placeholders.a.path: must be a site path starting with /",
        f"{path}:3: extra: unknown field (expected site, placeholders, pages, languages, countries)",
    ]


def test_load_kb_raises_with_every_problem(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    shutil.copytree(FIXTURES / "base", kb_dir)
    shutil.copytree(FIXTURES / "bad_url", kb_dir, dirs_exist_ok=True)
    with pytest.raises(KnowledgeError) as raised:
        load_kb(kb_dir)
    assert len(raised.value.problems) == 2
    assert all("district-event.yaml" in p for p in raised.value.problems)


def test_load_kb_of_the_base_fixture(tmp_path: Path) -> None:
    kb = load_kb(FIXTURES / "base")
    assert [e.id for e in kb.entries] == list(ENTRY_IDS)
    homepage = _get(kb, "district-homepage").content["fr"]
    assert homepage.title == "Page d'accueil"
    assert kb.links.url_of(homepage.links[0], "fr") == "https://hourofcode.com/fr"


def test_default_kb_dir_prefers_the_environment(tmp_path: Path) -> None:
    assert default_kb_dir({"HOC_KNOWLEDGE_DIR": str(tmp_path)}) == tmp_path
    assert default_kb_dir({"HOC_KNOWLEDGE_DIR": "  "}) == SHIPPED


def test_default_kb_dir_is_the_checkout_then_the_packaged_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_kb_dir() == SHIPPED
    assert default_kb_dir({}) == SHIPPED
    # Installed from a wheel: no knowledge/ next to the package, data inside it.
    installed = tmp_path / "site-packages" / "bot" / "knowledge" / "__init__.py"
    installed.parent.mkdir(parents=True)
    monkeypatch.setattr(bot.knowledge, "__file__", str(installed))
    assert default_kb_dir() == tmp_path / "site-packages" / "bot" / "_data" / "knowledge"
