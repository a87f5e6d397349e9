"""The argument parser of ``python -m bot``: its options, and each command group's parser.

Every command sets the function that runs it as its parser's ``handler`` default; with no
command, ``handler`` runs the bot.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bot.cli import db, health, keys, run
from bot.cli.handlers import Subparsers
from bot.config import DEFAULT_CONFIG_PATH

CONFIG_HELP = f"TOML configuration file (default: $BOT_CONFIG or {DEFAULT_CONFIG_PATH})"

COMMAND_GROUPS: tuple[Callable[[Subparsers, argparse.ArgumentParser], None], ...] = (
    db.add_commands,
    keys.add_commands,
    health.add_commands,
)
"""Each adds its commands (in ``--help``'s order), given the options every command takes."""


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
    parser.set_defaults(handler=run.run_handler)
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    for add_commands in COMMAND_GROUPS:
        add_commands(commands, common)
    return parser
