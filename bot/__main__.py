"""``python -m bot [--config PATH] [--check]``: run the bot, or check its configuration."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

import discord

from bot.app import ImgurBot, open_store
from bot.config import DEFAULT_CONFIG_PATH, Config, ConfigError, load_config
from bot.logs import setup_logging
from bot.storage import StorageError

log = logging.getLogger("bot")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A self-hosted Discord bot that links members' Imgur accounts.",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"TOML configuration file (default: $BOT_CONFIG or {DEFAULT_CONFIG_PATH})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate the configuration and the database (migrations included), then exit",
    )
    return parser


async def check(config: Config) -> int:
    """Open and migrate the database and report what is configured; connect nowhere."""
    store = await open_store(config)
    try:
        stats = await store.stats()
    finally:
        await store.close()
    missing = []
    try:
        config.require_credentials()
    except ConfigError as exc:
        missing.append(str(exc))
    print(
        f"configuration OK; database {config.storage.database}: {stats.links} links, "
        f"{stats.broken_links} broken, {stats.pending_states} pending link attempts"
    )
    for line in missing:
        print(f"error: {line}", file=sys.stderr)
    return 1 if missing else 0


async def run(config: Config) -> int:
    """Run the bot until SIGINT/SIGTERM, then close everything cleanly."""
    bot = ImgurBot(config)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    runner = asyncio.create_task(bot.start(config.discord.token))
    waiter = asyncio.create_task(stopping.wait())
    done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if waiter in done:
        log.info("shutting down")
    waiter.cancel()
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.logging.level, config.logging.format)
    try:
        if args.check:
            return asyncio.run(check(config))
        config.require_credentials()
        return asyncio.run(run(config))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except StorageError as exc:
        print(f"error: database: {exc}", file=sys.stderr)
        return 1
    except discord.LoginFailure as exc:
        print(f"error: Discord refused the login: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
