"""The SQLite backend (aiosqlite): the embedded default, one file, one writer.

WAL mode; ``secure_delete`` overwrites deleted rows, and a member's deletion is followed by a
WAL checkpoint that truncates the log, so an unlinked member leaves nothing readable in the
files. A running bot holds a shared lock on ``<database>.lock``; ``rotate-key`` takes it
exclusively (see ``hold_instance_lock``).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

import aiosqlite

from .backend import CLAIMED, BioCodeRow, DueKey, DueRow, LinkRow, StateRow, TokenRow
from .errors import StorageError
from .migrate import apply_migrations
from .sql import (
    BIO_COLUMNS,
    CLAIM_NEWEST_STATE,
    DELETE_CLAIMED_STATE,
    DELETE_MEMBER,
    DUE_COLUMNS,
    IMPORT_BIO_CODE,
    IMPORT_LINK,
    IMPORT_SETTING,
    IMPORT_STATE,
    INSERT_BIO_CODE,
    INSERT_STATE,
    PRUNE_BIO_CODES,
    PRUNE_STATES,
    UPSERT_LINK,
    WRITE_CIPHERTEXT,
    SqlBackend,
    bio_row,
    bio_values,
    due_row,
    link_values,
    prune_params,
    state_row,
    state_values,
)

__all__ = [
    "DUE_FOR_REFRESH_SQL",
    "MEMORY",
    "SqliteBackend",
    "is_damaged",
    "lock_path",
    "not_a_database",
]

log = logging.getLogger(__name__)

MEMORY = ":memory:"
_BUSY_TIMEOUT_MS = 5000
# The sweep's query: links whose stored refresh time (the refresh rule's, bot/storage/refresh.py)
# has come, in the order of the index links_refresh_after, paged by its key. The row value
# comparison is a seek in that index, so a page costs O(limit) however many links are stored.
_DUE_WHERE = (
    "status = 'ok' AND refresh_after <= :now AND expires_at <= :before"
    " AND (refresh_after, expires_at, discord_user_id)"
    " > (:after_refresh, :after_expires, :after_id)"
)
_DUE_ORDER = " ORDER BY refresh_after, expires_at, discord_user_id LIMIT :limit"
DUE_FOR_REFRESH_SQL = (
    f"SELECT {DUE_COLUMNS} FROM links INDEXED BY links_refresh_after WHERE {_DUE_WHERE}"
    + _DUE_ORDER
)
_UNLEASED = " AND (lease_until IS NULL OR lease_until <= :now)"
CLAIM_DUE_SQL = (
    "UPDATE links SET lease_owner = :owner, lease_until = :until WHERE discord_user_id IN ("
    f"SELECT discord_user_id FROM links INDEXED BY links_refresh_after WHERE {_DUE_WHERE}"
    f"{_UNLEASED}{_DUE_ORDER}) RETURNING {DUE_COLUMNS}"
)
# SQLite orders a member's rows by rowid.
_PRUNE_STATES = PRUNE_STATES.format(seq="rowid")
_PRUNE_BIO_CODES = PRUNE_BIO_CODES.format(seq="rowid")
_CLAIM_NEWEST_STATE = CLAIM_NEWEST_STATE.format(seq="rowid", lock="")


_NOT_A_DATABASE = {sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT}


def is_damaged(exc: sqlite3.Error) -> bool:
    """``exc`` says the file is not an SQLite database, or a damaged one."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _NOT_A_DATABASE


def not_a_database(path: str | Path) -> StorageError:
    """The error for a file SQLite cannot read as a database."""
    return StorageError(f"{path} is not an SQLite database or is damaged")


def lock_path(database: str | Path) -> Path:
    """The file a running bot holds a shared lock on (beside the database)."""
    return Path(f"{database}.lock")


def _prepare_database_file(path: Path) -> None:
    """Create the directory and an empty database file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if os.name != "posix":
        return
    # SQLite gives the -wal and -shm files the permissions of the database file.
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and stat.S_IMODE(file.stat().st_mode) & 0o077:
            file.chmod(0o600)
            log.warning("restricted %s to its owner (mode 0600)", file)


async def _configure(db: aiosqlite.Connection, in_memory: bool) -> None:
    async with db.execute("PRAGMA journal_mode = WAL") as cursor:
        row = await cursor.fetchone()
    if not in_memory and (row is None or str(row[0]).lower() != "wal"):
        log.warning("the database could not switch to WAL mode; continuing without it")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS:d}")
    # Deleted rows (an unlinked member's encrypted tokens) are overwritten, not left in free pages.
    await db.execute("PRAGMA secure_delete = ON")


def _lock_file(path: Path, exclusive: bool) -> IO[bytes] | None:
    """Open ``path`` and lock it without waiting; None if a conflicting lock is held."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    file = open(path, "ab")  # noqa: SIM115 - held open as long as the lock
    try:
        os.chmod(path, 0o600)
        fcntl.flock(file.fileno(), (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        return None
    except BaseException:
        file.close()
        raise
    return file


def _due_params(now: int, before: int, limit: int, after: DueKey) -> dict[str, int]:
    return {
        "now": now,
        "before": before,
        "limit": limit,
        "after_refresh": after[0],
        "after_expires": after[1],
        "after_id": after[2],
    }


class SqliteBackend(SqlBackend):
    """A SQLite database file (or ``":memory:"``). Create with ``await SqliteBackend.open()``."""

    def __init__(self, db: aiosqlite.Connection, location: str) -> None:
        self._db: aiosqlite.Connection | None = db
        self._location = location
        # One connection: statements of concurrent callers must not land in each other's
        # transactions, so every use of the connection holds this lock.
        self._lock = asyncio.Lock()
        self._instance_lock: IO[bytes] | None = None
        # Retries emptying the WAL after a deletion a reader kept in it (see delete_member).
        self._scrub: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str | Path) -> SqliteBackend:
        """Open (creating if needed) the database at ``path`` (or ``":memory:"``) and migrate it."""
        location = str(path)
        in_memory = location == MEMORY
        if not in_memory:
            await asyncio.to_thread(_prepare_database_file, Path(path))
        db = await aiosqlite.connect(location, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await _configure(db, in_memory)
            await apply_migrations(db)
        except sqlite3.DatabaseError as exc:
            await db.close()
            if is_damaged(exc):
                raise not_a_database(location) from None
            raise
        except BaseException:
            await db.close()
            raise
        return cls(db, location)

    @property
    def shared(self) -> bool:
        """Meant for one bot process (SQLite has one writer at a time)."""
        return False

    async def close(self) -> None:
        scrub, self._scrub = self._scrub, None
        if scrub is not None:
            scrub.cancel()
            await asyncio.gather(scrub, return_exceptions=True)
        db, self._db = self._db, None
        if db is not None:
            async with self._lock:
                await db.close()
        lock, self._instance_lock = self._instance_lock, None
        if lock is not None:
            await asyncio.to_thread(lock.close)

    # -- plumbing (callers hold self._lock) ---------------------------------------------------

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("the link store is closed")
        return self._db

    # One trip each to aiosqlite's thread (a cursor used with ``async with`` costs two or three).

    async def _rows(
        self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()
    ) -> list[sqlite3.Row]:
        return list(await self._conn().execute_fetchall(sql, params))

    async def _run(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> int:
        # The statement has run to completion: the cursor holds nothing but its row count.
        cursor = await self._conn().execute(sql, params)
        return cursor.rowcount

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        db = self._conn()
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")

    async def _query(
        self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()
    ) -> list[sqlite3.Row]:
        async with self._lock:
            return await self._rows(sql, params)

    async def _change(self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()) -> int:
        async with self._lock:
            return await self._run(sql, params)

    # -- instance lock ------------------------------------------------------------------------

    async def hold_instance_lock(self, *, exclusive: bool) -> bool:
        """Lock ``<database>.lock`` until close: shared for a running bot, exclusive for
        ``rotate-key``. False (nothing held) if a conflicting lock is held elsewhere."""
        if self._location == MEMORY:
            return True
        if self._instance_lock is not None:
            raise StorageError("the instance lock is already held")
        self._instance_lock = await asyncio.to_thread(
            _lock_file, lock_path(self._location), exclusive
        )
        return self._instance_lock is not None

    # -- links --------------------------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            rows = await self._query("SELECT 1")
        except sqlite3.Error:
            return False
        return bool(rows) and rows[0][0] == 1

    async def save_link(self, row: LinkRow, attempt_digest: str | None = None) -> bool:
        async with self._lock, self._transaction():
            if attempt_digest is not None and not await self._run(
                DELETE_CLAIMED_STATE, (CLAIMED + attempt_digest, row.discord_user_id)
            ):
                return False
            await self._run(UPSERT_LINK, link_values(row))
        return True

    async def delete_member(self, discord_user_id: int) -> bool:
        async with self._lock:
            async with self._transaction():
                deleted = 0
                for statement in DELETE_MEMBER:
                    deleted += await self._run(statement, (discord_user_id,))
            if deleted and self._location != MEMORY and not await self._empty_wal():
                # secure_delete overwrote the rows in the database pages; the WAL still holds
                # the pages as they were before. Another connection reading (an operator's
                # shell, a backup) keeps SQLite from emptying it: try again until it can.
                log.info("a reader keeps the write-ahead log from being emptied; retrying")
                if self._scrub is None or self._scrub.done():
                    self._scrub = asyncio.create_task(self._empty_wal_soon())
        return deleted > 0

    async def _empty_wal(self) -> bool:
        """Copy the WAL into the database file and truncate it; False if a reader prevented it
        (the caller holds the lock)."""
        rows = await self._rows("PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(rows) and int(rows[0][0]) == 0

    async def _empty_wal_soon(self) -> None:
        delay = 0.1
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
            async with self._lock:
                if self._db is None:
                    return
                try:
                    # Without waiting for the reader: the bot's other statements wait on the lock.
                    await self._run("PRAGMA busy_timeout = 0")
                    try:
                        done = await self._empty_wal()
                    finally:
                        await self._run(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS:d}")
                except sqlite3.Error as exc:
                    log.info("could not empty the write-ahead log yet (%s)", type(exc).__name__)
                    continue
            if done:
                log.info("the write-ahead log is emptied after all")
                return

    # -- the refresh sweep --------------------------------------------------------------------

    async def due(self, now: int, before: int, limit: int, after: DueKey) -> list[DueRow]:
        rows = await self._query(DUE_FOR_REFRESH_SQL, _due_params(now, before, limit, after))
        return [due_row(row) for row in rows]

    async def claim_due(
        self, now: int, before: int, limit: int, after: DueKey, owner: str, until: int
    ) -> list[DueRow]:
        # One statement, and one writer at a time in SQLite: two claims never overlap.
        params: dict[str, Any] = _due_params(now, before, limit, after)
        params.update(owner=owner, until=until)
        rows = [due_row(row) for row in await self._query(CLAIM_DUE_SQL, params)]
        return sorted(rows, key=lambda r: (r.refresh_after, r.expires_at, r.discord_user_id))

    # -- authorization states -----------------------------------------------------------------

    async def create_state(self, row: StateRow, keep_per_member: int) -> None:
        async with self._lock, self._transaction():
            await self._run(INSERT_STATE, state_values(row))
            await self._run(
                _PRUNE_STATES, prune_params(row.discord_user_id, row.created_at, keep_per_member)
            )

    async def claim_newest_state(self, discord_user_id: int, now: int) -> StateRow | None:
        rows = await self._query(_CLAIM_NEWEST_STATE, (discord_user_id, now))
        return state_row(rows[0]) if rows else None

    # -- profile (bio) codes ------------------------------------------------------------------

    async def create_bio_code(self, row: BioCodeRow, keep_per_member: int) -> None:
        async with self._lock, self._transaction():
            await self._run(INSERT_BIO_CODE, bio_values(row))
            await self._run(
                _PRUNE_BIO_CODES, prune_params(row.discord_user_id, row.created_at, keep_per_member)
            )

    async def complete_bio_link(
        self, row: LinkRow, attempt: str, now: int, digests: Sequence[str]
    ) -> BioCodeRow | None:
        if not digests:
            return None
        async with self._lock, self._transaction():
            # DELETE ... RETURNING in the transaction: a code cannot be used twice.
            taken = await self._rows(
                "DELETE FROM bio_codes WHERE attempt = ? AND discord_user_id = ?"
                " AND expires_at > ? AND code_digest IN (SELECT value FROM json_each(?))"
                f" RETURNING {BIO_COLUMNS}",
                (attempt, row.discord_user_id, now, json.dumps(list(digests))),
            )
            if not taken:
                return None
            await self._run(UPSERT_LINK, link_values(row))
        return bio_row(taken[0])

    async def purge_expired_bio_codes(self, now: int) -> int:
        return await self._change("DELETE FROM bio_codes WHERE expires_at <= ?", (now,))

    # -- operations ---------------------------------------------------------------------------

    async def write_token_rows(self, rows: Sequence[TokenRow]) -> None:
        async with self._lock, self._transaction():
            await self._conn().executemany(
                WRITE_CIPHERTEXT,
                [(r.access_token, r.refresh_token, r.discord_user_id) for r in rows],
            )

    async def set_refresh_after(self, values: Sequence[tuple[int, int | None]]) -> None:
        async with self._lock, self._transaction():
            await self._conn().executemany(
                "UPDATE links SET refresh_after = ? WHERE discord_user_id = ?",
                [(refresh_after, user_id) for user_id, refresh_after in values],
            )

    async def import_rows(
        self,
        links: Sequence[LinkRow],
        states: Sequence[StateRow],
        bio_codes: Sequence[BioCodeRow],
        settings: dict[str, str],
    ) -> None:
        async with self._lock, self._transaction():
            db = self._conn()
            await db.executemany(IMPORT_LINK, [link_values(row) for row in links])
            await db.executemany(IMPORT_STATE, [state_values(row) for row in states])
            await db.executemany(IMPORT_BIO_CODE, [bio_values(row) for row in bio_codes])
            await db.executemany(IMPORT_SETTING, list(settings.items()))

    async def count_present(self, discord_user_ids: Sequence[int]) -> int:
        """How many of these members have a link here (to verify a copy)."""
        if not discord_user_ids:
            return 0
        marks = ", ".join("?" * len(discord_user_ids))
        rows = await self._query(
            f"SELECT count(*) FROM links WHERE discord_user_id IN ({marks})", discord_user_ids
        )
        return int(rows[0][0])

    async def raw_rows(self, sql: str) -> list[sqlite3.Row]:
        """Run a read-only statement as is (tests and operators only; never with member input)."""
        return await self._query(sql)
