"""Pure functions from Imgur's JSON to the values in ``models``.

Parsing is lenient the way Imgur's payloads demand: unknown fields are ignored, almost any
field may be ``null`` or of an odd type. It is also total: whatever JSON arrives, a function
here returns a value or raises ``ValueError`` (callers turn that into "Imgur sent something
odd"), never anything else. Numbers outside what SQLite and ``datetime`` hold become ``None``,
texts are cut, ids must look like Imgur's, and links are ``https`` only: ``http://`` (and
protocol-relative ``//``) links are upgraded for Imgur's own hosts and dropped for any other.
No ``TypedDict`` here on purpose: Imgur's fields are not reliably typed, so every value is
checked as it is read instead of being trusted by a declaration.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from typing import Any, Final

from .models import Account, Favorite, FavoriteAlbum, FavoriteImage, RateLimit, Tokens

log = logging.getLogger(__name__)

_MAX_ERROR_TEXT = 200


# --- small coercions -------------------------------------------------------------------

# What SQLite's INTEGER holds: anything outside is not a count, an id or a time Imgur means.
_INT_MIN: Final = -(2**63)
_INT_MAX: Final = 2**63 - 1
_DECIMAL: Final = re.compile(r"[+-]?[0-9]{1,19}")  # ASCII only: "²" and "١" are digits to str
_UNIX_TIME_MAX: Final = 253_402_300_799  # 9999-12-31: datetime's last second
_MAX_TEXT: Final = 4096  # more than any embed shows; bounds what a cached page holds
_MAX_NAME: Final = 1024
_MAX_BIO: Final = 65_536  # a code may sit anywhere in a long bio: keep all of any real one
_IMGUR_ID: Final = re.compile(r"[A-Za-z0-9]{1,64}")
_MAX_URL: Final = 512
# An absolute http(s) URL with a plain host name and only characters that need no escaping
# anywhere in Discord: no spaces, quotes, brackets or parentheses to break out of a link.
_URL_SHAPE: Final = re.compile(
    r"(?P<scheme>https?)://"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)"
    r"(?::[0-9]{1,5})?"
    r"(?:[/?#][A-Za-z0-9\-._~%!$&*+,;=:@/?#]*)?",
    re.IGNORECASE,
)


def as_int(value: object) -> int | None:
    """An int from an int, a whole float or an ASCII decimal string within 64 bits; else None."""
    number: int
    if type(value) is int:
        number = value
    elif isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            return None
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not _DECIMAL.fullmatch(text):
            return None
        number = int(text)
    else:
        return None
    return number if _INT_MIN <= number <= _INT_MAX else None


def as_unix_time(value: object) -> int | None:
    """Unix seconds that ``datetime`` can hold (1970 to 9999), else None."""
    number = as_int(value)
    return number if number is not None and 0 <= number <= _UNIX_TIME_MAX else None


def as_float(value: object) -> float | None:
    """A finite float from a number (not a bool) within 64-bit range, else None."""
    if type(value) is int:
        return float(value) if _INT_MIN <= value <= _INT_MAX else None
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def _text(value: object, limit: int = _MAX_TEXT) -> str | None:
    """A non-empty string, cut to ``limit`` code points; None for anything else."""
    return value[:limit] if isinstance(value, str) and value else None


def _str(value: object) -> str | None:
    return _text(value, _MAX_NAME)


_TOKEN: Final = re.compile(r"[\x21-\x7e]{1,2048}")  # goes into an HTTP header as it is


def _token(value: object) -> str | None:
    """A token or secret fit for an ``Authorization`` header (printable ASCII), else None."""
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    return None


def imgur_id(value: object) -> str | None:
    """An Imgur image or album id (letters and digits), or None."""
    return value if isinstance(value, str) and _IMGUR_ID.fullmatch(value) else None


def _is_imgur_host(host: str) -> bool:
    host = host.lower()
    return host == "imgur.com" or host.endswith(".imgur.com")


def https(link: object) -> str | None:
    """``link`` as an ``https`` URL safe to put in an embed, or None.

    ``http://`` and protocol-relative ``//`` links are upgraded on Imgur's own hosts (they
    serve the same file over https) and dropped elsewhere; anything that is not a plain
    absolute URL (other schemes, credentials, spaces, brackets, over 512 characters) is dropped.
    """
    if not isinstance(link, str) or not link or len(link) > _MAX_URL:
        return None
    if link.startswith("//"):
        link = "http:" + link
    shape = _URL_SHAPE.fullmatch(link)
    if shape is None:
        return None
    rest = link[len(shape.group("scheme")) :]
    if shape.group("scheme").lower() == "https":
        return "https" + rest
    return "https" + rest if _is_imgur_host(shape.group("host")) else None


def is_imgur_url(link: str) -> bool:
    """Whether ``link`` is an https URL on imgur.com or one of its subdomains."""
    shape = _URL_SHAPE.fullmatch(link)
    return (
        shape is not None
        and shape.group("scheme").lower() == "https"
        and _is_imgur_host(shape.group("host"))
    )


_MAX_TOKEN_LIFETIME = 20 * 365 * 86_400


def _lifetime(value: object) -> int | None:
    """``expires_in`` kept sane: 3600 s to 10 years are seen; a pasted fragment says anything."""
    seconds: int | None
    if type(value) is int:  # any size: a huge lifetime is still a lifetime
        seconds = value
    elif isinstance(value, float) and math.isfinite(value):
        seconds = int(value)
    else:
        seconds = as_int(value)
    return None if seconds is None else min(max(seconds, 0), _MAX_TOKEN_LIFETIME)


# --- tokens and account ----------------------------------------------------------------


def parse_tokens(payload: object) -> Tokens:
    """Tokens from the token endpoint's JSON; ``ValueError`` without an access token."""
    if not isinstance(payload, Mapping):
        raise ValueError("token response is not an object")
    access_token = _token(payload.get("access_token"))
    expires_in = _lifetime(payload.get("expires_in"))
    if access_token is None or expires_in is None:
        raise ValueError("token response lacks access_token or expires_in")
    return Tokens(
        access_token=access_token,
        refresh_token=_token(payload.get("refresh_token")),
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
    return Account(
        id=account_id,
        username=username,
        avatar=https(data.get("avatar")),
        reputation=as_float(data.get("reputation")),
        created=as_unix_time(data.get("created")),
        bio=_text(data.get("bio"), _MAX_BIO),
    )


# --- favorites -------------------------------------------------------------------------


def parse_favorite(item: Mapping[str, Any]) -> Favorite:
    """One favorite, branching on ``is_album``; ``ValueError`` when it cannot be shown."""
    get = item.get
    item_id = imgur_id(get("id"))
    if item_id is None:
        raise ValueError("favorite has no usable id")
    title = _text(get("title"), _MAX_NAME)
    description = _text(get("description"))
    if _bool(get("is_album")):
        return FavoriteAlbum(
            id=item_id,
            title=title,
            description=description,
            link=https(get("link")) or f"https://imgur.com/a/{item_id}",
            cover=imgur_id(get("cover")),
            cover_width=as_int(get("cover_width")),
            cover_height=as_int(get("cover_height")),
            images_count=as_int(get("images_count")),
            views=as_int(get("views")),
            ups=as_int(get("ups")),
            downs=as_int(get("downs")),
            points=as_int(get("points")),
            nsfw=_bool(get("nsfw")),
            datetime=as_unix_time(get("datetime")),
            account_url=_str(get("account_url")),
        )
    link = https(get("link"))
    if link is None:
        raise ValueError("favorite image has no link")
    return FavoriteImage(
        id=item_id,
        title=title,
        description=description,
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
        datetime=as_unix_time(get("datetime")),
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
