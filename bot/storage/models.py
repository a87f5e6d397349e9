"""Values the store hands out. Tokens are decrypted here and never shown by ``repr``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class LinkStatus(StrEnum):
    """Health of a member's link."""

    OK = "ok"
    BROKEN = "broken"


class LinkKind(StrEnum):
    """How a link was made, and so what it can read.

    ``oauth``: Imgur's authorize page gave the member's tokens (all their favorites).
    ``bio``: a code in the account's public profile proved ownership; no tokens, so only what
    a client id can read (the public gallery favorites).
    """

    OAUTH = "oauth"
    BIO = "bio"


@dataclass(frozen=True, slots=True)
class Link:
    """One Discord member's linked Imgur account.

    An ``oauth`` link has both tokens and ``expires_at``; a ``bio`` link has none of them, but
    always an ``imgur_account_id`` (it follows renames through it).
    """

    discord_user_id: int
    imgur_account_id: int | None
    imgur_username: str
    access_token: str | None = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime | None
    status: LinkStatus = LinkStatus.OK
    linked_at: datetime | None = None
    refreshed_at: datetime | None = None
    last_error: str | None = None
    kind: LinkKind = LinkKind.OAUTH


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
class BioCode:
    """A pending profile-code attempt: the member, the Imgur username it is for, its times.

    ``attempt`` is a short random reference that is not secret (it goes into the Check
    button's custom id); the code itself is known to the store only by its digest, and
    ``code`` holds it in clear only right after creation.
    """

    discord_user_id: int
    imgur_username: str  # lowercased
    attempt: str
    created_at: datetime
    expires_at: datetime
    code: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Counts for operators; no secrets."""

    links: int
    broken_links: int
    pending_states: int
    pending_bio_codes: int = 0
    bio_links: int = 0
