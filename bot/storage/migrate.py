"""SQLite schema migrations: numbered ``migrations/NNNN_name.sql`` files, tracked by
``user_version``.

(PostgreSQL's are in ``postgres_migrations/``, applied by ``postgres.apply_postgres_migrations``.)

A migration file holds plain SQL statements and no transaction control: every pending migration
is applied, with its ``user_version`` bump, in one transaction, so a failure changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import aiosqlite

from .errors import MigrationError, SchemaTooNewError

__all__ = [
    "Migration",
    "apply_migrations",
    "in_order",
    "load_migrations",
    "pending_migrations",
    "split_statements",
]

log = logging.getLogger(__name__)

_PACKAGE = __name__.rpartition(".")[0]
_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True, slots=True)
class Migration:
    """One numbered schema change."""

    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def split_statements(sql: str) -> list[str]:
    """Split a script into single statements (semicolons in literals, comments, triggers kept)."""
    statements: list[str] = []
    pending = ""
    *pieces, tail = sql.split(";")
    for piece in pieces:
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    pending = (pending + tail).strip()
    if pending:
        statements.append(pending)
    return statements


def load_migrations(folder: str = "migrations") -> list[Migration]:
    """The migrations bundled with the package in ``folder``, in order (blocking file reads).

    ``migrations`` holds SQLite's, ``postgres_migrations`` PostgreSQL's.
    """
    found = []
    for entry in resources.files(_PACKAGE).joinpath(folder).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            raise MigrationError(f"migration file {entry.name!r} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return in_order(found)


def in_order(migrations: Sequence[Migration]) -> list[Migration]:
    ordered = sorted(migrations, key=lambda m: m.version)
    versions = [m.version for m in ordered]
    if versions != list(range(1, len(ordered) + 1)):
        raise MigrationError(f"migrations must be numbered 1, 2, 3... without gaps; got {versions}")
    return ordered


def pending_migrations(ordered: Sequence[Migration], current: int) -> list[Migration]:
    """The migrations after schema version ``current``; ``SchemaTooNewError`` if the database
    is newer than the newest of them (both SQLite's and PostgreSQL's)."""
    latest = ordered[-1].version if ordered else 0
    if current > latest:
        raise SchemaTooNewError(
            f"the database schema is version {current}, newer than this bot supports "
            f"(up to {latest}); run a newer version of the bot or restore a backup"
        )
    return [m for m in ordered if m.version > current]


async def _user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def apply_migrations(
    db: aiosqlite.Connection, migrations: Sequence[Migration] | None = None
) -> list[int]:
    """Bring the schema up to date; returns the versions applied (empty if none were pending).

    ``db`` must be in autocommit mode (``isolation_level=None``). Raises ``SchemaTooNewError``
    if the database is newer than the newest migration, ``MigrationError`` if one fails.
    """
    if migrations is None:
        ordered = await asyncio.to_thread(load_migrations)
    else:
        ordered = in_order(migrations)

    # IMMEDIATE: two bots starting at once must not both apply the same migration.
    await db.execute("BEGIN IMMEDIATE")
    try:
        pending = pending_migrations(ordered, await _user_version(db))
        for migration in pending:
            try:
                for statement in split_statements(migration.sql):
                    await db.execute(statement)
            except sqlite3.Error as exc:
                raise MigrationError(f"migration {migration.label} failed: {exc}") from exc
            # PRAGMA takes no parameters; the version is an int parsed from a file name.
            await db.execute(f"PRAGMA user_version = {migration.version:d}")
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    for migration in pending:
        log.info("applied schema migration %s", migration.label)
    return [m.version for m in pending]
