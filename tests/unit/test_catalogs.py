"""Interface catalogs: complete, compilable, placeholders kept, plural rules right, template up to date."""

from __future__ import annotations

import gettext
import io
import string
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po

REPO = Path(__file__).resolve().parents[2]
LOCALES = REPO / "locales"
POT = LOCALES / "messages.pot"
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
HOW_TO_FIX = (
    "run, from the repository root:\n"
    "  pybabel extract -F locales/babel.cfg -k gettext -k ngettext:1,2 --no-location --sort-output "
    "-o locales/messages.pot .\n"
    "  pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching\n"
    "then translate the new entries of each locales/<lang>/LC_MESSAGES/messages.po"
)

Key = tuple[str | None, str | tuple[str, ...]]


def _lang(po: Path) -> str:
    return po.parent.parent.name


def _read(path: Path, locale: str | None = None) -> Catalog:
    # Without abort_invalid, babel only prints a warning and drops a malformed line.
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, abort_invalid=True)


def _key(message: Message) -> Key:
    msgid = message.id
    return (message.context, tuple(msgid) if isinstance(msgid, (list, tuple)) else msgid)


def _messages(catalog: Catalog) -> dict[Key, Message]:
    return {_key(m): m for m in catalog if m.id}


def _forms(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else list(value)


def _fields(text: str) -> set[str]:
    """Names of the ``{name}`` fields of a str.format template (``{{`` escapes are not fields)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _header(po: Path) -> dict[str, str]:
    """The raw header entry of a .po file; babel would fill a missing Plural-Forms from the locale."""
    lines = po.read_text(encoding="utf-8").splitlines()
    start = lines.index('msgid ""')
    raw = []
    for line in lines[start + 2 :]:
        if not line.startswith('"'):
            break
        raw.append(line[1:-1])
    text = "".join(raw).replace("\\n", "\n").replace('\\"', '"')
    fields = (entry.partition(":") for entry in text.splitlines() if ":" in entry)
    return {name.strip().lower(): value.strip() for name, _, value in fields}


@pytest.fixture(scope="module")
def template() -> dict[Key, Message]:
    return _messages(_read(POT))


def test_there_are_catalogs_to_check() -> None:
    assert POT.is_file()
    assert {"fr", "en"} <= {_lang(po) for po in CATALOGS}


@pytest.mark.parametrize("po", CATALOGS, ids=_lang)
def test_catalog_has_every_template_message(po: Path, template: dict[Key, Message]) -> None:
    messages = _messages(_read(po, _lang(po)))
    missing = [key for key in template if key not in messages]
    stale = [key for key in messages if key not in template]
    assert not missing, f"{po}: missing {missing}; {HOW_TO_FIX}"
    assert not stale, f"{po}: not in the template any more {stale}; {HOW_TO_FIX}"


@pytest.mark.parametrize("po", CATALOGS, ids=_lang)
def test_catalog_is_translated_and_not_fuzzy(po: Path) -> None:
    catalog = _read(po, _lang(po))
    assert not catalog.fuzzy, f"{po}: the header is marked fuzzy"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    empty = [m.id for m in catalog if m.id and not all(_forms(m.string))]
    assert not fuzzy, f"{po}: fuzzy entries (check them, then drop the flag): {fuzzy}"
    assert not empty, f"{po}: untranslated entries: {empty}"


def _single_number_forms(catalog: Catalog) -> set[int]:
    """Plural forms that stand for one number only (Arabic's one and two: « يوم واحد », « يومين »): these may
    leave the number out, as CLDR's own Arabic patterns do."""
    plural = gettext.c2py(catalog.plural_expr)
    numbers: dict[int, set[int]] = {}
    for n in range(1000):
        numbers.setdefault(plural(n), set()).add(n)
    return {index for index, ns in numbers.items() if len(ns) == 1}


@pytest.mark.parametrize("po", CATALOGS, ids=_lang)
def test_placeholders_are_kept(po: Path) -> None:
    catalog = _read(po, _lang(po))
    single = _single_number_forms(catalog)
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        allowed = [_fields(text) for text in _forms(message.id)]
        for index, form in enumerate(_forms(message.string)):
            try:
                fields = _fields(form)
            except ValueError as exc:
                wrong.append(f"{message.id!r}: {form!r} is not a valid template ({exc})")
                continue
            if not form or fields in allowed:
                continue
            if message.pluralizable and index in single and fields < allowed[0]:
                continue  # the number left out where the form says it ("two days")
            wrong.append(f"{message.id!r}: {form!r} has {sorted(fields)}, expected {sorted(allowed[0])}")
    assert not wrong, f"{po}:\n" + "\n".join(wrong)


def test_only_single_number_plural_forms_may_leave_the_number_out() -> None:
    arabic = _read(LOCALES / "ar" / "LC_MESSAGES" / "messages.po", "ar")
    french = _read(LOCALES / "fr" / "LC_MESSAGES" / "messages.po", "fr")
    assert _single_number_forms(arabic) == {0, 1, 2}  # zero, one, two
    assert _single_number_forms(french) == set()  # 0 and 1 share a form


@pytest.mark.parametrize("po", CATALOGS, ids=_lang)
def test_plural_forms_header_matches_the_locale(po: Path) -> None:
    lang = _lang(po)
    expected = get_plural(Locale.parse(lang))
    header = _header(po)
    assert "plural-forms" in header, f"{po}: no Plural-Forms header; babel expects {expected.plural_forms}"
    assert header["plural-forms"].replace(" ", "") == expected.plural_forms.replace(" ", ""), po
    assert header.get("language") == lang, f"{po}: Language header {header.get('language')!r}"
    catalog = _read(po, lang)
    for message in catalog:
        if message.pluralizable:
            assert len(_forms(message.string)) == expected.num_plurals, message.id


@pytest.mark.parametrize("po", CATALOGS, ids=_lang)
def test_catalog_compiles(po: Path) -> None:
    try:
        catalog = _read(po, _lang(po))
    except PoFileError as exc:
        pytest.fail(f"{po}: babel cannot read it: {exc}")
    problems = [(m.id, errors) for m, errors in catalog.check()]
    assert not problems, f"{po}: {problems}"
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    compiled = gettext.GNUTranslations(buf)
    translated = [m for m in catalog if m.id and isinstance(m.id, str)]
    assert translated
    assert all(
        (compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id)) == m.string for m in translated
    )


def test_template_is_up_to_date_with_the_code(template: dict[Key, Message]) -> None:
    with (LOCALES / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    # `pybabel extract -k ...` adds to babel's default keywords rather than replacing them.
    keywords = {**DEFAULT_KEYWORDS, "gettext": None, "ngettext": (1, 2)}
    extracted: set[Key] = set()
    for _filename, _lineno, msgid, _comments, context in extract_from_dir(
        str(REPO), method_map, options_map, keywords=keywords
    ):
        extracted.add((context, tuple(msgid) if isinstance(msgid, (list, tuple)) else msgid))
    missing = sorted(extracted - set(template), key=repr)
    unused = sorted(set(template) - extracted, key=repr)
    assert not missing, (
        "strings in the code but not in locales/messages.pot:\n"
        + "\n".join(repr(msgid) for _, msgid in missing)
        + f"\n{HOW_TO_FIX}"
    )
    assert not unused, (
        "strings in locales/messages.pot no longer in the code:\n"
        + "\n".join(repr(msgid) for _, msgid in unused)
        + f"\n{HOW_TO_FIX}"
    )


def test_english_catalog_repeats_the_source_text() -> None:
    # The code is written in English: an English msgstr that differs means the code should change.
    catalog = _read(LOCALES / "en" / "LC_MESSAGES" / "messages.po", "en")
    differing = [m.id for m in catalog if m.id and not m.context and _forms(m.string) != _forms(m.id)]
    assert not differing, f"edit the English text in the code instead: {differing}"
    # Command words are lists of aliases: the first is the command's own name.
    commands = [m for m in catalog if m.context == "command"]
    assert commands
    misnamed = [m.id for m in commands if str(m.string).split(",")[0].strip() != m.id]
    assert not misnamed, f"the English words of a command start with its name: {misnamed}"


@pytest.mark.parametrize("po", CATALOGS, ids=_lang)
def test_every_command_has_words_in_every_language(po: Path) -> None:
    catalog = _read(po, _lang(po))
    commands = {m.id: str(m.string) for m in catalog if m.context == "command"}
    assert {"help", "steps", "step", "plan", "done", "date", "remind", "reminders", "cancel", "forget me"} <= set(
        commands
    )
    assert all(value.strip(" ,") for value in commands.values())


def test_french_renderings_other_tests_rely_on() -> None:
    catalog = _read(LOCALES / "fr" / "LC_MESSAGES" / "messages.po", "fr")

    def fr(msgid: str) -> str:
        message = catalog.get(msgid)
        assert message is not None, msgid
        return str(message.string)

    assert fr("Step {number} of {total}: {title}") == "Étape {number} sur {total} : {title}"
    assert fr("Step {number}: {title}") == "Étape {number} : {title}"
    assert fr("Help") == "Aide"
    assert "étapes" in fr("steps: the five steps of the plan")
    greeting = (
        "Hello! I help you bring every school of your district into the Hour of Code. "
        "Ask me a question, or pick a topic."
    )
    assert "Heure de Code" in fr(greeting)
    assert fr("From now on I will answer you in English.") == "Désormais, je vous réponds en français."
