"""Button presses and form submissions that nothing in the bot handles get a private answer.

discord.py drops a component or modal interaction whose custom id matches no live view,
dynamic item or modal, and the member sees "This interaction failed". That is what a guessed
custom id, another member's form, a form sent twice or a button from before a restart would
get; instead each is told privately that it is no longer active, and nothing else happens.

Whether discord.py will handle an interaction is decided where it decides it: in its view
store, read right after it dispatched the interaction and before any handler ran (a handler
that stops its view removes it from the store; see ``ImgurBot.dispatch``).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import discord

from bot.i18n import ENGLISH_TEXTS, N_, Catalogs

log = logging.getLogger(__name__)

STALE_NOTICE = N_(
    "That button or form is not active (it expired, was already used, is not yours, or the "
    "bot restarted). Run the command again."
)


def is_handled(state: Any, interaction: discord.Interaction[Any]) -> bool:
    """Whether discord.py's view store has a handler for this component or modal interaction.

    Other interactions (commands, autocomplete) count as handled: the command tree answers
    those. ``state`` is the client's connection state (``Client._connection``).
    """
    data: Any = interaction.data or {}
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str):
        return True
    store = state._view_store
    if interaction.type is discord.InteractionType.modal_submit:
        return custom_id in store._modals
    if interaction.type is not discord.InteractionType.component:
        return True
    component_type = data.get("component_type")
    message = interaction.message
    if any(pattern.fullmatch(custom_id) for pattern in store._dynamic_items):
        # discord.py runs a dynamic item only when the message really carries it.
        return message is not None and _carries(message, component_type, custom_id)
    key = (component_type, custom_id)
    message_id = message.id if message is not None else None
    return key in store._views.get(message_id, {}) or key in store._views.get(None, {})


def _carries(message: discord.Message, component_type: object, custom_id: str) -> bool:
    view_class = discord.ui.LayoutView if message.flags.components_v2 else discord.ui.View
    view = view_class.from_message(message, timeout=None)
    return any(
        item.type.value == component_type and getattr(item, "custom_id", None) == custom_id
        for item in view.walk_children()
    )


async def answer_stale(interaction: discord.Interaction[Any]) -> None:
    """Tell the member, privately, that what they pressed or sent is not active."""
    log.info("a %s interaction matched nothing active", interaction.type.name)
    catalogs = getattr(interaction.client, "catalogs", None)
    texts = catalogs.texts(interaction.locale.value) if isinstance(catalogs, Catalogs) else None
    with contextlib.suppress(discord.HTTPException):
        await interaction.response.send_message(
            (texts or ENGLISH_TEXTS)(STALE_NOTICE), ephemeral=True
        )
