"""The command line behind ``python -m bot``: run the bot, ``--check``, and the operator commands.

``main`` parses the arguments (``bot.cli.parser``) and calls the handler the chosen command set;
each command group is a module of its own: ``run`` and ``check`` (the bot itself), ``db``
(backup, stats, copy), ``keys`` (rotate-key) and ``health`` (healthcheck).
"""

from __future__ import annotations

from bot.cli.main import main

__all__ = ["main"]
