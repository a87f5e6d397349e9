"""Buttons and modals: the link message, the PIN modal, the unlink confirmation."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot import discord_text
from bot.i18n import N_, Texts
from bot.linking import REVOKE_URL, LinkKind
from cogs.i18n import texts_for
from cogs.replies import report_error

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger(__name__)

PIN_BUTTON_ID = "imgur:enter-pin"
NOT_YOURS = N_("Only the member who ran this command can use these buttons.")
NOT_YOUR_FORM = N_("This form was opened by another member; it does nothing for you.")


def linked_text(texts: Texts, username: str) -> str:
    return texts(
        "Linked! Your Imgur account **{username}** is now connected. Try `/imgur favorites`.",
        username=discord_text.inline(username, 100, fallback="?"),
    )


class OwnedModal(discord.ui.Modal):
    """A form only the member it was opened for may send.

    discord.py matches a submitted form on its custom id alone: without this, anyone who sent
    a form with that id would use up the owner's (who would then be told it is not active).
    """

    def __init__(self, owner_id: int, *, title: str, timeout: float | None = 600) -> None:
        super().__init__(title=title, timeout=timeout)
        self.owner_id = owner_id

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        texts = texts_for(interaction)
        await interaction.response.send_message(texts(NOT_YOUR_FORM), ephemeral=True)
        return False


class PinModal(OwnedModal):
    """Asks for the PIN Imgur showed; completes the link like ``/imgur pin``."""

    def __init__(self, texts: Texts, owner_id: int) -> None:
        super().__init__(owner_id, title=texts("Finish linking Imgur"))
        self.pin: discord.ui.TextInput[PinModal] = discord.ui.TextInput(
            label=texts("PIN (or the address your browser ended on)"),
            placeholder=texts("The PIN from Imgur's page"),
            min_length=1,
            max_length=512,
        )
        self.add_item(self.pin)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: ImgurBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        link = await bot.links.complete(interaction.user.id, self.pin.value)
        texts = texts_for(interaction)
        await interaction.followup.send(linked_text(texts, link.imgur_username), ephemeral=True)

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows BaseView's
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report_error(interaction, error)


class EnterPinButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=re.escape(PIN_BUTTON_ID)
):
    """The "Enter PIN" button; dynamic, so it keeps working after the bot restarts."""

    def __init__(self, label: str = "Enter PIN") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=PIN_BUTTON_ID
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: Any, /
    ) -> EnterPinButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(PinModal(texts_for(interaction), interaction.user.id))


def link_view(texts: Texts, url: str, *, with_pin_button: bool) -> discord.ui.View:
    """A link button to Imgur's authorize page, and the PIN button in ``pin`` mode."""
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label=texts("Authorize on Imgur"), url=url))
    if with_pin_button:
        view.add_item(EnterPinButton(texts("Enter PIN")))
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
        texts = texts_for(interaction)
        await interaction.response.send_message(texts(NOT_YOURS), ephemeral=True)
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


class ConfirmUnlink(OwnedView):
    """Asks the member to confirm before every stored token and state is deleted."""

    def __init__(self, bot: ImgurBot, owner_id: int, texts: Texts) -> None:
        super().__init__(owner_id, timeout=120)
        self.bot = bot
        self.confirm.label = texts("Unlink")
        self.cancel.label = texts("Cancel")

    @discord.ui.button(label="Unlink", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmUnlink]
    ) -> None:
        link = await self.bot.links.current(self.owner_id)
        removed = await self.bot.links.unlink(self.owner_id)
        self.disable_all()
        self.stop()
        texts = texts_for(interaction)
        if link is not None and link.kind is LinkKind.BIO:
            text = texts(
                "Unlinked. The bot forgot your Imgur account and every pending code. There is "
                "nothing to revoke at Imgur: a link verified by your profile never held an "
                "Imgur token. You may remove the code from your About text if it is still there."
            )
        else:
            text = (
                texts(
                    "Unlinked. Every token and pending link attempt the bot stored for you "
                    "is deleted."
                )
                if removed
                else texts("There was nothing to unlink.")
            )
            text += "\n" + texts(
                "To revoke the bot's access on Imgur's side too, visit <{url}>.", url=REVOKE_URL
            )
        await interaction.response.edit_message(content=text, view=self)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmUnlink]
    ) -> None:
        self.disable_all()
        self.stop()
        texts = texts_for(interaction)
        await interaction.response.edit_message(
            content=texts("Kept your link as it is."), view=self
        )
