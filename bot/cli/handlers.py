"""How a command runs: its configuration loaded, and its errors turned into one line and an
exit code.

A command group's module adds its parsers (``add_commands(subparsers, common)``) and sets the
function that runs each command as its ``handler`` (``set_defaults(handler=...)``); ``main``
calls it with the parsed arguments and the environment. Every command prints its result on
stdout and problems on stderr, and never prints a token or a key.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable, Mapping
from typing import TypeAlias

from bot.config import Config, ConfigError, load_config
from bot.logs import setup_logging
from bot.secrets_env import expand_secret_files
from bot.startup import FATAL_EXIT_CODE, StartupError
from bot.storage import StorageError

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""What a command group's ``add_commands(subparsers, common)`` adds its parsers to."""

Handler = Callable[[argparse.Namespace, Mapping[str, str]], int]
"""What a parser's ``handler`` default holds: (arguments, environment) -> exit code."""

ConfiguredCommand = Callable[[argparse.Namespace, Config, Mapping[str, str]], int]
"""A command given the loaded configuration and the environment with secret files read."""


def add_command(
    subparsers: Subparsers,
    name: str,
    handler: Handler,
    common: argparse.ArgumentParser,
    *,
    help: str,
    description: str,
    formatter_class: type[argparse.HelpFormatter] = argparse.HelpFormatter,
) -> argparse.ArgumentParser:
    """The parser of command ``name``, taking the ``common`` options and run by ``handler``."""
    parser = subparsers.add_parser(
        name,
        parents=[common],
        help=help,
        description=description,
        formatter_class=formatter_class,
    )
    parser.set_defaults(handler=handler)
    return parser


class CommandError(Exception):
    """A command could not do its job; the message says why and what to do."""


def load(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[Config, Mapping[str, str]]:
    """The configuration ``--config`` and ``env`` give, and ``env`` with its ``*_FILE``
    secrets read; ConfigError if it is not valid."""
    env = expand_secret_files(env)
    return load_config(args.config, env), env


def configured(command: ConfiguredCommand) -> Handler:
    """``command`` behind loading the configuration (a bad one: one line, exit 2) and logging."""

    @functools.wraps(command)
    def handler(args: argparse.Namespace, env: Mapping[str, str]) -> int:
        try:
            config, env = load(args, env)
        except ConfigError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        setup_logging(config.logging.level, config.logging.format)
        return command(args, config, env)

    return handler


def operator_command(command: ConfiguredCommand) -> Handler:
    """``command`` configured (see ``configured``), with every error an operator can act on
    reported in one line and an exit code."""

    @functools.wraps(command)
    def reported(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
        try:
            return command(args, config, env)
        except StartupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return FATAL_EXIT_CODE
        except KeyboardInterrupt:
            return 130
        except Exception as exc:
            return report(exc)

    return configured(reported)


def report(exc: Exception) -> int:
    """One line on stderr for an error an operator can act on; anything else propagates."""
    if isinstance(exc, ConfigError):
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, CommandError):
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, StorageError):
        print(f"error: database: {exc}", file=sys.stderr)
        return 1
    if isinstance(exc, OSError) and exc.filename is not None:
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 1
    raise exc
