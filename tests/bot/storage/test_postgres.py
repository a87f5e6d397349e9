"""PostgreSQL's own behaviour: migrations under an advisory lock, the pool, its messages."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.storage import LinkStore, MigrationError, SchemaTooNewError, StorageError, TokenCipher
from bot.storage.migrate import Migration, load_migrations
from bot.storage.postgres import PostgresBackend, apply_postgres_migrations, redact_url
from tests.postgres import fresh_schema


@pytest.fixture
async def url() -> object:
    async with fresh_schema() as fresh:
        yield fresh


async def test_ten_processes_opening_at_once_migrate_once(url: str, cipher: TokenCipher) -> None:
    stores = await asyncio.gather(*(LinkStore.open(url, cipher) for _ in range(10)))
    try:
        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
        finally:
            await connection.close()
        assert [row[0] for row in rows] == [
            m.version for m in load_migrations("postgres_migrations")
        ]
        assert all([await store.ping() for store in stores])
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_migrations_take_the_advisory_lock_first(url: str) -> None:
    # While another session holds the migration lock, a migration waits for it.
    holder = await asyncpg.connect(url)
    waiter = await asyncpg.connect(url)
    try:
        await holder.execute("BEGIN")
        await holder.execute(
            "SELECT pg_advisory_xact_lock(hashtext('imgur-link-bot:' || current_schema()), 1)"
        )
        migrating = asyncio.create_task(apply_postgres_migrations(waiter))
        done, _ = await asyncio.wait({migrating}, timeout=0.5)
        assert not done, "the migration did not wait for the advisory lock"
        await holder.execute("COMMIT")
        assert await asyncio.wait_for(migrating, 10) == [
            m.version for m in load_migrations("postgres_migrations")
        ]
    finally:
        await holder.close()
        await waiter.close()


async def test_a_failing_migration_changes_nothing(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        broken = [
            Migration(1, "ok", "CREATE TABLE first_table (id INTEGER)"),
            Migration(2, "bad", "CREATE TABLE nope (id INTEGER); SELECT * FROM missing_table"),
        ]
        with pytest.raises(MigrationError, match="0002_bad"):
            await apply_postgres_migrations(connection, broken)
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        assert tables == []
    finally:
        await connection.close()


async def test_a_newer_schema_is_refused(url: str, cipher: TokenCipher) -> None:
    await (await LinkStore.open(url, cipher)).close()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'x')")
    finally:
        await connection.close()
    with pytest.raises(SchemaTooNewError, match="version 999"):
        await LinkStore.open(url, cipher)


async def test_the_pool_holds_at_most_pool_size_connections(url: str) -> None:
    backend = await PostgresBackend.open(url, pool_size=3)
    try:
        await asyncio.gather(*(backend.get(n) for n in range(50)))
        connection = await asyncpg.connect(url)
        try:
            count = await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND application_name = ''"
                " AND query NOT LIKE '%pg_stat_activity%'"
            )
        finally:
            await connection.close()
        assert backend._p().get_max_size() == 3
        assert backend._p().get_size() <= 3
        assert count >= 1
    finally:
        await backend.close()


async def test_an_unreachable_server_is_one_clear_error(cipher: TokenCipher) -> None:
    with pytest.raises(StorageError) as raised:
        await LinkStore.open("postgresql://bot:s3cret@127.0.0.1:1/bot", cipher)
    message = str(raised.value)
    assert message.startswith("cannot connect to PostgreSQL at postgresql://bot@127.0.0.1:1/bot")
    assert "s3cret" not in message


def test_locations_never_show_the_password() -> None:
    assert redact_url("postgresql://bot:pw@db.example:5432/bot?sslmode=require") == (
        "postgresql://bot@db.example:5432/bot"
    )


async def test_the_store_repr_shows_no_password(url: str, cipher: TokenCipher) -> None:
    async with await LinkStore.open(url, cipher) as store:
        assert "postgresql://postgres@127.0.0.1" in repr(store)
        assert "search_path" not in repr(store)
