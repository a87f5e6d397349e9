"""Bounds on the callback server's connections: how many at once, and how long one may dawdle.

aiohttp.web alone keeps a connection that never finishes its request headers until its
keep-alive timer fires (an hour on aiohttp's ``RequestHandler`` by default, and older releases
arm no timer before the first request at all), and accepts connections until the process runs
out of file descriptors, which then takes callbacks, ``/healthz``, the database and every
outgoing call down with it.

``ConnectionGuard`` sits between the listening socket and aiohttp's protocol:
- at most ``max_connections`` are open at once (and never more than half the process's
  file-descriptor limit, so the database, Discord and Imgur always have descriptors left);
  one more closes the connection idle the longest (one waiting for its headers, or a spent
  keep-alive one), else the one stalled the longest (its body still arriving, or its request
  only waiting out a penalty, see ``ConnectionGuard.waiting``), or, when every connection is
  busy with real work, is closed itself;
- a new connection must finish its request headers within ``header_timeout``;
- after a response, the next request's headers must arrive within ``keepalive_timeout``.

The guard learns that a request began (its headers were read) and ended from
``ConnectionGuard.middleware``, which the application installs first. A body that arrives
too slowly is the route's to bound (``body_timeout`` in ``bot.web.handlers``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = ["ConnectionGuard", "ConnectionLimits", "descriptor_limit", "listen_backlog"]

log = logging.getLogger(__name__)

_MIN_CONNECTIONS: Final = 8


def descriptor_limit() -> int | None:
    """The process's soft limit on open file descriptors, or None where there is none."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def listen_backlog(limit: int | None) -> int:
    """The listening socket's backlog for a descriptor limit.

    asyncio accepts up to ``backlog`` connections in one go before any of them reaches the
    guard, so the backlog bounds how far past the cap the descriptors in use can briefly go:
    at most an eighth of the limit (and 128).
    """
    if limit is None:
        return 128
    return max(16, min(128, limit // 8))


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int = 256
    header_timeout: float = 10.0
    keepalive_timeout: float = 15.0

    def for_descriptor_limit(self, limit: int | None) -> ConnectionLimits:
        """These limits with ``max_connections`` at most half of ``limit`` descriptors."""
        if limit is None or self.max_connections <= limit // 2:
            return self
        cap = max(_MIN_CONNECTIONS, limit // 2)
        return ConnectionLimits(cap, self.header_timeout, self.keepalive_timeout)


class _GuardedProtocol(asyncio.Protocol):
    """One connection: forwards everything to aiohttp's protocol, under the guard's deadlines."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if not self._guard.admit(self):
            transport.abort()  # frees the descriptor now; aiohttp never sees this one
            return
        self._admitted = True
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_deadline()
        self.transport = None
        if self._admitted:
            self._admitted = False
            self._guard.forget(self)
            self.inner.connection_lost(exc)

    # --- deadlines ---------------------------------------------------------------------

    def set_deadline(self, seconds: float, why: str) -> None:
        self.cancel_deadline()
        loop = asyncio.get_running_loop()
        self._deadline = loop.call_later(seconds, self._expire, why)

    def cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, why: str) -> None:
        self._deadline = None
        self._guard.closed_slow(why)
        self.close()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class ConnectionGuard:
    """Wraps aiohttp's protocol factory (``runner.server``) for ``loop.create_server``.

    Every connection not busy with a request sits in ``_idle``, oldest first, with a deadline.
    """

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._open: dict[asyncio.Protocol, _GuardedProtocol] = {}  # aiohttp's: ours
        self._idle: OrderedDict[_GuardedProtocol, None] = OrderedDict()
        # Connections busy with a request, oldest request first; those only waiting (a penalty).
        self._busy: dict[_GuardedProtocol, web.BaseRequest] = {}
        self._waiting: set[_GuardedProtocol] = set()
        self.refused = 0
        self.evicted = 0
        self.timed_out = 0

    def protocol_factory(
        self, factory: Callable[[], asyncio.Protocol]
    ) -> Callable[[], asyncio.Protocol]:
        """``factory``'s protocols, each under this guard."""

        def guarded() -> asyncio.Protocol:
            return _GuardedProtocol(self, factory())

        return guarded

    @property
    def open_connections(self) -> int:
        return len(self._open)

    @property
    def idle_connections(self) -> int:
        """Open connections not busy with a request (waiting for headers, or kept alive)."""
        return len(self._idle)

    # --- connections -------------------------------------------------------------------

    def admit(self, connection: _GuardedProtocol) -> bool:
        """Whether a new connection may stay; makes room by closing the longest idle one."""
        if len(self._open) >= self.limits.max_connections:
            oldest = self._idle.popitem(last=False)[0] if self._idle else self._stalled()
            if oldest is None:
                self.refused += 1
                log.warning(
                    "callback server: %d connections, all busy; refusing new ones",
                    self.limits.max_connections,
                )
                return False
            self.evicted += 1
            log.warning(
                "callback server: %d connections open; closing the longest idle or stalled ones",
                self.limits.max_connections,
            )
            self._drop(oldest)
            oldest.close()
        self._open[connection.inner] = connection
        self._idle[connection] = None
        connection.set_deadline(self.limits.header_timeout, "headers")
        return True

    def _stalled(self) -> _GuardedProtocol | None:
        """The busy connection stalled the longest: its request's body is still arriving (a
        slowloris after the headers), or the request only waits (``waiting``); else None."""
        for connection, request in self._busy.items():
            if connection in self._waiting or not request.content.is_eof():
                return connection
        return None

    def forget(self, connection: _GuardedProtocol) -> None:
        self._drop(connection)

    def _drop(self, connection: _GuardedProtocol) -> None:
        self._open.pop(connection.inner, None)
        self._idle.pop(connection, None)
        self._busy.pop(connection, None)
        self._waiting.discard(connection)

    @contextlib.contextmanager
    def waiting(self, request: web.BaseRequest) -> Iterator[None]:
        """While inside, ``request`` only waits (out a penalty): at the cap, its connection
        may be closed to make room, as an idle one would be."""
        connection = self._open.get(request.protocol)
        if connection is None:
            yield
            return
        self._waiting.add(connection)
        try:
            yield
        finally:
            self._waiting.discard(connection)

    def closed_slow(self, why: str) -> None:
        self.timed_out += 1
        if why == "headers":
            log.warning(
                "callback server: closing connections that sent no complete request within %gs",
                self.limits.header_timeout,
            )
        else:
            log.debug("callback server: closing an idle keep-alive connection")

    def close_all(self) -> None:
        for connection in list(self._open.values()):
            connection.close()

    # --- requests ----------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Marks the connection busy while its request is handled; install it first."""
        connection = self._open.get(request.protocol)
        if connection is None:  # served without the guard (aiohttp's test server)
            return await handler(request)
        connection.cancel_deadline()
        self._idle.pop(connection, None)
        self._busy[connection] = request
        try:
            return await handler(request)
        finally:
            self._busy.pop(connection, None)
            if request.protocol in self._open:
                self._idle[connection] = None
                connection.set_deadline(self.limits.keepalive_timeout, "keep-alive")
