"""``python -m bot`` with no command: run the bot until SIGTERM or SIGINT, then close cleanly.

A fault a restart cannot cure (a refused token, a bad configuration, an unusable database) is
one line on stderr, held ``BOT_FATAL_EXIT_DELAY`` seconds before the process exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

import discord

from bot.cli.handlers import configured, report
from bot.config import Config, ConfigError
from bot.database import require_key
from bot.heartbeat import Heartbeat, heartbeat_path
from bot.shutdown import SHUTDOWN_GRACE_SECONDS, finish_in_flight
from bot.startup import (
    TRANSIENT_ERRORS,
    StartupError,
    check_data_dir,
    connect_with_retry,
    describe_gateway_end,
    hold_before_fatal_exit,
    login_with_retry,
    token_refused,
)
from bot.storage import StorageError

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger("bot")


@configured
def run_handler(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
    """Run the bot; a fault a restart cannot cure holds (BOT_FATAL_EXIT_DELAY) before exiting."""
    try:
        config.require_credentials()
        require_key(config)  # before connecting anywhere
        check_data_dir(config.storage)
        return asyncio.run(run(config))
    except KeyboardInterrupt:
        return 130
    except (StartupError, ConfigError, StorageError) as exc:
        database = isinstance(exc, StorageError)
        print(f"error: {'database: ' if database else ''}{exc}", file=sys.stderr)
        code = hold_before_fatal_exit(env)
        if isinstance(exc, ConfigError):
            return 2
        return 1 if database else code
    except Exception as exc:
        return report(exc)


async def run(
    config: Config,
    *,
    stop: asyncio.Event | None = None,
    grace: float = SHUTDOWN_GRACE_SECONDS,
) -> int:
    """Run the bot until ``stop`` is set (by default: SIGINT/SIGTERM), then close cleanly.

    Until Discord accepts the login, it is retried with backoff (see bot.startup). Interactions
    in flight get ``grace`` seconds to finish; the database closes last. Returns 0 after a
    requested stop, 1 if the connection to Discord ended by itself; a refused token raises
    StartupError.
    """
    from bot.app import create_bot  # imported here: healthcheck and the db commands skip it

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event() if stop is None else stop
    handled: list[signal.Signals] = []
    if stop is None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(signum, stopping.set)
                handled.append(signum)
    try:
        bot = await login_with_retry(lambda: create_bot(config), config.discord.token, stopping)
        if bot is None:
            log.info("stopped before Discord accepted the login")
            return 0
        return await _serve(bot, stopping, grace)
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


async def _serve(bot: ImgurBot, stopping: asyncio.Event, grace: float) -> int:
    heartbeat = Heartbeat(heartbeat_path(bot.config.storage), bot.gateway_connected)
    beating = asyncio.create_task(heartbeat.run(), name="heartbeat")
    runner = asyncio.create_task(connect_with_retry(bot, stopping), name="bot")
    waiter = asyncio.create_task(stopping.wait())
    requested = False
    try:
        done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
        requested = waiter in done
        if requested:
            log.info("shutting down")
            beating.cancel()
            await finish_in_flight(grace)
    finally:
        waiter.cancel()
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating
        await bot.close()
    ended: BaseException | None = None
    try:
        await runner
    except asyncio.CancelledError:
        pass
    except discord.ConnectionClosed as exc:
        if exc.code == 4004:  # "authentication failed": the token was revoked meanwhile
            raise token_refused() from None
        ended = exc
    except TRANSIENT_ERRORS as exc:
        ended = exc
    except discord.ClientException as exc:
        ended = exc
    if not requested:
        reason = f": {describe_gateway_end(ended)}" if ended is not None else ""
        log.error("the connection to Discord ended%s", reason)
        return 1
    log.info("stopped")
    return 0
