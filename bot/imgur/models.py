"""Typed, frozen values parsed from Imgur's JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import msgspec


class ResponseType(StrEnum):
    """The OAuth2 ``response_type`` asked for at the authorize page."""

    PIN = "pin"
    CODE = "code"
    TOKEN = "token"


class Sort(StrEnum):
    """Order of a favorites listing."""

    NEWEST = "newest"
    OLDEST = "oldest"


@dataclass(frozen=True, slots=True)
class Tokens:
    """What the token endpoint (or a ``#access_token=`` redirect) hands back."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_in: int
    token_type: str = "bearer"
    account_id: int | None = None
    account_username: str | None = None

    def expires_at(self, now: datetime | None = None) -> datetime:
        """When the access token stops working, counted from ``now``."""
        return (now or datetime.now(UTC)) + timedelta(seconds=self.expires_in)


@dataclass(frozen=True, slots=True)
class Account:
    """An Imgur account: the one behind an access token (``/3/account/me``), or a public
    profile (``/3/account/{username}``). ``bio`` is the profile's About text, if any."""

    id: int
    username: str
    avatar: str | None = None
    reputation: float | None = None
    created: int | None = None
    bio: str | None = field(default=None, repr=False)


class FavoriteImage(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """A favorited gallery image (still or animated).

    A msgspec Struct, not a dataclass: favorites are by far the most numerous objects the bot
    holds, and ``gc=False`` (they hold only strings, numbers and None) keeps them out of the
    garbage collector's passes, which otherwise stall the event loop under load.
    """

    id: str
    title: str | None
    description: str | None
    link: str
    mime_type: str | None = None
    animated: bool = False
    mp4: str | None = None
    gifv: str | None = None
    width: int | None = None
    height: int | None = None
    views: int | None = None
    ups: int | None = None
    downs: int | None = None
    points: int | None = None
    nsfw: bool | None = None
    datetime: int | None = None
    account_url: str | None = None

    @property
    def page_url(self) -> str:
        """The imgur.com page of this post."""
        return f"https://imgur.com/{self.id}"


class FavoriteAlbum(msgspec.Struct, frozen=True, gc=False, kw_only=True):
    """A favorited gallery album; favorites carry its cover, never its image list."""

    id: str
    title: str | None
    description: str | None
    link: str
    cover: str | None = None
    cover_width: int | None = None
    cover_height: int | None = None
    images_count: int | None = None
    views: int | None = None
    ups: int | None = None
    downs: int | None = None
    points: int | None = None
    nsfw: bool | None = None
    datetime: int | None = None
    account_url: str | None = None

    def cover_url(self, size: str = "l") -> str | None:
        """A thumbnail of the cover image (size one of ``s b t m l h``)."""
        if not self.cover:
            return None
        return f"https://i.imgur.com/{self.cover}{size}.jpg"

    @property
    def page_url(self) -> str:
        """The imgur.com page of this album."""
        return f"https://imgur.com/a/{self.id}"


Favorite = FavoriteImage | FavoriteAlbum


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Imgur's rate-limit headers of the latest response; ``None`` where absent."""

    client_limit: int | None = None
    client_remaining: int | None = None
    user_limit: int | None = None
    user_remaining: int | None = None
    user_reset: int | None = None  # Unix seconds


@dataclass(frozen=True, slots=True)
class RedirectGrant:
    """What a redirect URL carried: a code, tokens (fragment), or an error; with its state."""

    state: str | None = field(repr=False)
    code: str | None = field(default=None, repr=False)
    tokens: Tokens | None = None
    error: str | None = None
