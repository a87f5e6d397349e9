from __future__ import annotations

import asyncio
import hashlib
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.storage import (
    InvalidKeyError,
    TokenCipher,
    TokenDecryptError,
    generate_key,
    load_or_create_key_file,
    state_digest,
)

from .factories import token

# -- TokenCipher ------------------------------------------------------------------------------


def test_decrypt_returns_what_was_encrypted(cipher: TokenCipher) -> None:
    secret = token()
    assert cipher.decrypt(cipher.encrypt(secret)) == secret


def test_ciphertext_does_not_contain_the_text(cipher: TokenCipher) -> None:
    secret = token()
    assert secret.encode() not in cipher.encrypt(secret)


def test_decrypt_with_another_key_raises_token_decrypt_error(cipher: TokenCipher) -> None:
    blob = TokenCipher([generate_key()]).encrypt(token())
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(blob)


def test_decrypt_of_garbage_raises_token_decrypt_error(cipher: TokenCipher) -> None:
    with pytest.raises(TokenDecryptError):
        cipher.decrypt(b"not a fernet token")


def test_decrypt_error_reveals_neither_key_nor_ciphertext(key: str, cipher: TokenCipher) -> None:
    blob = TokenCipher([generate_key()]).encrypt(token())
    with pytest.raises(TokenDecryptError) as caught:
        cipher.decrypt(blob)
    text = str(caught.value) + repr(caught.value)
    assert key not in text
    assert blob.decode() not in text
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_first_key_encrypts() -> None:
    new, old = generate_key(), generate_key()
    blob = TokenCipher([new, old]).encrypt("x")
    assert TokenCipher([new]).decrypt(blob) == "x"
    with pytest.raises(TokenDecryptError):
        TokenCipher([old]).decrypt(blob)


def test_every_key_decrypts() -> None:
    new, old = generate_key(), generate_key()
    blob = TokenCipher([old]).encrypt("x")
    assert TokenCipher([new, old]).decrypt(blob) == "x"


def test_keys_may_be_bytes() -> None:
    key = Fernet.generate_key()
    assert TokenCipher([key]).decrypt(TokenCipher([key.decode()]).encrypt("x")) == "x"


def test_rotate_moves_a_blob_to_the_first_key() -> None:
    new, old = generate_key(), generate_key()
    rotated = TokenCipher([new, old]).rotate(TokenCipher([old]).encrypt("x"))
    assert TokenCipher([new]).decrypt(rotated) == "x"


def test_no_keys_is_rejected() -> None:
    with pytest.raises(InvalidKeyError, match="at least one"):
        TokenCipher([])


def test_a_single_key_string_instead_of_a_list_is_rejected(key: str) -> None:
    with pytest.raises(TypeError):
        TokenCipher(key)


def test_malformed_key_raises_invalid_key_error_without_echoing_it() -> None:
    bad = "not-a-valid-fernet-key-but-secret-anyway"
    with pytest.raises(InvalidKeyError, match="encryption key #2 is not a Fernet key") as caught:
        TokenCipher([generate_key(), bad])
    assert bad not in str(caught.value)
    assert caught.value.__cause__ is None


def test_invalid_key_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        TokenCipher(["  "])


def test_cipher_repr_shows_no_key(key: str, cipher: TokenCipher) -> None:
    assert key not in repr(cipher)
    assert repr(cipher) == "TokenCipher(<1 key(s)>)"


def test_generate_key_gives_distinct_usable_keys() -> None:
    first, second = generate_key(), generate_key()
    assert first != second
    assert TokenCipher([first]).decrypt(TokenCipher([first]).encrypt("x")) == "x"


# -- state_digest -----------------------------------------------------------------------------


def test_state_digest_is_the_sha256_hex_of_the_state() -> None:
    assert state_digest("abc") == hashlib.sha256(b"abc").hexdigest()


# -- key file ---------------------------------------------------------------------------------


async def test_missing_key_file_is_created_with_a_usable_key(tmp_path: Path) -> None:
    path = tmp_path / "key"
    key, created = await load_or_create_key_file(path)
    assert created
    assert path.read_text().strip() == key
    TokenCipher([key])


async def test_created_key_file_has_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "key"
    await load_or_create_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_key_file_directories_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "key"
    await load_or_create_key_file(path)
    assert path.is_file()


async def test_existing_key_file_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "key"
    first, _ = await load_or_create_key_file(path)
    again, created = await load_or_create_key_file(path)
    assert (again, created) == (first, False)


def names_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_key_file_creation_leaves_no_temporary_files(tmp_path: Path) -> None:
    await load_or_create_key_file(tmp_path / "key")
    assert names_in(tmp_path) == ["key"]


async def test_concurrent_key_file_creation_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "key"
    results = await asyncio.gather(*(load_or_create_key_file(path) for _ in range(8)))
    assert len({key for key, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert path.read_text().strip() == results[0][0]


async def test_key_file_with_surrounding_whitespace_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "key"
    key = generate_key()
    path.write_text(f"\n  {key}\r\n")
    assert await load_or_create_key_file(path) == (key, False)


async def test_malformed_key_file_names_the_file_not_the_key(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("hunter2-is-not-a-fernet-key\n")
    with pytest.raises(InvalidKeyError) as caught:
        await load_or_create_key_file(path)
    assert str(path) in str(caught.value)
    assert "hunter2" not in str(caught.value)


async def test_empty_key_file_is_an_error_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("")
    with pytest.raises(InvalidKeyError, match="empty"):
        await load_or_create_key_file(path)
    assert path.read_text() == ""


async def test_binary_key_file_is_an_invalid_key_error(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InvalidKeyError, match="does not hold a Fernet key"):
        await load_or_create_key_file(path)


async def test_key_file_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "key"
    key = generate_key()
    path.write_text(key)
    path.chmod(0o644)
    await load_or_create_key_file(path)
    assert "readable by other users" in caplog.text
    assert key not in caplog.text
