"""Slowing down an address that keeps presenting unknown link states (guessing them)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

__all__ = ["BadStatePenalty"]

log = logging.getLogger(__name__)


class BadStatePenalty:
    """Slows down an address that keeps presenting unknown states.

    After ``free`` bad states within ``window`` seconds, each request from that address waits
    ``step`` seconds, doubling per further bad state up to ``max_delay``. At most
    ``max_addresses`` addresses are remembered (the least recently bad one is forgotten).
    """

    def __init__(
        self,
        *,
        free: int = 3,
        step: float = 0.5,
        max_delay: float = 4.0,
        window: float = 600.0,
        max_addresses: int = 4096,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if free < 0 or step < 0 or max_delay < 0 or window <= 0 or max_addresses < 1:
            raise ValueError("penalty settings must be positive")
        self.free = free
        self.step = step
        self.max_delay = max_delay
        self.window = window
        self.max_addresses = max_addresses
        self._sleep = sleep
        self._monotonic = monotonic
        self._bad: OrderedDict[str, tuple[int, float]] = OrderedDict()  # address: (count, last)

    def __len__(self) -> int:
        return len(self._bad)

    def _count(self, address: str) -> int:
        entry = self._bad.get(address)
        if entry is None:
            return 0
        count, last = entry
        if self._monotonic() - last > self.window:
            del self._bad[address]
            return 0
        return count

    def delay_for(self, address: str) -> float:
        """Seconds the next request from ``address`` waits."""
        over = self._count(address) - self.free
        if over < 0:
            return 0.0
        return min(self.max_delay, self.step * 2.0 ** min(over, 32))

    async def wait(self, address: str, *, shown_as: str = "a client") -> None:
        """Wait the address's penalty, if it has one; ``shown_as`` names it in the log."""
        delay = self.delay_for(address)
        if delay > 0:
            log.info("slowing down %s by %.1fs after repeated unknown states", shown_as, delay)
            await self._sleep(delay)

    def record(self, address: str) -> None:
        """``address`` presented an unknown, expired or used state."""
        count = self._count(address) + 1
        self._bad[address] = (count, self._monotonic())
        self._bad.move_to_end(address)
        while len(self._bad) > self.max_addresses:
            self._bad.popitem(last=False)
