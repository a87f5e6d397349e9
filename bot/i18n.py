"""The member's language: gettext catalogs per Discord locale, English built in.

English is the source text. Each other language is translated in ``bot/locales/<locale>.po``,
named by its Discord locale code (``de``, ``fr``, ``es-ES``, ``pt-BR``), and compiled beside it
into ``<locale>.mo`` by ``make catalogs`` (the catalog test fails when a ``.mo`` is not what
its ``.po`` compiles to, so the two cannot drift). The bot reads the ``.mo`` files once at
start-up with the standard library's :mod:`gettext`. Messages use ``str.format`` placeholders
(``{username}``); a translation whose placeholders do not fit falls back to English rather
than failing. No discord imports: the cogs pass the locale.
"""

from __future__ import annotations

import gettext
import logging
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
ENGLISH = "en-US"
# Discord writes numbers the way each language does: 12,345 / 12.345 / 12 345.
_THOUSANDS = {"de": ".", "fr": "\u202f", "es": ".", "pt": "."}
_CONTEXT_GLUE = "\x04"  # how gettext stores "context<EOT>message" keys


def N_(message: str) -> str:
    """Marks a module-level text for the catalogs; it is translated where it is shown."""
    return message


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
    catalog: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)

    def __call__(self, message: str, /, **values: object) -> str:
        return _format(self.catalog.gettext(message), message, values)

    def pgettext(self, context: str, message: str, /, **values: object) -> str:
        return _format(self.catalog.pgettext(context, message), message, values)

    def plural(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        """The form for ``n`` (``{n}`` is available to the message as the number, formatted)."""
        english = singular if n == 1 else plural
        text = self.catalog.ngettext(singular, plural, n)
        return _format(text, english, {"n": self.number(n), **values})

    def number(self, value: int) -> str:
        grouped = f"{value:,}"
        separator = _THOUSANDS.get(self.locale.split("-")[0].lower(), ",")
        return grouped.replace(",", separator)

    def translation(self, message: str, context: str | None = None) -> str | None:
        """The translated text, or None when this locale has none (English, or missing)."""
        key = f"{context}{_CONTEXT_GLUE}{message}" if context else message
        found = self.entries().get(key)
        return found or None

    def entries(self) -> Mapping[str, str]:
        """Every translated message, keyed as gettext keys them (``context\\x04msgid``)."""
        entries: Mapping[str, str] = getattr(self.catalog, "_catalog", {})
        return entries


ENGLISH_TEXTS = Texts()


@dataclass(frozen=True, slots=True)
class Catalogs:
    """Every shipped locale's :class:`Texts`; unknown locales get English."""

    by_locale: Mapping[str, Texts] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR) -> Catalogs:
        """Read every ``<locale>.mo`` in ``directory`` (blocking: run it in a thread)."""
        found: dict[str, Texts] = {}
        for path in sorted(directory.glob("*.mo")):
            with path.open("rb") as compiled:
                found[path.stem] = Texts(path.stem, gettext.GNUTranslations(compiled))
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
