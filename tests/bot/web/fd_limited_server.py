"""``python -m tests.bot.web.fd_limited_server DIR LIMIT``: the callback server in a process whose
file-descriptor limit is ``LIMIT``, for tests/bot/web/test_descriptor_limit.py.

Prints ``port N`` once listening. Reads commands from stdin, one a line, and answers each on
stdout: ``dial PORT`` opens (and closes) a TCP connection to 127.0.0.1:PORT, as the bot's calls
to Discord and Imgur would, and prints ``dial ok`` or ``dial failed: ...``; ``open`` prints how
many connections the server holds; ``quit`` stops.
"""

from __future__ import annotations

import asyncio
import resource
import sys
from pathlib import Path

import aiohttp

from bot.logs import setup_logging
from bot.storage import LinkStore, TokenCipher, generate_key
from tests.bot.web.local_server import local_callback_server
from tests.clients import imgur_client


async def main(directory: Path, limit: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    setup_logging("INFO", "text")
    store = await LinkStore.open(directory / "bot.db", TokenCipher([generate_key()]))
    session = aiohttp.ClientSession()
    imgur = imgur_client(session)  # never called: no request in this test reaches Imgur
    server = local_callback_server(
        store,
        imgur,
        max_connections=100_000,  # more than the descriptors allow: the server caps it
        header_timeout_seconds=120,
    )
    await server.start()
    print(f"port {server.port}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := (await reader.readline()).decode().split():
            if line[0] == "dial":
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", int(line[1]))
                    writer.close()
                    print("dial ok", flush=True)
                except OSError as exc:
                    print(f"dial failed: {exc}", flush=True)
            elif line[0] == "open":
                guard = getattr(server, "guard", None)
                print(f"open {guard.open_connections if guard else -1}", flush=True)
            elif line[0] == "quit":
                break
    finally:
        await server.stop()
        await store.close()
        await session.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
