"""Buttons and modals: the link message, the PIN modal, favorites paging, unlink confirmation."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord

from bot.favorites import FavoritesWindow
from bot.render import render_favorites
from bot.storage import LinkKind
from cogs.replies import reply_privately, report_error

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger(__name__)

PIN_BUTTON_ID = "imgur:enter-pin"
REVOKE_URL = "https://imgur.com/account/settings/apps"
FAVORITES_TIMEOUT = 180.0
NOT_YOURS = "Only the member who ran this command can use these buttons."
NOT_YOUR_FORM = "This form was opened by another member; it does nothing for you."


def linked_text(username: str) -> str:
    return (
        f"Linked! Your Imgur account **{discord.utils.escape_markdown(username)}** is now "
        "connected. Try `/imgur favorites`."
    )


class PinModal(discord.ui.Modal, title="Finish linking Imgur"):
    """Asks for the PIN Imgur showed; completes the link like ``/imgur pin``."""

    pin: discord.ui.TextInput[PinModal] = discord.ui.TextInput(
        label="PIN (or the address your browser ended on)",
        placeholder="The PIN from Imgur's page",
        min_length=1,
        max_length=512,
    )

    def __init__(self, owner_id: int) -> None:
        super().__init__()
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        # A modal's custom id is all discord.py matches on: a replay by anyone else is refused.
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOUR_FORM, ephemeral=True)
        return False

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: ImgurBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = await bot.links.complete(interaction.user.id, self.pin.value)
        await interaction.followup.send(linked_text(link.imgur_username), ephemeral=True)

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows BaseView's
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report_error(interaction, error)


class EnterPinButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"imgur:enter-pin"):
    """The "Enter PIN" button; dynamic, so it keeps working after the bot restarts."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Enter PIN", style=discord.ButtonStyle.primary, custom_id=PIN_BUTTON_ID
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> EnterPinButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PinModal(interaction.user.id))


def link_view(url: str, *, with_pin_button: bool) -> discord.ui.View:
    """A link button to Imgur's authorize page, and the PIN button in ``pin`` mode."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label="Authorize on Imgur", url=url))
    if with_pin_button:
        view.add_item(EnterPinButton())
    return view


class OwnedView(discord.ui.View):
    """A view only its owner may press; buttons are disabled when it times out."""

    def __init__(self, owner_id: int, *, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.owner_id = owner_id
        self.message: discord.Message | discord.WebhookMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    def disable_all(self) -> None:
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True

    async def on_timeout(self) -> None:
        self.disable_all()
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException:
                log.debug("could not disable the buttons of a timed-out view", exc_info=True)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await report_error(interaction, error)


class FavoritesPager(OwnedView):
    """Previous / next through a member's favorites, on into further Imgur pages."""

    def __init__(
        self, bot: ImgurBot, owner_id: int, window: FavoritesWindow, *, allow_nsfw: bool
    ) -> None:
        super().__init__(owner_id, timeout=FAVORITES_TIMEOUT)
        self.bot = bot
        self.window = window
        self.allow_nsfw = allow_nsfw
        self._sync_buttons()

    def embeds(self) -> list[discord.Embed]:
        payloads = render_favorites(
            self.window.items, allow_nsfw=self.allow_nsfw, footer=self.window.describe()
        )
        return [discord.Embed.from_dict(dict(payload)) for payload in payloads]

    def _sync_buttons(self) -> None:
        self.previous.disabled = not self.window.has_previous
        self.next.disabled = not self.window.has_next

    async def _move(
        self,
        interaction: discord.Interaction,
        step: Callable[[int, FavoritesWindow], Awaitable[FavoritesWindow]],
    ) -> None:
        await interaction.response.defer()
        moved = await step(self.owner_id, self.window)
        if not moved.items:
            self.next.disabled = True
            await interaction.edit_original_response(view=self)
            await reply_privately(interaction, "That was the last of your favorites.")
            return
        self.window = moved
        self._sync_buttons()
        await interaction.edit_original_response(embeds=self.embeds(), view=self)

    @discord.ui.button(label="Previous", emoji="◀", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction, button: discord.ui.Button[FavoritesPager]
    ) -> None:
        await self._move(interaction, self.bot.favorites.previous_window)

    @discord.ui.button(label="Next", emoji="▶", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction, button: discord.ui.Button[FavoritesPager]
    ) -> None:
        await self._move(interaction, self.bot.favorites.next_window)


class ConfirmUnlink(OwnedView):
    """Asks the member to confirm before every stored token and state is deleted."""

    def __init__(self, bot: ImgurBot, owner_id: int) -> None:
        super().__init__(owner_id, timeout=120)
        self.bot = bot

    @discord.ui.button(label="Unlink", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmUnlink]
    ) -> None:
        link = await self.bot.links.current(self.owner_id)
        removed = await self.bot.links.unlink(self.owner_id)
        self.disable_all()
        self.stop()
        if link is not None and link.kind is LinkKind.BIO:
            text = (
                "Unlinked. The bot forgot your Imgur account and every pending code. There is "
                "nothing to revoke at Imgur: a link verified by your profile never held an "
                "Imgur token. You may remove the code from your About text if it is still there."
            )
        else:
            text = (
                "Unlinked. Every token and pending link attempt the bot stored for you is deleted."
                if removed
                else "There was nothing to unlink."
            )
            text += f"\nTo revoke the bot's access on Imgur's side too, visit <{REVOKE_URL}>."
        await interaction.response.edit_message(content=text, view=self)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmUnlink]
    ) -> None:
        self.disable_all()
        self.stop()
        await interaction.response.edit_message(content="Kept your link as it is.", view=self)
