"""Opening, configuring and closing the store."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from bot.storage import MEMORY, LinkStore, StorageError, TokenCipher

from .factories import make_link, sqlite_backend


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_world_readable(path: Path) -> None:
    path.chmod(0o644)


async def pragma(store: LinkStore, name: str) -> object:
    rows = await sqlite_backend(store).raw_rows(f"PRAGMA {name}")
    return rows[0][0]


async def test_open_creates_the_parent_directory(tmp_path: Path, cipher: TokenCipher) -> None:
    path = tmp_path / "deep" / "er" / "bot.db"
    async with await LinkStore.open(path, cipher):
        assert path.is_file()


async def test_database_file_has_mode_0600(store: LinkStore, db_path: Path) -> None:
    assert mode(db_path) == 0o600


async def test_wal_and_shm_files_have_mode_0600(store: LinkStore, db_path: Path) -> None:
    await store.save_link(make_link())
    wal, shm = Path(f"{db_path}-wal"), Path(f"{db_path}-shm")
    assert (mode(wal), mode(shm)) == (0o600, 0o600)


async def test_existing_database_readable_by_others_is_restricted(
    db_path: Path, cipher: TokenCipher
) -> None:
    await (await LinkStore.open(db_path, cipher)).close()
    make_world_readable(db_path)
    async with await LinkStore.open(db_path, cipher):
        assert mode(db_path) == 0o600


async def test_connection_uses_wal_normal_sync_foreign_keys_and_busy_timeout(
    store: LinkStore,
) -> None:
    assert await pragma(store, "journal_mode") == "wal"
    assert await pragma(store, "synchronous") == 1  # NORMAL
    assert await pragma(store, "foreign_keys") == 1
    assert await pragma(store, "busy_timeout") == 5000


async def test_memory_database_works(cipher: TokenCipher) -> None:
    async with await LinkStore.open(MEMORY, cipher) as store:
        await store.save_link(make_link(7))
        assert await store.get(7) is not None


async def test_async_with_closes_the_store(cipher: TokenCipher) -> None:
    async with await LinkStore.open(MEMORY, cipher) as store:
        pass
    with pytest.raises(StorageError, match="closed"):
        await store.get(1)


async def test_close_twice_is_harmless(cipher: TokenCipher) -> None:
    store = await LinkStore.open(MEMORY, cipher)
    await store.close()
    await store.close()


async def test_ping_is_true_while_open(store: LinkStore) -> None:
    assert await store.ping()


async def test_ping_is_false_after_close(cipher: TokenCipher) -> None:
    store = await LinkStore.open(MEMORY, cipher)
    await store.close()
    assert not await store.ping()


async def test_store_repr_shows_the_path_only(store: LinkStore, db_path: Path) -> None:
    assert repr(store) == f"LinkStore({str(db_path)!r})"


async def test_concurrent_operations_do_not_share_transactions(store: LinkStore) -> None:
    # Many interleaved multi-statement writes on one connection: none may fail with
    # "cannot start a transaction within a transaction" or land in another's transaction.
    async def member(user_id: int) -> None:
        await store.save_link(make_link(user_id))
        await store.create_state(user_id, "pin")
        await store.delete_member(user_id)

    await asyncio.gather(*(member(n) for n in range(1, 41)))
    stats = await store.stats()
    assert (stats.links, stats.pending_states) == (0, 0)
