"""Pure functions from Imgur's JSON to the values in ``models``.

Parsing is lenient the way Imgur's payloads demand: unknown fields are ignored, almost any
field may be ``null`` or of an odd type, and ``http://`` links are upgraded to ``https://``.
A value that cannot be used at all raises ``ValueError`` (callers decide what that means).
No ``TypedDict`` here on purpose: Imgur's fields are not reliably typed, so every value is
checked as it is read instead of being trusted by a declaration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from .models import Account, Favorite, FavoriteAlbum, FavoriteImage, RateLimit, Tokens

log = logging.getLogger(__name__)

_MAX_ERROR_TEXT = 200


# --- small coercions -------------------------------------------------------------------


def as_int(value: object) -> int | None:
    """An int from an int, a whole float or a decimal string; ``None`` for anything else."""
    if type(value) is int:
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in (0, 1):
        return bool(value)
    return None


def https(link: object) -> str | None:
    """``link`` with ``http://`` (or a protocol-relative ``//``) turned into ``https://``."""
    if not isinstance(link, str) or not link:
        return None
    if link.startswith("http://"):
        return "https://" + link[7:]
    if link.startswith("//"):
        return "https:" + link
    return link


_MAX_TOKEN_LIFETIME = 20 * 365 * 86_400


# --- tokens and account ----------------------------------------------------------------


def parse_tokens(payload: object) -> Tokens:
    """Tokens from the token endpoint's JSON; ``ValueError`` without an access token."""
    if not isinstance(payload, Mapping):
        raise ValueError("token response is not an object")
    access_token = _str(payload.get("access_token"))
    expires_in = as_int(payload.get("expires_in"))
    if access_token is None or expires_in is None:
        raise ValueError("token response lacks access_token or expires_in")
    # Seen in the wild: 3600 s to 10 years. A pasted fragment can say anything: keep it sane.
    expires_in = min(max(expires_in, 0), _MAX_TOKEN_LIFETIME)
    return Tokens(
        access_token=access_token,
        refresh_token=_str(payload.get("refresh_token")),
        expires_in=expires_in,
        token_type=_str(payload.get("token_type")) or "bearer",
        account_id=as_int(payload.get("account_id")),
        account_username=_str(payload.get("account_username")),
    )


def parse_account(data: object) -> Account:
    """An account from ``data`` of ``/3/account/me``; ``ValueError`` without id and name."""
    if not isinstance(data, Mapping):
        raise ValueError("account data is not an object")
    account_id = as_int(data.get("id"))
    username = _str(data.get("url"))
    if account_id is None or username is None:
        raise ValueError("account data lacks id or url")
    reputation = data.get("reputation")
    return Account(
        id=account_id,
        username=username,
        avatar=https(data.get("avatar")),
        reputation=float(reputation)
        if isinstance(reputation, int | float) and not isinstance(reputation, bool)
        else None,
        created=as_int(data.get("created")),
        bio=_str(data.get("bio")),
    )


# --- favorites -------------------------------------------------------------------------


def parse_favorite(item: Mapping[str, Any]) -> Favorite:
    """One favorite, branching on ``is_album``; ``ValueError`` when it cannot be shown."""
    get = item.get
    item_id = get("id")
    if not isinstance(item_id, str) or not item_id:
        raise ValueError("favorite has no id")
    title = get("title")
    description = get("description")
    if get("is_album"):
        return FavoriteAlbum(
            id=item_id,
            title=title if isinstance(title, str) else None,
            description=description if isinstance(description, str) else None,
            link=https(get("link")) or f"https://imgur.com/a/{item_id}",
            cover=_str(get("cover")),
            cover_width=as_int(get("cover_width")),
            cover_height=as_int(get("cover_height")),
            images_count=as_int(get("images_count")),
            views=as_int(get("views")),
            ups=as_int(get("ups")),
            downs=as_int(get("downs")),
            points=as_int(get("points")),
            nsfw=_bool(get("nsfw")),
            datetime=as_int(get("datetime")),
            account_url=_str(get("account_url")),
        )
    link = https(get("link"))
    if link is None:
        raise ValueError("favorite image has no link")
    return FavoriteImage(
        id=item_id,
        title=title if isinstance(title, str) else None,
        description=description if isinstance(description, str) else None,
        link=link,
        mime_type=_str(get("type")),
        animated=get("animated") is True,
        mp4=https(get("mp4")),
        gifv=https(get("gifv")),
        width=as_int(get("width")),
        height=as_int(get("height")),
        views=as_int(get("views")),
        ups=as_int(get("ups")),
        downs=as_int(get("downs")),
        points=as_int(get("points")),
        nsfw=_bool(get("nsfw")),
        datetime=as_int(get("datetime")),
        account_url=_str(get("account_url")),
    )


def parse_favorites(data: object) -> list[Favorite]:
    """Every usable favorite of a listing's ``data``; odd items are skipped and logged."""
    if not isinstance(data, list):
        raise ValueError("favorites data is not a list")
    favorites: list[Favorite] = []
    append = favorites.append
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            log.debug("skipping favorite #%d: not an object", index)
            continue
        try:
            append(parse_favorite(item))
        except ValueError as exc:
            log.debug("skipping favorite #%d: %s", index, exc)
    return favorites


# --- errors and headers ----------------------------------------------------------------


def _message_of(error: object) -> object:
    """The text of an ``error`` that is a string or a ``{code, message, ...}`` object."""
    if isinstance(error, Mapping):
        return error.get("message") or error.get("code")
    return error


def error_text(payload: object) -> str | None:
    """Imgur's error message from either error envelope, or ``None`` when there is none.

    Handles ``{"data": {"error": "..."}}``, ``{"data": {"error": {"message": ...}}}`` and
    ``{"errors": [{"detail"|"status"|"code": ...}]}``. The text is shortened and flattened.
    """
    if not isinstance(payload, Mapping):
        return None
    text: object = None
    data = payload.get("data")
    if isinstance(data, Mapping):
        text = _message_of(data.get("error"))
    elif isinstance(data, str):
        text = data
    if not text:
        errors = payload.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
            first = errors[0]
            text = first.get("detail") or first.get("status") or first.get("code")
    if not text:
        text = _message_of(payload.get("error"))
    if not text or isinstance(text, Mapping | list):
        return None
    flat = " ".join(str(text).split())
    return flat[:_MAX_ERROR_TEXT] or None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimit | None:
    """A ``RateLimit`` from Imgur's headers, or ``None`` when the response carried none."""
    client_limit = headers.get("X-RateLimit-ClientLimit")
    client_remaining = headers.get("X-RateLimit-ClientRemaining")
    user_limit = headers.get("X-RateLimit-UserLimit")
    user_remaining = headers.get("X-RateLimit-UserRemaining")
    user_reset = headers.get("X-RateLimit-UserReset")
    if (
        client_limit is None
        and client_remaining is None
        and user_limit is None
        and user_remaining is None
        and user_reset is None
    ):
        return None
    return RateLimit(
        client_limit=as_int(client_limit),
        client_remaining=as_int(client_remaining),
        user_limit=as_int(user_limit),
        user_remaining=as_int(user_remaining),
        user_reset=as_int(user_reset),
    )
