"""The ``/imgur`` slash commands."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import discord_text
from bot.config import BIO, OAUTH
from bot.i18n import N_, Texts
from bot.imgur import ResponseType, Sort
from bot.linking import Link, LinkKind, LinkStatus
from bot.render import IMGUR_GREEN
from cogs.bio_views import (
    BIO_OFF,
    BioCheckButton,
    VerifyProfileButton,
    bio_code_embed,
    bio_intro_embed,
    check_view,
)
from cogs.i18n import CatalogTranslator, texts_for
from cogs.paging import (
    MAX_PAGE,
    PagerButton,
    PagerState,
    ShareSelect,
    favorites_message,
    link_kind_code,
)
from cogs.places import Place
from cogs.refresh import RefreshLoop
from cogs.replies import DEFERRED_PUBLICLY, NOT_LINKED, report_error
from cogs.views import ConfirmUnlink, EnterPinButton, link_view, linked_text

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger(__name__)

OAUTH_OFF = N_(
    "Linking through Imgur's authorize page is turned off on this bot. Run `/imgur link` and "
    "press **Verify with my Imgur profile**."
)


def ts(texts: Texts, value: datetime | None, style: discord.utils.TimestampStyle = "f") -> str:
    """A Discord timestamp (shown in each member's own time zone and language)."""
    if value is None:
        return texts("never")
    return discord.utils.format_dt(value, style)


def _name(username: str, limit: int = 100) -> str:
    """An Imgur username as Discord shows it: escaped, invisible characters dropped, cut."""
    return discord_text.inline(username, limit, fallback="?")


def _favorites_cooldown(interaction: discord.Interaction) -> app_commands.Cooldown | None:
    # One member must not spend the whole server's Imgur quota (about 12,500 calls a day).
    bot: ImgurBot = interaction.client  # type: ignore[assignment]
    rate = bot.config.limits.favorites_per_minute
    return app_commands.Cooldown(rate, 60.0) if rate > 0 else None


@app_commands.allowed_installs(guilds=True, users=True)
@app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
class ImgurCog(commands.GroupCog, group_name="imgur", group_description="Your Imgur account"):
    """Link an Imgur account and browse its favorites."""

    def __init__(self, bot: ImgurBot) -> None:
        self.bot = bot
        super().__init__()

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)

    @app_commands.command(name="link", description="Link your Imgur account (sent to you by DM)")
    @app_commands.describe(
        username="Your Imgur username, to verify with a code in your Imgur profile right away"
    )
    async def link(
        self,
        interaction: discord.Interaction,
        username: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        texts = texts_for(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        methods = self.bot.config.imgur.methods_in_force
        member = interaction.user.id
        if username is not None:
            if BIO not in methods:
                await interaction.followup.send(texts(BIO_OFF), ephemeral=True)
                return
            challenge = await self.bot.bio.start(member, username)
            await self._send_privately(
                interaction,
                [bio_code_embed(texts, challenge)],
                check_view(texts, challenge),
                texts("Check your DMs: I sent you a code to put in your Imgur profile."),
            )
            return
        embeds: list[discord.Embed] = []
        view = discord.ui.View(timeout=None)
        if OAUTH in methods:
            start = await self.bot.links.start(member)
            pin_mode = start.response_type is ResponseType.PIN
            embeds.append(
                discord.Embed(
                    title=texts("Link your Imgur account"),
                    colour=IMGUR_GREEN,
                    description=_link_instructions(
                        texts,
                        pin_mode,
                        expires=ts(texts, start.expires_at, "R"),
                        bio=BIO in methods,
                    ),
                )
            )
            for item in link_view(texts, start.url, with_pin_button=pin_mode).children:
                view.add_item(item)
        if BIO in methods:
            embeds.append(bio_intro_embed(texts))
            view.add_item(VerifyProfileButton(texts))
        current = await self.bot.links.current(member)
        if current is not None:
            embeds[0].add_field(
                name=texts("Already linked"),
                value=texts(
                    "You are linked as **{username}**. The new link replaces it once it succeeds.",
                    username=_name(current.imgur_username),
                ),
            )
        await self._send_privately(
            interaction,
            embeds,
            view,
            texts("Check your DMs: I sent you the ways to link your Imgur account."),
        )

    async def _send_privately(
        self,
        interaction: discord.Interaction,
        embeds: list[discord.Embed],
        view: discord.ui.View,
        dm_note: str,
    ) -> None:
        """DM the member; when DMs are closed, the same goes into the ephemeral answer only."""
        try:
            await interaction.user.send(embeds=embeds, view=view)
        except discord.HTTPException as exc:
            # 50007: DMs closed. It is private: it goes into the ephemeral answer only.
            log.info(
                "could not DM member %s (code %s); answering ephemerally",
                interaction.user.id,
                getattr(exc, "code", None),
            )
            texts = texts_for(interaction)
            await interaction.followup.send(
                texts("I could not DM you, so here it is, for your eyes only:"),
                embeds=embeds,
                view=view,
                ephemeral=True,
            )
            return
        await interaction.followup.send(dm_note, ephemeral=True)

    @app_commands.command(name="pin", description="Finish linking with the PIN Imgur showed you")
    @app_commands.describe(code="The PIN, the code, or the whole address your browser ended on")
    async def pin(self, interaction: discord.Interaction, code: str) -> None:
        texts = texts_for(interaction)
        if OAUTH not in self.bot.config.imgur.methods_in_force:
            await interaction.response.send_message(texts(OAUTH_OFF), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = await self.bot.links.complete(interaction.user.id, code)
        await interaction.followup.send(linked_text(texts, link.imgur_username), ephemeral=True)

    @app_commands.command(name="favorites", description="Show your Imgur favorites")
    @app_commands.checks.dynamic_cooldown(
        _favorites_cooldown, key=lambda interaction: interaction.user.id
    )
    @app_commands.describe(
        sort="Newest or oldest first",
        page="Imgur page to start at (from 1)",
        private="Only you see them, each with a way to share it in the channel",
    )
    @app_commands.choices(
        sort=[
            app_commands.Choice(name="newest", value="newest"),
            app_commands.Choice(name="oldest", value="oldest"),
        ]
    )
    async def favorites(
        self,
        interaction: discord.Interaction,
        sort: app_commands.Choice[str] | None = None,
        page: app_commands.Range[int, 1, MAX_PAGE] = 1,
        private: bool = False,
    ) -> None:
        texts = texts_for(interaction)
        if not 1 <= page <= MAX_PAGE:
            await interaction.response.send_message(
                texts("`page` must be between 1 and {last}.", last=MAX_PAGE), ephemeral=True
            )
            return
        # Errors about the member's own link must stay private: check before deferring publicly.
        link = await self.bot.tokens.linked(interaction.user.id)
        place = Place.of(interaction)
        note = None
        if not private and not place.can_post:
            private = True
            note = texts("You cannot post in this channel, so only you see these.")
        elif not private and not place.can_embed:
            private = True
            note = texts(
                "Pictures cannot be posted in this channel (no Embed Links permission), "
                "so only you see these."
            )
        await interaction.response.defer(ephemeral=private, thinking=True)
        interaction.extras[DEFERRED_PUBLICLY] = not private
        order = Sort(sort.value) if sort is not None else Sort.NEWEST
        window = await self.bot.favorites.window(interaction.user.id, order, page - 1)
        if not window.items:
            text = (
                texts("No favorites yet.")
                if page == 1
                else texts("There are no favorites on page {page}.", page=texts.number(page))
            )
            await interaction.followup.send(text)
            return
        state = PagerState(
            owner=interaction.user.id,
            kind=link_kind_code(link),
            sort=order,
            page=window.page,
            offset=window.offset,
        )
        embeds, view = favorites_message(
            self.bot, texts, state, window, place=place, private=private
        )
        if note is not None:
            await interaction.followup.send(note, embeds=embeds, view=view)
        else:
            await interaction.followup.send(embeds=embeds, view=view)

    @app_commands.command(name="status", description="Your linked Imgur account and its health")
    async def status(self, interaction: discord.Interaction) -> None:
        texts = texts_for(interaction)
        link = await self.bot.links.current(interaction.user.id)
        if link is None:
            await interaction.response.send_message(texts(NOT_LINKED), ephemeral=True)
            return
        embed = discord.Embed(title=texts("Your Imgur link"), colour=IMGUR_GREEN)
        embed.add_field(
            name=texts("Account"),
            value=_name(link.imgur_username, discord_text.FIELD_VALUE_LIMIT),
        )
        embed.add_field(name=texts("Linked"), value=ts(texts, link.linked_at, "R"))
        if link.kind is LinkKind.BIO:
            _bio_status(texts, embed, link)
        else:
            _oauth_status(texts, embed, link)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="unlink", description="Forget your Imgur account and its tokens")
    async def unlink(self, interaction: discord.Interaction) -> None:
        texts = texts_for(interaction)
        link = await self.bot.links.current(interaction.user.id)
        view = ConfirmUnlink(self.bot, interaction.user.id, texts)
        question = (
            texts("Unlink your Imgur account? The bot forgets the account it verified for you.")
            if link is not None and link.kind is LinkKind.BIO
            else texts("Unlink your Imgur account? The bot deletes every token it stored for you.")
        )
        await interaction.response.send_message(question, view=view, ephemeral=True)
        view.message = await interaction.original_response()


def _link_instructions(texts: Texts, pin_mode: bool, *, expires: str, bio: bool = False) -> str:
    if pin_mode:
        steps = texts(
            "1. Press **Authorize on Imgur** and allow access.\n"
            "2. Imgur shows you a PIN: press **Enter PIN** below (or use `/imgur pin`)."
        )
    else:
        steps = texts(
            "Press **Authorize on Imgur** and allow access; you are linked as soon as Imgur "
            "sends you back. If that page fails, paste the address it ended on into `/imgur pin`."
        )
    if bio:
        error_1024 = texts(
            "If Imgur shows **Error (1024)**, its authorize page is down for every app (it has "
            "been since mid-2025): use **Verify with my Imgur profile** below instead."
        )
    else:
        error_1024 = texts(
            "If Imgur shows **Error (1024)**, its authorize page is down on Imgur's side (it "
            "has been for every app since mid-2025): try again later."
        )
    expiry = texts("This link is yours alone and expires {when}. Do not share it.", when=expires)
    return "\n".join((steps, error_1024, expiry))


def _oauth_status(texts: Texts, embed: discord.Embed, link: Link) -> None:
    embed.add_field(name=texts("Kind"), value=texts("Authorized on Imgur (OAuth)"))
    embed.add_field(name=texts("Shows"), value=texts("all your favorites"), inline=False)
    if link.status is LinkStatus.BROKEN:
        health = texts("Broken: Imgur no longer accepts it. Run `/imgur link` to link again.")
    else:
        health = texts("OK; the access token is good until {when}", when=ts(texts, link.expires_at))
    embed.add_field(name=texts("Token"), value=health, inline=False)
    embed.add_field(name=texts("Last refresh"), value=ts(texts, link.refreshed_at, "R"))
    if link.last_error and link.status is LinkStatus.OK:
        embed.add_field(
            name=texts("Last problem"),
            value=texts("Imgur could not be reached at the last refresh; it will be retried."),
            inline=False,
        )


def _bio_status(texts: Texts, embed: discord.Embed, link: Link) -> None:
    embed.add_field(
        name=texts("Kind"), value=texts("Verified by your Imgur profile (no Imgur token)")
    )
    embed.add_field(
        name=texts("Shows"),
        value=texts("your public gallery favorites (hidden or private ones are never shown)"),
        inline=False,
    )
    if link.status is LinkStatus.BROKEN:
        health = texts(
            "Broken: the Imgur account no longer exists. Run `/imgur link` to link again."
        )
    else:
        health = texts("OK; renames on Imgur are followed by the account's id")
    embed.add_field(name=texts("Health"), value=health, inline=False)


async def setup(bot: ImgurBot) -> None:
    await bot.tree.set_translator(CatalogTranslator(bot.catalogs))
    bot.add_dynamic_items(
        EnterPinButton, VerifyProfileButton, BioCheckButton, PagerButton, ShareSelect
    )
    await bot.add_cog(ImgurCog(bot))
    await bot.add_cog(RefreshLoop(bot))
