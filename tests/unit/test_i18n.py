"""bot.i18n: language negotiation, plural forms, babel formatting and catalog compilation."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import Catalogs, default_locales_dir

LOCALES = Path(__file__).resolve().parents[2] / "locales"
EVENT_DAY = ("Your event: {date} (in {count} day)", "Your event: {date} (in {count} days)")


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs(LOCALES, default="fr", extra_languages=("sv", "ja"))


def _write_catalog(locales: Path, lang: str, messages: dict[str | tuple[str, str], str | tuple[str, str]]) -> Path:
    """A .po file under ``locales`` (babel fills the header, Plural-Forms included, from ``lang``)."""
    catalog = Catalog(locale=lang, project="test", fuzzy=False)
    for msgid, msgstr in messages.items():
        if isinstance(msgstr, tuple):
            # The locale may have more forms than the two given (French's "many" since CLDR 47): the
            # extra ones read like the last.
            msgstr = msgstr + (msgstr[-1],) * (catalog.num_plurals - len(msgstr))
        catalog.add(msgid, msgstr)
    po = locales / lang / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as fh:
        write_po(fh, catalog)
    return po


def _write_mo(po: Path, lang: str, messages: dict[str | tuple[str, str], str | tuple[str, str]]) -> Path:
    catalog = Catalog(locale=lang, fuzzy=False)
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    mo = po.with_suffix(".mo")
    with mo.open("wb") as fh:
        write_mo(fh, catalog)
    return mo


# ----------------------------------------------------------------- negotiation
@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("fr-CA", "fr"),
        ("fr_BE", "fr"),
        ("FR", "fr"),
        ("en_US", "en"),
        ("en-GB", "en"),
        (" en ", "en"),
        ("pt-BR", "pt"),
        ("ko_KR", "ko"),
        ("sv-SE", "sv"),
    ],
)
def test_negotiate_matches_a_served_language(catalogs: Catalogs, candidate: str, expected: str) -> None:
    assert catalogs.negotiate(candidate) == expected


def test_a_kb_language_without_catalog_is_served_only_when_listed() -> None:
    assert Catalogs(LOCALES, default="en").negotiate("sv-SE") == "en"
    assert Catalogs(LOCALES, default="en", extra_languages=["sv"]).negotiate("sv-SE") == "sv"


@pytest.mark.parametrize("default", ["fr", "en"])
@pytest.mark.parametrize(
    "candidate",
    [
        None,
        "",
        "   ",
        "sv-SE",
        "xx",
        "zz-ZZ",
        "%%%",
        "-",
        "\x00",
        "é",
        pytest.param("a" * 1000, id="very-long"),
        pytest.param("fr-" * 40, id="long-tag"),
        "12345",
    ],
)
def test_negotiate_falls_back_to_the_default(default: str, candidate: str | None) -> None:
    assert Catalogs(LOCALES, default=default).negotiate(candidate) == default


def test_negotiate_takes_the_first_candidate_it_can_serve(catalogs: Catalogs) -> None:
    assert catalogs.negotiate(None, "klingon", "en-AU", "fr") == "en"
    assert catalogs.negotiate() == "fr"


def test_an_unserved_default_becomes_english() -> None:
    assert Catalogs(LOCALES, default="sv").default == "en"


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=60)))
def test_negotiate_always_returns_a_served_language(candidate: str | None) -> None:
    served = Catalogs(LOCALES, default="fr", extra_languages=("sv",))
    assert served.negotiate(candidate) in served.languages


# ----------------------------------------------------------------- plurals
@pytest.mark.parametrize(("count", "expected"), [(0, "0 jour"), (1, "1 jour"), (2, "2 jours")])
def test_french_plural_rule_counts_zero_as_singular(tmp_path: Path, count: int, expected: str) -> None:
    _write_catalog(tmp_path, "fr", {("{count} day", "{count} days"): ("{count} jour", "{count} jours")})
    t = Catalogs(tmp_path).get("fr")
    assert t.ngettext("{count} day", "{count} days", count).format(count=count) == expected


def test_shipped_catalogs_pick_plural_forms_by_language(catalogs: Catalogs) -> None:
    fr = [catalogs.get("fr").ngettext(*EVENT_DAY, n) for n in (0, 1, 2)]
    en = [catalogs.get("en").ngettext(*EVENT_DAY, n) for n in (0, 1, 2)]
    assert fr[0] == fr[1] != fr[2]
    assert en[0] == en[2] != en[1]
    assert fr[2] not in EVENT_DAY


# ----------------------------------------------------------------- formatting
def test_format_date_in_french_and_english(catalogs: Catalogs) -> None:
    day = dt.date(2026, 12, 7)
    assert catalogs.get("fr").format_date(day) == "lundi 7 décembre 2026"
    assert catalogs.get("en").format_date(day) == "Monday, December 7, 2026"


def test_format_datetime_uses_the_value_s_own_zone(catalogs: Catalogs) -> None:
    paris = ZoneInfo("Europe/Paris")
    nine = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC).astimezone(paris)
    assert catalogs.get("fr").format_datetime(nine) == "lundi 7 décembre 2026 à 09:00"
    assert catalogs.get("en").format_datetime(nine) == "Monday, December 7, 2026 at 09:00"
    late = dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC).astimezone(paris)
    assert catalogs.get("fr").format_datetime(late) == "mardi 8 décembre 2026 à 00:30"


def test_format_list(catalogs: Catalogs) -> None:
    assert catalogs.get("fr").format_list(["fr", "en", "pt"]) == "fr, en et pt"
    assert catalogs.get("en").format_list(["fr", "en", "pt"]) == "fr, en, and pt"
    assert catalogs.get("fr").format_list(["fr"]) == "fr"


def test_language_without_catalog_speaks_english_with_its_own_formats(catalogs: Catalogs) -> None:
    t = catalogs.get("sv")
    assert t.gettext("Help") == "Help"
    assert "december" in t.format_date(dt.date(2026, 12, 7))
    assert catalogs.get("sv") is t


def test_unknown_language_falls_back_to_english_formats(catalogs: Catalogs) -> None:
    t = catalogs.get("zz")
    assert t.gettext("Help") == "Help"
    assert t.format_date(dt.date(2026, 12, 7)) == "Monday, December 7, 2026"


# ----------------------------------------------------------------- compilation
def test_po_is_compiled_in_memory_when_no_mo_exists(tmp_path: Path) -> None:
    po = _write_catalog(tmp_path, "fr", {"Help": "Aide"})
    catalogs = Catalogs(tmp_path)
    assert catalogs.available == ["fr"]
    assert catalogs.get("fr").gettext("Help") == "Aide"
    assert not po.with_suffix(".mo").exists()


def test_stale_mo_is_ignored_and_fresh_mo_is_used(tmp_path: Path) -> None:
    po = _write_catalog(tmp_path, "fr", {"Help": "Aide (po)"})
    mo = _write_mo(po, "fr", {"Help": "Aide (mo)"})
    edited = po.stat().st_mtime
    os.utime(mo, (edited - 60, edited - 60))
    assert Catalogs(tmp_path).get("fr").gettext("Help") == "Aide (po)"
    os.utime(mo, (edited + 60, edited + 60))
    assert Catalogs(tmp_path).get("fr").gettext("Help") == "Aide (mo)"


def test_fuzzy_entries_are_not_used(tmp_path: Path) -> None:
    po = _write_catalog(tmp_path, "fr", {"Help": "Aide"})
    text = po.read_text(encoding="utf-8").replace('msgid "Help"', '#, fuzzy\nmsgid "Help"')
    po.write_text(text, encoding="utf-8")
    assert Catalogs(tmp_path).get("fr").gettext("Help") == "Help"


def test_shipped_catalogs_speak_their_own_language(catalogs: Catalogs) -> None:
    switch = "From now on I will answer you in English."
    assert catalogs.get("fr").gettext(switch) == "Désormais, je vous réponds en français."
    assert catalogs.get("en").gettext(switch) == switch
    assert set(catalogs.available) >= {"fr", "en"}


# ----------------------------------------------------------------- location
def test_default_locales_dir(tmp_path: Path) -> None:
    assert default_locales_dir({"HOC_LOCALES_DIR": str(tmp_path)}) == tmp_path
    assert (default_locales_dir({}) / "messages.pot").is_file()


def test_arabic_counts_use_the_dual_and_the_right_case(catalogs: Catalogs) -> None:
    t = catalogs.get("ar")
    days = {n: t.ngettext(*EVENT_DAY, n).format(date="", count=n) for n in (1, 2, 3, 11, 100)}
    assert days[1].endswith("(بعد يوم واحد)")
    assert days[2].endswith("(بعد يومين)")
    assert days[3].endswith("(بعد 3 أيام)")
    assert days[11].endswith("(بعد 11 يومًا)")
    assert days[100].endswith("(بعد 100 يوم)")
