"""Encryption of tokens at rest (Fernet), the key file, and digests of authorization states."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .errors import InvalidKeyError, TokenDecryptError

__all__ = [
    "TokenCipher",
    "bio_code_digest",
    "generate_key",
    "key_fingerprint",
    "load_or_create_key_file",
    "state_digest",
]

log = logging.getLogger(__name__)

_DECRYPT_FAILED = "a stored token could not be decrypted with the configured encryption key(s)"


def generate_key() -> str:
    """A fresh random Fernet key, as url-safe base64 text."""
    return Fernet.generate_key().decode("ascii")


def state_digest(state: str) -> str:
    """SHA-256 hex digest of an authorization state; only digests are stored."""
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def key_fingerprint(key: str | bytes) -> str:
    """A short name for a key that reveals nothing of it (stored to recognise a rotation's key)."""
    raw = key.strip().encode("ascii") if isinstance(key, str) else key.strip()
    return hashlib.sha256(b"imgur-link-bot key fingerprint\0" + raw).hexdigest()[:16]


def bio_code_digest(discord_user_id: int, imgur_username: str, code: str) -> str:
    """SHA-256 hex digest of a profile code bound to one member and one Imgur username.

    Only this digest is stored. Binding member and (case-folded) username into it means a
    code found in any other profile, or checked by any other member, never matches. The code
    is compared case-insensitively (members type it by hand).
    """
    bound = f"imgur-bio-code\0{int(discord_user_id)}\0{imgur_username.lower()}\0{code.upper()}"
    return hashlib.sha256(bound.encode("utf-8")).hexdigest()


def _fernet(key: str | bytes, what: str) -> Fernet:
    key = key.strip()
    if not key:
        raise InvalidKeyError(f"{what} is empty")
    try:
        return Fernet(key)
    except ValueError:  # includes binascii.Error; `from None` keeps the key out of tracebacks
        raise InvalidKeyError(
            f"{what} is not a Fernet key (expected 32 url-safe base64-encoded bytes)"
        ) from None


class TokenCipher:
    """Encrypts with the first key; decrypts with any of them (so keys can be rotated)."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if isinstance(keys, str | bytes):
            raise TypeError("TokenCipher takes a sequence of keys, not a single key")
        if not keys:
            raise InvalidKeyError("at least one encryption key is required")
        fernets = [_fernet(key, f"encryption key #{n}") for n, key in enumerate(keys, 1)]
        self._primary = fernets[0]
        self._all = MultiFernet(fernets)
        self._count = len(fernets)
        self.fingerprints = tuple(key_fingerprint(key) for key in keys)

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the first (encrypting) key."""
        return self.fingerprints[0]

    def __repr__(self) -> str:
        return f"TokenCipher(<{self._count} key(s)>)"

    def encrypt(self, text: str) -> bytes:
        """Encrypt ``text`` with the first key."""
        return self._primary.encrypt(text.encode("utf-8"))

    def decrypt(self, blob: bytes) -> str:
        """Decrypt a blob made with any of the keys; ``TokenDecryptError`` otherwise."""
        try:
            return self._all.decrypt(blob).decode("utf-8")
        except (InvalidToken, UnicodeDecodeError):
            raise TokenDecryptError(_DECRYPT_FAILED) from None

    def rotate(self, blob: bytes) -> bytes:
        """Re-encrypt ``blob`` with the first key (keeping its timestamp)."""
        try:
            return self._all.rotate(blob)
        except InvalidToken:
            raise TokenDecryptError(_DECRYPT_FAILED) from None


async def load_or_create_key_file(path: Path) -> tuple[str, bool]:
    """Read the key in ``path``, or create the file with a new key. Returns (key, created)."""
    return await asyncio.to_thread(_load_or_create_key_file, Path(path))


def _load_or_create_key_file(path: Path) -> tuple[str, bool]:
    try:
        return _read_key_file(path), False
    except FileNotFoundError:
        pass
    key = generate_key()
    try:
        _write_new_file(path, key + "\n")
    except FileExistsError:  # another process created it meanwhile: its key wins
        return _read_key_file(path), False
    log.info("created a new encryption key file at %s", path)
    return key, True


def _read_key_file(path: Path) -> str:
    try:
        key = path.read_text(encoding="ascii").strip()
    except UnicodeDecodeError:
        raise InvalidKeyError(f"key file {path} does not hold a Fernet key") from None
    _fernet(key, f"key file {path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        log.warning("key file %s is readable by other users (mode %04o); chmod 600 it", path, mode)
    return key


def _write_new_file(path: Path, text: str) -> None:
    """Create ``path`` (mode 0600) atomically; FileExistsError if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        try:
            # A hard link never replaces an existing file, unlike rename.
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this filesystem
            if path.exists():
                raise FileExistsError(path) from None
            os.replace(tmp, path)
        fsync_directory(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def pending_key_file(key_file: Path) -> Path:
    """Where a rotation keeps the new key until every token is re-encrypted under it."""
    return key_file.with_name(key_file.name + ".new")


def complete_key_file_rotation(key_file: Path, old_key: str, stamp: str) -> Path | None:
    """Swap the pending new key into ``key_file``, keeping ``old_key`` as ``.old-<stamp>``.

    Call only once every token is re-encrypted under the pending key. Returns where the old
    key was kept (None if there was nothing to swap). Blocking file I/O.
    """
    pending = pending_key_file(key_file)
    if not pending.exists():
        return None
    new_key = _read_key_file(pending)
    keep = None
    if new_key != old_key:
        keep = key_file.with_name(f"{key_file.name}.old-{stamp}")
        _write_new_file(keep, old_key + "\n")
    os.replace(pending, key_file)
    fsync_directory(key_file.parent)
    return keep


def read_key_file(path: Path) -> str:
    """The Fernet key in ``path`` (blocking); ``InvalidKeyError`` if it holds none."""
    return _read_key_file(path)


def fsync_directory(directory: Path) -> None:
    """Make a rename or creation in ``directory`` durable."""
    with contextlib.suppress(OSError):  # not possible on every platform
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
