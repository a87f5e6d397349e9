"""Benchmark 2: ``/imgur favorites`` under a steady load.

    python -m bench.commands_load [--quick] [--rate R] [--seconds S]

Three processes on the machine's cores: the real bot (``bench.bot_process``, unmodified
``ImgurBot``) alone in one, so its CPU time is read from ``/proc``; the fake Discord of the test
suite with the load generator in this one; the lean fake Imgur (200 ms per answer) in a third.
Every command comes from a different member (all linked beforehand, straight in the database),
so every one needs its own uncached favorites page from Imgur: the worst case for the bot.

Measured per command, by the fake Discord's clock: acknowledgement latency (dispatch of the
INTERACTION_CREATE to the accepted deferral callback) and completion latency (dispatch to the
accepted follow-up with the embeds). The bot's added latency is completion minus the Imgur
round trip, measured on its own against the same server before the load. The bot's resident
memory is read when it is idle after the warm-up (the first few hundred commands fill SQLite's
page cache, aiohttp's connection pool and discord.py's parsers), and again after the load:
favorites pagers keep no state in the bot (it lives in each button's custom id), so only the
page cache (``cache.max_entries`` pages) may grow.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.bot_config import bot_config
from bench.children import child
from bench.cli import cli
from bench.figures import ms, percentile
from bench.identities import member_id
from bench.procfs import cpu_seconds, rss_bytes
from bench.report import Report
from bench.seeding import create_database, insert_links
from bench.timed_discord import TimedDiscord
from tests.fakes.discord_models import FakeInteraction, FakeUser

IMGUR_LATENCY = 0.2
RATE = 100.0
SECONDS = 30.0
QUICK_SECONDS = 5.0
WARMUP = 300  # commands before the measured load; the bot's memory when idle is read after them
DRAIN_TIMEOUT = 15.0
ACK_DEADLINE = 3.0
RSS_GROWTH_TARGET = 15e6  # issue 13: 3,000 commands' pagers must not grow the bot by more


async def imgur_round_trip(base_url: str, token: str, count: int = 20) -> float:
    """Median time of one favorites page straight from the fake Imgur (sequential GETs)."""
    import aiohttp

    url = f"{base_url}/3/account/me/favorites/0/newest"
    times = []
    async with aiohttp.ClientSession() as session:
        for _ in range(count):
            started = time.perf_counter()
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as r:
                json.loads(await r.read())
            times.append(time.perf_counter() - started)
    return statistics.median(times)


async def send_at_rate(
    discord: TimedDiscord, users: Sequence[FakeUser], rate: float
) -> tuple[list[FakeInteraction], float]:
    """One ``/imgur favorites`` per user, ``rate`` a second; returns the interactions and the
    rate actually achieved."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    interactions: list[FakeInteraction] = []
    for number, user in enumerate(users):
        delay = start + number / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        interactions.append(await discord.slash_command(user, "imgur", "favorites", {}))
    elapsed = loop.time() - start
    return interactions, (len(users) - 1) / elapsed if elapsed > 0 else float("nan")


async def load_run(
    rate: float, seconds: float, bot_options: tuple[str, ...] = ()
) -> dict[str, Any]:
    """One bot process under ``rate`` commands a second for ``seconds``; the raw figures."""
    from bot.storage import generate_key

    count = int(rate * seconds)
    key = generate_key()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as name:
        tmp = Path(name)
        now = int(time.time())
        await create_database(tmp / "bot.db", key)
        insert_links(
            tmp / "bot.db", key, WARMUP + count, expires_at=now + 30 * 86400, linked_at=now
        )
        discord = TimedDiscord()
        async with child("bench.imgur_server", "--latency", str(IMGUR_LATENCY)) as imgur, discord:
            round_trip = await imgur_round_trip(
                imgur.hello["base_url"], imgur.hello["access_token"]
            )
            raw = bot_config(
                tmp,
                discord,
                imgur_base=imgur.hello["base_url"],
                key=key,
                refresh={"interval_seconds": 86400},
            )
            args = [
                "bench.bot_process",
                "--config",
                json.dumps(raw),
                "--guild-ready-timeout",
                "0.1",
                "--stats-file",
                str(tmp / "gc.json"),
                *bot_options,
            ]
            async with child(*args, stderr_path=tmp / "bot.log") as bot:
                # Members join after READY, so GUILD_CREATE stays small.
                users = [
                    discord.add_user(member_id(n), name=f"m{n}") for n in range(WARMUP + count)
                ]
                bot_rss_ready = rss_bytes(bot.pid)  # READY, no command yet
                warm, _ = await send_at_rate(discord, users[:WARMUP], 50.0)
                await discord.wait_completed(warm, DRAIN_TIMEOUT)
                bot_rss_idle = rss_bytes(bot.pid)  # warmed up, before the load
                bot_cpu0, own_cpu0, imgur_cpu0 = (
                    cpu_seconds(bot.pid),
                    cpu_seconds(),
                    cpu_seconds(imgur.pid),
                )
                wall0 = time.monotonic()
                interactions, achieved = await send_at_rate(discord, users[WARMUP:], rate)
                await discord.wait_completed(interactions, DRAIN_TIMEOUT)
                wall = time.monotonic() - wall0
                bot_cpu = cpu_seconds(bot.pid) - bot_cpu0
                own_cpu = cpu_seconds() - own_cpu0
                imgur_cpu = cpu_seconds(imgur.pid) - imgur_cpu0
                bot_rss = rss_bytes(bot.pid)
            log_lines = (tmp / "bot.log").read_text(errors="replace").splitlines()
            gc_stats = json.loads((tmp / "gc.json").read_text(encoding="utf-8"))

    acks = [i.acknowledged_after for i in interactions if i.acknowledged_after is not None]
    completions = [t for t in map(discord.completion, interactions) if t is not None]
    after_ack = [
        t - i.acknowledged_after
        for i in interactions
        if (t := discord.completion(i)) is not None and i.acknowledged_after is not None
    ]
    return {
        "count": count,
        "achieved": achieved,
        "round_trip": round_trip,
        "acks": acks,
        "completions": completions,
        "after_ack": after_ack,
        "wall": wall,
        "bot_cpu": bot_cpu,
        "own_cpu": own_cpu,
        "imgur_cpu": imgur_cpu,
        "bot_rss": bot_rss,
        "bot_rss_idle": bot_rss_idle,
        "bot_rss_ready": bot_rss_ready,
        "gc": gc_stats["gc"],
        "gc_objects": gc_stats["gc_objects"],
        "top_kinds": gc_stats["top_kinds"],
        "errors": [line for line in log_lines if " ERROR " in line or "Traceback" in line],
    }


def _gc_line(run: dict[str, Any]) -> str:
    full = run["gc"]["2"]
    young = run["gc"]["0"]
    return (
        f"{full['count']} full (gen 2) collections, longest {ms(full['max'])}, "
        f"{ms(full['total'])} in all; {young['count']} gen-0 passes, longest {ms(young['max'])}"
    )


async def bench(quick: bool = False, rate: float = RATE, seconds: float | None = None) -> Report:
    report = Report("2. Commands under load")
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    run = await load_run(rate, seconds)
    count, acks, completions = run["count"], run["acks"], run["completions"]
    within = sum(1 for a in acks if a <= ACK_DEADLINE)
    share = within / count
    ack_p99 = percentile(acks, 99)
    ack_max = max(acks, default=float("nan"))
    added = percentile(completions, 50) - run["round_trip"]
    added_after_ack = percentile(run["after_ack"], 50) - run["round_trip"]
    bot_cpu = run["bot_cpu"]

    report.notes.append(
        f"{count:,} commands from {count:,} different members at {rate:.0f}/s for {seconds:.0f} s "
        f"(achieved {run['achieved']:.1f}/s); fake Imgur {IMGUR_LATENCY * 1000:.0f} ms per answer,"
        f" measured round trip {run['round_trip'] * 1000:.1f} ms; bot, fake Discord and fake "
        "Imgur in three processes"
    )
    report.add(
        "acknowledged within 3 s",
        f"{within:,} of {count:,} ({share:.1%})",
        "100%",
        within == count,
    )
    report.add(
        "acknowledgement latency",
        f"p50 {ms(percentile(acks, 50))}, p99 {ms(ack_p99)}, max {ms(ack_max)}",
    )
    report.add("acknowledgement p99", ms(ack_p99), "<= 50 ms", ack_p99 <= 0.050)
    report.add(
        "completion latency",
        f"p50 {ms(percentile(completions, 50))}, p99 {ms(percentile(completions, 99))}, "
        f"{len(completions):,} completed",
    )
    report.add(
        "bot's added latency at p50 (completion - Imgur round trip)",
        ms(added),
        "<= 5 ms",
        added <= 0.005,
    )
    report.add(
        "  of which after the acknowledgement",
        f"{ms(added_after_ack)} (before it: the gateway event and the deferral round trip)",
    )
    report.add(
        "CPU per command",
        f"bot {bot_cpu / count * 1000:.2f} ms ({bot_cpu / run['wall']:.0%} of a core); fake "
        f"Discord + load {run['own_cpu'] / count * 1000:.2f} ms; fake Imgur "
        f"{run['imgur_cpu'] / count * 1000:.2f} ms",
    )
    grown = run["bot_rss"] - run["bot_rss_idle"]
    report.add(
        f"bot resident memory after {count:,} favorites commands vs idle",
        f"{run['bot_rss'] / 1e6:.1f} MB after, {run['bot_rss_idle'] / 1e6:.1f} MB idle after "
        f"{WARMUP} warm-up commands (+{grown / 1e6:.1f} MB; {run['bot_rss_ready'] / 1e6:.1f} MB "
        "at READY before any command)",
        f"<= +{RSS_GROWTH_TARGET / 1e6:.0f} MB",
        grown <= RSS_GROWTH_TARGET,
    )
    report.add("bot's garbage collector during the run", _gc_line(run))
    if run["errors"]:
        report.add("errors logged by the bot", f"{len(run['errors'])}: {run['errors'][0][:200]}")
    report.summary = (
        f"{share:.1%} of {count:,} commands at {run['achieved']:.0f}/s acknowledged within 3 s; "
        f"ack p50/p99/max {ms(percentile(acks, 50))}/{ms(ack_p99)}/{ms(ack_max)}; "
        f"completion p50 {ms(percentile(completions, 50))}"
        f" ({ms(added)} over the Imgur round trip); {bot_cpu / count * 1000:.2f} ms bot CPU each"
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=f"Benchmark 2: commands under load (--quick: {QUICK_SECONDS:.0f} s of load)"
    )
    parser.add_argument("--rate", type=float, default=RATE, help="commands per second")
    parser.add_argument("--seconds", type=float, default=None, help="length of the load")
    cli(bench, "", parser)


if __name__ == "__main__":
    main()
