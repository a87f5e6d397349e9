"""The catalogs against the code: every message translated, no placeholder English lacks."""

import re
from pathlib import Path

import polib
import pytest

from bot.i18n import LOCALES_DIR, Catalogs, placeholders
from tests.catalogs import Message, all_messages, problems, template

SHIPPED = {"de", "fr", "es-ES", "pt-BR"}
# Discord's rule for command and option names (lowercase where the script has case).
NAME = re.compile(r"^[-_'\w]{1,32}$")


@pytest.fixture(scope="module")
def messages():
    return all_messages()


def test_the_shipped_languages_are_there():
    assert set(Catalogs.load().locales) == SHIPPED


def test_every_catalog_translates_every_message_with_the_same_placeholders(messages):
    assert problems(messages) == []


def test_the_template_is_up_to_date(messages):
    """bot/locales/messages.pot is what `python -m tests.catalogs --update` writes."""
    stored = polib.pofile(str(LOCALES_DIR / "messages.pot"), wrapwidth=0)
    assert [(e.msgctxt, e.msgid) for e in stored] == [
        (e.msgctxt, e.msgid) for e in template(messages)
    ]


def write_po(tmp_path: Path, entries: list[polib.POEntry]) -> Path:
    po = polib.POFile(wrapwidth=0)
    po.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    for entry in entries:
        po.append(entry)
    po.save(str(tmp_path / "xx.po"))
    po.save_as_mofile(str(tmp_path / "xx.mo"))
    return tmp_path


def translated(locale: str) -> dict[tuple[str | None, str], str]:
    """(context, English) -> translation, as the shipped .po has them."""
    catalog = polib.pofile(str(LOCALES_DIR / f"{locale}.po"), wrapwidth=0)
    return {(e.msgctxt or None, e.msgid): e.msgstr for e in catalog if e.msgstr}


def test_a_missing_message_is_reported(tmp_path):
    wanted = [Message("Hello"), Message("Bye")]
    folder = write_po(tmp_path, [polib.POEntry(msgid="Hello", msgstr="Hallo")])
    assert problems(wanted, folder) == ["xx.po: 'Bye' is missing"]


def test_an_untranslated_or_fuzzy_message_is_reported(tmp_path):
    wanted = [Message("Hello"), Message("Bye")]
    fuzzy = polib.POEntry(msgid="Bye", msgstr="Tschüss", flags=["fuzzy"])
    folder = write_po(tmp_path, [polib.POEntry(msgid="Hello", msgstr=""), fuzzy])
    assert problems(wanted, folder) == [
        "xx.po: 'Hello' is not translated",
        "xx.po: 'Bye' is fuzzy",
    ]


def test_a_placeholder_the_english_text_lacks_is_reported(tmp_path):
    wanted = [Message("Linked as {username}")]
    entry = polib.POEntry(msgid="Linked as {username}", msgstr="Verknüpft als {user}")
    folder = write_po(tmp_path, [entry])
    found = problems(wanted, folder)
    assert len(found) == 1
    assert "placeholders the English text does not: {'user'}" in found[0]


def test_plural_forms_may_use_the_number(tmp_path):
    wanted = [Message("{n} image", plural="{n} images")]
    entry = polib.POEntry(
        msgid="{n} image", msgid_plural="{n} images", msgstr_plural={0: "{n} Bild", 1: "{n} Bilder"}
    )
    assert problems(wanted, write_po(tmp_path, [entry])) == []


@pytest.mark.parametrize("locale", sorted(SHIPPED))
def test_localized_command_names_are_valid_discord_names(locale):
    names = {
        msgid: name
        for (context, msgid), name in translated(locale).items()
        if context in {"command name", "option name"}
    }
    assert {"link", "favorites", "page"} <= names.keys()
    for msgid, name in names.items():
        assert NAME.fullmatch(name), (msgid, name)
        assert name == name.lower(), (msgid, name)


@pytest.mark.parametrize("locale", sorted(SHIPPED))
def test_texts_name_the_commands_by_their_localized_names(locale):
    """German members see `/imgur verknüpfen`, so German texts must say that, not `link`."""
    messages = translated(locale)
    commands = {name for (context, _), name in messages.items() if context == "command name"}
    for (context, _msgid), text in messages.items():
        if context is not None:
            continue
        for used in re.findall(r"/imgur ([^\s`.,;:!?)]+)", text):
            assert used in commands, (locale, used, text)


def test_the_number_of_a_plural_is_written_the_local_way():
    catalogs = Catalogs.load()
    assert catalogs.texts("de").plural("{n} image", "{n} images", 12345) == "12.345 Bilder"
    assert catalogs.texts("en-US").plural("{n} image", "{n} images", 1) == "1 image"
    assert catalogs.texts("fr").plural("{n} image", "{n} images", 1) == "1 image"
    assert catalogs.texts("pt-BR").plural("{n} image", "{n} images", 0) == "0 imagem"


def test_unknown_locales_fall_back_to_the_same_language_then_english():
    catalogs = Catalogs.load()
    assert catalogs.texts("es-419").locale == "es-ES"
    assert catalogs.texts("ja").locale == "en-US"
    assert catalogs.texts(None)("Next") == "Next"


def test_a_stale_compiled_catalog_is_reported(tmp_path):
    wanted = [Message("Hello")]
    folder = write_po(tmp_path, [polib.POEntry(msgid="Hello", msgstr="Hallo")])
    (folder / "xx.mo").write_bytes(b"")
    assert problems(wanted, folder) == ["xx.mo is not what xx.po compiles to (run --update)"]


def test_the_bot_reads_the_compiled_catalogs():
    texts = Catalogs.load().texts("de")
    assert texts("Next") == "Weiter"
    assert texts.pgettext("command name", "favorites") == "favoriten"
    assert texts.translation("favorites", "command name") == "favoriten"
    assert texts.translation("imgur", "command name") == "imgur"
    assert Catalogs.load().texts("en-US").translation("Next") is None


def test_a_broken_translation_falls_back_to_english(tmp_path):
    entry = polib.POEntry(msgid="Hi {name}", msgstr="Hallo {nom}")
    texts = Catalogs.load(write_po(tmp_path, [entry])).texts("xx")
    assert texts("Hi {name}", name="Ada") == "Hi Ada"
    assert placeholders("{a} {{b}}") == {"a"}


# Discord's limits for the texts of components (modal titles and text-input labels: 45).
COMPONENT_LIMITS = {
    "Finish linking Imgur": 45,
    "PIN (or the address your browser ended on)": 45,
    "The PIN from Imgur's page": 100,
    "Verify with your Imgur profile": 45,
    "Your Imgur username": 45,
    "as in imgur.com/user/<username>": 100,
    "Go to a page": 45,
    "Imgur page (1–{last})": 45,
    "Share one of these in the channel…": 150,
    "Previous": 80,
    "Next": 80,
    "Go to page…": 80,
    "Authorize on Imgur": 80,
    "Enter PIN": 80,
    "Verify with my Imgur profile": 80,
    "Check": 80,
    "Unlink": 80,
    "Cancel": 80,
}


@pytest.mark.parametrize("locale", sorted(SHIPPED))
def test_translated_modal_and_button_texts_fit_discords_limits(locale):
    texts = Catalogs.load().texts(locale)
    for message, limit in COMPONENT_LIMITS.items():
        assert texts.translation(message) is not None, message  # still a text of the bot
        shown = texts(message, last=1000)
        assert len(shown) <= limit, (locale, message, shown)
