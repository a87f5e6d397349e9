"""What the database file reveals, wrong keys, and re-encryption with a new key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.storage import LinkStore, TokenCipher, TokenDecryptError, generate_key

from .factories import NOW, make_link, sqlite_backend, tokens_of


def wal_size(db_path: Path) -> int:
    return Path(f"{db_path}-wal").stat().st_size


def raw_bytes(db_path: Path) -> bytes:
    """The database file and its write-ahead log, as stored on disk."""
    wal = Path(f"{db_path}-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


async def fill(store: LinkStore) -> list[str]:
    """Store links and states; return every secret that went in."""
    secrets: list[str] = []
    for user_id in range(1, 6):
        link = make_link(user_id)
        await store.save_link(link)
        secrets += tokens_of(link)
        secrets.append((await store.create_state(user_id, "code")).state)
    await store.update_tokens(
        1,
        access_token=(access := "a" * 8 + "0123456789abcdef0123456789abcdef"),
        refresh_token=(refresh := "b" * 8 + "0123456789abcdef0123456789abcdef"),
        expires_at=NOW + timedelta(days=30),
        refreshed_at=NOW,
    )
    return [*secrets, access, refresh]


def assert_no_secret_in(data: bytes, secrets: list[str]) -> None:
    leaked = [s for s in secrets if s.encode() in data]
    assert not leaked, f"{len(leaked)} secret(s) found in clear"


async def test_database_and_wal_hold_no_clear_tokens_or_states(
    store: LinkStore, db_path: Path
) -> None:
    secrets = await fill(store)
    assert wal_size(db_path) > 0
    assert_no_secret_in(raw_bytes(db_path), secrets)


async def test_database_holds_no_clear_tokens_or_states_after_a_checkpoint(
    store: LinkStore, db_path: Path
) -> None:
    secrets = await fill(store)
    await sqlite_backend(store).raw_rows("PRAGMA wal_checkpoint(TRUNCATE)")
    assert wal_size(db_path) == 0
    assert_no_secret_in(raw_bytes(db_path), secrets)  # the database file alone now


async def test_database_holds_the_usernames_it_needs_in_clear(
    store: LinkStore, db_path: Path
) -> None:
    # Guards the two tests above: they would pass vacuously if nothing reached the disk.
    await fill(store)
    assert b"user3" in raw_bytes(db_path)


async def test_wrong_key_raises_token_decrypt_error_on_read(
    db_path: Path, cipher: TokenCipher
) -> None:
    async with await LinkStore.open(db_path, cipher) as store:
        await store.save_link(make_link(1))
    async with await LinkStore.open(db_path, TokenCipher([generate_key()])) as store:
        with pytest.raises(TokenDecryptError, match="member 1"):
            await store.get(1)


async def test_decrypt_failure_is_logged_without_secrets(
    db_path: Path, cipher: TokenCipher, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    link = make_link(1)
    async with await LinkStore.open(db_path, cipher) as store:
        await store.save_link(link)
    other_key = generate_key()
    async with await LinkStore.open(db_path, TokenCipher([other_key])) as store:
        with pytest.raises(TokenDecryptError):
            await store.get(1)
    assert "member 1" in caplog.text
    for secret in (*tokens_of(link), key, other_key):
        assert secret not in caplog.text


async def save_links(db_path: Path, cipher: TokenCipher, count: int) -> dict[int, str]:
    async with await LinkStore.open(db_path, cipher) as store:
        links = [make_link(user_id) for user_id in range(1, count + 1)]
        for link in links:
            await store.save_link(link)
    return {link.discord_user_id: tokens_of(link)[0] for link in links}


async def access_tokens(db_path: Path, cipher: TokenCipher) -> dict[int, str]:
    async with await LinkStore.open(db_path, cipher) as store:
        rows = await sqlite_backend(store).raw_rows("SELECT discord_user_id FROM links")
        found = {}
        for (user_id,) in rows:
            link = await store.get(user_id)
            assert link is not None
            found[user_id] = tokens_of(link)[0]
        return found


async def test_after_reencrypt_all_only_the_new_key_is_needed(
    db_path: Path, key: str, cipher: TokenCipher
) -> None:
    expected = await save_links(db_path, cipher, 5)
    new_key = generate_key()
    async with await LinkStore.open(db_path, cipher) as store:
        assert await store.reencrypt_all(TokenCipher([new_key, key]), batch=2) == 5
    assert await access_tokens(db_path, TokenCipher([new_key])) == expected


async def test_after_reencrypt_all_the_old_key_opens_nothing(
    db_path: Path, key: str, cipher: TokenCipher
) -> None:
    await save_links(db_path, cipher, 3)
    async with await LinkStore.open(db_path, cipher) as store:
        await store.reencrypt_all(TokenCipher([generate_key(), key]), batch=2)
    with pytest.raises(TokenDecryptError):
        await access_tokens(db_path, cipher)


async def test_writes_after_reencrypt_all_use_the_new_key(
    db_path: Path, key: str, cipher: TokenCipher
) -> None:
    new_key = generate_key()
    async with await LinkStore.open(db_path, cipher) as store:
        await store.reencrypt_all(TokenCipher([new_key, key]))
        link = make_link(9)
        await store.save_link(link)
    assert await access_tokens(db_path, TokenCipher([new_key])) == {9: link.access_token}


async def test_reencrypt_all_refuses_a_cipher_without_the_old_key(
    db_path: Path, cipher: TokenCipher
) -> None:
    expected = await save_links(db_path, cipher, 2)
    async with await LinkStore.open(db_path, cipher) as store:
        with pytest.raises(TokenDecryptError):
            await store.reencrypt_all(TokenCipher([generate_key()]))
        assert (await store.get(1)) is not None
    assert await access_tokens(db_path, cipher) == expected


class FailingCipher(TokenCipher):
    """Stops working after some rotations, like a process killed mid-way."""

    def __init__(self, keys: list[str], rotations: int) -> None:
        super().__init__(keys)
        self.rotations = rotations

    def rotate(self, blob: bytes) -> bytes:
        if self.rotations == 0:
            raise TokenDecryptError("interrupted")
        self.rotations -= 1
        return super().rotate(blob)


async def test_interrupted_reencrypt_all_can_simply_be_run_again(
    db_path: Path, key: str, cipher: TokenCipher
) -> None:
    expected = await save_links(db_path, cipher, 5)
    new_key = generate_key()
    async with await LinkStore.open(db_path, cipher) as store:
        with pytest.raises(TokenDecryptError):
            # Dies in the second batch: the first batch stays done, the second rolls back.
            await store.reencrypt_all(FailingCipher([new_key, key], rotations=6), batch=2)
        assert await access_tokens_of(store, expected) == expected
        assert await store.reencrypt_all(TokenCipher([new_key, key]), batch=2) == 5
    assert await access_tokens(db_path, TokenCipher([new_key])) == expected


async def access_tokens_of(store: LinkStore, expected: dict[int, str]) -> dict[int, str]:
    found = {}
    for user_id in expected:
        link = await store.get(user_id)
        assert link is not None
        found[user_id] = tokens_of(link)[0]
    return found


async def test_reencrypt_all_of_an_empty_store_does_nothing(store: LinkStore) -> None:
    assert await store.reencrypt_all(TokenCipher([generate_key()])) == 0


async def test_unlinked_members_rows_are_overwritten_in_the_file(tmp_path):
    from bot.storage import LinkStore, TokenCipher, generate_key
    from tests.bot.storage.factories import make_link

    path = tmp_path / "bot.db"
    store = await LinkStore.open(path, TokenCipher([generate_key()]))
    link = make_link(discord_user_id=1, imgur_username="very_unique_username_42")
    await store.save_link(link)
    await store.close()
    assert b"very_unique_username_42" in path.read_bytes()
    store = await LinkStore.open(path, TokenCipher([generate_key()]))
    await store.delete_member(1)
    await store.close()  # the last connection checkpoints the WAL into the file
    assert b"very_unique_username_42" not in path.read_bytes()


async def test_after_unlink_nothing_of_the_member_is_in_the_database_or_its_wal(
    store: LinkStore, db_path: Path
) -> None:
    # The bot keeps its connection open: the WAL must not keep the rows until some later write.
    await store.save_link(make_link(1, imgur_username="very_unique_username_42"))
    await store.save_link(make_link(2))
    await store.create_state(1, "pin")
    row = await store.backend.get(1)
    assert row is not None
    assert row.access_token is not None
    assert row.refresh_token is not None
    member = [b"very_unique_username_42", row.access_token, row.refresh_token]
    files = [db_path, Path(f"{db_path}-wal")]
    assert any(secret in b"".join(f.read_bytes() for f in files) for secret in member)
    assert await store.delete_member(1)
    data = b"".join(f.read_bytes() for f in files if f.exists())
    assert [secret for secret in member if secret in data] == []
    assert await store.get(2) is not None  # the others are all there
