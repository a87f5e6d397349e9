"""The command line every benchmark script shares: ``--quick``, ``--json``."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bench.report import Report

Bench = Callable[..., Coroutine[Any, Any, Report]]


def cli(
    bench: Bench,
    description: str,
    parser: argparse.ArgumentParser | None = None,
) -> argparse.Namespace:
    """Parse the command line, run ``bench``, print its report (and with ``--json`` the JSON
    line ``python -m bench`` reads).

    ``bench(quick=..., **extra)`` gets the values of the parser's other options.
    """
    parser = parser or argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--json", action="store_true", help="also print the report as JSON")
    args = parser.parse_args()
    options = {k: v for k, v in vars(args).items() if k not in ("quick", "json")}
    report = asyncio.run(bench(quick=args.quick, **options))
    report.print()
    if args.json:
        print(report.to_json_line(), flush=True)
    return args
