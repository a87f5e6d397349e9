"""Slow and idle clients against the real ``CallbackServer`` on 127.0.0.1.

Hundreds of raw sockets that never finish their headers (slowloris), a body that never
arrives, an idle keep-alive connection, and more connections than the cap: ``/healthz`` keeps
answering and the slow ones are closed by their deadline. The deadlines are configured short
so the tests need not wait the production 10 seconds; nothing sleeps a fixed time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import aiohttp
import pytest

from bot.config import WebConfig
from bot.logs import setup_logging
from bot.web import BadStatePenalty, CallbackServer, WebDependencies
from bot.web.guard import ConnectionLimits, listen_backlog
from tests.bot.web.conftest import follow_authorize, path_and_query
from tests.waiting import eventually

T = TypeVar("T")

PARTIAL_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def web_config(**limits: Any) -> WebConfig:
    config = WebConfig(enabled=True, host="127.0.0.1", port=0, public_url="https://bot.example")
    return dataclasses.replace(config, **limits)


@pytest.fixture
def limits() -> dict[str, float]:
    return {}


@pytest.fixture
async def server(links, gateway, notifications, penalty, limits) -> AsyncIterator[CallbackServer]:
    callback_server = CallbackServer(
        web_config(**limits),
        WebDependencies(links, is_connected=gateway, notify=notifications, penalty=penalty),
    )
    await callback_server.start()
    try:
        yield callback_server
    finally:
        await callback_server.stop()


class SlowClient:
    """A raw connection that sent ``sent`` and then nothing more."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, at: float):
        self.reader = reader
        self.writer = writer
        self.opened_at = at
        self.closed_at: float | None = None

    async def wait_closed_by_server(self) -> bytes:
        """What the server sent before closing (b"" when it sent nothing), once it closed."""
        received = b""
        try:
            while chunk := await self.reader.read(65536):
                received += chunk
        except ConnectionResetError:
            pass
        self.closed_at = asyncio.get_running_loop().time()
        return received

    @property
    def held(self) -> float:
        """Seconds from before connecting until the server closed the connection."""
        assert self.closed_at is not None, "the server has not closed it"
        return self.closed_at - self.opened_at

    def is_open(self) -> bool:
        return not self.reader.at_eof() and self.reader.exception() is None

    def close(self) -> None:
        self.writer.close()


async def open_slow(port: int, sent: bytes = PARTIAL_HEADERS) -> SlowClient:
    # Taken before connecting: the server's deadline cannot start earlier, so a time held
    # measured from here is never shorter than the server's, however loaded the loop is.
    started = asyncio.get_running_loop().time()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(sent)
    await writer.drain()
    return SlowClient(reader, writer, started)


async def within(awaitable: Awaitable[T], seconds: float, what: str) -> T:
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise AssertionError(f"{what} did not happen within {seconds}s") from None


async def healthz(server: CallbackServer) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}/healthz") as response,
    ):
        return response.status


async def open_many(port: int, count: int, batch: int = 50) -> list[SlowClient]:
    """``count`` slow clients, opened a batch at a time (the listen backlog is bounded)."""
    clients: list[SlowClient] = []
    for start in range(0, count, batch):
        size = min(batch, count - start)
        clients += await asyncio.gather(*(open_slow(port) for _ in range(size)))
    return clients


@pytest.mark.parametrize("limits", [{"header_timeout_seconds": 3.0, "max_connections": 1000}])
async def test_healthz_answers_under_300_slow_clients_and_the_deadline_drops_them(server):
    slow = await open_many(server.port, 300)
    try:
        assert await within(healthz(server), 5, "/healthz answering") == 200
        assert all(client.is_open() for client in slow)

        await within(
            asyncio.gather(*(client.wait_closed_by_server() for client in slow)),
            15,
            "the server closing all 300 slow connections",
        )
        held = [client.held for client in slow]
        assert min(held) >= 3.0 - 0.05, "closed before the header deadline"
        guard = server.guard
        await eventually(lambda: guard.open_connections == 0, 10, "the guard forgets them")
        assert guard.timed_out == 300
        assert await healthz(server) == 200
    finally:
        for client in slow:
            client.close()


@pytest.mark.parametrize("limits", [{"body_timeout_seconds": 0.5, "header_timeout_seconds": 30}])
async def test_a_body_that_never_arrives_gets_408_and_the_connection_closed(server):
    request = (
        b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 200\r\n\r\n{"state": '
    )
    client = await open_slow(server.port, request)
    try:
        answer = await within(client.wait_closed_by_server(), 10, "an answer to the slow body")
    finally:
        client.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"took too long" in answer
    assert client.held >= 0.5 - 0.05


@pytest.mark.parametrize(
    "limits", [{"keepalive_timeout_seconds": 0.5, "header_timeout_seconds": 30}]
)
async def test_an_idle_keep_alive_connection_is_closed_after_the_keepalive_timeout(server):
    client = await open_slow(server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    try:
        answer = await within(client.wait_closed_by_server(), 10, "closing the idle connection")
    finally:
        client.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert b"keep-alive" in answer.lower() or b"connection: close" not in answer.lower()
    assert server.guard.open_connections == 0


@pytest.mark.parametrize("limits", [{"max_connections": 8, "header_timeout_seconds": 60}])
async def test_past_the_cap_the_longest_idle_connection_makes_room(server):
    slow = [await open_slow(server.port) for _ in range(8)]
    try:
        await eventually(lambda: server.guard.open_connections == 8, 10, "8 connections open")
        assert await within(healthz(server), 5, "/healthz answering at the cap") == 200
        await within(slow[0].wait_closed_by_server(), 5, "closing the longest idle connection")
        assert all(client.is_open() for client in slow[1:])
        assert server.guard.evicted >= 1
        assert server.guard.open_connections <= 8
    finally:
        for client in slow:
            client.close()


SLOW_BODY = (
    b"POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100\r\n\r\n{"
)


@pytest.mark.parametrize(
    "limits",
    [{"max_connections": 8, "header_timeout_seconds": 60, "body_timeout_seconds": 60}],
)
async def test_at_the_cap_a_body_that_dawdles_makes_room_for_healthz(server):
    # Slowloris after the headers: every connection sent its request line and headers, and
    # its body a byte at a time. Such a connection is as slow as one without headers.
    slow = [await open_slow(server.port, SLOW_BODY) for _ in range(8)]
    try:
        await eventually(
            lambda: server.guard.open_connections == 8 and server.guard.idle_connections == 0,
            10,
            "8 connections are waiting for their bodies",
        )
        assert await within(healthz(server), 5, "/healthz answering at the cap") == 200
        await within(slow[0].wait_closed_by_server(), 5, "closing the longest waiting body")
        assert server.guard.evicted >= 1
        assert server.guard.open_connections <= 8
    finally:
        for client in slow:
            client.close()


@pytest.mark.parametrize("limits", [{"max_connections": 8, "header_timeout_seconds": 60}])
async def test_at_the_cap_a_request_only_waiting_out_its_penalty_makes_room(
    links, gateway, notifications, limits
):
    # Bad states are answered after a penalty; a client waiting it out must not hold the
    # server's connections: the cap would then refuse /healthz and every member's callback.
    penalty = BadStatePenalty(free=0, step=60.0, max_delay=60.0)
    server = CallbackServer(
        web_config(**limits),
        WebDependencies(links, is_connected=gateway, notify=notifications, penalty=penalty),
    )
    await server.start()
    port, guard = server.port, server.guard
    assert port is not None
    assert guard is not None
    bad = b"GET /oauth/callback?code=x&state=guessed HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    waiting = [await open_slow(port, bad) for _ in range(8)]
    try:
        await eventually(
            lambda: guard.open_connections == 8 and guard.idle_connections == 0,
            10,
            "8 requests are waiting out their penalty",
        )
        assert await within(healthz(server), 5, "/healthz answering at the cap") == 200
        await within(waiting[0].wait_closed_by_server(), 5, "closing the longest waiting one")
    finally:
        for client in waiting:
            client.close()
        await server.stop()


@pytest.mark.parametrize("limits", [{"max_connections": 8, "header_timeout_seconds": 60}])
async def test_when_every_connection_is_busy_a_new_one_is_closed_at_once(
    server, links, fake_imgur, http_session
):
    # Busy for real: each callback waits for Imgur's answer to its code.
    fake_imgur.redirect_url = f"http://127.0.0.1:{server.port}/oauth/callback"
    fake_imgur.add_account("alice")
    fake_imgur.login_as = "alice"
    hold = fake_imgur.hold("token")
    busy = []
    for member in range(1, 9):
        start = await links.start(member)
        target = path_and_query(await follow_authorize(http_session, start.url))
        request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        busy.append(await open_slow(server.port, request))
    try:
        await eventually(
            lambda: server.guard.open_connections == 8 and server.guard.idle_connections == 0,
            10,
            "8 connections are busy with requests",
        )
        extra = await open_slow(server.port)
        assert await within(extra.wait_closed_by_server(), 5, "refusing the extra one") == b""
        assert server.guard.refused >= 1
        assert all(client.is_open() for client in busy)
    finally:
        hold.release()
        for client in busy:
            client.close()


@pytest.mark.parametrize("limits", [{"header_timeout_seconds": 0.3, "max_connections": 1000}])
async def test_closing_many_slow_clients_logs_a_few_lines_not_one_each(server):
    stream = io.StringIO()
    setup_logging("INFO", "text", stream=stream)
    try:
        slow = await open_many(server.port, 100)
        try:
            await within(
                asyncio.gather(*(client.wait_closed_by_server() for client in slow)),
                15,
                "closing the slow connections",
            )
        finally:
            for client in slow:
                client.close()
    finally:
        logging.getLogger().handlers.clear()
    lines = [line for line in stream.getvalue().splitlines() if "no complete request" in line]
    assert 1 <= len(lines) <= 5, lines


@pytest.mark.parametrize(
    ("configured", "fd_limit", "cap", "backlog"),
    [
        (256, None, 256, 128),  # no limit known: as configured
        (256, 1_048_576, 256, 128),  # Docker's usual limit
        (256, 1024, 256, 128),  # a login shell's
        (1000, 1024, 512, 128),  # half the descriptors at most
        (256, 256, 128, 32),
        (256, 10, 8, 16),  # never below 8 connections
    ],
)
def test_the_cap_and_backlog_fit_the_descriptor_limit(configured, fd_limit, cap, backlog):
    limits = ConnectionLimits(max_connections=configured).for_descriptor_limit(fd_limit)
    assert limits.max_connections == cap
    assert listen_backlog(fd_limit) == backlog
