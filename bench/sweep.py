"""Benchmark 3: the token refresh sweep at scale.

    python -m bench.sweep [--quick]

Links are inserted straight through sqlite3 (tokens encrypted with the store's
``TokenCipher``), then ``TokenManager.sweep`` runs as the bot's refresh loop runs it, on a
``LinkStore`` and an ``ImgurClient`` set up as ``bot.app`` sets them up, with the concurrency
read from the configuration. The fake token endpoint (``bench.imgur_server``, lean mode)
answers after 50 ms, in its own process, so the CPU time of this process is the bot's.

- all due: every link expires within the lead; time to refresh them all, efficiency against
  the bound ``concurrency / latency``, CPU per refresh, database size; then the same sweep
  again right away (nothing is due: tokens were just refreshed for an hour);
- none due, as the table grows to 10k, 100k, 1M links, of two kinds: tokens expiring in 30 to
  60 days (outside the one-day lead), and one-hour tokens refreshed 2 to 18 minutes ago
  (inside the lead, not half-way through their life: what every link looks like between two
  sweeps when Imgur hands out one-hour tokens); plus the time to refresh 200 due links among
  them. (The sweep asks SQLite only for links past half their token's life, through the index
  of migration 0002, so the second kind costs no more than the first.)
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.children import child
from bench.cli import cli
from bench.figures import mb
from bench.identities import CLIENT_ID, CLIENT_SECRET, member_id
from bench.procfs import cpu_seconds
from bench.report import Report
from bench.seeding import create_database, database_bytes, insert_links

if TYPE_CHECKING:
    from bot.config import Config
    from bot.tokens import SweepResult

LATENCY = 0.05
SWEEP_TIMEOUT = 400.0
DUE_AMONG = 200
Patch = Callable[[], contextlib.AbstractContextManager[None]]


def _config(imgur_base: str, db: Path, concurrency: int) -> Config:
    from bot.config import parse_config

    raw = {
        "discord": {"token": "unused"},
        "imgur": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_base": imgur_base},
        "storage": {"database": str(db)},
        "refresh": {"concurrency": concurrency},
    }
    return parse_config(raw, {})


async def run_sweep(
    db: Path, key: str, imgur_base: str, concurrency: int, patches: tuple[Patch, ...] = ()
) -> tuple[SweepResult, float, float]:
    """One sweep as the bot runs it; returns (SweepResult, wall seconds, CPU seconds)."""
    import aiohttp

    from bot.imgur import ImgurClient
    from bot.storage import LinkStore, TokenCipher
    from bot.tokens import TokenManager

    config = _config(imgur_base, db, concurrency)
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=config.imgur.request_timeout_seconds)
    )
    store = await LinkStore.open(db, TokenCipher([key]))
    try:
        imgur = ImgurClient(
            session,
            config.imgur.client_id,
            config.imgur.client_secret,
            api_base=config.imgur.api_base,
            timeout=config.imgur.request_timeout_seconds,
        )
        manager = TokenManager(
            store,
            imgur,
            lead=timedelta(seconds=config.refresh.lead_seconds),
            concurrency=config.refresh.concurrency,
        )
        with contextlib.ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch())
            cpu0, wall0 = cpu_seconds(), time.perf_counter()
            async with asyncio.timeout(SWEEP_TIMEOUT):
                result = await manager.sweep()
            return result, time.perf_counter() - wall0, cpu_seconds() - cpu0
    finally:
        await store.close()
        await session.close()


async def all_due(
    tmp: Path,
    key: str,
    imgur_base: str,
    links: int,
    concurrency: int,
    patches: tuple[Patch, ...] = (),
) -> dict[str, Any]:
    """Refresh ``links`` links that are all due; then sweep once more (none due)."""
    db = Path(tempfile.mkdtemp(dir=tmp)) / "due.db"
    now = int(time.time())
    await create_database(db, key)
    # Expiring over the next 10 minutes, linked 30 days before: every one is due.
    insert_links(db, key, links, expires_at=now + 1, linked_at=now - 30 * 86400, spread=600)
    size_before = database_bytes(db)
    result, wall, cpu = await run_sweep(db, key, imgur_base, concurrency, patches)
    again, again_wall, again_cpu = await run_sweep(db, key, imgur_base, concurrency, patches)
    size_after = database_bytes(db)
    shutil.rmtree(db.parent)
    bound = concurrency / LATENCY
    return {
        "links": links,
        "concurrency": concurrency,
        "refreshed": result.refreshed,
        "failed": result.failed,
        "wall": wall,
        "rate": result.refreshed / wall,
        "efficiency": result.refreshed / wall / bound,
        "cpu_per_refresh": cpu / max(1, result.refreshed),
        "size_before": size_before,
        "size_after": size_after,
        "again_refreshed": again.refreshed,
        "again_wall": again_wall,
        "again_cpu": again_cpu,
    }


async def none_due(
    tmp: Path,
    key: str,
    imgur_base: str,
    sizes: list[int],
    *,
    hourly: bool,
    variants: dict[str, tuple[Patch, ...]],
    repeats: int,
    with_due: bool,
) -> list[dict[str, Any]]:
    """Per table size: sweep time with none due (per variant), then (``with_due``) with
    ``DUE_AMONG`` due."""
    db = Path(tempfile.mkdtemp(dir=tmp)) / "none-due.db"
    now = int(time.time())
    await create_database(db, key)
    rows: list[dict[str, Any]] = []
    have = 0
    for size in sizes:
        # Tokens are never decrypted when nothing is due: one encrypted pair serves all rows.
        # 1-hour tokens issued 100 s to 1,100 s before the start (not half-way through their
        # life for another 700 s at least), or tokens expiring 30 to 60 days from now.
        insert_links(
            db,
            key,
            size - have,
            start=have,
            expires_at=now + (2500 if hourly else 30 * 86400),
            linked_at=now + (2500 - 3600 if hourly else -86400),
            spread=1000 if hourly else 30 * 86400,
            distinct_tokens=False,
        )
        have = size
        row: dict[str, Any] = {"links": size, "size": database_bytes(db)}
        for name, patches in variants.items():
            times, cpus = [], []
            for _ in range(repeats if size < 1_000_000 or not hourly else 1):
                result, wall, cpu = await run_sweep(db, key, imgur_base, 8, patches)
                if result.refreshed:
                    raise RuntimeError(f"{result.refreshed} links were due; none should be")
                times.append(wall)
                cpus.append(cpu)
            row[name] = statistics.median(times)
            row[name + "_cpu"] = statistics.median(cpus)
        rows.append(row)
        if not with_due:
            continue
        # DUE_AMONG links due now, numbered past the table's: only they get refreshed.
        insert_links(
            db,
            key,
            DUE_AMONG,
            start=50_000_000 + size,
            expires_at=now + 1,
            linked_at=now - 30 * 86400,
            spread=600,
        )
        result, due_wall, due_cpu = await run_sweep(db, key, imgur_base, 8, variants["current"])
        row.update(due_refreshed=result.refreshed, due_wall=due_wall, due_cpu=due_cpu)
        # Gone again, so they do not linger in the lead window of the next size's sweeps.
        with contextlib.closing(sqlite3.connect(db)) as conn:
            conn.execute("DELETE FROM links WHERE discord_user_id >= ?", (member_id(50_000_000),))
            conn.commit()
    shutil.rmtree(db.parent)
    return rows


def _rate_line(row: dict[str, Any]) -> str:
    return (
        f"{row['refreshed']:,} refreshed in {row['wall']:.1f} s = {row['rate']:.0f}/s "
        f"(bound {row['concurrency'] / LATENCY:.0f}/s), efficiency {row['efficiency']:.2f}, "
        f"{row['cpu_per_refresh'] * 1000:.2f} ms CPU per refresh"
        + (f", {row['failed']} failed" if row["failed"] else "")
    )


async def bench(quick: bool = False) -> Report:
    report = Report("3. Refresh sweep at scale")
    from bot.config import RefreshConfig
    from bot.storage import generate_key

    default_c = RefreshConfig().concurrency
    big, big_c = (10_000, 32) if quick else (100_000, 32)
    sample = 500 if quick else 2_000
    ladder = 2_000 if quick else 8_000
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    key = generate_key()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as name:
        tmp = Path(name)
        async with child("bench.imgur_server", "--latency", str(LATENCY)) as server:
            base = server.hello["base_url"]
            default = await all_due(tmp, key, base, sample, default_c)
            full = await all_due(tmp, key, base, big, big_c)
            c64 = await all_due(tmp, key, base, ladder, 64)
            far = await none_due(
                tmp,
                key,
                base,
                sizes,
                hourly=False,
                variants={"current": ()},
                repeats=5,
                with_due=True,
            )
            hourly = await none_due(
                tmp,
                key,
                base,
                sizes,
                hourly=True,
                variants={"current": ()},
                repeats=3,
                with_due=False,
            )

    report.notes.append(
        f"token endpoint latency {LATENCY * 1000:.0f} ms (lean fake Imgur, own process); at the "
        f"default concurrency ({default_c}) {big:,} links take {big / (default_c / LATENCY):.0f} s"
        f" at best, so the {big:,}-link run sets refresh.concurrency = {big_c} in its config"
    )
    report.add(f"{default['links']:,} due, concurrency {default_c} (default)", _rate_line(default))
    report.add(f"{full['links']:,} due, concurrency {big_c}", _rate_line(full))
    report.add(f"{c64['links']:,} due, concurrency 64", _rate_line(c64))
    for row in (default, full):
        report.add(
            f"efficiency, concurrency {row['concurrency']}",
            f"{row['efficiency']:.2f}",
            ">= 0.8",
            row["efficiency"] >= 0.8,
        )
    worst_cpu = max(default["cpu_per_refresh"], full["cpu_per_refresh"])
    report.add(
        "CPU per refresh (worst of the two)",
        f"{worst_cpu * 1000:.2f} ms",
        "<= 1 ms",
        worst_cpu <= 0.001,
    )
    report.add(
        f"database size, {full['links']:,} links",
        f"{mb(full['size_before'])} before the sweep, {mb(full['size_after'])} after (with WAL)",
    )
    report.add(
        f"sweep right after, {full['links']:,} links just refreshed",
        f"{full['again_refreshed']} refreshed, {full['again_wall'] * 1000:.0f} ms, "
        f"{full['again_cpu'] * 1000:.0f} ms CPU",
    )
    for row in far:
        report.add(
            f"none due (long-lived tokens), {row['links']:,} links",
            f"{row['current'] * 1000:.1f} ms; {row['due_refreshed']} of {DUE_AMONG} due: "
            f"{row['due_wall']:.2f} s, {row['due_cpu'] * 1000:.0f} ms CPU; db {mb(row['size'])}",
        )
    for row in hourly:
        report.add(
            f"none due (1-hour tokens), {row['links']:,} links",
            f"{row['current'] * 1000:.1f} ms ({row['current_cpu'] * 1000:.1f} ms CPU)",
        )
    far_growth = far[-1]["current"] / far[0]["current"]
    due_growth = far[-1]["due_cpu"] / far[0]["due_cpu"]
    hourly_growth = hourly[-1]["current"] / hourly[0]["current"]
    span = f"{sizes[0]:,} -> {sizes[-1]:,} links"
    report.add(
        f"growth {span}, long-lived tokens",
        f"none due x{far_growth:.2f}, {DUE_AMONG} due x{due_growth:.2f} (CPU)",
        "flat (O(due))",
        far_growth < 3 and due_growth < 1.5,
    )
    report.add(
        f"growth {span}, 1-hour tokens",
        f"none due x{hourly_growth:.2f}",
        "flat (O(due))",
        hourly_growth < 3,
    )
    report.summary = (
        f"{full['links']:,} due links refreshed in {full['wall']:.0f} s at concurrency {big_c} "
        f"(efficiency {full['efficiency']:.2f}, {full['cpu_per_refresh'] * 1000:.2f} ms CPU each;"
        f" CPU-bound near {c64['rate']:.0f}/s); none due over {sizes[-1]:,} links: "
        f"{far[-1]['current'] * 1000:.1f} ms with long-lived tokens, "
        f"{hourly[-1]['current'] * 1000:.1f} ms with 1-hour tokens"
    )
    return report


def main() -> None:
    cli(bench, "Benchmark 3: refresh sweep at scale (--quick: 10,000 links, not 100,000)")


if __name__ == "__main__":
    main()
