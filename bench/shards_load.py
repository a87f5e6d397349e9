"""Benchmark 6: commands per second with the bot in 1 process and split into 3 shard processes.

    python -m bench.shards_load [--quick] [--seconds S] [--window N] [--postgres URL]

The real bot (``bench.bot_process``, unmodified ``ImgurBot``) under a closed loop: ``--window``
``/imgur favorites`` commands are kept in flight, a new one sent as soon as one is answered,
each from a different member (linked beforehand), so each needs its own favorites page from the
lean fake Imgur (200 ms an answer, its own process). The fake Discord of the test suite (with
shards: each guild's interactions go to its shard's connection) and the load run in this
process. Commands are spread evenly over one guild per shard.

Set-ups, one after the other:
- 1 process, no sharding, SQLite (the default bot);
- 1 process running 3 shards (``AutoShardedBot``), SQLite;
- with ``--postgres URL`` (or ``BOT_BENCH_POSTGRES`` / ``BOT_TEST_POSTGRES``): 1 process and
  3 processes of one shard each, on that PostgreSQL (a schema of their own, dropped after).

Measured: completed commands per second over the load (after a warm-up), acknowledgement
latency and the share acknowledged within Discord's 3 s, CPU per command of the bot processes
together and of this process (fake Discord + load). Everything shares the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bot_config import bot_config
from bench.children import child
from bench.cli import cli
from bench.commands_load import IMGUR_LATENCY
from bench.figures import ms, percentile
from bench.identities import access_token, member_id, refresh_token
from bench.postgres import fresh_schema
from bench.procfs import cpu_seconds, load_average
from bench.report import Report
from bench.seeding import create_database, insert_links
from bench.timed_discord import TimedDiscord
from tests.fakes.discord_models import FakeInteraction, FakeUser

SECONDS = 20.0
QUICK_SECONDS = 5.0
WINDOW = 150  # commands in flight
WARMUP = 30  # per bot process
SHARDS = 3
ACK_DEADLINE = 3.0


@dataclass(frozen=True)
class Setup:
    label: str
    processes: int  # bot processes
    shard_count: int  # 0: not sharded
    postgres: bool


def setups(postgres: str) -> list[Setup]:
    chosen = [
        Setup("1 process, not sharded, SQLite", 1, 0, False),
        Setup(f"1 process running {SHARDS} shards, SQLite", 1, SHARDS, False),
    ]
    if postgres:
        chosen += [
            Setup(f"1 process running {SHARDS} shards, PostgreSQL", 1, SHARDS, True),
            Setup(f"{SHARDS} processes of 1 shard, PostgreSQL", SHARDS, SHARDS, True),
        ]
    return chosen


def shard_ids(setup: Setup, process: int) -> list[int]:
    """The shards process ``process`` runs: all of them, or its share."""
    if setup.processes == 1:
        return []
    return list(range(process, setup.shard_count, setup.processes))


async def seed_postgres(url: str, key: str, count: int, now: int) -> None:
    """``count`` linked members (not due), written through the bot's own store."""
    from bot.config import parse_config
    from bot.database import open_store
    from bot.storage import Link

    config = parse_config({"storage": {"database": url, "encryption_key": key}}, {})
    store = await open_store(config)
    moment = datetime.fromtimestamp(now, UTC)

    async def save(n: int) -> None:
        await store.save_link(
            Link(
                discord_user_id=member_id(n),
                imgur_account_id=10_000_000 + n,
                imgur_username=f"m{n}",
                access_token=access_token(n),
                refresh_token=refresh_token(n),
                expires_at=moment + timedelta(days=30),
                linked_at=moment,
            )
        )

    try:
        for first in range(0, count, 50):
            await asyncio.gather(*(save(n) for n in range(first, min(first + 50, count))))
    finally:
        await store.close()


async def closed_loop(
    discord: TimedDiscord,
    users: Sequence[FakeUser],
    channels: Sequence[int],
    window: int,
    seconds: float,
) -> tuple[list[FakeInteraction], float]:
    """Keep ``window`` commands in flight for ``seconds``; the interactions sent, and the time
    the loop ran."""
    loop = asyncio.get_running_loop()
    done = asyncio.Queue[int]()
    discord.on_completed = done.put_nowait
    sent: list[FakeInteraction] = []
    started = loop.time()
    in_flight = 0
    next_user = 0
    try:
        while loop.time() - started < seconds and next_user < len(users):
            while in_flight < window and next_user < len(users):
                channel = channels[next_user % len(channels)]
                inter = await discord.slash_command(
                    users[next_user], "imgur", "favorites", {}, channel_id=channel
                )
                sent.append(inter)
                next_user += 1
                in_flight += 1
            remaining = seconds - (loop.time() - started)
            try:
                await asyncio.wait_for(done.get(), max(0.01, min(remaining, 5.0)))
            except TimeoutError:
                continue
            in_flight -= 1
            while not done.empty():
                done.get_nowait()
                in_flight -= 1
    finally:
        discord.on_completed = None
    return sent, loop.time() - started


async def run_setup(setup: Setup, seconds: float, window: int, postgres: str) -> dict[str, Any]:
    from bot.storage import generate_key

    shard_count = max(1, setup.shard_count)
    # Enough members for the fastest rate seen (about 400/s on 2 cores), and the warm-up.
    members = WARMUP * setup.processes + int(seconds * 600) + window
    key = generate_key()
    with tempfile.TemporaryDirectory(prefix="bench-shards-") as name:
        tmp = Path(name)
        now = int(time.time())
        async with AsyncExitStack() as stack:
            if setup.postgres:
                database = await stack.enter_async_context(fresh_schema(postgres))
                await seed_postgres(database, key, members, now)
            else:
                database = str(tmp / "bot.db")
                await create_database(tmp / "bot.db", key)
                insert_links(
                    tmp / "bot.db", key, members, expires_at=now + 86400 * 30, linked_at=now
                )
            imgur = await stack.enter_async_context(
                child("bench.imgur_server", "--latency", str(IMGUR_LATENCY))
            )
            discord = TimedDiscord(shard_count=shard_count)
            await stack.enter_async_context(discord)
            channels = [discord.text_channel_id]
            for shard in range(1, shard_count):
                guild = discord.add_guild(f"guild on shard {shard}", shard=shard)
                channels.append(discord.add_text_channel("general", guild_id=guild))
            bots = []
            for process in range(setup.processes):
                discord_section: dict[str, Any] = {}
                if setup.shard_count:
                    discord_section = {
                        "shard_count": setup.shard_count,
                        "shard_ids": shard_ids(setup, process),
                    }
                raw = bot_config(
                    tmp / f"p{process}",
                    discord,
                    imgur_base=imgur.hello["base_url"],
                    key=key,
                    refresh={"interval_seconds": 86400},
                    discord=discord_section,
                    storage={"database": database},
                )
                args = ["bench.bot_process", "--config", json.dumps(raw)]
                args += ["--guild-ready-timeout", "0.1"]
                bots.append(
                    await stack.enter_async_context(
                        child(*args, stderr_path=tmp / f"bot{process}.log", hello_timeout=120)
                    )
                )
            users = [discord.add_user(member_id(n), name=f"m{n}") for n in range(members)]
            warm_count = WARMUP * setup.processes
            warm, _ = await closed_loop(discord, users[:warm_count], channels, 20, 60.0)
            await discord.wait_completed(warm, 15.0)
            bot_cpu0 = sum(cpu_seconds(b.pid) for b in bots)
            own_cpu0 = cpu_seconds()
            imgur_cpu0 = cpu_seconds(imgur.pid)
            load = users[warm_count:]
            sent, elapsed = await closed_loop(discord, load, channels, window, seconds)
            measured_until = time.monotonic()
            completed_in_time = sum(
                1
                for i in sent
                if i.id in discord.completed_at and discord.completed_at[i.id] <= measured_until
            )
            bot_cpu = sum(cpu_seconds(b.pid) for b in bots) - bot_cpu0
            own_cpu = cpu_seconds() - own_cpu0
            imgur_cpu = cpu_seconds(imgur.pid) - imgur_cpu0
            await discord.wait_completed(sent, 15.0)
            errors, late = [], 0
            for process in range(setup.processes):
                text = (tmp / f"bot{process}.log").read_text(errors="replace")
                errors += [ln for ln in text.splitlines() if " ERROR " in ln]
                late += text.count("error code: 10062")  # answered after Discord's 3 s
            per_shard = {
                shard: sum(1 for f in conn.sent if f["t"] == "INTERACTION_CREATE")
                for shard, conn in discord.shards.items()
            }
    acks = [i.acknowledged_after for i in sent if i.acknowledged_after is not None]
    return {
        "setup": setup,
        "sent": len(sent),
        "completed": completed_in_time,
        "rate": completed_in_time / elapsed,
        "elapsed": elapsed,
        "acks": acks,
        "within": sum(1 for a in acks if a <= ACK_DEADLINE),
        "bot_cpu": bot_cpu,
        "own_cpu": own_cpu,
        "imgur_cpu": imgur_cpu,
        "per_shard": per_shard,
        "errors": errors,
        "late": late,
    }


async def bench(
    quick: bool = False,
    seconds: float | None = None,
    window: int = WINDOW,
    postgres: str = "",
) -> Report:
    report = Report("6. Commands per second, 1 process and 3 shard processes")
    seconds = seconds or (QUICK_SECONDS if quick else SECONDS)
    postgres = postgres or os.environ.get("BOT_BENCH_POSTGRES", "")
    postgres = postgres or os.environ.get("BOT_TEST_POSTGRES", "")
    load_before = load_average()
    runs = [await run_setup(setup, seconds, window, postgres) for setup in setups(postgres)]
    load_after = load_average()
    for run in runs:
        setup: Setup = run["setup"]
        count = max(1, run["completed"])
        acks = run["acks"]
        report.add(
            setup.label,
            f"{run['rate']:.0f} commands/s ({run['completed']:,} in {run['elapsed']:.1f} s); "
            f"ack p50 {ms(percentile(acks, 50))}, p99 {ms(percentile(acks, 99))}; "
            f"{run['within']:,} of {run['sent']:,} acknowledged within 3 s; "
            f"CPU per command: bots {run['bot_cpu'] / count * 1000:.2f} ms, fake Discord + load "
            f"{run['own_cpu'] / count * 1000:.2f} ms, fake Imgur "
            f"{run['imgur_cpu'] / count * 1000:.2f} ms",
        )
        if setup.shard_count:
            shares = ", ".join(f"shard {k}: {n:,}" for k, n in sorted(run["per_shard"].items()))
            report.add("  interactions per shard (warm-up included)", shares)
        if run["late"]:
            report.add(
                "  deferred too late (10062 Unknown interaction)",
                f"{run['late']}: the machine's cores ran out",
            )
        others = len(run["errors"]) - run["late"]
        if others > 0:
            report.add("  other errors logged", f"{others}: {run['errors'][0][:200]}")
    if not postgres:
        report.notes.append(
            "no PostgreSQL given (--postgres, BOT_BENCH_POSTGRES or BOT_TEST_POSTGRES): the "
            "3-process set-up needs a shared database server and was not run"
        )
    report.notes.append(
        f"closed loop of {window} commands in flight for {seconds:.0f} s per set-up, each from "
        f"another member; fake Imgur {IMGUR_LATENCY * 1000:.0f} ms per answer; {os.cpu_count()} "
        "cores shared by the bot processes, the fake Discord with the load, and the fake Imgur"
    )
    report.notes.append(
        f"load average (1 min) {load_before} before, {load_after} after: other work on the "
        "machine takes cores from these figures"
    )
    report.summary = "; ".join(f"{run['setup'].label}: {run['rate']:.0f}/s" for run in runs)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Benchmark 6: commands per second, 1 process and 3 shard processes"
    )
    parser.add_argument("--seconds", type=float, default=None, help="length of each load")
    parser.add_argument("--window", type=int, default=WINDOW, help="commands in flight")
    parser.add_argument("--postgres", default="", help="PostgreSQL URL for the shared set-ups")
    cli(bench, "", parser)


if __name__ == "__main__":
    main()
