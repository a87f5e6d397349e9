"""Async Imgur client: the OAuth2 token calls, the linked account and its favorites, and the
public profile and gallery favorites any account has, read with the client id alone.

The ``aiohttp.ClientSession`` is handed in and never closed here. Every attempt is bounded by
``timeout``; GETs are retried on 5xx, connection errors and timeouts with jittered exponential
backoff. Token POSTs are never retried: a PIN or code is single-use, and a refresh that reached
Imgur may already have rotated the refresh token.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import quote, urlencode

import aiohttp
import msgspec

from .errors import (
    ImgurError,
    ImgurNotFound,
    ImgurOddResponse,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidClientId,
    InvalidGrant,
    RateLimited,
)
from .models import Account, Favorite, RateLimit, ResponseType, Sort, Tokens
from .parse import (
    as_int,
    error_text,
    parse_account,
    parse_favorites,
    parse_rate_limit,
    parse_tokens,
)

log = logging.getLogger(__name__)

# Wordings of a refused PIN, code or refresh token on the token endpoint. Several come from
# the OAuth2 server library behind Imgur ("... doesn't exist or is invalid for the client",
# "The authorization code has expired", the error code "invalid_grant"). Not "invalid grant":
# it would also match "Invalid grant_type", which is our bug, not a dead grant.
_GRANT_REFUSED: Final = (
    "invalid refresh token",
    "invalid pin",
    "invalid_grant",
    "invalid code",
    "invalid authorization code",
    "doesn't exist or is invalid",
    "does not exist or is invalid",
    "has expired",
)
# Of those, the ones that say a refresh token is dead: only these break a link
# (docs/imgur-api.md#refused-grants-which-wordings-break-a-link).
_REFRESH_TOKEN_DEAD: Final = (
    "invalid refresh token",
    "refresh token doesn't exist or is invalid",
    "refresh token does not exist or is invalid",
)
_ACCESS_TOKEN_INVALID: Final = "access token provided is invalid"  # noqa: S105 (a phrase)
_OVER_CAPACITY: Final = "over capacity"
_NOT_JSON: Final = object()
_MAX_RETRY_AFTER: Final = 86_400.0  # a day: anything longer is a broken header
# A favorites page is about 100 KB; 4 MiB leaves room for long descriptions and nothing more.
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
_READ_CHUNK: Final = 64 * 1024
# Below this, X-RateLimit-UserReset is taken as seconds from now rather than a Unix time.
_UNIX_TIME_FLOOR: Final = 1_000_000_000


class ImgurClient:
    """Talks to Imgur's OAuth2 and API endpoints over a session owned by the caller."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        client_id: str,
        client_secret: str,
        *,
        api_base: str = "https://api.imgur.com",
        timeout: float = 10.0,
        max_retries: int = 2,
        retry_backoff: float = 0.25,
        max_body_bytes: int = MAX_BODY_BYTES,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        """``sleep`` waits between retries and ``jitter`` draws from [0, 1) to spread them:
        seams for tests, which pass a recording sleep and scripted draws."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_body_bytes <= 0:
            raise ValueError("max_body_bytes must be positive")
        if max_retries < 0 or retry_backoff < 0:
            raise ValueError("max_retries and retry_backoff must not be negative")
        self._session = session
        self._client_id = client_id
        self._client_secret = client_secret
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._jitter = jitter
        self.rate_limit: RateLimit | None = None
        """The rate-limit headers of the latest response that carried any."""
        self._client_timeout = aiohttp.ClientTimeout(total=timeout)
        self._token_url = f"{self.api_base}/oauth2/token"
        self._me_url = f"{self.api_base}/3/account/me"

    def __repr__(self) -> str:
        return f"ImgurClient(api_base={self.api_base!r})"

    # --- OAuth2 ------------------------------------------------------------------------

    def authorize_url(self, response_type: ResponseType, state: str) -> str:
        """The URL a member opens to grant access (contains the state: do not log it)."""
        query = urlencode(
            {
                "client_id": self._client_id,
                "response_type": ResponseType(response_type).value,
                "state": state,
            }
        )
        return f"{self.api_base}/oauth2/authorize?{query}"

    async def exchange_pin(self, pin: str) -> Tokens:
        """Tokens for a PIN the member copied from Imgur's page."""
        return await self._grant({"grant_type": "pin", "pin": pin}, pin)

    async def exchange_code(self, code: str) -> Tokens:
        """Tokens for the ``code`` of a ``?code=`` redirect."""
        return await self._grant({"grant_type": "authorization_code", "code": code}, code)

    async def refresh(self, refresh_token: str) -> Tokens:
        """New tokens; keep the refresh token that comes back, it may be a new one.

        Only Imgur's own words for a dead refresh token raise :class:`InvalidGrant` here: it
        breaks the member's link, so any other refusal is an :class:`ImgurRequestFailed`.
        """
        try:
            return await self._grant(
                {"grant_type": "refresh_token", "refresh_token": refresh_token}, refresh_token
            )
        except InvalidGrant as exc:
            if any(phrase in exc.message.lower() for phrase in _REFRESH_TOKEN_DEAD):
                raise
            raise ImgurRequestFailed(exc.message, status=exc.status) from None

    async def _grant(self, grant: dict[str, str], secret: str) -> Tokens:
        form = {"client_id": self._client_id, "client_secret": self._client_secret, **grant}
        payload = await self._send(
            "POST",
            self._token_url,
            data=form,
            retries=0,
            token_endpoint=True,
            secrets=(secret, self._client_secret),
        )
        try:
            return parse_tokens(payload)
        except ValueError as exc:
            raise ImgurOddResponse(f"Imgur sent something odd: {exc}") from None

    # --- API ---------------------------------------------------------------------------

    async def account(self, access_token: str) -> Account:
        """The account the access token belongs to (``GET /3/account/me``)."""
        payload = await self._get(self._me_url, access_token)
        try:
            return parse_account(payload.get("data"))
        except ValueError as exc:
            raise ImgurOddResponse(f"Imgur sent something odd: {exc}") from None

    async def favorites(
        self,
        access_token: str,
        page: int = 0,
        sort: Sort = Sort.NEWEST,
        username: str = "me",
    ) -> list[Favorite]:
        """One page (from 0) of the account's favorites; an empty list past the end."""
        if page < 0:
            raise ValueError("page must not be negative")
        url = (
            f"{self.api_base}/3/account/{quote(username, safe='')}"
            f"/favorites/{int(page)}/{Sort(sort).value}"
        )
        payload = await self._get(url, access_token)
        try:
            return parse_favorites(payload.get("data"))
        except ValueError as exc:
            raise ImgurOddResponse(f"Imgur sent something odd: {exc}") from None

    # --- API with the client id alone (public data) -----------------------------------

    async def account_by_name(self, username: str) -> Account:
        """The public profile of ``username`` (case-insensitive), ``bio`` included.

        ``GET /3/account/{username}`` with ``Client-ID``. :class:`ImgurNotFound` when Imgur
        has no such account; :class:`InvalidClientId` when it refuses the client id.
        """
        return await self._public_account(self._account_url(username), "/3/account/{username}")

    async def account_by_id(self, account_id: int, username: str) -> Account:
        """The public profile of the account ``account_id``, whatever it is called now.

        ``GET /3/account/{username}?account_id=N``: the id survives a rename; Imgur still wants
        a name in the path, so pass the last one known.
        """
        return await self._public_account(
            f"{self._account_url(username)}?{urlencode({'account_id': int(account_id)})}",
            "/3/account/{username}?account_id=...",
        )

    async def gallery_favorites(
        self, username: str, page: int = 0, sort: Sort = Sort.NEWEST
    ) -> list[Favorite]:
        """One page (from 0) of the account's favorites that are in the public gallery.

        ``GET /3/account/{username}/gallery_favorites/{page}/{sort}`` with ``Client-ID``; an
        empty list past the end. Hidden and private favorites are never in it.
        """
        if page < 0:
            raise ValueError("page must not be negative")
        where = f"/gallery_favorites/{int(page)}/{Sort(sort).value}"
        url = self._account_url(username) + where
        payload = await self._get_public(url, "/3/account/{username}" + where)
        try:
            return parse_favorites(payload.get("data"))
        except ValueError as exc:
            raise ImgurOddResponse(f"Imgur sent something odd: {exc}") from None

    def _account_url(self, username: str) -> str:
        if not username:
            raise ValueError("an Imgur username is needed")
        return f"{self.api_base}/3/account/{quote(username, safe='')}"

    async def _public_account(self, url: str, label: str) -> Account:
        payload = await self._get_public(url, label)
        try:
            return parse_account(payload.get("data"))
        except ValueError as exc:
            raise ImgurOddResponse(f"Imgur sent something odd: {exc}") from None

    async def _get_public(self, url: str, label: str) -> dict[str, Any]:
        # Logged by label: the path holds the member's Imgur username.
        try:
            return await self._get_json(
                url, f"Client-ID {self._client_id}", self._client_id, label=label
            )
        except (InvalidAccessToken, ImgurRequestFailed) as exc:
            if exc.status == 404:
                raise ImgurNotFound(exc.message, status=404) from None
            if exc.status in (401, 403):
                log.warning(
                    "Imgur refused the client id (HTTP %s): check IMGUR_CLIENT_ID", exc.status
                )
                raise InvalidClientId(
                    f"Imgur refused the bot's client id (HTTP {exc.status})", status=exc.status
                ) from None
            raise

    async def _get(self, url: str, access_token: str) -> dict[str, Any]:
        return await self._get_json(url, f"Bearer {access_token}", access_token)

    async def _get_json(
        self, url: str, authorization: str, secret: str, *, label: str | None = None
    ) -> dict[str, Any]:
        payload = await self._send(
            "GET",
            url,
            headers={"Authorization": authorization},
            retries=self.max_retries,
            token_endpoint=False,
            secrets=(secret,),
            label=label,
        )
        if not isinstance(payload, dict):
            raise ImgurOddResponse("Imgur sent something odd: a response that is not an object")
        return payload

    # --- transport ---------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        retries: int,
        token_endpoint: bool,
        secrets: tuple[str, ...],
        label: str | None = None,
    ) -> Any:
        """The decoded JSON of a 2xx answer, or an ``ImgurError`` raised.

        ``label`` names the request in log lines instead of its path (which may hold a
        member's Imgur username).
        """
        where = label or _path(url)
        attempt = 0
        while True:
            failure: ImgurError
            try:
                async with self._session.request(
                    method,
                    url,
                    headers=headers,
                    data=data,
                    timeout=self._client_timeout,
                    allow_redirects=False,
                ) as response:
                    status = response.status
                    body = await self._read_capped(response)
                    response_headers = response.headers
            except TimeoutError:
                failure = ImgurUnavailable("Imgur did not answer in time")
            except aiohttp.ClientError as exc:
                failure = ImgurUnavailable(f"Could not reach Imgur ({type(exc).__name__})")
            else:
                rate_limit = parse_rate_limit(response_headers)
                if rate_limit is not None:
                    self.rate_limit = rate_limit
                payload = _decode(body)
                if 200 <= status < 300 and payload is not _NOT_JSON:
                    # Imgur has been seen wrapping a refusal in a 2xx answer.
                    if not (type(payload) is dict and payload.get("success") is False):
                        return payload
                    status = as_int(payload.get("status")) or 400
                    if not 400 <= status <= 599:  # an odd "status" is still a refusal
                        status = 400
                failure = error_from_response(
                    status,
                    payload,
                    response_headers,
                    token_endpoint=token_endpoint,
                    secrets=secrets,
                )
                if status < 500:
                    log.debug("%s %s failed: %s", method, where, failure.message)
                    raise failure
            if attempt >= retries:
                log.warning("%s %s failed: %s", method, where, failure.message)
                raise failure
            attempt += 1
            # Jitter spreads retries of many callers; it is not a security measure.
            delay = self.retry_backoff * 2 ** (attempt - 1) * (0.5 + self._jitter())
            log.info(
                "%s %s failed (%s); retry %d/%d in %.2fs",
                method,
                where,
                failure.message,
                attempt,
                retries,
                delay,
            )
            await self._sleep(delay)

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, read in chunks and given up past ``max_body_bytes`` (decompressed)."""
        cap = self.max_body_bytes
        too_large = ImgurOddResponse(
            f"Imgur sent something odd: a response over {cap:,} bytes", status=response.status
        )
        if response.content_length is not None and response.content_length > cap:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > cap:
                raise too_large  # leaving ``async with`` closes the connection unread
            chunks.append(chunk)
        return b"".join(chunks)


_JSON = msgspec.json.Decoder()  # the same Python objects as json.loads, in less CPU


def _decode(body: bytes) -> Any:
    if not body:
        return _NOT_JSON
    try:
        return _JSON.decode(body)
    except msgspec.DecodeError:  # not JSON, or not UTF-8
        return _NOT_JSON


def _path(url: str) -> str:
    """The path of one of our own URLs (they carry no query), for log lines."""
    scheme_end = url.find("//")
    slash = url.find("/", scheme_end + 2 if scheme_end >= 0 else 0)
    return url[slash:] if slash >= 0 else url


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, "[redacted]")
    return text


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` or ``X-RateLimit-UserReset``; ``None`` if unknown."""
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(seconds):
                return min(max(0.0, seconds), _MAX_RETRY_AFTER)
        try:
            moment = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, OverflowError):
            pass
        else:
            return min(max(0.0, moment - now), _MAX_RETRY_AFTER)
    reset = as_int(headers.get("X-RateLimit-UserReset"))
    if reset is None:
        return None
    if reset < _UNIX_TIME_FLOOR:
        return float(min(max(0, reset), _MAX_RETRY_AFTER))
    return min(max(0.0, reset - now), _MAX_RETRY_AFTER)


def error_from_response(
    status: int,
    payload: object,
    headers: Mapping[str, str],
    *,
    token_endpoint: bool,
    secrets: Iterable[str] = (),
) -> ImgurError:
    """The exception for a failed answer. ``payload`` is the decoded body (any non-JSON value
    stands for an unreadable body); any of ``secrets`` found in Imgur's text is redacted."""
    text = error_text(payload)
    if text is not None:
        text = _redact(text, secrets)
    suffix = f": {text}" if text else ""
    if status == 429:
        return RateLimited(
            f"Imgur rate limit reached{suffix}", status=429, retry_after=retry_after(headers)
        )
    if status >= 500:
        return ImgurUnavailable(f"Imgur failed with HTTP {status}{suffix}", status=status)
    if status == 401 and not token_endpoint:
        return InvalidAccessToken(f"Imgur refused the access token (HTTP 401){suffix}", status=401)
    if payload is _NOT_JSON or not isinstance(payload, dict):
        return ImgurUnavailable(f"Imgur answered HTTP {status} without a JSON body", status=status)
    lowered = text.lower() if text else ""
    if status == 403 and _OVER_CAPACITY in lowered:
        return ImgurUnavailable(f"Imgur is over capacity{suffix}", status=status)
    if status == 403 and not token_endpoint and _ACCESS_TOKEN_INVALID in lowered:
        return InvalidAccessToken(f"Imgur refused the access token{suffix}", status=status)
    if status == 400 and token_endpoint and any(phrase in lowered for phrase in _GRANT_REFUSED):
        return InvalidGrant(f"Imgur refused the grant{suffix}", status=status)
    return ImgurRequestFailed(f"Imgur refused the request (HTTP {status}){suffix}", status=status)
