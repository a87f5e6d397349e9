"""Values the store hands out. Tokens are decrypted here and never shown by ``repr``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class LinkStatus(StrEnum):
    """Health of a member's link."""

    OK = "ok"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class Link:
    """One Discord member's linked Imgur account."""

    discord_user_id: int
    imgur_account_id: int | None
    imgur_username: str
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: datetime
    status: LinkStatus = LinkStatus.OK
    linked_at: datetime | None = None
    refreshed_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class DueLink:
    """A link due for refresh, as the sweep needs it: ids and times, no tokens (not decrypted)."""

    discord_user_id: int
    expires_at: datetime
    linked_at: datetime
    refreshed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuthState:
    """A pending authorization attempt. The state itself is only known to its creator."""

    discord_user_id: int
    response_type: str
    created_at: datetime
    expires_at: datetime
    state: str = field(default="", repr=False)  # clear value only right after creation
    digest: str = field(default="", repr=False)  # how the store knows it (see restore_state)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts for operators; no secrets."""

    links: int
    broken_links: int
    pending_states: int
