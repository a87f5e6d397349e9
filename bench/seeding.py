"""Databases for the benchmarks: a migrated SQLite store, filled with linked members in bulk."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bench.identities import access_token, member_id, refresh_token


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
