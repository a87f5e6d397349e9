from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from bot.storage import (
    LinkStore,
    Migration,
    MigrationError,
    SchemaTooNewError,
    TokenCipher,
    apply_migrations,
    load_migrations,
)
from bot.storage.migrate import split_statements


@pytest.fixture
async def db() -> AsyncIterator[aiosqlite.Connection]:
    async with aiosqlite.connect(":memory:", isolation_level=None) as connection:
        yield connection


async def user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def schema(db: aiosqlite.Connection) -> list[tuple[str, str]]:
    rows = await db.execute_fetchall("SELECT name, sql FROM sqlite_master ORDER BY name")
    return [(name, sql) for name, sql in rows]


async def table_names(db: aiosqlite.Connection) -> set[str]:
    rows = await db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {name for (name,) in rows}


def test_bundled_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_fresh_database_reaches_the_latest_version(db: aiosqlite.Connection) -> None:
    applied = await apply_migrations(db)
    assert applied == [m.version for m in load_migrations()]
    assert await user_version(db) == load_migrations()[-1].version
    assert {"links", "auth_states"} <= await table_names(db)


async def test_running_migrations_twice_changes_nothing(db: aiosqlite.Connection) -> None:
    await apply_migrations(db)
    before = await schema(db)
    assert await apply_migrations(db) == []
    assert await schema(db) == before
    assert await user_version(db) == load_migrations()[-1].version


async def test_reopening_a_store_keeps_schema_and_version(
    db_path: Path, cipher: TokenCipher
) -> None:
    await (await LinkStore.open(db_path, cipher)).close()
    await (await LinkStore.open(db_path, cipher)).close()
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == load_migrations()[-1].version


async def test_database_newer_than_the_code_is_refused(db_path: Path, cipher: TokenCipher) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaTooNewError, match=r"version 99, newer than this bot supports"):
        await LinkStore.open(db_path, cipher)


async def test_migrations_are_applied_in_version_order(db: aiosqlite.Connection) -> None:
    migrations = [
        Migration(2, "fill", "INSERT INTO t (a) VALUES ('second');"),
        Migration(1, "create", "CREATE TABLE t (a TEXT);"),
    ]
    assert await apply_migrations(db, migrations) == [1, 2]
    assert [tuple(row) for row in await db.execute_fetchall("SELECT a FROM t")] == [("second",)]


async def test_only_pending_migrations_are_applied(db: aiosqlite.Connection) -> None:
    first = Migration(1, "create", "CREATE TABLE t (a TEXT);")
    await apply_migrations(db, [first])
    second = Migration(2, "more", "CREATE TABLE u (b TEXT);")
    assert await apply_migrations(db, [first, second]) == [2]
    assert await user_version(db) == 2


async def test_a_failing_migration_leaves_the_database_unchanged(db: aiosqlite.Connection) -> None:
    migrations = [
        Migration(1, "create", "CREATE TABLE t (a TEXT);"),
        Migration(2, "broken", "CREATE TABLE u (b TEXT); INSERT INTO missing VALUES (1);"),
    ]
    with pytest.raises(MigrationError, match="0002_broken failed"):
        await apply_migrations(db, migrations)
    assert await user_version(db) == 0
    assert await table_names(db) == set()
    assert not db.in_transaction


async def test_a_gap_in_migration_numbers_is_refused(db: aiosqlite.Connection) -> None:
    migrations = [Migration(1, "a", "SELECT 1;"), Migration(3, "c", "SELECT 1;")]
    with pytest.raises(MigrationError, match="without gaps"):
        await apply_migrations(db, migrations)


def test_split_statements_keeps_semicolons_in_literals_comments_and_triggers() -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE t (a TEXT DEFAULT ';');
        CREATE TRIGGER tr AFTER INSERT ON t BEGIN
            UPDATE t SET a = 'x;y'; SELECT 1;
        END;
        INSERT INTO t (a) VALUES ('z')
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert statements[0].endswith("CREATE TABLE t (a TEXT DEFAULT ';');")
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")
    assert statements[2] == "INSERT INTO t (a) VALUES ('z')"


async def test_links_status_must_be_ok_or_broken(db: aiosqlite.Connection) -> None:
    await apply_migrations(db)
    with pytest.raises(sqlite3.IntegrityError):
        await db.execute(
            "INSERT INTO links (discord_user_id, imgur_username, access_token, refresh_token,"
            " expires_at, status, linked_at) VALUES (1, 'u', x'00', x'00', 0, 'weird', 0)"
        )


async def test_refresh_time_migrations_apply_to_a_version_1_database(
    db_path: Path, cipher: TokenCipher
) -> None:
    db_path.parent.mkdir(parents=True)
    async with aiosqlite.connect(db_path, isolation_level=None) as raw:
        assert await apply_migrations(raw, load_migrations()[:1]) == [1]
        await raw.execute(
            "INSERT INTO links (discord_user_id, imgur_username, access_token, refresh_token,"
            " expires_at, status, linked_at, refreshed_at)"
            " VALUES (1, 'u', x'00', x'00', 2000, 'ok', 0, 1000),"
            " (2, 'v', x'00', x'00', 2000, 'ok', 1900, NULL)"
        )
    async with await LinkStore.open(db_path, cipher) as store:
        due = await store.due_for_refresh(
            datetime.fromtimestamp(5000, tz=UTC), 10, now=datetime.fromtimestamp(1500, tz=UTC)
        )
        assert [link.discord_user_id for link in due] == [1]
    with sqlite3.connect(db_path) as raw_sync:
        version = raw_sync.execute("PRAGMA user_version").fetchone()[0]
        assert version == load_migrations()[-1].version >= 2
        index_sql = raw_sync.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'links_refresh_after'"
        ).fetchone()[0]
        assert "(refresh_after, expires_at, discord_user_id)" in index_sql
        names = {row[0] for row in raw_sync.execute("SELECT name FROM sqlite_master")}
        assert "links_due_for_refresh" not in names  # dropped by 0003
        assert "links_half_life" not in names  # replaced by the stored refresh time (0004)
        # The open filled in the refresh times of the links that were there (1000 + 2000) / 2.
        assert raw_sync.execute(
            "SELECT refresh_after FROM links ORDER BY discord_user_id"
        ).fetchall() == [(1500,), (1950,)]
        assert raw_sync.execute("SELECT count(*) FROM links").fetchone()[0] == 2
