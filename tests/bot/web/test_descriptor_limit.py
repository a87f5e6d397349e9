"""The callback server in a process with few file descriptors, swamped by slow clients.

Without a cap, connections that never finish their headers use up every descriptor: accept()
fails (and the event loop logs it, again and again), ``/healthz`` cannot be reached, and the
bot's own calls out (Discord, Imgur, the database) fail with "Too many open files". The server
runs in a child process (tests/bot/web/fd_limited_server.py) with a limit of 256 descriptors; this
test opens 600 slow connections to it.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from tests.ops.conftest import clean_env

LIMIT = 256
SLOW = 600


async def line(process: asyncio.subprocess.Process, timeout: float = 30) -> str:  # noqa: ASYNC109
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), timeout)).decode().strip()


async def ask(process: asyncio.subprocess.Process, command: str) -> str:
    assert process.stdin is not None
    process.stdin.write(command.encode() + b"\n")
    await process.stdin.drain()
    return await line(process)


async def test_slow_clients_cannot_use_up_the_descriptors(tmp_path: Path) -> None:
    log_path = tmp_path / "server.log"
    listener = await asyncio.start_server(lambda _r, w: w.close(), "127.0.0.1", 0)
    outside_port = listener.sockets[0].getsockname()[1]  # stands for Discord and Imgur
    slow: list[asyncio.StreamWriter] = []
    with log_path.open("w", encoding="utf-8") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bot.web.fd_limited_server",
            str(tmp_path),
            str(LIMIT),
            env=clean_env(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        try:
            port = int((await line(process)).removeprefix("port "))
            for n in range(SLOW):
                try:
                    _, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", port), 5
                    )
                except (TimeoutError, OSError) as exc:
                    raise AssertionError(f"connection {n} was not accepted: {exc!r}") from None
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                slow.append(writer)
            await asyncio.gather(*(writer.drain() for writer in slow))

            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=10)
                ) as response,
            ):
                assert response.status == 200
            assert await ask(process, f"dial {outside_port}") == "dial ok"
            held = int((await ask(process, "open")).removeprefix("open "))
            assert 0 < held <= LIMIT // 2
            await ask(process, "quit")
            await asyncio.wait_for(process.wait(), 15)
        finally:
            for writer in slow:
                writer.close()
            if process.returncode is None:
                process.kill()
                await process.wait()
            listener.close()
    output = log_path.read_text(encoding="utf-8")
    assert "accept" not in output.lower(), output[-2000:]
    assert "Too many open files" not in output
    assert "serving at most 128 connections" in output
    eviction_lines = [text for text in output.splitlines() if "closing the longest idle" in text]
    assert 1 <= len(eviction_lines) <= 5, eviction_lines
