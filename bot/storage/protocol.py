"""``Store``: what the services, the web server and the cogs need from storage.

They depend on this Protocol only, never on a backend. ``LinkStore`` (store.py) implements it
over either backend (SQLite or PostgreSQL), encrypting tokens above them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol

from .models import AuthState, BioCode, DueLink, Link, StoreStats
from .refresh import RefreshRule

__all__ = ["Store"]


class Store(Protocol):
    """Members' links (oauth and bio), pending authorization states and profile codes,
    leases of links being refreshed, and settings every process shares."""

    @property
    def shared(self) -> bool:
        """Whether several bot processes may use this database at once (PostgreSQL)."""
        ...

    @property
    def rule(self) -> RefreshRule:
        """The refresh rule the stored refresh times follow."""
        ...

    # links
    async def get(self, discord_user_id: int) -> Link | None: ...
    async def save_link(self, link: Link, *, attempt: AuthState | None = None) -> None: ...
    async def rename_account(
        self, discord_user_id: int, imgur_username: str, *, linked_at: datetime | None = None
    ) -> None: ...
    async def update_tokens(
        self,
        discord_user_id: int,
        *,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        refreshed_at: datetime,
        linked_at: datetime | None = None,
        owner: str | None = None,
    ) -> None: ...
    async def mark_broken(
        self,
        discord_user_id: int,
        error: str,
        *,
        linked_at: datetime | None = None,
        owner: str | None = None,
    ) -> None: ...
    async def record_error(
        self,
        discord_user_id: int,
        error: str,
        *,
        linked_at: datetime | None = None,
        owner: str | None = None,
    ) -> None: ...
    async def delete_member(self, discord_user_id: int) -> bool: ...

    # the refresh sweep and its leases
    async def due_for_refresh(
        self, before: datetime, limit: int, *, now: datetime, after: DueLink | None = None
    ) -> list[DueLink]: ...
    async def claim_due(
        self,
        before: datetime,
        limit: int,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        after: DueLink | None = None,
    ) -> list[DueLink]: ...
    async def claim(
        self, discord_user_id: int, *, owner: str, now: datetime, lease: timedelta
    ) -> bool: ...
    async def release(self, discord_user_id: int, *, owner: str) -> None: ...

    # authorization states
    async def create_state(
        self,
        discord_user_id: int,
        response_type: str,
        *,
        ttl: timedelta = ...,
        now: datetime | None = None,
    ) -> AuthState: ...
    async def consume_state(
        self, discord_user_id: int, state: str | None, *, now: datetime | None = None
    ) -> AuthState | None: ...
    async def consume_state_any_member(
        self, state: str, *, now: datetime | None = None
    ) -> AuthState | None: ...
    async def restore_state(self, state: AuthState) -> bool: ...
    async def drop_state(self, state: AuthState) -> None: ...
    async def purge_expired_states(self, now: datetime | None = None) -> int: ...

    # profile (bio) codes
    async def create_bio_code(
        self,
        discord_user_id: int,
        imgur_username: str,
        code: str,
        *,
        ttl: timedelta = ...,
        now: datetime | None = None,
    ) -> BioCode: ...
    async def get_bio_code(
        self, discord_user_id: int, attempt: str, *, now: datetime | None = None
    ) -> BioCode | None: ...
    async def complete_bio_link(
        self,
        link: Link,
        attempt: str,
        candidates: Iterable[str],
        *,
        now: datetime | None = None,
    ) -> BioCode | None: ...
    async def purge_expired_bio_codes(self, now: datetime | None = None) -> int: ...

    # shared settings and operations
    async def get_setting(self, name: str) -> str | None: ...
    async def set_setting(self, name: str, value: str | None) -> None: ...
    async def stats(self, *, now: datetime | None = None) -> StoreStats: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...
