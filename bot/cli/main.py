"""``python -m bot [--config PATH] [--check | COMMAND ...]``: parse and hand over to the command.

With no command the bot runs until SIGTERM or SIGINT. ``python -m bot --help`` lists the
commands; each has its own ``--help``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from bot.cli.check import check_handler
from bot.cli.handlers import Handler
from bot.cli.parser import build_parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run what ``argv`` asks for with the environment ``env``; the process's exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.check and args.command:
        parser.error("--check cannot be combined with a command")
    handler: Handler = check_handler if args.check else args.handler
    return handler(args, os.environ if env is None else env)
