"""Waiting in tests without a fixed sleep: poll a condition until it holds, with a deadline.

``eventually`` is the one way the tests wait for something they cannot await directly (a file
that changes, a process that logs, a counter that moves). The condition may be a plain or an
async function; an exception it raises ends the wait at once (a condition can fail fast, for
example when the process it watches has died).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, overload

T = TypeVar("T")

POLL_EVERY = 0.01
"""Seconds between two looks at the condition, unless an ``every`` is given."""


class NotInTime(TimeoutError, AssertionError):
    """The condition did not hold in time (both a TimeoutError and a failed assertion)."""


@overload
async def eventually(
    condition: Callable[[], Awaitable[T]],
    within: float,
    what: str | Callable[[], str],
    *,
    every: float = ...,
    woken_by: Callable[[], asyncio.Event] | None = ...,
) -> T: ...
@overload
async def eventually(
    condition: Callable[[], T],
    within: float,
    what: str | Callable[[], str],
    *,
    every: float = ...,
    woken_by: Callable[[], asyncio.Event] | None = ...,
) -> T: ...
async def eventually(
    condition: Callable[[], T | Awaitable[T]],
    within: float,
    what: str | Callable[[], str],
    *,
    every: float = POLL_EVERY,
    woken_by: Callable[[], asyncio.Event] | None = None,
) -> T:
    """The first truthy value ``condition()`` returns, looked at every ``every`` seconds.

    Raises :class:`NotInTime`, naming ``what`` and the last value seen, once ``within``
    seconds pass first; ``what`` may be a function, called then, to tell the state at that
    moment. With ``woken_by`` (which gives the event the next change will set), a change
    wakes the wait before ``every`` is up.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        outcome = condition()
        value: T = await outcome if inspect.isawaitable(outcome) else outcome
        if value:
            return value
        remaining = deadline - loop.time()
        if remaining <= 0:
            named = what if isinstance(what, str) else what()
            raise NotInTime(f"not within {within:g} s: {named} (last seen: {value!r})")
        pause = min(remaining, every)
        if woken_by is None:
            await asyncio.sleep(pause)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken_by().wait(), pause)


class RecordedSleeps:
    """A ``sleep`` for a time seam: records each delay and returns at once (after letting
    other tasks run, as a real sleep does)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)
