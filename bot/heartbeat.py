"""A file the bot touches only while its gateway is connected, for container health checks.

``python -m bot healthcheck`` calls the bot healthy while the file is younger than
``HEARTBEAT_MAX_AGE_SECONDS``: a bot that hangs stops touching it, and one that knows it lost
Discord removes it at its next beat (so it turns unhealthy without waiting for the file to age).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from bot.config import StorageConfig

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_SECONDS = 15.0
HEARTBEAT_MAX_AGE_SECONDS = 90.0  # several missed touches, so one slow beat is no alarm


def heartbeat_path(storage: StorageConfig) -> Path:
    """Where the bot keeps its heartbeat: in ``storage.data_dir`` (by default beside a SQLite
    database, in /data)."""
    return storage.side_file(".heartbeat")


def heartbeat_age(path: Path, *, now: float | None = None) -> float | None:
    """Seconds since the heartbeat file was last touched; None if there is none."""
    try:
        touched = path.stat().st_mtime
    except FileNotFoundError:
        return None
    return max(0.0, (time.time() if now is None else now) - touched)


class Heartbeat:
    """Touches ``path`` every ``interval`` seconds while ``connected`` is set."""

    def __init__(
        self,
        path: Path,
        connected: asyncio.Event,
        *,
        interval: float = HEARTBEAT_INTERVAL_SECONDS,
    ) -> None:
        self.path = path
        self._connected = connected
        self._interval = interval
        self._warned = False

    async def run(self) -> None:
        """Beat until cancelled; the file is removed while disconnected and on the way out."""
        try:
            while True:
                if not self._connected.is_set():
                    await asyncio.to_thread(self._remove)
                    await self._connected.wait()
                await asyncio.to_thread(self._touch)
                await asyncio.sleep(self._interval)
        finally:
            self._remove()

    def _remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

    def _touch(self) -> None:
        try:
            self.path.touch(mode=0o600)  # sets the mtime when the file exists
        except OSError as exc:
            if not self._warned:  # once: a read-only volume would otherwise flood the log
                log.warning("cannot touch the heartbeat file %s: %s", self.path, exc.strerror)
                self._warned = True
