"""The background refresh loop: keeps tokens fresh and tells members whose link died."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.ext import commands, tasks

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger(__name__)

BROKEN_NOTICE = (
    "Your Imgur link with this bot stopped working: Imgur no longer accepts it (the app was "
    "revoked, or the authorization expired). Run `/imgur link` in a server with the bot to "
    "link again."
)


class RefreshLoop(commands.Cog):
    """Runs the token sweep every ``refresh.interval_seconds``."""

    def __init__(self, bot: ImgurBot) -> None:
        self.bot = bot
        self.sweep.change_interval(seconds=bot.config.refresh.interval_seconds)
        self.sweeps_done = 0

    async def cog_load(self) -> None:
        self.sweep.start()

    async def cog_unload(self) -> None:
        self.sweep.cancel()

    @tasks.loop(seconds=300)
    async def sweep(self) -> None:
        try:
            result = await self.bot.tokens.sweep()
            purged = await self.bot.links.purge_expired_attempts()
            purged += await self.bot.bio.purge_expired()
        except Exception:
            # Anything escaping a tasks.loop body other than a network error stops it for good.
            log.exception("refresh sweep failed; will try again next interval")
            return
        finally:
            self.sweeps_done += 1
        if result.refreshed or result.failed or result.broken or purged:
            log.info(
                "refresh sweep: %d refreshed, %d failed for now, %d broken, %d states purged%s",
                result.refreshed,
                result.failed,
                len(result.broken),
                purged,
                " (stopped early)" if result.stopped_early else "",
            )
        for user_id in result.broken:
            await self.notify_broken(user_id)

    @sweep.before_loop
    async def before_sweep(self) -> None:
        await self.bot.wait_until_ready()

    async def notify_broken(self, user_id: int) -> None:
        """One DM to a member whose link just broke; closed DMs are fine."""
        try:
            await self.bot.notify_member(user_id, BROKEN_NOTICE)
        except Exception:
            log.exception("unexpected error telling member %s about the broken link", user_id)
