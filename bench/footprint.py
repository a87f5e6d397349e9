"""Benchmark 4: footprint. Time from start to READY, resident memory after READY.

    python -m bench.footprint [--quick]

Each bot runs in a fresh process of its own (``bench.bot_process``) against the fake Discord
(``tests/fakes/discord.py``, in this process) and the lean fake Imgur; its memory is read from
``/proc`` at READY and again after a settling pause (the first refresh sweep runs right after
READY). Cases: a bare ``discord.ext.commands.Bot`` with the same intents (the baseline), this
bot with an empty database, and this bot with 100,000 links (none due). Start-to-READY is
measured from just before the process is spawned (interpreter start and imports included) to
``on_ready``, which discord.py delays by ``guild_ready_timeout`` (2 s by default, left as is)
after the last GUILD_CREATE.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bot_config import bot_config
from bench.children import child
from bench.cli import cli
from bench.figures import mb
from bench.procfs import rss_bytes
from bench.report import Report
from bench.seeding import create_database, insert_links

SETTLE = 3.0
RSS_TARGET = 60e6


async def start_bot(
    tmp: Path,
    key: str,
    imgur_base: str,
    *,
    bare: bool,
    settle: float,
    options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    from tests.fakes.discord import FakeDiscord

    async with FakeDiscord() as discord:
        raw = bot_config(
            tmp,
            discord,
            imgur_base=imgur_base,
            key=key,
        )
        args = ["bench.bot_process", "--config", json.dumps(raw), *options]
        if bare:
            args.append("--bare")
        async with child(*args, stderr_path=tmp / "bot.log", env=env) as bot:
            hello = bot.hello
            at_ready = rss_bytes(bot.pid)
            await asyncio.sleep(settle)  # deliberate: memory after the first sweep has run
            settled = rss_bytes(bot.pid)
            peak = rss_bytes(bot.pid, "VmHWM")
    return {
        "to_ready": hello["ready"] - bot.started_at,
        "interpreter_and_imports": hello["imported"] - bot.started_at,
        "setup": (hello["setup_done"] - hello["imported"]) if hello["setup_done"] else None,
        "guild_ready_timeout": hello["guild_ready_timeout"],
        "rss_ready": at_ready,
        "rss_settled": settled,
        "rss_peak": peak,
    }


async def bench(quick: bool = False) -> Report:
    report = Report("4. Footprint")
    from bot.storage import generate_key

    links = 10_000 if quick else 100_000
    settle = 1.0 if quick else SETTLE
    key = generate_key()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as name:
        root = Path(name)
        async with child("bench.imgur_server") as imgur:
            base = imgur.hello["base_url"]
            cases: list[tuple[str, bool, int, tuple[str, ...]]] = [
                ("bare discord.py bot", True, 0, ()),
                ("this bot, 0 links", False, 0, ()),
                (f"this bot, {links:,} links", False, links, ()),
            ]
            for number, (label, bare, count, options) in enumerate(cases):
                tmp = root / str(number)
                tmp.mkdir()
                if count:
                    now = int(time.time())
                    db = tmp / "bot.db"
                    await create_database(db, key)
                    insert_links(db, key, count, expires_at=now + 60 * 86400, linked_at=now)
                results[label] = await start_bot(
                    tmp, key, base, bare=bare, settle=settle, options=options
                )
    baseline = results["bare discord.py bot"]
    for label, r in results.items():
        setup = f", setup_hook {r['setup'] * 1000:.0f} ms" if r["setup"] is not None else ""
        report.add(
            f"{label}: start to READY",
            f"{r['to_ready']:.2f} s (interpreter + imports {r['interpreter_and_imports']:.2f} s"
            f"{setup}, then gateway + {r['guild_ready_timeout']:.0f} s guild_ready_timeout)",
        )
        report.add(
            f"{label}: resident memory",
            f"{mb(r['rss_ready'])} at READY, {mb(r['rss_settled'])} {settle:.0f} s later "
            f"(peak {mb(r['rss_peak'])}; {r['rss_settled'] / baseline['rss_settled']:.2f}x bare)",
        )
    big = results[f"this bot, {links:,} links"]
    report.add(
        f"resident memory after READY, {links:,} links",
        mb(big["rss_settled"]),
        "<= 60 MB",
        big["rss_settled"] <= RSS_TARGET,
    )
    empty = results["this bot, 0 links"]
    report.summary = (
        f"READY {empty['to_ready']:.2f} s after start "
        f"(bare discord.py {baseline['to_ready']:.2f} s); "
        f"{mb(empty['rss_settled'])} resident with 0 links, {mb(big['rss_settled'])} with "
        f"{links:,} (bare discord.py {mb(baseline['rss_settled'])})"
    )
    return report


def main() -> None:
    cli(bench, "Benchmark 4: footprint (--quick: 10,000 links, shorter pause)")


if __name__ == "__main__":
    main()
