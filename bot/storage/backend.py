"""What a database backend stores and answers: rows of bytes and Unix seconds.

A backend never sees a clear token: ``LinkStore`` (bot/storage/store.py) encrypts above it, and
computes each link's ``refresh_after`` with the one refresh rule. Both backends (SQLite in
sqlite.py, PostgreSQL in postgres.py) implement :class:`Backend` and pass the same contract
tests (tests/bot/storage/test_store_*.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from .models import StoreStats

__all__ = ["Backend", "BioCodeRow", "DueKey", "DueRow", "LinkRow", "StateRow", "TokenRow"]

# Smallest key: pages of the due links start after it.
MIN_KEY = -(2**63)
# A state being completed is claimed, not deleted: its key gets this prefix, so that it can be
# neither consumed again nor taken for a pending one, while unlink still deletes it with the
# member's other states. A link is stored for an attempt only while its claim exists.
CLAIMED = "claimed:"


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One stored link, as the database holds it (tokens encrypted, times in Unix seconds)."""

    discord_user_id: int
    kind: str  # 'oauth' (tokens and expiry set) or 'bio' (none of them)
    imgur_account_id: int | None
    imgur_username: str
    access_token: bytes | None = field(repr=False)
    refresh_token: bytes | None = field(repr=False)
    expires_at: int | None
    status: str
    linked_at: int
    refreshed_at: int | None
    last_error: str | None
    refresh_after: int | None


@dataclass(frozen=True, slots=True)
class DueRow:
    """A link due for refresh: ids and times only."""

    discord_user_id: int
    expires_at: int
    linked_at: int
    refreshed_at: int | None
    refresh_after: int


# (refresh_after, expires_at, discord_user_id): the order in which due links come.
DueKey = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class StateRow:
    """A pending authorization attempt, known by the digest of its state."""

    state_digest: str
    discord_user_id: int
    response_type: str
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class BioCodeRow:
    """A pending profile code, known by its digest (bound to the member and the username)."""

    attempt: str
    code_digest: str = field(repr=False)
    discord_user_id: int
    imgur_username: str
    created_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A link's two encrypted tokens (what key rotation reads and writes)."""

    discord_user_id: int
    access_token: bytes = field(repr=False)
    refresh_token: bytes = field(repr=False)


class Backend(Protocol):
    """A database holding links, authorization states and shared settings."""

    @property
    def location(self) -> str:
        """Where the database is, for messages (a path, or a URL without its password)."""
        ...

    @property
    def shared(self) -> bool:
        """Whether several bot processes may use the database at once."""
        ...

    async def close(self) -> None:
        """Close the database (and release the instance lock). Safe to call twice."""
        ...

    async def ping(self) -> bool: ...
    async def hold_instance_lock(self, *, exclusive: bool) -> bool:
        """Hold the database's instance lock until close: shared by every running bot process,
        exclusive for ``rotate-key``. False (nothing held) if a conflicting one is held."""
        ...

    # links
    async def get(self, discord_user_id: int) -> LinkRow | None: ...
    async def save_link(self, row: LinkRow, attempt_digest: str | None = None) -> bool:
        """Insert the member's link, replacing any previous one (and any lease on it).

        With ``attempt_digest``, the claimed state of that digest is deleted in the same
        transaction, and nothing is stored (False) if it is gone (the member unlinked).
        """
        ...

    async def rename_account(
        self, discord_user_id: int, imgur_username: str, linked_at: int | None
    ) -> bool: ...

    async def update_tokens(
        self,
        discord_user_id: int,
        *,
        access_token: bytes,
        refresh_token: bytes,
        expires_at: int,
        refreshed_at: int,
        refresh_after: int | None,
        linked_at: int | None,
        owner: str | None = None,
    ) -> bool:
        """Store refreshed tokens (status ok, error cleared, lease released); False if unlinked,
        or if ``owner`` is given and another owner holds the link's lease (fencing)."""
        ...

    async def mark_broken(
        self, discord_user_id: int, error: str, linked_at: int | None, owner: str | None = None
    ) -> bool:
        """Status broken with ``error``, lease released; False if there is no such link (or,
        with ``owner``, another owner holds its lease)."""
        ...

    async def record_error(
        self, discord_user_id: int, error: str, linked_at: int | None, owner: str | None = None
    ) -> bool:
        """Remember ``error``, lease released; False if there is no such link (or, with
        ``owner``, another owner holds its lease)."""
        ...

    async def delete_member(self, discord_user_id: int) -> bool:
        """Delete the member's link and states, leaving nothing readable; True if any."""
        ...

    # the refresh sweep
    async def due(self, now: int, before: int, limit: int, after: DueKey) -> list[DueRow]:
        """Ok links with ``refresh_after <= now`` and ``expires_at <= before``, after ``after``."""
        ...

    async def claim_due(
        self, now: int, before: int, limit: int, after: DueKey, owner: str, until: int
    ) -> list[DueRow]:
        """Like ``due`` but only unleased links, each leased to ``owner`` until ``until``.

        Atomic: two processes claiming at once never get the same link.
        """
        ...

    async def claim(self, discord_user_id: int, owner: str, now: int, until: int) -> bool:
        """Lease one link to ``owner``; False if another owner's lease is still running."""
        ...

    async def release(self, discord_user_id: int, owner: str) -> None:
        """End ``owner``'s lease of the link, if it still holds it."""
        ...

    # authorization states
    async def create_state(self, row: StateRow, keep_per_member: int) -> None:
        """Insert ``row``; drop the member's expired states and all but the newest few."""
        ...

    async def claim_newest_state(self, discord_user_id: int, now: int) -> StateRow | None:
        """Claim the member's newest unexpired pending state (see ``CLAIMED``)."""
        ...

    async def claim_state(
        self, state_digest: str, discord_user_id: int | None, now: int
    ) -> StateRow | None:
        """Claim the unexpired pending state (of that member, unless None)."""
        ...

    async def restore_state(self, state_digest: str) -> bool:
        """Make a claimed state pending again; False if its claim is gone."""
        ...

    async def drop_state(self, state_digest: str) -> None:
        """Delete a claimed state."""
        ...

    async def purge_expired_states(self, now: int, claim_grace: int) -> int:
        """Delete expired pending states, and claimed ones ``claim_grace`` after expiry."""
        ...

    # profile (bio) codes
    async def create_bio_code(self, row: BioCodeRow, keep_per_member: int) -> None: ...
    async def get_bio_code(
        self, discord_user_id: int, attempt: str, now: int
    ) -> BioCodeRow | None: ...
    async def complete_bio_link(
        self, row: LinkRow, attempt: str, now: int, digests: Sequence[str]
    ) -> BioCodeRow | None:
        """In one transaction: delete the member's unexpired ``attempt`` if its digest is one of
        ``digests``, and then store ``row`` (replacing any link). None, nothing changed, if not.
        """
        ...

    async def purge_expired_bio_codes(self, now: int) -> int: ...

    # settings every process shares (the command-sync hash, key-rotation progress)
    async def get_setting(self, name: str) -> str | None: ...
    async def set_setting(self, name: str, value: str | None) -> None:
        """Store ``value`` under ``name`` (None deletes it)."""
        ...

    # operations
    async def stats(self, now: int) -> StoreStats: ...
    async def token_rows(self, after: int, limit: int) -> list[TokenRow]:
        """Links' encrypted tokens by member id, after ``after``, for key rotation."""
        ...

    async def write_token_rows(self, rows: Sequence[TokenRow]) -> None:
        """Replace the tokens of these links in one transaction."""
        ...

    async def link_rows(self, after: int, limit: int) -> list[LinkRow]:
        """Whole link rows by member id (for copying a database, recomputing refresh times)."""
        ...

    async def set_refresh_after(self, values: Sequence[tuple[int, int | None]]) -> None:
        """Set ``refresh_after`` of (member id, refresh_after) pairs in one transaction."""
        ...

    async def state_rows(self) -> list[StateRow]: ...
    async def bio_code_rows(self) -> list[BioCodeRow]: ...
    async def settings(self) -> dict[str, str]: ...
    async def import_rows(
        self,
        links: Sequence[LinkRow],
        states: Sequence[StateRow],
        bio_codes: Sequence[BioCodeRow],
        settings: dict[str, str],
    ) -> None:
        """Insert rows copied from another database; rows already there are kept as they are."""
        ...

    async def count_present(self, discord_user_ids: Sequence[int]) -> int:
        """How many of these members have a link here (to verify a copy)."""
        ...
