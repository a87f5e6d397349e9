"""Linking by profile code: the "Verify with my Imgur profile" button, the username modal,
the code message and its Check button. Every one of them is private (DM or ephemeral)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot import discord_text
from bot.bio import BioChallenge
from bot.config import BIO
from bot.i18n import N_, Texts
from bot.render import IMGUR_GREEN
from cogs.i18n import texts_for
from cogs.replies import report_error
from cogs.views import OwnedModal

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger(__name__)

VERIFY_BUTTON_ID = "imgur:bio-start"
BIO_CHECK_PREFIX = "imgur:bio-check:"  # then the member's id and the attempt's reference
VERIFY_LABEL = N_("Verify with my Imgur profile")
CHECK_LABEL = N_("Check")
NOT_YOUR_CHECK = N_("This Check button belongs to the member who asked for the code.")
BIO_OFF = N_(
    "Verifying by your Imgur profile is turned off on this bot. Run `/imgur link` without a "
    "username to link through Imgur's authorize page."
)


def in_dm(interaction: discord.Interaction) -> bool:
    """True in the member's DM with the bot, where a normal message is private already."""
    return isinstance(interaction.channel, discord.DMChannel)


async def refused_when_bio_off(interaction: discord.Interaction) -> bool:
    """Answer privately and return True when the operator turned the bio method off.

    Buttons and forms sent before that (they survive restarts) must not link anyone since.
    """
    bot: ImgurBot = interaction.client  # type: ignore[assignment]
    if BIO in bot.config.imgur.methods_in_force:
        return False
    texts = texts_for(interaction)
    if interaction.response.is_done():
        await interaction.followup.send(texts(BIO_OFF), ephemeral=True)
    else:
        await interaction.response.send_message(texts(BIO_OFF), ephemeral=True)
    return True


def bio_linked_text(texts: Texts, username: str) -> str:
    return texts(
        "Linked as **{username}** (verified by your profile). You can remove the code now. "
        "Try `/imgur favorites`: it shows your public gallery favorites.",
        username=discord_text.inline(username, 100, fallback="?"),
    )


def bio_intro_embed(texts: Texts) -> discord.Embed:
    """The part of the link message that offers verification by profile."""
    return discord.Embed(
        title=texts(VERIFY_LABEL),
        colour=IMGUR_GREEN,
        description=texts(
            "Works with Imgur as it is today. Press **Verify with my Imgur profile**, type your "
            "Imgur username, and you get a short code to put in your Imgur profile's About "
            "text for a minute. The bot then shows your public gallery favorites."
        ),
    )


def bio_code_embed(texts: Texts, challenge: BioChallenge) -> discord.Embed:
    """The code and the three steps, for the member only."""
    name = discord_text.inline(challenge.imgur_username, 100, fallback="?")
    return discord.Embed(
        title=texts("Verify with your Imgur profile"),
        colour=IMGUR_GREEN,
        description="\n".join(
            (
                texts("Your code for the Imgur account **{name}**:", name=name),
                f"# `{challenge.code}`",
                texts(
                    "1. Open <https://imgur.com> and sign in, then open your profile "
                    "(your avatar, then your name).\n"
                    "2. Edit the **About** text and add the code anywhere in it, then save.\n"
                    "3. Press **{check}** below.",
                    check=texts(CHECK_LABEL),
                ),
                texts(
                    "The code is yours alone, works once, only for **{name}**, and expires "
                    "{when}. Remove it from your profile once you are linked.",
                    name=name,
                    when=discord.utils.format_dt(challenge.expires_at, "R"),
                ),
            )
        ),
    )


def check_view(texts: Texts, challenge: BioChallenge) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(
        BioCheckButton(challenge.discord_user_id, challenge.attempt, label=texts(CHECK_LABEL))
    )
    return view


async def send_bio_code(
    interaction: discord.Interaction, challenge: BioChallenge, *, ephemeral: bool
) -> None:
    """Answer an interaction (not yet responded to, or deferred) with the member's code."""
    texts = texts_for(interaction)
    embed, view = bio_code_embed(texts, challenge), check_view(texts, challenge)
    if interaction.response.is_done():
        await interaction.followup.send(embed=embed, view=view, ephemeral=ephemeral)
    else:
        await interaction.response.send_message(embed=embed, view=view, ephemeral=ephemeral)


class UsernameModal(OwnedModal):
    """Asks for the Imgur username, then answers with the code for it."""

    def __init__(self, texts: Texts, owner_id: int) -> None:
        super().__init__(owner_id, title=texts("Verify with your Imgur profile"))
        self.username: discord.ui.TextInput[UsernameModal] = discord.ui.TextInput(
            label=texts("Your Imgur username"),
            placeholder=texts("as in imgur.com/user/<username>"),
            min_length=1,
            max_length=100,
        )
        self.add_item(self.username)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        if await refused_when_bio_off(interaction):
            return
        bot: ImgurBot = interaction.client  # type: ignore[assignment]
        challenge = await bot.bio.start(interaction.user.id, self.username.value)
        # In the DM a normal message stays as long as the member needs it; anywhere else
        # (the link message was ephemeral because DMs are closed) only they may see it.
        await send_bio_code(interaction, challenge, ephemeral=not in_dm(interaction))

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows BaseView's
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report_error(interaction, error)


class VerifyProfileButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.escape(VERIFY_BUTTON_ID)
):
    """Opens the username modal; dynamic, so it keeps working after the bot restarts."""

    def __init__(self, texts: Texts | None = None) -> None:
        label = texts(VERIFY_LABEL) if texts is not None else VERIFY_LABEL
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=VERIFY_BUTTON_ID
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> VerifyProfileButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        if await refused_when_bio_off(interaction):
            return
        await interaction.response.send_modal(
            UsernameModal(texts_for(interaction), interaction.user.id)
        )


class BioCheckButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.escape(BIO_CHECK_PREFIX)
    + r"(?P<member>[0-9]{1,20}):(?P<attempt>[A-Za-z0-9_-]{8,32})",
):
    """Checks the member's profile for their code. The custom id carries the member and the
    attempt's non-secret reference (never the code); it works after a restart, for that
    member only."""

    def __init__(self, member_id: int, attempt: str, *, label: str = CHECK_LABEL) -> None:
        self.member_id = member_id
        self.attempt = attempt
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.success,
                custom_id=f"{BIO_CHECK_PREFIX}{member_id}:{attempt}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> BioCheckButton:
        return cls(int(match["member"]), match["attempt"])

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.member_id:
            return True
        texts = texts_for(interaction)
        await interaction.response.send_message(texts(NOT_YOUR_CHECK), ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction) -> None:
        if await refused_when_bio_off(interaction):
            return
        bot: ImgurBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            link = await bot.bio.check(self.member_id, self.attempt)
        except Exception as exc:  # every failure is one private message
            await report_error(interaction, exc)
            return
        texts = texts_for(interaction)
        await interaction.followup.send(bio_linked_text(texts, link.imgur_username), ephemeral=True)
