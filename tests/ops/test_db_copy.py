"""``python -m bot db copy --to postgresql://...``: moving a SQLite database into PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.storage import Link, LinkKind, LinkStore, TokenCipher, generate_key
from bot.storage.postgres import PostgresBackend
from bot.storage.sqlite import SqliteBackend
from tests.bot.storage.factories import NOW, make_link
from tests.ops.conftest import read_links, seed_links
from tests.postgres import fresh_schema


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with fresh_schema() as fresh:
        yield fresh


async def copy(database: Path, url: str, **env: str) -> int:
    return await asyncio.to_thread(
        main, ["db", "copy", "--to", url], {"BOT_DATABASE": str(database), **env}
    )


async def seed_everything(database: Path, key: str) -> list[Link]:
    links = await seed_links(database, [key], count=25)
    async with await LinkStore.open(database, TokenCipher([key])) as store:
        await store.save_link(
            make_link(
                7,
                kind=LinkKind.BIO,
                access_token=None,
                refresh_token=None,
                expires_at=None,
                imgur_account_id=77,
            )
        )
        await store.create_state(1000, "pin", now=NOW + timedelta(days=3650))
        await store.create_bio_code(1001, "Somebody", "CODE1234", now=NOW + timedelta(days=3650))
        await store.set_setting("command_sync_hash", "abc")
    return links


async def test_copy_moves_every_row_with_the_ciphertext_as_is(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    links = await seed_everything(database, key)
    assert await copy(database, url, BOT_ENCRYPTION_KEY=key) == 0
    out = capsys.readouterr().out
    assert "copied 26 links" in out
    assert "26 of 26 verified" in out
    assert "1 pending link attempts and 1 profile codes" in out
    ids = [link.discord_user_id for link in links]
    assert await read_links(url, [key], ids) == links
    source = await SqliteBackend.open(database)
    target = await PostgresBackend.open(url)
    try:
        for user_id in [*ids, 7]:
            assert await target.get(user_id) == await source.get(user_id)  # the same bytes
        assert await target.state_rows() == await source.state_rows()
        assert await target.bio_code_rows() == await source.bio_code_rows()
        assert await target.get_setting("command_sync_hash") == "abc"
    finally:
        await source.close()
        await target.close()


async def test_copying_twice_is_safe(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    links = await seed_everything(database, key)
    assert await copy(database, url) == 0
    capsys.readouterr()
    assert await copy(database, url) == 0
    assert "copied 0 links" in capsys.readouterr().out
    async with await LinkStore.open(url, TokenCipher([key])) as store:
        stats = await store.stats(now=NOW)
    assert (stats.links, stats.bio_links) == (26, 1)
    assert await read_links(url, [key], [link.discord_user_id for link in links]) == links


async def test_copy_refuses_while_a_bot_runs_on_the_source(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    await seed_links(database, [key], count=1)
    bot = await SqliteBackend.open(database)
    try:
        assert await bot.hold_instance_lock(exclusive=False)
        assert await copy(database, url) == 1
        assert "stop it first" in capsys.readouterr().err
    finally:
        await bot.close()


def test_copy_wants_a_postgres_url(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "bot.db"
    asyncio.run(seed_links(database, [generate_key()], count=1))
    env = {"BOT_DATABASE": str(database)}
    assert main(["db", "copy", "--to", str(tmp_path / "other.db")], env=env) == 1
    assert "postgresql://" in capsys.readouterr().err


async def test_db_stats_and_backup_on_postgres(
    tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    key = generate_key()
    await seed_links(url, [key], count=3)
    env = {"BOT_DATABASE": url, "BOT_ENCRYPTION_KEY": key}
    assert await asyncio.to_thread(main, ["db", "stats", "--json"], env) == 0
    assert '"links": 3' in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["db", "backup", str(tmp_path)], env) == 1
    err = capsys.readouterr().err
    assert "pg_dump --format=custom" in err
    assert not await asyncio.to_thread(lambda: list(tmp_path.iterdir()))
