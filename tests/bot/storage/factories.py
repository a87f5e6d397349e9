"""Realistic values for storage tests."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage import Link, LinkStore
from bot.storage.sqlite import SqliteBackend

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def token() -> str:
    """A token shaped like Imgur's: 40 hex characters."""
    return secrets.token_hex(20)


def make_link(discord_user_id: int = 111, **changes: Any) -> Link:
    values: dict[str, Any] = {
        "discord_user_id": discord_user_id,
        "imgur_account_id": 5550000 + discord_user_id,
        "imgur_username": f"user{discord_user_id}",
        "access_token": token(),
        "refresh_token": token(),
        "expires_at": NOW + timedelta(days=28),
        "linked_at": NOW,
    }
    values.update(changes)
    return Link(**values)


def tokens_of(link: Link) -> tuple[str, str]:
    """The access and refresh tokens of an OAuth link (``make_link`` gives both)."""
    assert link.access_token is not None
    assert link.refresh_token is not None
    return link.access_token, link.refresh_token


def sqlite_backend(store: LinkStore) -> SqliteBackend:
    """The store's backend, which the test knows is SQLite (to read its files and pragmas)."""
    backend = store.backend
    assert isinstance(backend, SqliteBackend)
    return backend
