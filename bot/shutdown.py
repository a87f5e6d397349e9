"""Graceful shutdown: interactions in flight get a moment to finish; the rest are told and stopped.

discord.py runs each slash command, button press and modal in a task of its own, named after
what it runs; those names are how the tasks are found here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_SECONDS = 8.0  # within Docker's default 10 s between SIGTERM and SIGKILL
NOTICE_TIMEOUT_SECONDS = 2.0
RESTARTING_NOTICE = (
    "The bot is restarting, so this was stopped before it finished. Please try again in a minute."
)

_HANDLER_TASK_PREFIXES = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
)


def interaction_tasks() -> set[asyncio.Task[Any]]:
    """The unfinished tasks that run an interaction's handler."""
    return {
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_name().startswith(_HANDLER_TASK_PREFIXES)
    }


def interaction_of(task: asyncio.Task[Any]) -> discord.Interaction[Any] | None:
    """The interaction a handler task serves (each of them has it as a local), if found."""
    frame = getattr(task.get_coro(), "cr_frame", None)
    value = frame.f_locals.get("interaction") if frame is not None else None
    return value if isinstance(value, discord.Interaction) else None


async def finish_in_flight(
    grace: float = SHUTDOWN_GRACE_SECONDS, *, notice_timeout: float = NOTICE_TIMEOUT_SECONDS
) -> int:
    """Wait up to ``grace`` seconds for interaction handlers, then stop the rest.

    Each member whose interaction is stopped gets an ephemeral note. Returns how many were
    stopped. Call it before the bot closes: the notes need its HTTP client.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    pending = interaction_tasks()
    if pending:
        log.info("waiting up to %.0f s for %d interaction(s) in flight", grace, len(pending))
    while pending and (remaining := deadline - loop.time()) > 0:
        await asyncio.wait(pending, timeout=remaining)
        pending = interaction_tasks()  # handlers started meanwhile count too
    if not pending:
        return 0
    interactions = [i for i in map(interaction_of, pending) if i is not None]
    for task in pending:
        task.cancel()
    await asyncio.wait(pending, timeout=notice_timeout)
    if interactions:
        await asyncio.wait(
            [asyncio.create_task(_tell_restarting(i)) for i in interactions],
            timeout=notice_timeout,
        )
    log.warning("stopped %d interaction(s) that did not finish in time", len(pending))
    return len(pending)


async def _tell_restarting(interaction: discord.Interaction[Any]) -> None:
    if interaction.is_expired():
        return
    with contextlib.suppress(discord.HTTPException):
        if interaction.response.is_done():
            await interaction.followup.send(RESTARTING_NOTICE, ephemeral=True)
        else:
            await interaction.response.send_message(RESTARTING_NOTICE, ephemeral=True)
