"""Links per language and country: share links, Portugal and Brazil, pages only in English or for the U.S."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.adapters.console import render
from bot.adapters.slack.render import link as slack_link
from bot.adapters.telegram.render import render as telegram_render
from bot.core.errors import KnowledgeError
from bot.core.knowledge import LinkRef, LinkTable
from bot.core.messages import Link, Reply
from bot.knowledge import default_kb_dir
from bot.knowledge.loader import load_links
from bot.store.memory import MemoryStore
from tests.auxil.harness import Harness

LANGS = ("ar", "de", "en", "es", "fr", "it", "ko", "nl", "pt", "tr")


@pytest.fixture(scope="module")
def links() -> LinkTable:
    return load_links(default_kb_dir() / "links.yaml")


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# --------------------------------------------------------------------------- share links


def test_french_share_links(links: LinkTable) -> None:
    assert links.resolve("share/facebook", "fr") == (
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fhourofcode.com%2Ffr"
    )
    twitter = links.resolve("share/twitter", "fr")
    assert twitter is not None
    assert twitter.startswith("https://twitter.com/intent/tweet?text=")
    assert _query(twitter) == {
        "text": ["Notre district participe à l'Heure de Code cette année, et vous ? #HourOfCode @codeorg"],
        "url": ["https://hourofcode.com/fr"],
    }


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_shares_its_own_page_with_a_text_of_its_own(links: LinkTable, lang: str) -> None:
    home = links.resolve("urls/home", lang)
    facebook = links.resolve("share/facebook", lang)
    twitter = links.resolve("share/twitter", lang)
    assert home is not None
    assert facebook is not None
    assert twitter is not None
    assert _query(facebook) == {"u": [home]}
    query = _query(twitter)
    assert query["url"] == [home]
    [text] = query["text"]
    assert text.endswith("#HourOfCode @codeorg")
    assert len(text) <= 280
    english = links.url_texts["share/twitter"]["en"]
    assert (text == english) == (lang == "en")
    for url in (facebook, twitter):
        assert "google" not in url
        assert "/us" not in url or lang == "en"


def test_share_links_follow_the_locale_and_the_district_country(links: LinkTable) -> None:
    assert _query(links.resolve("share/facebook", "fr-CA") or "") == {"u": ["https://hourofcode.com/ca/fr"]}
    assert _query(links.resolve("share/twitter", "fr", "be") or "")["url"] == ["https://hourofcode.com/be/fr"]
    # A language without a text of its own tweets the English text.
    ja = _query(links.resolve("share/twitter", "ja") or "")
    assert ja == {"text": [links.url_texts["share/twitter"]["en"]], "url": ["https://hourofcode.com/jp"]}


# --------------------------------------------------------------------------- Portugal is not Brazil


@pytest.mark.parametrize(
    ("locale", "country"),
    [("pt", "br"), ("pt-BR", "br"), ("pt_BR", "br"), ("pt-PT", "pt"), ("pt_PT", "pt"), ("pt-pt", "pt")],
)
def test_portuguese_of_portugal_gets_the_portuguese_site(links: LinkTable, locale: str, country: str) -> None:
    assert links.country_for(locale) == country
    assert links.resolve("urls/how_to_events", locale) == f"https://hourofcode.com/{country}/how-to/events"


@pytest.mark.parametrize(("locale", "site"), [("pt-PT", "/pt"), ("pt-BR", "/br"), ("pt", "/br")])
def test_a_portuguese_coordinator_gets_the_site_of_their_country(locale: str, site: str) -> None:
    h = Harness(store=MemoryStore())
    h.meet(lang=locale)
    [reply] = h.send("step 4", lang=locale)
    assert (reply.kind, reply.lang, reply.topic) == ("answer", "pt", "district-homepage")
    assert [link.url for link in reply.links] == [f"https://hourofcode.com{site}"]
    [social] = h.send("step 3", lang=locale)
    assert social.links[0].url.endswith("u=https%3A%2F%2Fhourofcode.com" + site.replace("/", "%2F"))


def test_choosing_portuguese_of_portugal_with_lang() -> None:
    h = Harness(store=MemoryStore())
    h.meet(lang="ar")
    [changed] = h.send("lang pt-PT", lang="ar")
    assert changed.lang == "pt"
    [reply] = h.send("step 5", lang="ar")
    assert [link.url for link in reply.links] == ["https://hourofcode.com/pt/how-to/events"]


# --------------------------------------------------------------------------- pages only in English or for the U.S.


def test_pages_only_in_english_or_for_the_united_states_are_flagged(links: LinkTable) -> None:
    assert links.only == {
        "hoc_logistics_plan": "english",
        "urls/learn_beyond": "english",
        "urls/administrators": "english",
        "urls/professional_development_workshops": "us",
    }
    pdf = LinkRef("plan", key="hoc_logistics_plan")
    workshops = LinkRef("workshops", key="urls/professional_development_workshops")
    assert links.restriction(pdf, "fr") == "english"
    assert links.restriction(pdf, "en") is None
    assert links.restriction(pdf, "en-GB") is None
    assert links.restriction(workshops, "en") is None
    assert links.restriction(workshops, "en-GB") == "us"
    assert links.restriction(workshops, "en", "ca") == "us"
    assert links.restriction(workshops, "ar") == "us"
    assert links.restriction(LinkRef("home", key="urls/home"), "fr") is None
    assert links.restriction(LinkRef("x", url="https://code.org/learn/beyond"), "fr") is None


def test_the_guide_link_to_code_org_administrators_is_a_flagged_placeholder(links: LinkTable) -> None:
    assert links.key_for_url("https://code.org/administrators") == "urls/administrators"
    assert links.key_for_url("https://code.org/") is None
    assert links.resolve("urls/administrators", "fr") == "https://code.org/administrators"


def test_a_french_answer_says_which_link_is_in_english() -> None:
    h = Harness(store=MemoryStore())
    h.meet(lang="fr")
    [reply] = h.send("étape 2", lang="fr")
    assert reply.topic == "logistics-plan"
    [pdf] = reply.links
    assert pdf == Link(
        "exemplaire de plan logistique", "https://hourofcode.com/files/HOC_Logistics_plan.pdf", "(en anglais)"
    )
    [after] = h.press("topic:after-hour-of-code", lang="fr")
    assert [link.note for link in after.links] == ["(en anglais)", "(en anglais)"]
    [social] = h.send("étape 3", lang="fr")
    assert [link.note for link in social.links] == ["", "", "", ""]


def test_an_english_answer_has_no_note_and_the_us_only_workshops_say_so_in_arabic() -> None:
    h = Harness(store=MemoryStore())
    h.meet(lang="en")
    [plan] = h.send("step 2", lang="en")
    assert [link.note for link in plan.links] == [""]
    h.meet(user="u2", lang="ar")
    [after] = h.press("topic:after-hour-of-code", user="u2", lang="ar")
    assert after.lang == "ar"
    notes = {link.url: link.note for link in after.links}
    assert notes == {
        "https://code.org/learn/beyond": "(بالإنجليزية فقط)",
        "https://code.org/professional-development-workshops": "(للولايات المتحدة فقط)",
    }


@pytest.mark.parametrize("lang", [lang for lang in LANGS if lang != "en"])
def test_the_note_is_in_the_language_of_the_answer(lang: str) -> None:
    h = Harness(store=MemoryStore())
    h.meet(lang=lang)
    [plan] = h.send("step 2", lang=lang)
    assert plan.lang == lang
    [pdf] = plan.links
    assert pdf.note.startswith("(")
    assert pdf.note.endswith(")")
    assert pdf.note != "(English only)"


def test_platforms_show_the_note_after_the_link() -> None:
    note = Link("plan <logistique>", "https://hourofcode.com/files/HOC_Logistics_plan.pdf", "(en anglais)")
    bare = Link("FAQ", "https://hourofcode.com/fr/faq")
    reply = Reply("Texte", links=(note, bare), lang="fr")
    console = render(reply)
    assert "  → plan <logistique> (en anglais): https://hourofcode.com/files/HOC_Logistics_plan.pdf" in console
    assert "  → FAQ: https://hourofcode.com/fr/faq" in console
    assert slack_link(note) == (
        "<https://hourofcode.com/files/HOC_Logistics_plan.pdf|plan &lt;logistique&gt;> (en anglais)"
    )
    assert slack_link(bare) == "<https://hourofcode.com/fr/faq|FAQ>"
    [html] = telegram_render(reply).chunks
    assert (
        '• <a href="https://hourofcode.com/files/HOC_Logistics_plan.pdf">plan &lt;logistique&gt;</a> (en anglais)'
        in html
    )
    [plain] = telegram_render(reply, markup=False).chunks
    assert "• plan <logistique> (en anglais): https://hourofcode.com/files/HOC_Logistics_plan.pdf" in plain


# --------------------------------------------------------------------------- links.yaml


@pytest.mark.parametrize(
    ("placeholder", "message"),
    [
        ('{url: "https://example.org/a", only: french}', "a.only: must be one of english, us, not 'french'"),
        ('{url: "https://example.org/?u={page}"}', "a: a url with {page} needs page"),
        ('{url: "https://example.org/", page: urls/home}', "a: a url with {page} needs page"),
        ('{url: "https://example.org/?u={page}", page: nowhere}', "a.page: not a site page of links.yaml"),
        ('{url: "https://example.org/?t={text}", texts: {fr: Bonjour}}', "a.texts: must be a mapping of language"),
        ('{url: "https://example.org/?t={text}", texts: {en: ""}}', "a.texts.en: must be a non-empty string"),
        ('{url: "https://example.org/", replaces: [example.org]}', "a.replaces[0]: not an http(s) URL"),
        ('{url: "https://example.org/", label: x}', "a.label: unknown field (expected path, url, page, texts"),
        ('{path: "/x", url: "https://example.org/"}', "a: must be {path: ...} or {url: ...}"),
    ],
)
def test_links_yaml_rejects_bad_placeholder_fields(tmp_path: Path, placeholder: str, message: str) -> None:
    path = tmp_path / "links.yaml"
    path.write_text(
        f'site: https://hourofcode.com\nplaceholders:\n  urls/home: {{path: "/{{country}}"}}\n  a: {placeholder}\n',
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as raised:
        load_links(path)
    assert any(f"{path}:4: placeholders.{message}" in p for p in raised.value.problems), raised.value.problems


def test_kb_build_json_gives_the_share_links_of_each_language(tmp_path: Path) -> None:
    from bot.knowledge.commands import build_command

    sources = default_kb_dir() / "sources"
    stdout = io.StringIO()
    code = build_command(
        [str(sources / "fr.md")],
        lang=None,
        dry_run=True,
        as_json=True,
        out_dir=default_kb_dir(),
        reference=sources / "en.md",
        stdout=stdout,
        stderr=io.StringIO(),
    )
    assert code == 0
    assert "google.com" not in stdout.getvalue()
    assert "https://twitter.com/intent/tweet?text=Notre%20district" in stdout.getvalue()
