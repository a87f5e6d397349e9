"""Benchmark 7: the callback server under slow clients (slowloris).

    python -m bench.slow_clients [--quick]

The real ``CallbackServer`` (in this process, SQLite store) with its default connection cap
(256) and a 2 s header deadline. First ``/healthz`` is timed on an idle server; then N raw
connections that never finish their headers are opened (1000; 200 with --quick) and
``/healthz`` is timed again while they are held; then the time until the server has closed
every slow connection is measured. The figures: ``/healthz`` latency with and without them,
how many connections the server held at most, how long the slowest one was held.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp

from bench.cli import cli
from bench.figures import ms
from bench.report import Report

HEADER_TIMEOUT = 2.0
PROBES = 50


async def healthz_latencies(base: str, count: int) -> list[float]:
    latencies = []
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            started = time.perf_counter()
            async with session.get(base + "/healthz") as response:
                await response.read()
                assert response.status == 200, response.status
            latencies.append(time.perf_counter() - started)
    return latencies


async def bench(quick: bool) -> Report:
    from bot.imgur import ImgurClient
    from bot.logs import setup_logging
    from bot.storage import LinkStore, TokenCipher, generate_key
    from tests.bot.web.local_server import local_callback_server

    setup_logging("WARNING")  # as the bot logs: repeated complaints rate-limited
    slow_count = 200 if quick else 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = slow_count * 2 + 256  # both ends of every connection live in this process
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))

    report = Report("7. Callback server under slow clients")
    with tempfile.TemporaryDirectory() as tmp:
        store = await LinkStore.open(Path(tmp) / "bot.db", TokenCipher([generate_key()]))
        session = aiohttp.ClientSession()
        imgur = ImgurClient(session, "id", "secret", api_base="http://127.0.0.1:9")
        server = local_callback_server(store, imgur, header_timeout_seconds=HEADER_TIMEOUT)
        await server.start()
        base = f"http://127.0.0.1:{server.port}"
        guard = server.guard
        assert guard is not None
        try:
            idle = await healthz_latencies(base, PROBES)
            opened_at = time.monotonic()
            connections = await asyncio.gather(
                *(asyncio.open_connection("127.0.0.1", server.port) for _ in range(slow_count))
            )
            for _, writer in connections:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            peak = guard.open_connections
            swamped = await healthz_latencies(base, PROBES)
            peak = max(peak, guard.open_connections)

            async def closed(reader: asyncio.StreamReader) -> float:
                try:
                    while await reader.read(4096):
                        pass
                except ConnectionError:
                    pass
                return time.monotonic() - opened_at

            held = await asyncio.wait_for(
                asyncio.gather(*(closed(reader) for reader, _ in connections)),
                HEADER_TIMEOUT + 30,
            )
            for _, writer in connections:
                writer.close()
        finally:
            await server.stop()
            await store.close()
            await session.close()

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    report.add(
        "/healthz p50 / p95, idle server", f"{ms(statistics.median(idle))} / {ms(p95(idle))}"
    )
    report.add(
        f"/healthz p50 / p95, {slow_count} slow clients",
        f"{ms(statistics.median(swamped))} / {ms(p95(swamped))}",
        "p95 < 100 ms",
        p95(swamped) < 0.1,
    )
    report.add(
        "connections held at most",
        f"{peak} (cap {guard.limits.max_connections}; {guard.evicted} closed to make room)",
        f"<= {guard.limits.max_connections}",
        peak <= guard.limits.max_connections,
    )
    report.add(
        "slowest slow client held",
        f"{max(held):.2f} s (header deadline {HEADER_TIMEOUT:g} s)",
        "< 30 s",
        max(held) < 30,
    )
    report.summary = (
        f"{slow_count} slowloris connections: /healthz p95 {ms(p95(swamped))}, "
        f"all dropped within {max(held):.1f} s"
    )
    return report


def main() -> None:
    cli(bench, "Benchmark 7: the callback server under slow clients (--quick: 200 of them)")


if __name__ == "__main__":
    main()
