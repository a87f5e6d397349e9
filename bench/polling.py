"""Waiting in the benchmarks: for a condition, polled until a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(condition: Callable[[], bool], within: float, every: float = 0.05) -> bool:
    """Poll ``condition`` every ``every`` seconds for ``within`` seconds; whether it held.

    A benchmark reports what did not finish in time rather than failing on it, so running out
    of time is an answer (``False``), not an error.
    """
    deadline = time.monotonic() + within
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(every)
