"""Shared pieces of the benchmarks: child processes, /proc readings, percentiles, bulk links.

Everything listens on and talks to 127.0.0.1 only. Child processes announce themselves with
one JSON line on stdout; the parent reads it with a deadline and stops them with SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

# Fixed credentials of the bench fakes (local only, never real).
CLIENT_ID = "benchclientid00"
CLIENT_SECRET = "benchclientsecret0000000000000000000000"
USER_ID_BASE = 300_000_000_000_000_000  # Discord user ids of bench members: base + n


# --- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1000:.1f} ms"


def mb(size_bytes: float) -> str:
    return f"{size_bytes / 1e6:.1f} MB"


@dataclass
class Figure:
    """One row of the summary: a measured value, the target it is held against, the verdict."""

    bench: str
    name: str
    value: str
    target: str = ""
    met: bool | None = None  # None: no target


@dataclass
class Report:
    """What one benchmark script hands back to ``python -m bench``."""

    title: str
    summary: str = ""
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, value: str, target: str = "", met: bool | None = None) -> None:
        self.figures.append(Figure(self.title, name, value, target, met))

    def print(self) -> None:
        print(f"\n## {self.title}")
        width = max((len(f.name) for f in self.figures), default=10)
        for fig in self.figures:
            verdict = "" if fig.met is None else ("  [met]" if fig.met else "  [MISSED]")
            target = f"   (target {fig.target})" if fig.target else ""
            print(f"  {fig.name:<{width}}  {fig.value}{target}{verdict}")
        for note in self.notes:
            print(f"  note: {note}")
        print(f"summary: {self.summary}")


# --- /proc ---------------------------------------------------------------------------------


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (all its threads) so far."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    with open(f"/proc/{pid}/stat", encoding="ascii") as file:
        fields = file.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int | None = None, key: str = "VmRSS") -> int:
    """Resident set size (``VmRSS``) or its peak (``VmHWM``) of a process, in bytes."""
    with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as file:
        for line in file:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/{pid}/status")


def machine() -> dict[str, str]:
    """What the figures were taken on."""
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo", encoding="ascii") as file:
        for line in file:
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.0f} GB"
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": mem,
        "python": sys.version.split()[0],
    }


# --- child processes -----------------------------------------------------------------------


@dataclass
class Child:
    """A running child process and the JSON line it announced itself with."""

    process: asyncio.subprocess.Process
    hello: dict[str, Any]
    started_at: float  # time.monotonic() just before it was spawned

    @property
    def pid(self) -> int:
        return self.process.pid

    async def read_json(self, timeout: float = 60.0) -> dict[str, Any]:  # noqa: ASYNC109
        """The next JSON line the child prints (other lines are skipped)."""
        return await _read_json_line(self.process, timeout)


async def _read_json_line(
    process: asyncio.subprocess.Process,
    timeout: float,  # noqa: ASYNC109
) -> dict[str, Any]:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"child {process.pid} printed no JSON line within {timeout} s")
        line = await asyncio.wait_for(process.stdout.readline(), remaining)
        if not line:
            code = await process.wait()
            raise RuntimeError(f"child {process.pid} exited ({code}) before printing its result")
        text = line.decode().strip()
        if text.startswith("{"):
            return dict(json.loads(text))


@contextlib.asynccontextmanager
async def child(
    *args: str,
    stderr_path: Path | None = None,
    hello_timeout: float = 60.0,
    stop_timeout: float = 15.0,
    env: dict[str, str] | None = None,
) -> AsyncIterator[Child]:
    """Run ``python -m <args>`` from the repository root; stop it with SIGTERM on exit."""
    stderr: Any = asyncio.subprocess.DEVNULL
    handle = None
    if stderr_path is not None:
        handle = stderr_path.open("ab")  # closed in finally
        stderr = handle
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        env=env,
    )
    try:
        try:
            hello = await _read_json_line(process, hello_timeout)
        except (RuntimeError, TimeoutError) as exc:
            if handle is not None:
                handle.flush()
                tail = _tail(stderr_path) if stderr_path else ""
                raise RuntimeError(f"{exc}; python -m {args[0]} said:\n{tail}") from None
            raise
        yield Child(process, hello, started)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), stop_timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if handle is not None:
            handle.close()


async def run_child(*args: str, timeout: float = 300.0) -> dict[str, Any]:  # noqa: ASYNC109
    """Run ``python -m <args>`` to completion and return the last JSON line it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    lines = [line for line in out.decode().splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(
            f"python -m {' '.join(args)} failed ({process.returncode}):\n{err.decode()[-3000:]}"
        )
    return dict(json.loads(lines[-1]))


def announce(payload: dict[str, Any]) -> None:
    """Print one JSON line for the parent process."""
    print(json.dumps(payload), flush=True)


async def wait_for_stdin_close_or_signal() -> None:
    """Block until the parent closes our stdin or sends SIGTERM/SIGINT."""
    import signal

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    reader = asyncio.StreamReader()
    with contextlib.suppress(OSError, ValueError):
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def eof() -> None:
        while await reader.read(4096):
            pass

    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(eof())]
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()


# --- bulk links ------------------------------------------------------------------------------


def member_id(n: int) -> int:
    return USER_ID_BASE + n


def access_token(n: int) -> str:
    """Tokens the lean fake Imgur accepts: ``at.<username>.<serial>``."""
    return f"at.m{n}.{n:08d}0000000000000000000000000000"


def refresh_token(n: int) -> str:
    return f"rt.m{n}.{n:08d}0000000000000000000000000000"


async def create_database(path: Path, key: str) -> None:
    """An empty, migrated database at ``path`` (through the store, as the bot creates it)."""
    from bot.storage import LinkStore, TokenCipher

    store = await LinkStore.open(path, TokenCipher([key]))
    await store.close()


def insert_links(
    path: Path,
    key: str,
    count: int,
    *,
    expires_at: int,
    linked_at: int,
    start: int = 0,
    spread: int = 0,
    distinct_tokens: bool = True,
    batch: int = 20_000,
) -> None:
    """Insert ``count`` ok links (members ``start..``) straight through sqlite3.

    With ``spread``, row i's ``expires_at`` and ``linked_at`` are both moved ``i * spread //
    count`` seconds later (same token lifetime), as links linked or refreshed at different
    times are: a table whose links all expire in the same second is not realistic (and makes
    the sweep's paging quadratic, see the report). Tokens are encrypted with the store's
    ``TokenCipher``; with ``distinct_tokens=False`` one encrypted pair is reused for every row
    (for rows never decrypted, to keep setup fast).
    """
    import sqlite3

    from bot.storage import RefreshRule, TokenCipher

    cipher = TokenCipher([key])
    rule = RefreshRule()  # the store's default lead, as the benchmarks' stores use
    shared = (cipher.encrypt(access_token(0)), cipher.encrypt(refresh_token(0)))
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")
        for first in range(start, start + count, batch):
            last = min(first + batch, start + count)
            rows = []
            for n in range(first, last):
                if distinct_tokens:
                    tokens = (cipher.encrypt(access_token(n)), cipher.encrypt(refresh_token(n)))
                else:
                    tokens = shared
                shift = (n - start) * spread // count
                rows.append(
                    (
                        member_id(n),
                        10_000_000 + n,
                        f"m{n}",
                        *tokens,
                        expires_at + shift,
                        "ok",
                        linked_at + shift,
                        rule.refresh_after_seconds(expires_at + shift, linked_at + shift),
                    )
                )
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO links (discord_user_id, imgur_account_id, imgur_username,"
                " access_token, refresh_token, expires_at, status, linked_at, refresh_after)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def database_bytes(path: Path) -> int:
    """Size of the database file with its -wal file."""
    total = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(FileNotFoundError):
            total += Path(str(path) + suffix).stat().st_size
    return total


def bot_config(
    tmp: Path,
    *,
    discord_rest: str,
    discord_gateway: str,
    discord_token: str,
    imgur_base: str,
    key: str,
    **sections: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """The raw configuration (as ``parse_config`` takes it) of a bot pointed at the fakes."""
    raw: dict[str, dict[str, Any]] = {
        "discord": {
            "token": discord_token,
            "api_base": discord_rest,
            "gateway_url": discord_gateway,
            "sync_commands": "global",
        },
        "imgur": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_base": imgur_base,
        },
        "storage": {"database": str(tmp / "bot.db"), "encryption_key": key},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return raw


def _tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:]


# --- command line ----------------------------------------------------------------------------


def report_from_json(data: dict[str, Any]) -> Report:
    report = Report(data["title"], data["summary"], notes=list(data["notes"]))
    report.figures = [Figure(**figure) for figure in data["figures"]]
    return report


def cli(
    bench: Any,
    description: str,
    parser: argparse.ArgumentParser | None = None,
    **fixed: Any,
) -> argparse.Namespace:
    """The command line of one benchmark script: ``--quick``, ``--json``; runs ``bench``.

    ``bench(quick=..., **extra)`` gets the values of the parser's other options.
    """
    parser = parser or argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument("--json", action="store_true", help="also print the report as JSON")
    args = parser.parse_args()
    options = {k: v for k, v in vars(args).items() if k not in ("quick", "json")}
    options.update(fixed)
    report = asyncio.run(bench(quick=args.quick, **options))
    report.print()
    if args.json:
        print(json.dumps({"report": asdict(report)}), flush=True)
    return args
