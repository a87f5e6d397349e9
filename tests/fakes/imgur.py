"""A fake Imgur: an aiohttp.web server on 127.0.0.1 speaking Imgur's OAuth2 and account API.

    async with FakeImgur() as fake:
        fake.add_account("alice", favorites=130)
        tokens = fake.issue_tokens("alice")
        client = ImgurClient(session, fake.client_id, fake.client_secret,
                             api_base=fake.base_url)

Routes (their names are what ``fail``, ``count`` and ``requests`` use):
- ``authorize``: ``GET /oauth2/authorize`` plays the member clicking "Allow" as ``login_as``
  (pin: an HTML page with the PIN; code/token: a 302 to ``redirect_url``);
  ``deny_next_authorize`` makes the next one redirect with ``error=access_denied``;
  ``authorize_error_1024`` makes every one answer the "Error (1024)" page that Imgur has
  shown for every app since mid-2025.
- ``token``: ``POST /oauth2/token`` with the pin, authorization_code and refresh_token grants;
  PINs and codes are single-use; ``rotate_refresh_tokens`` kills the old refresh token on use.
- ``account``: ``GET /3/account/me`` (Bearer).
- ``favorites``: ``GET /3/account/{user}/favorites[/{page}[/{sort}]]`` (Bearer; ``user`` is
  ``me`` or the token's own name, anyone else gets 403 ``Unauthorized``; ``page_size`` a page).
- ``public_account``: ``GET /3/account/{user}[?account_id=N]``, the public profile with its
  ``bio`` (a string or null). ``Client-ID`` authorization (a valid Bearer token also does):
  none is 401 "Authentication required", a wrong client id 403 "Invalid client_id", as
  Imgur answers. Names are case-insensitive; ``account_id`` finds the account whatever the
  name in the path (it survives ``rename``; ``honor_account_id = False`` makes the fake ignore
  it, looking up the path's name); unknown (or ``delete_account``-ed): 404. ``rename`` and
  ``delete_account`` change an account as the member would on imgur.com.
- ``gallery_favorites``: ``GET /3/account/{user}/gallery_favorites[/{page}[/{sort}]]``, the
  account's favorites that are in the public gallery (``in_gallery`` not false), paged like
  ``favorites``; ``Client-ID`` as above; unknown user 404.
- ``callback``: the default ``redirect_url``; answers 200 so a redirect-following client lands.

``fail(route, failure, times=1)`` makes the next ``times`` requests to ``route`` fail, with a
``Failure``:
- ``SERVER_ERROR``: 500, JSON error envelope.          ``BAD_GATEWAY``: 502, an HTML page.
- ``RATE_LIMITED``: 429, ``{"data": {"error": "User request limit exceeded"}}``, UserRemaining 0.
- ``RATE_LIMITED_ERRORS``: 429, ``{"errors": [{"code": "429", ...}]}``, no X-RateLimit headers.
  Both 429s send ``Retry-After`` when ``retry_after`` is set.
- ``HANG``: no answer for ``hang_seconds`` (``None``: until the server stops; stopping is
  never slowed by it).
- ``HTML_BODY``: 200 with an HTML page.                ``EMPTY_BODY``: 200 with no body.
- ``INVALID_ACCESS_TOKEN``: 403 "The access token provided is invalid."
- ``UNAUTHORIZED``: 401 "Unauthorized".                ``OVER_CAPACITY``: 403 "... over capacity".
- ``INVALID_REFRESH_TOKEN``: 400 "Invalid refresh token";
  ``REFRESH_TOKEN_UNKNOWN``: 400 "Refresh token doesn't exist or is invalid for the client".
- ``INVALID_PIN``: 400 "Invalid Pin".
- ``ERROR_AS_OBJECT``: 400 whose ``data.error`` is a ``{code, message, type, exception}``
  object, without ``request`` and ``method``.

``hold(route)`` holds the answers to ``route`` until the returned ``Hold`` is released: the
request has had its effect (a PIN is spent, a refresh token rotated) but the client waits;
``await hold.reached()`` waits until one is being held.

Every ``/3/`` answer carries X-RateLimit-* headers (``client_remaining`` and ``user_remaining``
count down). ``latency`` delays every answer. ``requests`` records every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import re
import secrets
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Self
from urllib.parse import urlencode

from aiohttp import web

from .imgur_data import (
    BAD_GATEWAY_HTML,
    ERROR_1024_HTML,
    ERROR_OBJECT,
    HOME_PAGE_HTML,
    FakeAccount,
    error_envelope,
    errors_envelope_429,
    make_favorites,
    pin_page,
)

__all__ = ["Failure", "FakeAccount", "FakeImgur", "Hold", "RecordedRequest"]


class Failure(enum.Enum):
    """A canned failure for ``FakeImgur.fail``; see the module docstring."""

    SERVER_ERROR = enum.auto()
    BAD_GATEWAY = enum.auto()
    RATE_LIMITED = enum.auto()
    RATE_LIMITED_ERRORS = enum.auto()
    HANG = enum.auto()
    HTML_BODY = enum.auto()
    EMPTY_BODY = enum.auto()
    INVALID_ACCESS_TOKEN = enum.auto()
    UNAUTHORIZED = enum.auto()
    OVER_CAPACITY = enum.auto()
    INVALID_REFRESH_TOKEN = enum.auto()
    REFRESH_TOKEN_UNKNOWN = enum.auto()
    INVALID_PIN = enum.auto()
    ERROR_AS_OBJECT = enum.auto()


ROUTES = frozenset(
    {
        "authorize",
        "token",
        "account",
        "favorites",
        "public_account",
        "gallery_favorites",
        "callback",
    }
)

# status and data.error of the failures that are a plain JSON error envelope
_ENVELOPE_FAILURES: dict[Failure, tuple[int, str]] = {
    Failure.SERVER_ERROR: (500, "Internal server error"),
    Failure.RATE_LIMITED: (429, "User request limit exceeded"),
    Failure.INVALID_ACCESS_TOKEN: (403, "The access token provided is invalid."),
    Failure.UNAUTHORIZED: (401, "Unauthorized"),
    Failure.OVER_CAPACITY: (403, "Imgur is temporarily over capacity. Please try again later."),
    Failure.INVALID_REFRESH_TOKEN: (400, "Invalid refresh token"),
    Failure.REFRESH_TOKEN_UNKNOWN: (
        400,
        "Refresh token doesn't exist or is invalid for the client",
    ),
    Failure.INVALID_PIN: (400, "Invalid Pin"),
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it (headers unredacted: test-only)."""

    method: str
    path: str
    route: str | None
    headers: dict[str, str]
    query: dict[str, str]


class Hold:
    """Answers to one route wait here, their effect done but unsent, until ``release()``."""

    def __init__(self, stopping: asyncio.Event) -> None:
        self.held = 0  # requests that reached the hold
        self.passed = 0  # of those, how many went on to be answered (or dropped at stop)
        self._arrived = asyncio.Event()
        self._released = asyncio.Event()
        self._stopping = stopping

    async def reached(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a request is being held."""
        await asyncio.wait_for(self._arrived.wait(), timeout)

    def release(self) -> None:
        """Let every held request (and later ones) through to its normal answer."""
        self._released.set()

    async def wait(self) -> None:
        self.held += 1
        self._arrived.set()
        released = asyncio.ensure_future(self._released.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({released, stopping}, return_when=asyncio.FIRST_COMPLETED)
        released.cancel()
        stopping.cancel()
        self.passed += 1


@dataclass
class _AccessToken:
    username: str
    expires_at: float


class FakeImgur:
    """Imgur's authorize, token and account endpoints on a local port; see the module docs."""

    def __init__(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        page_size: int = 60,
    ) -> None:
        self.client_id = client_id or secrets.token_hex(8)[:15]
        self.client_secret = client_secret or secrets.token_hex(20)
        self.page_size = page_size
        self.redirect_url: str | None = None  # defaults to {base_url}/callback at start
        self.login_as: str | None = None
        self.deny_next_authorize = False
        self.authorize_error_1024 = False
        self.honor_account_id = True  # False: ?account_id= is ignored, the path's name is used
        self.expires_in = 3600
        self.rotate_refresh_tokens = True
        self.latency = 0.0
        self.hang_seconds: float | None = None
        self.retry_after: int | None = None
        self.client_limit = 12_500
        self.client_remaining = 12_500
        self.user_limit = 2_000
        self.user_remaining = 2_000
        self.user_reset = int(time.time()) + 3_600
        self.requests: list[RecordedRequest] = []
        self._accounts: dict[str, FakeAccount] = {}
        self._next_id = 0
        self._pins: dict[str, str] = {}
        self._codes: dict[str, str] = {}
        self._refresh_tokens: dict[str, str] = {}
        self._access_tokens: dict[str, _AccessToken] = {}
        self._failures: dict[str, deque[tuple[Failure, str | None]]] = {}
        self._holds: dict[str, Hold] = {}
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    # --- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        self._stopping = asyncio.Event()
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/oauth2/authorize", self._authorize, name="authorize")
        app.router.add_post("/oauth2/token", self._token, name="token")
        app.router.add_get("/3/account/me", self._account, name="account")
        favorites = app.router.add_resource(
            r"/3/account/{username}/favorites{page:(/\d+)?}{sort:(/\w+)?}", name="favorites"
        )
        favorites.add_route("GET", self._favorites)
        gallery = app.router.add_resource(
            r"/3/account/{username}/gallery_favorites{page:(/\d+)?}{sort:(/\w+)?}",
            name="gallery_favorites",
        )
        gallery.add_route("GET", self._gallery_favorites)
        app.router.add_get("/3/account/{username}", self._public_account, name="public_account")
        app.router.add_get("/callback", self._callback, name="callback")
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        if self.redirect_url is None:
            self.redirect_url = f"{self._base_url}/callback"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stopping.set()  # releases every HANG and latency wait at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, the ``api_base`` to give the client."""
        if self._base_url is None:
            raise RuntimeError("FakeImgur is not running; use it as `async with FakeImgur()`")
        return self._base_url

    # --- test controls -----------------------------------------------------------------

    def add_account(
        self,
        username: str,
        *,
        favorites: int | list[Any] | None = None,
        account_id: int | None = None,
        bio: str | None = None,
    ) -> FakeAccount:
        """An account; ``favorites`` is a count to generate or the items themselves."""
        if self._find(username) is not None:
            raise ValueError(f"FakeImgur already has an account named {username!r}")
        items = make_favorites(favorites, username) if isinstance(favorites, int) else favorites
        account = FakeAccount(
            username=username,
            id=account_id if account_id is not None else 10_000_000 + self._next_id,
            favorites=list(items or []),
            bio=bio,
        )
        self._next_id += 1
        self._accounts[username] = account
        return account

    def rename(self, username: str, new_username: str) -> FakeAccount:
        """The member renamed their account on Imgur: the old name is unknown from now on;
        the id and every token stay."""
        account = self._require(username)
        del self._accounts[username]
        account.username = new_username
        self._accounts[new_username] = account
        for token in self._access_tokens.values():
            if token.username == username:
                token.username = new_username
        for table in (self._pins, self._codes, self._refresh_tokens):
            for key, owner in list(table.items()):
                if owner == username:
                    table[key] = new_username
        return account

    def delete_account(self, username: str) -> None:
        """The account is gone from Imgur: by name and by id it is 404, its tokens are dead."""
        self._require(username)
        self.revoke(username)
        del self._accounts[username]

    def account(self, username: str) -> FakeAccount:
        """The account added as ``username``."""
        return self._accounts[username]

    def issue_pin(self, username: str) -> str:
        """A fresh single-use PIN for ``username``, as the authorize page would show."""
        self._require(username)
        pin = secrets.token_hex(5)
        self._pins[pin] = username
        return pin

    def issue_code(self, username: str) -> str:
        """A fresh single-use authorization code for ``username``."""
        self._require(username)
        code = secrets.token_hex(20)
        self._codes[code] = username
        return code

    def issue_tokens(self, username: str, *, refresh_token: str | None = None) -> dict[str, Any]:
        """New tokens for ``username``, shaped as the token endpoint answers."""
        account = self._require(username)
        access_token = secrets.token_hex(20)
        self._access_tokens[access_token] = _AccessToken(username, time.time() + self.expires_in)
        if refresh_token is None:
            refresh_token = secrets.token_hex(20)
            self._refresh_tokens[refresh_token] = username
        return {
            "access_token": access_token,
            "expires_in": self.expires_in,
            "token_type": "bearer",
            "scope": None,
            "refresh_token": refresh_token,
            "account_id": account.id,
            "account_username": account.username,
        }

    def accepts_refresh_token(self, refresh_token: str) -> bool:
        """Whether a refresh with ``refresh_token`` would succeed now."""
        return refresh_token in self._refresh_tokens

    def revoke(self, username: str) -> None:
        """The member revoked the app: every token of theirs stops working."""
        self._refresh_tokens = {t: u for t, u in self._refresh_tokens.items() if u != username}
        self._access_tokens = {
            t: a for t, a in self._access_tokens.items() if a.username != username
        }

    def expire_access_tokens(self, username: str) -> None:
        """Every access token of ``username`` expires now (refresh tokens keep working)."""
        for token in self._access_tokens.values():
            if token.username == username:
                token.expires_at = 0.0

    def fail(
        self, route: str, failure: Failure, times: int = 1, *, message: str | None = None
    ) -> None:
        """The next ``times`` requests to ``route`` get ``failure`` instead of an answer;
        ``message`` replaces Imgur's error text of the envelope failures."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        self._failures.setdefault(route, deque()).extend([(failure, message)] * times)

    def clear_failures(self) -> None:
        """Forget every failure still queued by ``fail``."""
        self._failures.clear()

    def hold(self, route: str) -> Hold:
        """Hold requests to ``route`` open until the returned ``Hold`` is released."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTES)}")
        hold = Hold(self._stopping)
        self._holds[route] = hold
        return hold

    def count(self, route: str) -> int:
        """How many requests reached ``route`` (failed ones included)."""
        return sum(1 for request in self.requests if request.route == route)

    @staticmethod
    def pin_from_page(html: str) -> str:
        """The PIN shown on the authorize page for ``response_type=pin``."""
        match = re.search(r'id="pin"[^>]*value="([^"]+)"', html)
        if match is None:
            raise ValueError("no PIN on this page")
        return match.group(1)

    # --- plumbing ----------------------------------------------------------------------

    def _find(self, username: str) -> FakeAccount | None:
        """The account called ``username``, in any capitalisation (as Imgur matches names)."""
        folded = username.lower()
        for name, account in self._accounts.items():
            if name.lower() == folded:
                return account
        return None

    def _require(self, username: str) -> FakeAccount:
        if username not in self._accounts:
            raise KeyError(f"FakeImgur has no account {username!r}; add_account() first")
        return self._accounts[username]

    async def _pause(self, seconds: float | None) -> None:
        """Wait ``seconds`` (``None``: forever) or until the server stops, whichever is first."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.name
        self.requests.append(
            RecordedRequest(
                request.method, request.path, route, dict(request.headers), dict(request.query)
            )
        )
        if self.latency > 0:
            await self._pause(self.latency)
        queue = self._failures.get(route or "")
        failure, message = queue.popleft() if queue else (None, None)
        response: web.StreamResponse
        if failure is not None:
            response = await self._failure_response(failure, message, request)
        else:
            response = await handler(request)
        hold = self._holds.get(route or "")
        if hold is not None:
            await hold.wait()  # Imgur has acted (a PIN spent, a refresh token rotated)
        if request.path.startswith("/3/") and failure is not Failure.RATE_LIMITED_ERRORS:
            self._add_rate_limit_headers(response, limited=failure is Failure.RATE_LIMITED)
        return response

    def _add_rate_limit_headers(self, response: web.StreamResponse, *, limited: bool) -> None:
        self.client_remaining = max(0, self.client_remaining - 1)
        self.user_remaining = 0 if limited else max(0, self.user_remaining - 1)
        response.headers.update(
            {
                "X-RateLimit-ClientLimit": str(self.client_limit),
                "X-RateLimit-ClientRemaining": str(self.client_remaining),
                "X-RateLimit-UserLimit": str(self.user_limit),
                "X-RateLimit-UserRemaining": str(self.user_remaining),
                "X-RateLimit-UserReset": str(self.user_reset),
            }
        )

    async def _failure_response(
        self, failure: Failure, message: str | None, request: web.Request
    ) -> web.Response:
        if failure is Failure.HANG:
            await self._pause(self.hang_seconds)
            return web.Response(status=504, text=BAD_GATEWAY_HTML, content_type="text/html")
        if failure is Failure.BAD_GATEWAY:
            return web.Response(status=502, text=BAD_GATEWAY_HTML, content_type="text/html")
        if failure is Failure.HTML_BODY:
            return web.Response(status=200, text=HOME_PAGE_HTML, content_type="text/html")
        if failure is Failure.EMPTY_BODY:
            return web.Response(status=200, content_type="application/json")
        if failure is Failure.ERROR_AS_OBJECT:
            return web.json_response(error_envelope(400, ERROR_OBJECT), status=400)
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        if failure is Failure.RATE_LIMITED_ERRORS:
            return web.json_response(errors_envelope_429(), status=429, headers=headers)
        status, default_message = _ENVELOPE_FAILURES[failure]
        if status != 429:
            headers = {}
        return self._error(request, status, message or default_message, headers=headers)

    @staticmethod
    def _error(
        request: web.Request, status: int, message: str, *, headers: dict[str, str] | None = None
    ) -> web.Response:
        body = error_envelope(status, message, request.path, request.method)
        return web.json_response(body, status=status, headers=headers)

    def _redirect(self, params: dict[str, str], fragment: dict[str, str] | None = None) -> str:
        url = self.redirect_url or ""
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        return f"{url}#{urlencode(fragment)}" if fragment else url

    # --- handlers ----------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != self.client_id:
            return self._error(request, 400, "Invalid client_id")
        response_type = query.get("response_type")
        if response_type not in ("pin", "code", "token"):
            return self._error(request, 400, "Invalid response_type parameter")
        state = {"state": query["state"]} if "state" in query else {}
        if self.authorize_error_1024:
            return web.Response(text=ERROR_1024_HTML, content_type="text/html")
        if self.deny_next_authorize:
            self.deny_next_authorize = False
            raise web.HTTPFound(self._redirect({"error": "access_denied", **state}))
        if self.login_as not in self._accounts:
            return self._error(request, 400, "FakeImgur: login_as names no account")
        username = self.login_as
        if response_type == "pin":
            return web.Response(text=pin_page(self.issue_pin(username)), content_type="text/html")
        if response_type == "code":
            raise web.HTTPFound(self._redirect({"code": self.issue_code(username), **state}))
        # the fragment carries no scope (it is null in the token endpoint's answer)
        tokens = {key: str(value) for key, value in self.issue_tokens(username).items() if value}
        raise web.HTTPFound(self._redirect(state, tokens))

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return self._error(request, 400, "The client credentials are invalid")
        grant_type = form.get("grant_type")
        if grant_type == "pin":
            return self._redeem(request, form.get("pin"), "pin", self._pins, "Invalid Pin")
        if grant_type == "authorization_code":
            return self._redeem(
                request,
                form.get("code"),
                "code",
                self._codes,
                "Authorization code doesn't exist or is invalid for the client",
            )
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token")
            if not isinstance(refresh_token, str) or not refresh_token:
                return self._error(request, 400, 'Missing parameter. "refresh_token" is required')
            username = self._refresh_tokens.get(refresh_token)
            if username is None:
                return self._error(request, 400, "Invalid refresh token")
            if self.rotate_refresh_tokens:
                del self._refresh_tokens[refresh_token]
                return web.json_response(self.issue_tokens(username))
            return web.json_response(self.issue_tokens(username, refresh_token=refresh_token))
        return self._error(request, 400, "Invalid grant_type parameter or parameter missing")

    def _redeem(
        self,
        request: web.Request,
        value: object,
        name: str,
        pending: dict[str, str],
        refusal: str,
    ) -> web.Response:
        if not isinstance(value, str) or not value:
            return self._error(request, 400, f'Missing parameter. "{name}" is required')
        username = pending.pop(value, None)  # single use
        if username is None:
            return self._error(request, 400, refusal)
        return web.json_response(self.issue_tokens(username))

    def _bearer(self, request: web.Request) -> FakeAccount | web.Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self._error(request, 401, "Authentication required")
        token = self._access_tokens.get(header[len("Bearer ") :])
        if token is None or token.expires_at <= time.time():
            return self._error(request, 403, "The access token provided is invalid.")
        return self._accounts[token.username]

    async def _account(self, request: web.Request) -> web.Response:
        account = self._bearer(request)
        if isinstance(account, web.Response):
            return account
        return web.json_response({"data": account.payload(), "success": True, "status": 200})

    async def _favorites(self, request: web.Request) -> web.Response:
        account = self._bearer(request)
        if isinstance(account, web.Response):
            return account
        username = request.match_info["username"]
        if username != "me" and username.lower() != account.username.lower():
            return self._error(request, 403, "Unauthorized")
        chunk = self._page(request, account.favorites)
        return web.json_response({"data": chunk, "success": True, "status": 200})

    def _client(self, request: web.Request) -> web.Response | None:
        """None if the request may read public data, else Imgur's refusal."""
        header = request.headers.get("Authorization", "")
        if not header:
            return self._error(request, 401, "Authentication required")
        scheme, _, value = header.partition(" ")
        if scheme == "Client-ID":
            if value != self.client_id:
                return self._error(request, 403, "Invalid client_id")
            return None
        if scheme == "Bearer":
            bearer = self._bearer(request)
            return bearer if isinstance(bearer, web.Response) else None
        return self._error(request, 403, "Malformed auth header")

    def _named(self, request: web.Request) -> FakeAccount | web.Response:
        account = self._find(request.match_info["username"])
        if account is None:
            return self._error(request, 404, "Unable to find account")
        return account

    async def _public_account(self, request: web.Request) -> web.Response:
        refused = self._client(request)
        if refused is not None:
            return refused
        account: FakeAccount | web.Response
        by_id = request.query.get("account_id")
        if by_id is not None and self.honor_account_id:
            wanted = int(by_id) if by_id.isdigit() else None
            found = [a for a in self._accounts.values() if a.id == wanted]
            account = found[0] if found else self._error(request, 404, "Unable to find account")
        else:
            account = self._named(request)
        if isinstance(account, web.Response):
            return account
        return web.json_response({"data": account.payload(), "success": True, "status": 200})

    async def _gallery_favorites(self, request: web.Request) -> web.Response:
        refused = self._client(request)
        if refused is not None:
            return refused
        account = self._named(request)
        if isinstance(account, web.Response):
            return account
        items = [
            item
            for item in account.favorites
            if not (isinstance(item, dict) and item.get("in_gallery") is False)
        ]
        chunk = self._page(request, items)
        return web.json_response({"data": chunk, "success": True, "status": 200})

    def _page(self, request: web.Request, items: list[Any]) -> list[Any]:
        page = int(request.match_info["page"].lstrip("/") or 0)
        if request.match_info["sort"] == "/oldest":
            items = items[::-1]
        return items[page * self.page_size : (page + 1) * self.page_size]

    async def _callback(self, request: web.Request) -> web.Response:
        return web.Response(text="redirect received")
