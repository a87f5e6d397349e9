"""``python -m bot [--config PATH] [--check | COMMAND ...]``: run the bot, or an operator command.

With no command the bot runs until SIGTERM or SIGINT. ``python -m bot --help`` lists the
commands; each has its own ``--help``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import discord

from bot import admin
from bot.config import DEFAULT_CONFIG_PATH, Config, ConfigError, load_config
from bot.database import require_key
from bot.heartbeat import Heartbeat, heartbeat_path
from bot.logs import setup_logging
from bot.secrets_env import expand_secret_files
from bot.shutdown import SHUTDOWN_GRACE_SECONDS, finish_in_flight
from bot.startup import (
    FATAL_EXIT_CODE,
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

CONFIG_HELP = f"TOML configuration file (default: $BOT_CONFIG or {DEFAULT_CONFIG_PATH})"


def build_parser() -> argparse.ArgumentParser:
    # --config is accepted before and after the command; SUPPRESS keeps a subcommand's
    # missing --config from hiding one given before the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP)
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=(
            "A self-hosted Discord bot that links members' Imgur accounts. With no command, "
            "run the bot until SIGTERM or SIGINT."
        ),
        epilog=(
            "Secrets come from the environment (DISCORD_TOKEN, IMGUR_CLIENT_ID, "
            "IMGUR_CLIENT_SECRET, BOT_ENCRYPTION_KEY), or from files named by the same "
            "variables with _FILE appended (for Docker secrets)."
        ),
    )
    parser.add_argument("--config", metavar="PATH", default=None, help=CONFIG_HELP)
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate the configuration and the database (migrations included), then exit",
    )
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    admin.add_commands(commands, common)
    return parser


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


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.check and args.command:
        parser.error("--check cannot be combined with a command")
    if args.command == "healthcheck":
        return _healthcheck(args, env)
    try:
        env = expand_secret_files(os.environ if env is None else env)
        config = load_config(args.config, env)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.logging.level, config.logging.format)
    try:
        if args.check:
            check_data_dir(config.storage)
            return asyncio.run(admin.check(config))
        if args.command:
            return admin.run_command(args, config, env)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return FATAL_EXIT_CODE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _report(exc)
    return _run_bot(config, env)


def _run_bot(config: Config, env: Mapping[str, str]) -> int:
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
        return _report(exc)


def _report(exc: Exception) -> int:
    """One line on stderr for an error an operator can act on; anything else propagates."""
    if isinstance(exc, ConfigError):
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, admin.AdminError):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, StorageError):
        print(f"error: database: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, OSError) and exc.filename is not None:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    raise exc


def _healthcheck(args: argparse.Namespace, env: Mapping[str, str] | None) -> int:
    # Docker reserves exit code 2 of a health check: every failure here is 1.
    try:
        env = expand_secret_files(os.environ if env is None else env)
        config = load_config(args.config, env)
    except ConfigError as exc:
        print(f"unhealthy: configuration: {exc}")
        return 1
    healthy, why = admin.healthcheck(config, max_age=args.max_age, timeout=args.timeout)
    print(f"{'healthy' if healthy else 'unhealthy'}: {why}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
