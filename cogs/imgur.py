"""The ``/imgur`` slash commands."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.config import BIO, OAUTH
from bot.imgur import ResponseType, Sort
from bot.render import IMGUR_GREEN
from bot.storage import Link, LinkKind, LinkStatus
from cogs.bio_views import (
    BioCheckButton,
    VerifyProfileButton,
    bio_code_embed,
    bio_intro_embed,
    check_view,
)
from cogs.refresh import RefreshLoop
from cogs.replies import NOT_LINKED, PUBLIC_KEY, report_error
from cogs.views import ConfirmUnlink, EnterPinButton, FavoritesPager, link_view, linked_text

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger(__name__)

MAX_PAGE = 1000
FAVORITES_PER_MINUTE = 6


def allows_nsfw(interaction: discord.Interaction) -> bool:
    """DMs count as private; a guild channel only when Discord marks it NSFW."""
    if interaction.guild_id is None:
        return True
    channel = interaction.channel
    if isinstance(channel, discord.TextChannel | discord.Thread | discord.VoiceChannel):
        return channel.is_nsfw()
    if isinstance(channel, discord.StageChannel | discord.ForumChannel):
        return channel.is_nsfw()
    return False


def ts(value: datetime | None, style: str = "f") -> str:
    """A Discord timestamp (shown in each member's own time zone)."""
    if value is None:
        return "never"
    return f"<t:{int(value.timestamp())}:{style}>"


def _escape(text: str) -> str:
    return discord.utils.escape_markdown(text)


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
        await interaction.response.defer(ephemeral=True, thinking=True)
        methods = self.bot.config.imgur.methods_in_force
        member = interaction.user.id
        if username is not None:
            if BIO not in methods:
                await interaction.followup.send(BIO_OFF, ephemeral=True)
                return
            challenge = await self.bot.bio.start(member, username)
            await self._send_privately(
                interaction,
                [bio_code_embed(challenge)],
                check_view(challenge),
                "Check your DMs: I sent you a code to put in your Imgur profile.",
            )
            return
        embeds: list[discord.Embed] = []
        view = discord.ui.View(timeout=None)
        if OAUTH in methods:
            start = await self.bot.links.start(member)
            pin_mode = start.response_type is ResponseType.PIN
            embeds.append(
                discord.Embed(
                    title="Link your Imgur account",
                    colour=IMGUR_GREEN,
                    description=_link_instructions(
                        pin_mode, expires=ts(start.expires_at, "R"), bio=BIO in methods
                    ),
                )
            )
            for item in link_view(start.url, with_pin_button=pin_mode).children:
                view.add_item(item)
        if BIO in methods:
            embeds.append(bio_intro_embed())
            view.add_item(VerifyProfileButton())
        current = await self.bot.links.current(member)
        if current is not None:
            embeds[0].add_field(
                name="Already linked",
                value=f"You are linked as **{_escape(current.imgur_username)}**. "
                "The new link replaces it once it succeeds.",
            )
        await self._send_privately(
            interaction,
            embeds,
            view,
            "Check your DMs: I sent you the ways to link your Imgur account.",
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
            await interaction.followup.send(
                "I could not DM you, so here it is, for your eyes only:",
                embeds=embeds,
                view=view,
                ephemeral=True,
            )
            return
        await interaction.followup.send(dm_note, ephemeral=True)

    @app_commands.command(name="pin", description="Finish linking with the PIN Imgur showed you")
    @app_commands.describe(code="The PIN, the code, or the whole address your browser ended on")
    async def pin(self, interaction: discord.Interaction, code: str) -> None:
        if OAUTH not in self.bot.config.imgur.methods_in_force:
            await interaction.response.send_message(OAUTH_OFF, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = await self.bot.links.complete(interaction.user.id, code)
        await interaction.followup.send(linked_text(link.imgur_username), ephemeral=True)

    @app_commands.command(name="favorites", description="Show your Imgur favorites")
    # One member must not spend the whole server's Imgur quota (about 12,500 calls a day).
    @app_commands.checks.cooldown(
        FAVORITES_PER_MINUTE, 60.0, key=lambda interaction: interaction.user.id
    )
    @app_commands.describe(sort="Newest or oldest first", page="Imgur page to start at (from 1)")
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
    ) -> None:
        if not 1 <= page <= MAX_PAGE:
            await interaction.response.send_message(
                f"`page` must be between 1 and {MAX_PAGE}.", ephemeral=True
            )
            return
        # Errors about the member's own link must stay private: check before deferring publicly.
        await self.bot.tokens.linked(interaction.user.id)
        await interaction.response.defer(thinking=True)
        interaction.extras[PUBLIC_KEY] = True
        order = Sort(sort.value) if sort is not None else Sort.NEWEST
        window = await self.bot.favorites.window(interaction.user.id, order, page - 1)
        if not window.items:
            text = "No favorites yet." if page == 1 else f"No favorites on page {page}."
            await interaction.followup.send(text)
            return
        view = FavoritesPager(
            self.bot, interaction.user.id, window, allow_nsfw=allows_nsfw(interaction)
        )
        view.message = await interaction.followup.send(embeds=view.embeds(), view=view, wait=True)

    @app_commands.command(name="status", description="Your linked Imgur account and its health")
    async def status(self, interaction: discord.Interaction) -> None:
        link = await self.bot.links.current(interaction.user.id)
        if link is None:
            await interaction.response.send_message(NOT_LINKED, ephemeral=True)
            return
        embed = discord.Embed(title="Your Imgur link", colour=IMGUR_GREEN)
        embed.add_field(name="Account", value=_escape(link.imgur_username))
        embed.add_field(name="Linked", value=ts(link.linked_at, "R"))
        if link.kind is LinkKind.BIO:
            _bio_status(embed, link)
        else:
            _oauth_status(embed, link)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="unlink", description="Forget your Imgur account and its tokens")
    async def unlink(self, interaction: discord.Interaction) -> None:
        link = await self.bot.links.current(interaction.user.id)
        view = ConfirmUnlink(self.bot, interaction.user.id)
        question = (
            "Unlink your Imgur account? The bot forgets the account it verified for you."
            if link is not None and link.kind is LinkKind.BIO
            else "Unlink your Imgur account? The bot deletes every token it stored for you."
        )
        await interaction.response.send_message(
            question,
            view=view,
            ephemeral=True,
        )
        view.message = await interaction.original_response()


BIO_OFF = (
    "Verifying by your Imgur profile is turned off on this bot. Run `/imgur link` without a "
    "username to link through Imgur's authorize page."
)
OAUTH_OFF = (
    "Linking through Imgur's authorize page is turned off on this bot. Run `/imgur link` and "
    "press **Verify with my Imgur profile**."
)


def _link_instructions(pin_mode: bool, *, expires: str, bio: bool = False) -> str:
    if pin_mode:
        steps = (
            "1. Press **Authorize on Imgur** and allow access.\n"
            "2. Imgur shows you a PIN: press **Enter PIN** below (or use `/imgur pin`).\n"
        )
    else:
        steps = (
            "Press **Authorize on Imgur** and allow access; you are linked as soon as Imgur "
            "sends you back. If that page fails, paste the address it ended on into "
            "`/imgur pin`.\n"
        )
    if bio:
        error_1024 = (
            "If Imgur shows **Error (1024)**, its authorize page is down for every app (it has "
            "been since mid-2025): use **Verify with my Imgur profile** below instead.\n"
        )
    else:
        error_1024 = (
            "If Imgur shows **Error (1024)**, its authorize page is down on Imgur's side (it "
            "has been for every app since mid-2025): try again later.\n"
        )
    return steps + error_1024 + f"This link is yours alone and expires {expires}. Do not share it."


def _oauth_status(embed: discord.Embed, link: Link) -> None:
    embed.add_field(name="Kind", value="Authorized on Imgur (OAuth)")
    embed.add_field(name="Shows", value="all your favorites", inline=False)
    if link.status is LinkStatus.BROKEN:
        health = "Broken: Imgur no longer accepts it. Run `/imgur link` to link again."
    else:
        health = f"OK; the access token is good until {ts(link.expires_at)}"
    embed.add_field(name="Token", value=health, inline=False)
    embed.add_field(name="Last refresh", value=ts(link.refreshed_at, "R"))
    if link.last_error and link.status is LinkStatus.OK:
        embed.add_field(
            name="Last problem",
            value="Imgur could not be reached at the last refresh; it will be retried.",
            inline=False,
        )


def _bio_status(embed: discord.Embed, link: Link) -> None:
    embed.add_field(name="Kind", value="Verified by your Imgur profile (no Imgur token)")
    embed.add_field(
        name="Shows",
        value="your public gallery favorites (hidden or private ones are never shown)",
        inline=False,
    )
    if link.status is LinkStatus.BROKEN:
        health = "Broken: the Imgur account no longer exists. Run `/imgur link` to link again."
    else:
        health = "OK; renames on Imgur are followed by the account's id"
    embed.add_field(name="Health", value=health, inline=False)


async def setup(bot: ImgurBot) -> None:
    bot.add_dynamic_items(EnterPinButton, VerifyProfileButton, BioCheckButton)
    await bot.add_cog(ImgurCog(bot))
    await bot.add_cog(RefreshLoop(bot))
