"""The bot in a process of its own, so its CPU time and memory can be read alone.

    python -m bench.bot_process --config JSON [--bare] [--guild-ready-timeout S]

``--config`` is the raw configuration (as ``bot.config.parse_config`` takes it), pointed at a
fake Discord and a fake Imgur on 127.0.0.1. Prints one JSON line when the bot is READY
(``on_ready``: discord.py's ``wait_until_ready``), with monotonic timestamps of the phases,
then runs until SIGTERM or stdin closes. ``--bare`` runs a bare ``discord.ext.commands.Bot``
with the same intents and no cogs, as the baseline.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()  # before the heavy imports

import argparse  # noqa: E402
import asyncio  # noqa: E402
import collections  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

from bench.children import announce, wait_for_stdin_close_or_signal  # noqa: E402
from bench.procfs import rss_bytes  # noqa: E402

if TYPE_CHECKING:
    from discord.ext import commands

STATS_FILE = ""  # --stats-file: garbage-collector figures written here at the end


async def run_bare(raw: dict[str, Any], guild_ready_timeout: float | None) -> None:
    import discord
    import discord.gateway
    import discord.http
    import yarl
    from discord.ext import commands

    imported = time.monotonic()
    discord.http.Route.BASE = raw["discord"]["api_base"]
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(raw["discord"]["gateway_url"])
    intents = discord.Intents.none()
    intents.guilds = True
    options: dict[str, Any] = {}
    if guild_ready_timeout is not None:
        options["guild_ready_timeout"] = guild_ready_timeout
    bot = commands.Bot(
        command_prefix=commands.when_mentioned, intents=intents, help_command=None, **options
    )
    await _run(bot, raw["discord"]["token"], imported)


async def run_imgur_bot(raw: dict[str, Any], guild_ready_timeout: float | None) -> None:
    from bot.app import create_bot
    from bot.config import parse_config
    from bot.logs import setup_logging

    imported = time.monotonic()
    config = parse_config(raw, {})
    setup_logging(config.logging.level, config.logging.format)
    options = {} if guild_ready_timeout is None else {"guild_ready_timeout": guild_ready_timeout}
    bot = create_bot(config, **options)
    await _run(bot, config.discord.token, imported)


class GcWatch:
    """Counts and times the garbage collector's passes, per generation."""

    def __init__(self) -> None:
        self.started: float = 0.0
        self.passes: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.started = time.perf_counter()
        else:
            self.passes[info["generation"]].append(time.perf_counter() - self.started)

    def summary(self) -> dict[str, Any]:
        return {
            str(gen): {"count": len(p), "total": sum(p), "max": max(p, default=0.0)}
            for gen, p in self.passes.items()
        }


async def _run(bot: commands.Bot, token: str, imported: float) -> None:
    setup_done: list[float] = []
    original_setup = bot.setup_hook

    async def timed_setup_hook() -> None:
        await original_setup()
        setup_done.append(time.monotonic())

    bot.setup_hook = timed_setup_hook  # type: ignore[method-assign]  # timed in place
    runner = asyncio.create_task(bot.start(token))
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait({ready, runner}, timeout=60, return_when="FIRST_COMPLETED")
        if runner in done:
            runner.result()
        if ready not in done:
            raise TimeoutError("the bot did not become ready within 60 s")
        announce(
            {
                "event": "ready",
                "started": STARTED,
                "imported": imported,
                "setup_done": setup_done[0] if setup_done else None,
                "ready": time.monotonic(),
                "guild_ready_timeout": bot._connection.guild_ready_timeout,
                "rss": rss_bytes(),
            }
        )
        if STATS_FILE:
            watch = GcWatch()
            gc.callbacks.append(watch)
        await wait_for_stdin_close_or_signal()
        if STATS_FILE:
            kinds = collections.Counter(type(o).__name__ for o in gc.get_objects())
            stats = {
                "gc": watch.summary(),
                "gc_objects": sum(kinds.values()),
                "top_kinds": kinds.most_common(12),
            }
            _write(Path(STATS_FILE), json.dumps(stats))
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="the bot in its own process, for benchmarks")
    parser.add_argument("--config", required=True, help="raw configuration as JSON")
    parser.add_argument("--bare", action="store_true", help="a bare discord.py bot instead")
    parser.add_argument("--guild-ready-timeout", type=float, default=None)
    parser.add_argument("--stats-file", default="", help="write GC figures here at the end")
    args = parser.parse_args()
    global STATS_FILE
    STATS_FILE = args.stats_file
    raw = json.loads(args.config)
    run = run_bare if args.bare else run_imgur_bot
    asyncio.run(run(raw, args.guild_ready_timeout))


if __name__ == "__main__":
    main()
