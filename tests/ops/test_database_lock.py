"""A running bot holds a lock on its database; rotate-key refuses while any bot holds it, and a
bot started after an interrupted rotation finishes it (issue 10, finding 3). Both backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Config, parse_config
from bot.database import open_store
from bot.storage import LinkStore, StorageError, TokenCipher, TokenDecryptError, generate_key
from tests.ops.conftest import read_links, seed_links
from tests.postgres import database_on, fresh_schema


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_on(request.param, tmp_path / "bot.db") as url:
        yield url


def config_for(database: str, **storage: str) -> Config:
    return parse_config({"storage": {"database": database, **storage}}, {})


def env_for(database: str, **values: str) -> dict[str, str]:
    return {"BOT_DATABASE": database, **values}


async def rotate(env: dict[str, str], *args: str) -> int:
    # main() runs its own event loop: in a thread, while this loop holds the bot's store.
    return await asyncio.to_thread(main, ["rotate-key", *args], env)


async def test_rotate_key_refuses_while_a_bot_holds_the_database(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = generate_key(), generate_key()
    links = await seed_links(database, [old], 2)
    env = env_for(database, BOT_ENCRYPTION_KEY=old, BOT_NEW_ENCRYPTION_KEY=new)
    bot = await open_store(config_for(database, encryption_key=old), hold_lock=True)
    try:
        assert await rotate(env, "--force") == 1  # --force passes the heartbeat, not the lock
        assert "a bot is running on this database" in capsys.readouterr().err
        ids = [link.discord_user_id for link in links]
        assert await read_links(database, [old], ids) == links  # nothing re-encrypted
    finally:
        await bot.close()
    assert await rotate(env) == 0  # the bot stopped: its lock went with it
    assert await read_links(database, [new], [link.discord_user_id for link in links]) == links


async def test_every_bot_process_on_postgres_holds_the_lock() -> None:
    async with fresh_schema() as database:
        await every_process_holds_the_lock(database)


async def every_process_holds_the_lock(database: str) -> None:
    key = generate_key()
    config = config_for(database, encryption_key=key)
    first = await open_store(config, hold_lock=True)
    second = await open_store(config, hold_lock=True)  # shared: both run
    try:
        await first.close()
        probe = await LinkStore.open(database, TokenCipher([key]))
        try:
            assert not await probe.backend.hold_instance_lock(exclusive=True)  # second holds it
        finally:
            await probe.close()
    finally:
        await second.close()


async def test_a_bot_does_not_start_while_a_rotation_runs(database: str) -> None:
    key = generate_key()
    rotation = await LinkStore.open(database, TokenCipher([key]))
    try:
        assert await rotation.backend.hold_instance_lock(exclusive=True)
        with pytest.raises(StorageError, match=r"key rotation .* is running"):
            await open_store(config_for(database, encryption_key=key), hold_lock=True)
    finally:
        await rotation.close()


class Interrupted(TokenCipher):
    """Re-encrypts a few tokens, then fails: a rotate-key killed midway."""

    def __init__(self, keys: list[str], rotations: int) -> None:
        super().__init__(keys)
        self.rotations = rotations

    def rotate(self, blob: bytes) -> bytes:
        if self.rotations == 0:
            raise TokenDecryptError("killed")
        self.rotations -= 1
        return super().rotate(blob)


async def interrupt_rotation(database: str, old: str, new: str) -> None:
    async with await LinkStore.open(database, TokenCipher([old])) as store:
        with pytest.raises(TokenDecryptError):
            await store.reencrypt_all(Interrupted([new, old], rotations=2), batch=1)
        assert await store.pending_rotation() is not None


async def test_a_restart_finishes_a_rotation_interrupted_with_the_new_key_given(
    database: str,
) -> None:
    old, new = generate_key(), generate_key()
    links = await seed_links(database, [old], 4)
    await interrupt_rotation(database, old, new)
    ids = [link.discord_user_id for link in links]
    with pytest.raises(TokenDecryptError):
        await read_links(database, [old], ids)  # the old key alone no longer reads them all
    # BOT_ENCRYPTION_KEY still the old key, BOT_NEW_ENCRYPTION_KEY the new one: as rotate-key ran.
    config = config_for(database, encryption_key=old, new_encryption_key=new)
    store = await open_store(config, hold_lock=True)
    try:
        assert await store.pending_rotation() is None
        assert [await store.get(user_id) for user_id in ids] == links
    finally:
        await store.close()
    assert await read_links(database, [new], ids) == links  # all under the new key now


async def test_a_restart_without_the_pending_new_key_refuses_and_says_what_to_do(
    database: str,
) -> None:
    old, new = generate_key(), generate_key()
    await seed_links(database, [old], 3)
    await interrupt_rotation(database, old, new)
    with pytest.raises(StorageError, match="rotate-key"):
        await open_store(config_for(database, encryption_key=old), hold_lock=True)


async def test_a_restart_finishes_an_interrupted_key_file_rotation(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    old, new = generate_key(), generate_key()
    (tmp_path / "bot.db.key").write_text(old + "\n", encoding="ascii")
    links = await seed_links(database, [old], 4)
    # rotate-key saved the new key first, then was killed after re-encrypting two links.
    (tmp_path / "bot.db.key.new").write_text(new + "\n", encoding="ascii")
    await interrupt_rotation(str(database), old, new)
    store = await open_store(config_for(str(database)), hold_lock=True)
    try:
        ids = [link.discord_user_id for link in links]
        assert [await store.get(user_id) for user_id in ids] == links
    finally:
        await store.close()
    assert (tmp_path / "bot.db.key").read_text(encoding="ascii").strip() == new
    assert not (tmp_path / "bot.db.key.new").exists()
    (kept,) = await asyncio.to_thread(lambda: list(tmp_path.glob("bot.db.key.old-*")))
    assert kept.read_text(encoding="ascii").strip() == old
    assert await read_links(database, [new], ids) == links


def test_postgres_without_a_key_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "BOT_DATABASE": "postgresql://bot:pw@127.0.0.1:1/bot",
        "DISCORD_TOKEN": "t",
        "IMGUR_CLIENT_ID": "c",
        "IMGUR_CLIENT_SECRET": "s",
    }
    for argv in (["--check"], []):
        assert main(argv, env=env) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            "error: storage.encryption_key: required with PostgreSQL (set BOT_ENCRYPTION_KEY on "
            "every bot process; a generated key file cannot be shared between machines)"
        ]
