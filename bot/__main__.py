"""``python -m bot``: the command line is ``bot.cli`` (``python -m bot --help`` lists it)."""

from __future__ import annotations

import sys

from bot.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
