"""The configured database as an operator command opens it: it must exist already, its keys
must be readable and valid, and for the commands that rewrite it no bot may run meanwhile."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from bot.cli.handlers import CommandError
from bot.config import Config
from bot.database import open_store, require_key
from bot.secrets_env import parse_key_list
from bot.storage import InvalidKeyError, LinkStore, TokenCipher


def sqlite_file(config: Config) -> Path | None:
    """The SQLite file, which must exist (None for PostgreSQL)."""
    if config.storage.is_postgres:
        require_key(config)
        return None
    path = Path(config.storage.database)
    if not path.is_file():
        raise CommandError(f"no database at {path} (check BOT_DATABASE / storage.database)")
    return path


def key_file(config: Config) -> Path:
    """Where the bot keeps its generated key when ``BOT_ENCRYPTION_KEY`` is not set."""
    return config.storage.side_file(".key")


def current_keys(config: Config) -> list[str]:
    """The keys the bot would read tokens with."""
    if config.storage.encryption_key:
        return parse_key_list(config.storage.encryption_key)
    path = key_file(config)
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise CommandError(
            f"no encryption key: BOT_ENCRYPTION_KEY is not set and {path} does not exist"
        ) from None
    except (OSError, UnicodeDecodeError):
        raise CommandError(f"cannot read the key file {path}") from None
    return [key]


def cipher(keys: list[str], what: str) -> TokenCipher:
    """A cipher for ``keys``; CommandError naming ``what`` if one is not a Fernet key."""
    try:
        return TokenCipher(keys)
    except InvalidKeyError:
        raise CommandError(f"{what} is not a valid Fernet key (or list of keys)") from None


async def open_existing_store(config: Config, keys: list[str] | None = None) -> LinkStore:
    """Open (and migrate) the database, which must exist: a typo must not create a new one."""
    sqlite_file(config)
    if keys is None:
        keys = current_keys(config)
    cipher(keys, "the configured encryption key")
    return await open_store(config, keys=keys, finish_rotation=False)


@contextlib.asynccontextmanager
async def stopped_bot_store(config: Config, keys: list[str]) -> AsyncIterator[LinkStore]:
    """The store, with the database's instance lock held exclusively: no bot runs meanwhile
    (each running bot process holds it shared), and none can start."""
    store = await open_existing_store(config, keys)
    try:
        if not await store.backend.hold_instance_lock(exclusive=True):
            raise CommandError(
                "a bot is running on this database (it holds the database lock): stop every "
                "bot process first (docker compose stop bot)"
            )
        yield store
    finally:
        await store.close()


def utc_stamp() -> str:
    """Now in UTC, as the names of backups and kept keys carry it."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
