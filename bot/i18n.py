"""The member's language: gettext ``.po`` catalogs per Discord locale, English built in.

English is the source text. Each other language is one ``bot/locales/<locale>.po`` file named
by its Discord locale code (``de``, ``fr``, ``es-ES``, ``pt-BR``), read once at start-up by
:meth:`Catalogs.load` (polib parses it; there is no compiled ``.mo`` step to keep in sync).
Messages use ``str.format`` placeholders (``{username}``); a translation whose placeholders do
not fit falls back to English rather than failing. No discord imports: cogs pass the locale.
"""

from __future__ import annotations

import gettext
import logging
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polib

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
ENGLISH = "en-US"
# Discord writes numbers the way each language does: 12,345 / 12.345 / 12 345.
_THOUSANDS = {"de": ".", "fr": "\u202f", "es": ".", "pt": "."}

MessageKey = tuple[str | None, str]  # (msgctxt, msgid)


def N_(message: str) -> str:
    """Marks a module-level text for the catalogs; it is translated where it is shown."""
    return message


def _english_plural(n: int) -> int:
    return 0 if n == 1 else 1


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message (``{{`` and ``}}`` are literal braces)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed>"}


def _format(text: str, fallback: str, values: Mapping[str, object]) -> str:
    if not values:
        return text
    try:
        return text.format_map(values)
    except (KeyError, IndexError, ValueError):
        log.warning("a translation does not fit its placeholders; using English: %r", fallback)
        return fallback.format_map(values)


@dataclass(frozen=True, slots=True)
class Texts:
    """One locale's messages: ``texts("Linked as {name}", name=...)``."""

    locale: str = ENGLISH
    messages: Mapping[MessageKey, str] = field(default_factory=dict)
    plurals: Mapping[MessageKey, tuple[str, ...]] = field(default_factory=dict)
    plural_index: Callable[[int], int] = _english_plural

    def __call__(self, message: str, /, **values: object) -> str:
        return _format(self.messages.get((None, message)) or message, message, values)

    def pgettext(self, context: str, message: str, /, **values: object) -> str:
        return _format(self.messages.get((context, message)) or message, message, values)

    def plural(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The form for ``n`` (``{n}`` is available to the message as the number, formatted)."""
        english = singular if n == 1 else plural
        forms = self.plurals.get((None, singular))
        text = english
        if forms:
            index = self.plural_index(n)
            if 0 <= index < len(forms) and forms[index]:
                text = forms[index]
        return _format(text, english, {"n": self.number(n), **values})

    def number(self, value: int) -> str:
        grouped = f"{value:,}"
        separator = _THOUSANDS.get(self.locale.split("-")[0].lower(), ",")
        return grouped.replace(",", separator)

    def translation(self, message: str, context: str | None = None) -> str | None:
        """The translated text, or None when this locale has none (English, or missing)."""
        return self.messages.get((context, message)) or None


ENGLISH_TEXTS = Texts()


@dataclass(frozen=True, slots=True)
class Catalogs:
    """Every shipped locale's :class:`Texts`; unknown locales get English."""

    by_locale: Mapping[str, Texts] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Catalogs:
        """Read every ``<locale>.po`` in ``directory`` (blocking: run it in a thread)."""
        found: dict[str, Texts] = {}
        for path in sorted(directory.glob("*.po")):
            found[path.stem] = load_texts(path)
        return cls(found)

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(self.by_locale)

    def texts(self, locale: str | None) -> Texts:
        """The member's language: exact match, then the same language, then English."""
        if not locale:
            return ENGLISH_TEXTS
        exact = self.by_locale.get(locale)
        if exact is not None:
            return exact
        language = locale.split("-")[0].lower()
        for code, texts in self.by_locale.items():
            if code.split("-")[0].lower() == language:
                return texts
        return ENGLISH_TEXTS


def load_texts(path: Path) -> Texts:
    """One ``.po`` file; fuzzy and empty entries count as untranslated."""
    catalog = polib.pofile(str(path), wrapwidth=0)
    messages: dict[MessageKey, str] = {}
    plurals: dict[MessageKey, tuple[str, ...]] = {}
    for entry in catalog:
        if entry.obsolete or "fuzzy" in entry.flags:
            continue
        key = (entry.msgctxt or None, entry.msgid)
        if entry.msgid_plural:
            forms = tuple(entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural))
            if any(forms):
                plurals[key] = forms
        elif entry.msgstr:
            messages[key] = entry.msgstr
    return Texts(
        locale=path.stem,
        messages=messages,
        plurals=plurals,
        plural_index=_plural_rule(catalog.metadata.get("Plural-Forms", "")),
    )


def _plural_rule(header: str) -> Callable[[int], int]:
    """``nplurals=2; plural=(n > 1);`` -> a function of n (gettext's own parser)."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.strip() == "plural" and value.strip():
            try:
                return gettext.c2py(value.strip())
            except (ValueError, SyntaxError):
                break
    return _english_plural
