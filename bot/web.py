"""The optional callback web server: Imgur's ``code`` and ``token`` redirects, and ``/healthz``.

Routes:
- ``GET /oauth/continue?state=..``: in the ``code`` and ``token`` flows the link a member gets
  opens this page first. It names the Discord member the attempt belongs to and links on to
  Imgur's authorize URL, so whoever was sent someone else's link sees whose it is before
  allowing anything. It does not use the attempt up.
- ``GET /oauth/callback``: ``?code=..&state=..`` links the state's member at once;
  ``?error=..`` is a refusal; anything else gets the page whose script posts the ``#access_token``
  fragment (which never reaches a server) to
- ``POST /oauth/token``: JSON ``{"state": .., "access_token": .., ...}``; answers the JSON that
  the page shows.
- ``GET /healthz``: 200 when the Discord gateway is connected and the database answers, else 503.

Knows nothing of Discord: the member is told through ``notify``. No state, code or token is
ever logged or put into a page or an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from bot import discord_text
from bot.config import ConfigError, WebConfig
from bot.errors import (
    AccountMismatch,
    GrantRejected,
    InvalidLinkInput,
    LinkCancelled,
    UnknownState,
)
from bot.imgur import ImgurError, ImgurUnavailable, RateLimited, Tokens
from bot.imgur.parse import parse_tokens
from bot.linking import LinkService, PendingAttempt
from bot.storage import Link, Store
from bot.web_guard import ConnectionGuard, ConnectionLimits, descriptor_limit, listen_backlog
from bot.web_pages import (
    CONTENT_SECURITY_POLICY,
    render_confirm_page,
    render_page,
    render_token_page,
)

__all__ = [
    "CALLBACK_PATH",
    "CONFIRM_PATH",
    "HEALTH_PATH",
    "TOKEN_PATH",
    "BadStatePenalty",
    "CallbackServer",
    "MemberName",
    "Notify",
    "create_app",
]

log = logging.getLogger(__name__)

Notify = Callable[[int, str], Awaitable[None]]
# How the confirmation page names a Discord member ("Alice (@alice)"), or None if unknown.
MemberName = Callable[[int], Awaitable[str | None]]

CONFIRM_PATH: Final = "/oauth/continue"
CALLBACK_PATH: Final = "/oauth/callback"
TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 - a path, not a secret
HEALTH_PATH: Final = "/healthz"
MAX_BODY_BYTES: Final = 8 * 1024
MAX_VALUE_LENGTH: Final = 512
MAX_NAME_LENGTH: Final = 100
_TOKEN_FIELDS: Final = frozenset(
    {"access_token", "refresh_token", "expires_in", "token_type", "account_id", "account_username"}
)
_PING_TIMEOUT: Final = 2.0
_MEMBER_NAME_TIMEOUT: Final = 3.0
_NOTIFY_DRAIN_SECONDS: Final = 5.0

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a callback came to: an HTTP status and the words for the member."""

    status: int
    title: str
    message: str
    retry: bool = False

    @property
    def ok(self) -> bool:
        return self.status < 400


AGAIN = "Run /imgur link in Discord for a fresh link."
DENIED = Outcome(403, "Not linked", "You declined on Imgur's page, so nothing was linked. " + AGAIN)
UNKNOWN_STATE = Outcome(
    400,
    "Link expired or already used",
    "This link attempt is unknown, expired (they last 10 minutes) or already used. " + AGAIN,
)
NO_GRANT = Outcome(400, "Nothing to link", "Imgur's answer held no usable code or token. " + AGAIN)
GRANT_REJECTED = Outcome(400, "Not linked", "Imgur did not accept this authorization. " + AGAIN)
ACCOUNT_MISMATCH = Outcome(
    400, "Not linked", "Those tokens do not belong to the account they name; nothing was linked."
)
CANCELLED = Outcome(
    409,
    "Not linked",
    "You unlinked in Discord while this link was being completed, so nothing was linked. " + AGAIN,
)
UNAVAILABLE = Outcome(
    503,
    "Imgur is not answering",
    "Imgur is not answering right now, so nothing was linked yet. Try again in a minute.",
    retry=True,
)
BROKEN = Outcome(500, "Something went wrong", "The bot could not finish linking. " + AGAIN)


def linked(username: str) -> Outcome:
    return Outcome(
        200,
        "Linked",
        f"The Imgur account {username} is now linked to the Discord member who asked the bot "
        "for this link; they got a DM saying so. You can close this tab and go back to "
        "Discord. If you did not ask for this link yourself, revoke the bot's access at "
        "https://imgur.com/account/settings/apps.",
    )


def linked_message(username: str) -> str:
    """The DM a member gets once the browser linked them."""
    name = discord_text.inline(username, 100, fallback="?")
    return f"Linked as **{name}** on Imgur. Try `/imgur favorites`."


class BadStatePenalty:
    """Slows down an address that keeps presenting unknown states.

    After ``free`` bad states within ``window`` seconds, each request from that address waits
    ``step`` seconds, doubling per further bad state up to ``max_delay``. At most
    ``max_addresses`` addresses are remembered (the least recently bad one is forgotten).
    """

    def __init__(
        self,
        *,
        free: int = 3,
        step: float = 0.5,
        max_delay: float = 4.0,
        window: float = 600.0,
        max_addresses: int = 4096,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if free < 0 or step < 0 or max_delay < 0 or window <= 0 or max_addresses < 1:
            raise ValueError("penalty settings must be positive")
        self.free = free
        self.step = step
        self.max_delay = max_delay
        self.window = window
        self.max_addresses = max_addresses
        self._sleep = sleep
        self._monotonic = monotonic
        self._bad: OrderedDict[str, tuple[int, float]] = OrderedDict()  # address: (count, last)

    def __len__(self) -> int:
        return len(self._bad)

    def _count(self, address: str) -> int:
        entry = self._bad.get(address)
        if entry is None:
            return 0
        count, last = entry
        if self._monotonic() - last > self.window:
            del self._bad[address]
            return 0
        return count

    def delay_for(self, address: str) -> float:
        """Seconds the next request from ``address`` waits."""
        over = self._count(address) - self.free
        if over < 0:
            return 0.0
        return min(self.max_delay, self.step * 2.0 ** min(over, 32))

    async def wait(self, address: str, *, shown_as: str = "a client") -> None:
        """Wait the address's penalty, if it has one; ``shown_as`` names it in the log."""
        delay = self.delay_for(address)
        if delay > 0:
            log.info("slowing down %s by %.1fs after repeated unknown states", shown_as, delay)
            await self._sleep(delay)

    def record(self, address: str) -> None:
        """``address`` presented an unknown, expired or used state."""
        count = self._count(address) + 1
        self._bad[address] = (count, self._monotonic())
        self._bad.move_to_end(address)
        while len(self._bad) > self.max_addresses:
            self._bad.popitem(last=False)


class _CallbackHandlers:
    """The route handlers, sharing the services and the DMs still being sent."""

    def __init__(
        self,
        links: LinkService,
        store: Store,
        is_connected: Callable[[], bool],
        notify: Notify,
        penalty: BadStatePenalty,
        *,
        guard: ConnectionGuard | None,
        body_timeout: float,
        log_client_ips: bool,
        member_name: MemberName | None,
    ) -> None:
        self._links = links
        self._member_name = member_name
        self._store = store
        self._is_connected = is_connected
        self._notify = notify
        self._penalty = penalty
        self._guard = guard
        self._body_timeout = body_timeout
        self._log_client_ips = log_client_ips
        self._notifications: set[asyncio.Task[None]] = set()

    def _shown_as(self, address: str) -> str:
        """How the logs name a client: its address only when the operator asked for that."""
        return address if self._log_client_ips else "a client"

    # --- routes ------------------------------------------------------------------------

    async def confirm(self, request: web.Request) -> web.Response:
        state = request.query.get("state", "")
        address = request.remote or "unknown"
        if not state or len(state) > MAX_VALUE_LENGTH:
            await self._bad_state(request)
            return _html(UNKNOWN_STATE)
        attempt = await self._links.pending_attempt(state)
        if attempt is None:
            log.info("confirmation page asked by %s for an unknown state", self._shown_as(address))
            await self._bad_state(request)
            return _html(UNKNOWN_STATE)
        member = await self._name_of(attempt)
        expires = attempt.expires_at.strftime("%H:%M UTC")
        text = render_confirm_page(member, attempt.authorize_url, expires)
        return web.Response(text=text, content_type="text/html")

    async def _name_of(self, attempt: PendingAttempt) -> str:
        fallback = f"the Discord user with the id {attempt.discord_user_id}"
        if self._member_name is None:
            return fallback
        try:
            name = await asyncio.wait_for(
                self._member_name(attempt.discord_user_id), _MEMBER_NAME_TIMEOUT
            )
        except Exception:  # Discord slow or failing: the id still says who it is
            log.info("could not look up the name of member %s", attempt.discord_user_id)
            return fallback
        if not name:
            return fallback
        return f"{name[:MAX_NAME_LENGTH]} on Discord"

    async def callback(self, request: web.Request) -> web.Response:
        query = request.query
        if "error" in query:
            return _html(DENIED if query.get("error") == "access_denied" else GRANT_REJECTED)
        code = query.get("code")
        if code is None:
            # The token flow: its fragment is only visible to the page's script.
            return web.Response(text=render_token_page(), content_type="text/html")
        state = query.get("state", "")
        outcome = await self._finish(request, state, code=code)
        return _html(outcome)

    async def token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _json(Outcome(415, "Not linked", "The bot expected JSON from its own page."))
        try:
            async with asyncio.timeout(self._body_timeout):
                payload = await request.json()
        except TimeoutError:
            response = _json(Outcome(408, "Not linked", "That request took too long to arrive."))
            response.force_close()
            return response
        except ConnectionResetError:  # closed while its body dawdled (the guard made room)
            return _json(Outcome(400, "Not linked", "The connection closed."))
        except web.HTTPRequestEntityTooLarge:
            return _json(Outcome(413, "Not linked", "That request was too large."))
        except ValueError:
            return _json(NO_GRANT)
        if not isinstance(payload, dict):
            return _json(NO_GRANT)
        if "error" in payload:
            return _json(DENIED if payload.get("error") == "access_denied" else GRANT_REJECTED)
        state = payload.get("state")
        fields = {
            key: value
            for key, value in payload.items()
            if key in _TOKEN_FIELDS and isinstance(value, str | int) and not isinstance(value, bool)
        }
        try:
            tokens = parse_tokens(fields)
        except ValueError:
            return _json(NO_GRANT)
        outcome = await self._finish(
            request, state if isinstance(state, str) else "", tokens=tokens
        )
        return _json(outcome)

    async def healthz(self, request: web.Request) -> web.Response:
        connected = self._is_connected()
        try:
            database = await asyncio.wait_for(self._store.ping(), _PING_TIMEOUT)
        except TimeoutError:
            database = False
        healthy = connected and database
        body = {
            "status": "ok" if healthy else "unavailable",
            "gateway": connected,
            "database": database,
        }
        return web.json_response(body, status=200 if healthy else 503)

    # --- linking -----------------------------------------------------------------------

    async def _bad_state(self, request: web.Request) -> None:
        # Only the answer to a bad state is slowed: a valid state is never made to wait, even
        # from an address shared with others (a reverse proxy). A connection waiting out its
        # penalty holds no slot the guard could not take back (issue 10, 1).
        address = request.remote or "unknown"
        self._penalty.record(address)
        waiting = self._guard.waiting(request) if self._guard else contextlib.nullcontext()
        with waiting:
            await self._penalty.wait(address, shown_as=self._shown_as(address))

    async def _finish(
        self,
        request: web.Request,
        state: str,
        *,
        code: str | None = None,
        tokens: Tokens | None = None,
    ) -> Outcome:
        address = request.remote or "unknown"
        if not state or len(state) > MAX_VALUE_LENGTH:
            await self._bad_state(request)
            return UNKNOWN_STATE
        if code is not None and not 0 < len(code) <= MAX_VALUE_LENGTH:
            return NO_GRANT
        try:
            link = await self._links.complete_from_callback(state, code=code, tokens=tokens)
        except UnknownState:
            log.info(
                "web callback from %s with an unknown, expired or used state",
                self._shown_as(address),
            )
            await self._bad_state(request)
            return UNKNOWN_STATE
        except (GrantRejected, InvalidLinkInput):
            return GRANT_REJECTED
        except AccountMismatch:
            return ACCOUNT_MISMATCH
        except LinkCancelled:
            return CANCELLED
        except RateLimited as exc:
            log.warning("web callback: Imgur rate-limited the link (%s)", exc.message)
            return UNAVAILABLE
        except ImgurUnavailable as exc:
            log.warning("web callback: Imgur is unavailable (%s)", exc.message)
            return UNAVAILABLE
        except ImgurError as exc:
            log.info("web callback: Imgur refused the link (%s)", exc.message)
            return GRANT_REJECTED
        self._notify_later(link)
        return linked(link.imgur_username)

    def _notify_later(self, link: Link) -> None:
        # The page must not wait for Discord; stop() waits for DMs still being sent.
        task = asyncio.create_task(
            self._send_notification(link.discord_user_id, linked_message(link.imgur_username))
        )
        self._notifications.add(task)
        task.add_done_callback(self._notifications.discard)

    async def _send_notification(self, discord_user_id: int, text: str) -> None:
        try:
            await self._notify(discord_user_id, text)
        except Exception:
            log.exception("could not tell member %s that they are linked", discord_user_id)

    async def drain(self, _app: web.Application | None = None) -> None:
        """Let DMs still being sent finish (for a few seconds), then cancel the rest."""
        pending = set(self._notifications)
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=_NOTIFY_DRAIN_SECONDS)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)


def _html(outcome: Outcome) -> web.Response:
    text = render_page(outcome.title, outcome.message, result="linked" if outcome.ok else "failed")
    return web.Response(status=outcome.status, text=text, content_type="text/html")


def _json(outcome: Outcome) -> web.Response:
    body = {
        "ok": outcome.ok,
        "title": outcome.title,
        "message": outcome.message,
        "retry": outcome.retry,
    }
    return web.json_response(body, status=outcome.status)


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def _error_pages(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every failure as a small HTML page; unexpected ones logged (paths only, no query)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _html(Outcome(exc.status, exc.reason, "There is nothing here for that request."))
    except Exception:
        log.exception(
            "unexpected error serving %s %s",
            printable(request.method, 16),
            printable(request.rel_url.raw_path),
        )
        return _html(BROKEN)


def create_app(
    links: LinkService,
    store: Store,
    *,
    is_connected: Callable[[], bool],
    notify: Notify,
    penalty: BadStatePenalty | None = None,
    guard: ConnectionGuard | None = None,
    body_timeout: float = 10.0,
    log_client_ips: bool = False,
    member_name: MemberName | None = None,
) -> web.Application:
    """The callback application; run it with ``CallbackServer`` or aiohttp's test server.

    ``guard`` (``CallbackServer``'s) is told when each request begins and ends.
    """
    handlers = _CallbackHandlers(
        links,
        store,
        is_connected,
        notify,
        penalty if penalty is not None else BadStatePenalty(),
        guard=guard,
        body_timeout=body_timeout,
        log_client_ips=log_client_ips,
        member_name=member_name,
    )
    middlewares = [_error_pages] if guard is None else [guard.middleware, _error_pages]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    # No HEAD: a probe must not use up the single-use code and state meant for the browser.
    app.router.add_get(CONFIRM_PATH, handlers.confirm, allow_head=False)
    app.router.add_get(CALLBACK_PATH, handlers.callback, allow_head=False)
    app.router.add_post(TOKEN_PATH, handlers.token)
    app.router.add_get(HEALTH_PATH, handlers.healthz)
    app.on_response_prepare.append(_security_headers)
    app.on_cleanup.append(handlers.drain)
    return app


MAX_LOGGED_PATH: Final = 200


def printable(text: str, limit: int = MAX_LOGGED_PATH) -> str:
    """``text`` safe inside one quoted log line: control characters, quotes, backslashes and
    anything unprintable escaped (``\\n``, ``\\x1b``, ``\\u2028``), cut to ``limit``."""
    out = []
    for char in text[:limit]:
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x100:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else f"\\U{ord(char):08x}")
    if len(text) > limit:
        out.append("...")
    return "".join(out)


class _AccessLogger(AbstractAccessLogger):
    """Method, path as sent (still percent-encoded, escaped) and status; no client address.

    Never the query, which carries codes and states.
    """

    log_client_ips = False

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %d %.3fs',
            (request.remote or "-") if self.log_client_ips else "-",
            printable(request.method, 16),
            printable(request.rel_url.raw_path),
            response.status,
            time,
        )


class _AccessLoggerWithIPs(_AccessLogger):
    log_client_ips = True


class _ServerLog:
    """The logger aiohttp's connection protocol writes its complaints to.

    aiohttp logs every malformed request as an ERROR with a traceback and the client's
    address, so anyone can fill the logs with them. Here a malformed request (already answered
    400) is one DEBUG line; anything else stays an ERROR with its traceback, naming no address
    unless ``log_client_ips``. Both go through the rate limit of ``bot.logs``.
    """

    def __init__(self, logger: logging.Logger, *, log_client_ips: bool) -> None:
        self._logger = logger
        self._log_client_ips = log_client_ips

    def debug(self, msg: str, *args: object, **kwargs: Any) -> None:
        self._logger.debug(msg, *args, **kwargs)

    def exception(self, msg: str, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, HttpProcessingError):
            self._logger.debug(
                "malformed request answered %s: %s", error.code, printable(error.message)
            )
            return
        if not self._log_client_ips and args:
            msg, args = "error handling a request", ()
        self._logger.error(msg, *args, exc_info=error if error is not None else True)


def confirm_url(public_url: str) -> str:
    """The confirmation page's address under the configured ``web.public_url``."""
    return public_url.rstrip("/") + CONFIRM_PATH


class CallbackServer:
    """Serves ``create_app`` on the configured host and port between ``start`` and ``stop``."""

    def __init__(
        self,
        config: WebConfig,
        links: LinkService,
        store: Store,
        *,
        is_connected: Callable[[], bool],
        notify: Notify,
        penalty: BadStatePenalty | None = None,
        member_name: MemberName | None = None,
    ) -> None:
        self.config = config
        self._member_name = member_name
        self._links = links
        self._store = store
        self._is_connected = is_connected
        self._notify = notify
        self._penalty = penalty
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.guard: ConnectionGuard | None = None

    @property
    def callback_url(self) -> str:
        """The redirect URL to register at Imgur."""
        return self.config.public_url.rstrip("/") + CALLBACK_PATH

    @property
    def confirm_url(self) -> str:
        """The confirmation page members are sent to first (``LinkService(confirm_url=)``)."""
        return confirm_url(self.config.public_url)

    @property
    def port(self) -> int | None:
        """The port listened on (useful when the configured port is 0), or None if stopped."""
        if self._listener is None or not self._listener.sockets:
            return None
        return int(self._listener.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Listen; ``ConfigError`` naming ``web.port`` if the address cannot be bound."""
        if self._runner is not None:
            return
        config = self.config
        wanted = ConnectionLimits(
            max_connections=config.max_connections,
            header_timeout=config.header_timeout_seconds,
            keepalive_timeout=config.keepalive_timeout_seconds,
        )
        fd_limit = descriptor_limit()
        limits = wanted.for_descriptor_limit(fd_limit)
        if limits != wanted:
            log.warning(
                "web.max_connections: %d is more than half the file-descriptor limit (%s); "
                "serving at most %d connections",
                wanted.max_connections,
                fd_limit,
                limits.max_connections,
            )
        guard = ConnectionGuard(limits)
        app = create_app(
            self._links,
            self._store,
            is_connected=self._is_connected,
            notify=self._notify,
            penalty=self._penalty,
            guard=guard,
            body_timeout=config.body_timeout_seconds,
            log_client_ips=config.log_client_ips,
            member_name=self._member_name,
        )
        runner = web.AppRunner(
            app,
            access_log_class=_AccessLoggerWithIPs if config.log_client_ips else _AccessLogger,
            shutdown_timeout=5.0,
            keepalive_timeout=config.keepalive_timeout_seconds,
            lingering_time=1.0,
            logger=_ServerLog(
                logging.getLogger("aiohttp.server"), log_client_ips=config.log_client_ips
            ),
        )
        await runner.setup()
        assert runner.server is not None
        host, port = config.host, config.port
        try:
            listener = await asyncio.get_running_loop().create_server(
                guard.protocol_factory(runner.server),
                host,
                port,
                reuse_address=True,
                backlog=listen_backlog(fd_limit),
            )
        except OSError as exc:
            await runner.cleanup()
            raise ConfigError(
                f"web.port: cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None
        self._runner, self._listener, self.guard = runner, listener, guard
        log.info(
            "callback server listening on %s:%s; Imgur's redirect URL: %s",
            host,
            self.port,
            self.callback_url,
        )

    async def stop(self) -> None:
        """Stop listening, finish requests in flight and DMs being sent. Safe to call twice."""
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # no new connections
        if runner is not None:
            await runner.cleanup()  # finishes requests in flight, closes the connections
        if self.guard is not None:
            self.guard.close_all()  # any still waiting for their headers
        if listener is not None:
            await listener.wait_closed()
        if runner is not None:
            log.info("callback server stopped")
