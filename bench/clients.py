"""Benchmark 1: this project's Imgur client against the clients a bot author would use instead.

    python -m bench.clients [--quick]

N favorites fetches (page 0, 60 items each) at concurrency C against a fake Imgur that adds
20 ms to every answer, run in its own process. Each client runs in a fresh process of its own,
so its CPU time and peak RSS are its alone:

- ``bare``: the ceiling, one ``aiohttp.ClientSession`` and ``json.loads`` of the body;
- ``ours``: ``bot.imgur.ImgurClient.favorites`` on a session set up as the bot sets it up;
- ``aioimgur``: ``ImgurClient.get_account_favorites`` (it opens a session per request);
- ``pyimgur``: ``User.get_favorites`` through ``asyncio.to_thread`` (the default executor, as a
  discord.py bot would call it; ``requests`` opens a connection per request).

Neither peer takes a base URL: aioimgur's module constant ``API_URL`` is monkeypatched, and
PyImgur's ``Imgur.base_url`` attribute is set on the instance. Clients run in rounds
(interleaved, to spread drift); the best round of each counts.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bench.children import child, run_child
from bench.cli import cli
from bench.figures import mb
from bench.procfs import cpu_seconds
from bench.report import Report

LATENCY = 0.02
CONCURRENCY = 50
CLIENTS = ("bare", "ours", "aioimgur", "pyimgur")
PEERS = ("aioimgur", "pyimgur")
# Requests per client in a full run; PyImgur is an order of magnitude slower.
FULL_N = {
    "bare": 10_000,
    "ours": 10_000,
    "aioimgur": 6_000,
    "pyimgur": 2_000,
}
QUICK_DIVISOR = 10
RUN_TIMEOUT = 240.0

Fetch = Callable[[], Awaitable[int]]
Close = Callable[[], Awaitable[None]]


# --- the clients (run inside the child process) -------------------------------------------


async def make_bare(server: dict[str, Any]) -> tuple[Fetch, Close]:
    import aiohttp

    session = aiohttp.ClientSession()
    url = f"{server['base_url']}/3/account/me/favorites/0/newest"
    headers = {"Authorization": f"Bearer {server['access_token']}"}
    loads = json.loads

    async def fetch() -> int:
        async with session.get(url, headers=headers) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}")
        return len(loads(body)["data"])

    return fetch, session.close


async def make_ours(server: dict[str, Any]) -> tuple[Fetch, Close]:
    import aiohttp

    from bot.imgur import ImgurClient, Sort

    # As bot.app.ImgurBot.setup_hook builds it.
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=10),
        headers={"User-Agent": "imgur-link-bot (self-hosted Discord bot)"},
    )
    client = ImgurClient(
        session,
        server["client_id"],
        server["client_secret"],
        api_base=server["base_url"],
        timeout=10,
    )
    token = server["access_token"]

    async def fetch() -> int:
        return len(await client.favorites(token, page=0, sort=Sort.NEWEST))

    async def close() -> None:
        await session.close()

    return fetch, close


async def make_aioimgur(server: dict[str, Any]) -> tuple[Fetch, Close]:
    import aioimgur.client

    aioimgur.client.API_URL = server["base_url"] + "/"  # no base-URL setting: monkeypatched
    client = aioimgur.client.ImgurClient(
        server["client_id"],
        server["client_secret"],
        access_token=server["access_token"],
        refresh_token=server["refresh_token"],
    )

    async def fetch() -> int:
        return len(await client.get_account_favorites("me", 0))

    async def close() -> None:
        return None

    return fetch, close


async def make_pyimgur(server: dict[str, Any]) -> tuple[Fetch, Close]:
    import pyimgur

    imgur = pyimgur.Imgur(
        server["client_id"],
        server["client_secret"],
        access_token=server["access_token"],
        refresh_token=server["refresh_token"],
    )
    imgur.base_url = server["base_url"]  # an instance attribute: no monkeypatch needed
    user = await asyncio.to_thread(imgur.get_user, "me")

    async def fetch() -> int:
        return len(await asyncio.to_thread(user.get_favorites, limit=60))

    async def close() -> None:
        return None

    return fetch, close


async def make_client(name: str, server: dict[str, Any]) -> tuple[Fetch, Close]:
    if name == "bare":
        return await make_bare(server)
    if name == "ours":
        return await make_ours(server)
    if name == "aioimgur":
        return await make_aioimgur(server)
    if name == "pyimgur":
        return await make_pyimgur(server)
    raise ValueError(name)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def drive(fetch: Fetch, count: int, concurrency: int, expect: int = 60) -> int:
    """``count`` fetches, ``concurrency`` at a time; returns how many came back short."""
    remaining = count
    short = 0

    async def worker() -> None:
        nonlocal remaining, short
        while remaining > 0:
            remaining -= 1
            if await fetch() != expect:
                short += 1

    async with asyncio.timeout(RUN_TIMEOUT):
        await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
    return short


async def run_one(
    name: str, server: dict[str, Any], count: int, concurrency: int
) -> dict[str, Any]:
    fetch, close = await make_client(name, server)
    try:
        await drive(fetch, max(50, count // 20), concurrency)  # warm-up: connections, caches
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        short = await drive(fetch, count, concurrency)
        wall, cpu = time.perf_counter() - wall0, cpu_seconds() - cpu0
    finally:
        await close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "client": name,
        "requests": count,
        "wall": wall,
        "cpu": cpu,
        "rps": count / wall,
        "cpu_per_1000": cpu / count * 1000,
        "peak_rss": peak,
        "short": short,
    }


# --- the driver ------------------------------------------------------------------------------


async def measure(
    clients: tuple[str, ...], counts: dict[str, int], rounds: int, mode: str = "lean"
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The best round of each client, and the server's CPU load per run."""
    best: dict[str, dict[str, Any]] = {}
    loads: list[str] = []
    async with child("bench.imgur_server", "--mode", mode, "--latency", str(LATENCY)) as server:
        hello = json.dumps(server.hello)
        for _ in range(rounds):
            for name in clients:
                cpu0 = cpu_seconds(server.pid)
                result = await run_child(
                    "bench.clients",
                    "--run",
                    name,
                    "--server",
                    hello,
                    "--n",
                    str(counts[name]),
                    "--concurrency",
                    str(CONCURRENCY),
                    timeout=RUN_TIMEOUT + 60,
                )
                server_cpu = cpu_seconds(server.pid) - cpu0
                result["server_cpu_per_1000"] = server_cpu / counts[name] * 1000
                loads.append(
                    f"{mode}/{name}: server {result['server_cpu_per_1000']:.2f} CPU-s/1000"
                )
                if name not in best or result["rps"] > best[name]["rps"]:
                    best[name] = result
    return best, loads


async def bench(quick: bool = False) -> Report:
    report = Report("1. Client vs peers")
    divisor = QUICK_DIVISOR if quick else 1
    # Peers come with the `bench` extra; a missing one is skipped and said so.
    clients = tuple(name for name in CLIENTS if name not in PEERS or _installed(name))
    missing = [name for name in PEERS if not _installed(name)]
    if missing:
        report.notes.append(f"not installed, skipped: {', '.join(missing)} (pip install .[bench])")
    counts = {name: FULL_N[name] // divisor for name in clients}
    best, _ = await measure(clients, counts, rounds=1 if quick else 2)
    fake_best, _ = await measure(("bare",), counts, rounds=1, mode="fake")

    ceiling = best["bare"]
    labels = {
        "bare": "bare aiohttp loop (ceiling)",
        "ours": "this project's ImgurClient",
        "aioimgur": "aioimgur 0.1.1",
        "pyimgur": "PyImgur 0.8.1 via asyncio.to_thread",
    }
    report.notes.append(
        f"{LATENCY * 1000:.0f} ms injected latency, concurrency {CONCURRENCY}, page 0 of 60 "
        "items per request; lean fake Imgur in its own process, each client in a fresh process"
    )
    for name in clients:
        r = best[name]
        line = (
            f"{r['rps']:.0f} req/s ({r['rps'] / ceiling['rps']:.2f}x ceiling), "
            f"{r['cpu_per_1000']:.2f} CPU-s/1000 "
            f"({r['cpu_per_1000'] / ceiling['cpu_per_1000']:.2f}x),"
            f" wall {r['wall']:.1f} s for {r['requests']}, peak RSS {mb(r['peak_rss'])}"
        )
        if r["short"]:
            line += f", {r['short']} short pages"
        report.add(labels[name], line)
    ours = best["ours"]
    ratio = ours["rps"] / ceiling["rps"]
    cpu_ratio = ours["cpu_per_1000"] / ceiling["cpu_per_1000"]
    report.add("ours / ceiling throughput", f"{ratio:.2f}x", ">= 0.85x", ratio >= 0.85)
    report.add("ours / ceiling CPU per request", f"{cpu_ratio:.2f}x", "<= 1.5x", cpu_ratio <= 1.5)
    versus = []
    for name, label in (("aioimgur", "aioimgur"), ("pyimgur", "PyImgur")):
        if name in best:
            report.add(f"ours / {label} throughput", f"{ours['rps'] / best[name]['rps']:.2f}x")
            versus.append(f"{ours['rps'] / best[name]['rps']:.1f}x {label}")
    fake = fake_best["bare"]
    report.add(
        "bare loop against tests' FakeImgur",
        f"{fake['rps']:.0f} req/s ({fake['rps'] / ceiling['rps']:.2f}x of the lean server), "
        f"server {fake['server_cpu_per_1000']:.2f} vs lean "
        f"{ceiling['server_cpu_per_1000']:.2f} CPU-s/1000",
    )
    report.summary = (
        f"ours {ours['rps']:.0f} req/s = {ratio:.2f}x the bare-aiohttp ceiling "
        f"({ceiling['rps']:.0f} req/s), {cpu_ratio:.2f}x its CPU per request"
        + (f"; {', '.join(versus)}" if versus else "")
    )
    return report


def main() -> None:
    if "--run" not in sys.argv:
        cli(bench, "Benchmark 1: client vs peers (--quick: a tenth of the requests, one round)")
        return
    parser = argparse.ArgumentParser(description="one client's run (child process)")
    parser.add_argument("--run", required=True, choices=tuple(FULL_N))
    parser.add_argument("--server", required=True, help="the fake Imgur's JSON line")
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    args = parser.parse_args()
    result = asyncio.run(run_one(args.run, json.loads(args.server), args.n, args.concurrency))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
