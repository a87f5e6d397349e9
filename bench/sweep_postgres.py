"""Benchmark 9: the refresh sweep on PostgreSQL, by 1 and by 3 processes, beside SQLite.

    python -m bench.sweep_postgres [--quick] [--postgres URL] [--links N] [--due N]
                                   [--concurrency C]

Needs a PostgreSQL server: ``--postgres``, else ``$BENCH_POSTGRES`` or ``$BOT_TEST_POSTGRES``
(``source .ci/postgres`` starts one); without one it reports that it did not run. Each run
uses a schema of its own, dropped at the end.

- shared sweep: a table of ``--links`` links of which ``--due`` are due, swept once by one
  bot process and once (after refilling) by three processes at the same moment, each an OS
  process running ``TokenManager.sweep`` on its own ``LinkStore`` (an asyncpg pool) with
  ``--concurrency`` refreshes in flight. The fake token endpoint (``bench.imgur_server``, lean
  mode, 50 ms) counts the refresh tokens presented twice: duplicate refreshes. Efficiency is
  the refresh rate against the bound ``processes * concurrency / latency``.
- none due: the cost of the sweep's claim query (``claim_due``: what each sweep asks first)
  and of a whole sweep when nothing is due, as the table grows from 10k to 1M links; the same
  on SQLite beside it (``storage.database`` a file, as the default bot runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.children import announce, child
from bench.cli import cli
from bench.identities import CLIENT_ID, CLIENT_SECRET, access_token, member_id, refresh_token
from bench.postgres import fresh_schema
from bench.procfs import cpu_seconds
from bench.report import Report
from bench.seeding import create_database, insert_links

if TYPE_CHECKING:
    from bot.storage import LinkStore

LATENCY = 0.05
LEASE = timedelta(minutes=5)


def postgres_url(given: str | None) -> str | None:
    return given or os.environ.get("BENCH_POSTGRES") or os.environ.get("BOT_TEST_POSTGRES")


async def fill_postgres(url: str, key: str, count: int, *, start: int, due: bool) -> None:
    """``count`` ok links (members ``start..``) straight through COPY, refresh times set.

    Due links expire within the next 10 minutes and were linked 30 days ago, each with its own
    tokens; the others expire in 30 to 60 days and share one encrypted pair (never decrypted).
    """
    import asyncpg

    from bot.storage import RefreshRule, TokenCipher

    cipher = TokenCipher([key])
    rule = RefreshRule()
    now = int(time.time())
    shared = (cipher.encrypt(access_token(0)), cipher.encrypt(refresh_token(0)))
    connection = await asyncpg.connect(url)
    try:
        batch = 50_000
        for first in range(start, start + count, batch):
            records = []
            for n in range(first, min(first + batch, start + count)):
                shift = (n - start) * (600 if due else 30 * 86400) // count
                expires = (now + 1 if due else now + 30 * 86400) + shift
                linked = (now - 30 * 86400 if due else now - 86400) + shift
                if due:
                    tokens = (cipher.encrypt(access_token(n)), cipher.encrypt(refresh_token(n)))
                else:
                    tokens = shared
                records.append(
                    (
                        member_id(n),
                        "oauth",
                        10_000_000 + n,
                        f"m{n}",
                        *tokens,
                        expires,
                        "ok",
                        linked,
                        rule.refresh_after_seconds(expires, linked),
                    )
                )
            await connection.copy_records_to_table(
                "links",
                records=records,
                columns=[
                    "discord_user_id",
                    "kind",
                    "imgur_account_id",
                    "imgur_username",
                    "access_token",
                    "refresh_token",
                    "expires_at",
                    "status",
                    "linked_at",
                    "refresh_after",
                ],
            )
        await connection.execute("ANALYZE links")
    finally:
        await connection.close()


async def open_store(database: str, key: str, pool_size: int = 10) -> LinkStore:
    from bot.storage import LinkStore, TokenCipher

    return await LinkStore.open(database, TokenCipher([key]), pool_size=pool_size)


# -- one bot process's sweep (run as a child: python -m bench.sweep_postgres --worker ...) -----


async def worker(database: str, key: str, imgur_base: str, concurrency: int) -> None:
    """Open the store, say ready, wait for "go" on stdin, sweep once, print the result."""
    import aiohttp

    from bot.imgur import ImgurClient
    from bot.tokens import TokenManager

    store = await open_store(database, key, pool_size=concurrency + 2)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
    try:
        imgur = ImgurClient(session, CLIENT_ID, CLIENT_SECRET, api_base=imgur_base, timeout=10)
        manager = TokenManager(store, imgur, concurrency=concurrency, lease=LEASE)
        announce({"ready": True})
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        result = await manager.sweep()
        wall = time.perf_counter() - wall0
        announce(
            {
                "refreshed": result.refreshed,
                "failed": result.failed,
                "wall": wall,
                "cpu": cpu_seconds() - cpu0,
            }
        )
    finally:
        await session.close()
        await store.close()


async def shared_sweep(
    database: str, key: str, imgur_base: str, processes: int, concurrency: int
) -> dict[str, Any]:
    """``processes`` bot processes sweep one database at the same moment."""
    args = ["bench.sweep_postgres", "--worker", "--database", database, "--key", key]
    args += ["--imgur", imgur_base, "--concurrency", str(concurrency)]
    with tempfile.TemporaryDirectory(prefix="bench-sweep-pg-") as logs:
        async with contextlib.AsyncExitStack() as stack:
            sweepers = [
                await stack.enter_async_context(
                    child(*args, stderr_path=Path(logs) / f"worker{n}.log")
                )
                for n in range(processes)
            ]
            wall0 = time.perf_counter()
            for sweeper in sweepers:
                await sweeper.send_line("go")
            results = [await sweeper.read_json(timeout=900) for sweeper in sweepers]
            wall = time.perf_counter() - wall0
            for sweeper in sweepers:
                await asyncio.wait_for(sweeper.process.wait(), 30)
    refreshed = sum(r["refreshed"] for r in results)
    bound = processes * concurrency / LATENCY
    return {
        "processes": processes,
        "refreshed": refreshed,
        "failed": sum(r["failed"] for r in results),
        "per_process": [r["refreshed"] for r in results],
        "wall": wall,
        "rate": refreshed / wall,
        "efficiency": refreshed / wall / bound,
        "cpu_per_refresh": sum(r["cpu"] for r in results) / max(1, refreshed),
    }


async def imgur_counts(base: str) -> dict[str, int]:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(f"{base}/_bench/stats") as answer:
        counts: dict[str, int] = (await answer.json())["counts"]
        return counts


# -- none due: the claim query and a whole sweep, as the table grows ---------------------------


async def none_due_costs(database: str, key: str, repeats: int) -> dict[str, float]:
    """Median ms of the sweep's claim query and of a whole sweep, with no link due."""
    from bot.tokens import TokenManager

    store = await open_store(database, key)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        claims, sweeps = [], []
        manager = TokenManager(store, _NoImgur(), concurrency=8, lease=LEASE)  # type: ignore[arg-type]
        for _ in range(repeats):
            t0 = time.perf_counter()
            claimed = await store.claim_due(
                now + timedelta(days=1), 16, now=now, owner="bench", lease=LEASE
            )
            claims.append(time.perf_counter() - t0)
            if claimed:
                raise RuntimeError(f"{len(claimed)} links were due; none should be")
            t0 = time.perf_counter()
            result = await manager.sweep()
            sweeps.append(time.perf_counter() - t0)
            if result.refreshed or result.failed:
                raise RuntimeError("a sweep with nothing due refreshed something")
        return {
            "claim_ms": statistics.median(claims) * 1000,
            "sweep_ms": statistics.median(sweeps) * 1000,
        }
    finally:
        await store.close()


class _NoImgur:
    """The sweep never calls Imgur when nothing is due."""

    async def refresh(self, refresh_token: str) -> Any:
        raise AssertionError("nothing is due: Imgur must not be called")


async def postgres_plan(database: str) -> str:
    import asyncpg

    from bot.storage.postgres import CLAIM_DUE_SQL

    connection = await asyncpg.connect(database)
    try:
        now = int(time.time())
        rows = await connection.fetch(
            "EXPLAIN " + CLAIM_DUE_SQL, now, now + 86400, -(2**63), -(2**63), -(2**63), 16, "x", 0
        )
        return " / ".join(
            row[0].strip() for row in rows if "Index" in row[0] or "Seq Scan" in row[0]
        )
    finally:
        await connection.close()


# -- the benchmark -----------------------------------------------------------------------------


async def bench(
    quick: bool = False,
    postgres: str | None = None,
    links: int | None = None,
    due: int | None = None,
    concurrency: int | None = None,
) -> Report:
    report = Report("9. Refresh sweep on PostgreSQL, 1 and 3 processes")
    url = postgres_url(postgres)
    if url is None:
        report.summary = "not run: no PostgreSQL (give --postgres URL or set BENCH_POSTGRES)"
        report.add("PostgreSQL", "not available", "a server", False)
        return report
    from bot.storage import generate_key

    links = links or (100_000 if quick else 1_000_000)
    due = due or (2_000 if quick else 20_000)
    concurrency = concurrency or 16
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    sizes = [size for size in sizes if size <= max(links, sizes[0])]
    key = generate_key()
    report.notes.append(
        f"ran: table of {links:,} links, {due:,} due, concurrency {concurrency} per process, "
        f"token endpoint latency {LATENCY * 1000:.0f} ms (lean fake Imgur, own process); "
        f"none-due sizes {', '.join(f'{s:,}' for s in sizes)}"
    )
    sweeps: list[dict[str, Any]] = []
    async with child("bench.imgur_server", "--latency", str(LATENCY)) as server:
        base = server.hello["base_url"]
        for processes in (1, 3):
            async with fresh_schema(url) as database:
                await (await open_store(database, key)).close()  # migrate
                # Members (and so refresh tokens) of their own for each run: the fake Imgur
                # counts a refresh token it saw before as a duplicate refresh.
                offset = processes * 10_000_000
                await fill_postgres(database, key, links - due, start=offset, due=False)
                await fill_postgres(database, key, due, start=offset + links, due=True)
                before = await imgur_counts(base)
                row = await shared_sweep(database, key, base, processes, concurrency)
                after = await imgur_counts(base)
                row["token_calls"] = after["token"] - before["token"]
                row["duplicates"] = after["token_reused"] - before["token_reused"]
                row["due"] = due
                sweeps.append(row)
        # The same sweep on SQLite (one process: SQLite has one writer), same machine and moment.
        tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-pg-"))
        try:
            from bench.sweep import all_due

            lite_sweep = await all_due(tmp, key, base, due, concurrency)
        finally:
            shutil.rmtree(tmp)
    for row in sweeps:
        report.add(
            f"{row['due']:,} due among {links:,}, {row['processes']} process(es)",
            f"{row['refreshed']:,} refreshed in {row['wall']:.1f} s = {row['rate']:.0f}/s, "
            f"efficiency {row['efficiency']:.2f}, per process {row['per_process']}, "
            f"{row['token_calls']:,} token calls, {row['cpu_per_refresh'] * 1000:.2f} ms CPU each"
            + (f", {row['failed']} failed" if row["failed"] else ""),
        )
        report.add(
            f"duplicate refreshes, {row['processes']} process(es)",
            str(row["duplicates"]),
            "0",
            row["duplicates"] == 0 and row["token_calls"] == row["refreshed"] == due,
        )
        report.add(
            f"efficiency, {row['processes']} process(es)",
            f"{row['efficiency']:.2f}",
            ">= 0.8",
            row["efficiency"] >= 0.8,
        )

    report.add(
        f"{due:,} due, SQLite, 1 process (beside)",
        f"{lite_sweep['refreshed']:,} refreshed in {lite_sweep['wall']:.1f} s = "
        f"{lite_sweep['rate']:.0f}/s, efficiency {lite_sweep['efficiency']:.2f}, "
        f"{lite_sweep['cpu_per_refresh'] * 1000:.2f} ms CPU each",
    )

    pg_rows: list[dict[str, Any]] = []
    async with fresh_schema(url) as database:
        await (await open_store(database, key)).close()
        have = 0
        for size in sizes:
            await fill_postgres(database, key, size - have, start=have, due=False)
            have = size
            pg_rows.append({"links": size, **await none_due_costs(database, key, repeats=7)})
        plan = await postgres_plan(database)
    sqlite_rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-pg-"))
    try:
        db = tmp / "bot.db"
        await create_database(db, key)
        have, now = 0, int(time.time())
        for size in sizes:
            insert_links(
                db,
                key,
                size - have,
                start=have,
                expires_at=now + 30 * 86400,
                linked_at=now - 86400,
                spread=30 * 86400,
                distinct_tokens=False,
            )
            have = size
            sqlite_rows.append({"links": size, **await none_due_costs(str(db), key, repeats=7)})
    finally:
        shutil.rmtree(tmp)
    for pg, lite in zip(pg_rows, sqlite_rows, strict=True):
        report.add(
            f"none due, {pg['links']:,} links: claim query / whole sweep",
            f"PostgreSQL {pg['claim_ms']:.2f} ms / {pg['sweep_ms']:.2f} ms; "
            f"SQLite {lite['claim_ms']:.2f} ms / {lite['sweep_ms']:.2f} ms",
        )
    for name, rows in (("PostgreSQL", pg_rows), ("SQLite", sqlite_rows)):
        growth = rows[-1]["claim_ms"] / rows[0]["claim_ms"]
        report.add(
            f"growth {sizes[0]:,} -> {sizes[-1]:,} links, none due, {name}",
            f"claim query x{growth:.2f}",
            "flat (O(due))",
            growth < 3,
        )
    report.notes.append(f"PostgreSQL plan of the claim query: {plan}")
    one, three = sweeps
    report.summary = (
        f"{due:,} due among {links:,} links on PostgreSQL: 1 process {one['rate']:.0f}/s "
        f"(efficiency {one['efficiency']:.2f}), 3 processes {three['rate']:.0f}/s "
        f"(efficiency {three['efficiency']:.2f}), duplicate refreshes "
        f"{one['duplicates']} and {three['duplicates']} (SQLite, 1 process: "
        f"{lite_sweep['rate']:.0f}/s, efficiency {lite_sweep['efficiency']:.2f}); "
        f"none due over {sizes[-1]:,} links: "
        f"claim {pg_rows[-1]['claim_ms']:.2f} ms (PostgreSQL), "
        f"{sqlite_rows[-1]['claim_ms']:.2f} ms (SQLite)"
    )
    return report


def main() -> None:
    if "--worker" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--worker", action="store_true")
        parser.add_argument("--database", required=True)
        parser.add_argument("--key", required=True)
        parser.add_argument("--imgur", required=True)
        parser.add_argument("--concurrency", type=int, required=True)
        args = parser.parse_args()
        asyncio.run(worker(args.database, args.key, args.imgur, args.concurrency))
        return
    parser = argparse.ArgumentParser(description="Benchmark 9: the sweep on PostgreSQL")
    parser.add_argument("--postgres", metavar="URL", help="server to use (a schema is made)")
    parser.add_argument("--links", type=int, help="links in the table (default 1,000,000)")
    parser.add_argument("--due", type=int, help="of them due (default 20,000)")
    parser.add_argument("--concurrency", type=int, help="per process (default 16)")
    cli(bench, "Benchmark 9: the refresh sweep on PostgreSQL", parser)


if __name__ == "__main__":
    main()
