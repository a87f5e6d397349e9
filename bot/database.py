"""Opening the configured store: its keys, the running bot's lock, an unfinished key rotation.

Used by the bot at start (``bot.app``) and by the operator commands (``bot.cli``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from bot.config import Config, ConfigError
from bot.secrets_env import parse_key_list
from bot.storage import (
    LinkStore,
    RefreshRule,
    StorageError,
    TokenCipher,
    key_fingerprint,
    load_or_create_key_file,
)
from bot.storage.crypto import complete_key_file_rotation, pending_key_file, read_key_file

__all__ = ["NEEDS_KEY_WITH_POSTGRES", "configured_keys", "open_store", "require_key"]

log = logging.getLogger(__name__)

NEEDS_KEY_WITH_POSTGRES = (
    "storage.encryption_key: required with PostgreSQL (set BOT_ENCRYPTION_KEY on every bot "
    "process; a generated key file cannot be shared between machines)"
)


def require_key(config: Config) -> None:
    """ConfigError if the configuration cannot work without a key it does not give."""
    if config.storage.is_postgres and not config.storage.encryption_key:
        raise ConfigError(NEEDS_KEY_WITH_POSTGRES)


async def configured_keys(config: Config, *, create: bool) -> list[str]:
    """The keys tokens are read with: ``encryption_key`` (``NEW,OLD`` during a rotation), or
    the key file in ``storage.data_dir`` (created with a new key when ``create``)."""
    require_key(config)
    if config.storage.encryption_key:
        return parse_key_list(config.storage.encryption_key)
    key_path = config.storage.side_file(".key")
    if not create:
        return [await asyncio.to_thread(read_key_file, key_path)]
    key, created = await load_or_create_key_file(key_path)
    if created:
        log.warning(
            "no BOT_ENCRYPTION_KEY set: generated one into %s; back it up, or set your own "
            "key in production (see the README)",
            key_path,
        )
    return [key]


async def open_store(
    config: Config,
    *,
    keys: list[str] | None = None,
    hold_lock: bool = False,
    finish_rotation: bool = True,
) -> LinkStore:
    """Open (and migrate) the configured database with the configured or generated key.

    With ``hold_lock`` (a running bot), the database's instance lock is held shared until the
    store closes, so that ``rotate-key`` refuses to run meanwhile. With ``finish_rotation``, a
    key rotation that was interrupted is finished first: its new key is taken from
    ``BOT_NEW_ENCRYPTION_KEY`` or the pending key file (``<key file>.new``).
    """
    if keys is None:
        keys = await configured_keys(config, create=True)
    storage = config.storage
    store = await LinkStore.open(
        storage.database,
        TokenCipher(keys),
        rule=RefreshRule(timedelta(seconds=config.refresh.lead_seconds)),
        pool_size=storage.pool_size,
    )
    try:
        if hold_lock and not await store.backend.hold_instance_lock(exclusive=False):
            raise StorageError(
                "a key rotation (python -m bot rotate-key) is running on this database: "
                "start the bot once it has finished"
            )
        if finish_rotation:
            await _finish_rotation(config, store, keys)
    except BaseException:
        await store.close()
        raise
    return store


async def _finish_rotation(config: Config, store: LinkStore, keys: list[str]) -> None:
    target = await store.pending_rotation()
    if target is None:
        return
    candidates = [*keys[:1], *parse_key_list(config.storage.new_encryption_key)]
    key_file = config.storage.side_file(".key")
    pending = pending_key_file(key_file)
    file_mode = not config.storage.encryption_key
    if file_mode and await asyncio.to_thread(pending.exists):
        candidates.append(await asyncio.to_thread(read_key_file, pending))
    new_key = next((key for key in candidates if key_fingerprint(key) == target), None)
    if new_key is None:
        raise StorageError(
            "a key rotation was interrupted and some tokens are encrypted under its new key: "
            "run `python -m bot rotate-key` again with the same keys to finish it (or give the "
            "new key in BOT_NEW_ENCRYPTION_KEY)"
        )
    log.warning("finishing a key rotation that was interrupted: re-encrypting every token")
    new_keys = [new_key, *(key for key in keys if key != new_key)]
    done = await store.reencrypt_all(TokenCipher(new_keys))
    if file_mode:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = await asyncio.to_thread(complete_key_file_rotation, key_file, keys[0], stamp)
        if kept is not None:
            log.warning("the old key was kept in %s; store it with the older backups", kept)
    elif new_key != keys[0]:
        log.warning(
            "re-encrypted %d links under BOT_NEW_ENCRYPTION_KEY: set BOT_ENCRYPTION_KEY to it "
            "before the next start",
            done,
        )
