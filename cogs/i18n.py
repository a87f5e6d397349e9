"""The member's language in discord.py: command localizations and reply texts, one catalog."""

from __future__ import annotations

import discord
from discord import app_commands

from bot.i18n import ENGLISH_TEXTS, Catalogs, Texts

Location = app_commands.TranslationContextLocation
# gettext contexts keep a command's name apart from the same English word elsewhere.
_CONTEXTS: dict[Location, str | None] = {
    Location.command_name: "command name",
    Location.group_name: "command name",
    Location.parameter_name: "option name",
    Location.choice_name: "choice",
    Location.command_description: None,
    Location.group_description: None,
    Location.parameter_description: None,
    Location.other: None,
}


def catalog_context(location: Location) -> str | None:
    return _CONTEXTS.get(location)


class CatalogTranslator(app_commands.Translator):
    """Command and option names, descriptions and choices from the bot's ``.po`` catalogs."""

    def __init__(self, catalogs: Catalogs) -> None:
        self.catalogs = catalogs

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        texts = self.catalogs.by_locale.get(locale.value)
        if texts is None:
            return None  # English, or a language the bot does not ship: Discord shows English
        return texts.translation(string.message, catalog_context(context.location))


def texts_for(interaction: discord.Interaction) -> Texts:
    """The texts in the member's client language (``interaction.locale``), else English."""
    catalogs = getattr(interaction.client, "catalogs", None)
    if not isinstance(catalogs, Catalogs):
        return ENGLISH_TEXTS
    return catalogs.texts(interaction.locale.value)
