"""The callback server's route handlers: the confirmation page, Imgur's ``code`` and ``token``
redirects, and ``/healthz``. Each turns a request into an ``Outcome`` through ``LinkService``;
the member is told through ``notify``. No state, code or token is ever logged or answered."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from aiohttp import web

from bot.errors import (
    AccountMismatch,
    GrantRejected,
    InvalidLinkInput,
    LinkCancelled,
    UnknownState,
)
from bot.imgur import ImgurError, ImgurUnavailable, RateLimited, Tokens
from bot.linking import PendingAttempt, parse_token_page
from bot.web.dependencies import WebDependencies
from bot.web.guard import ConnectionGuard
from bot.web.outcomes import (
    ACCOUNT_MISMATCH,
    CANCELLED,
    DENIED,
    GRANT_REJECTED,
    NO_GRANT,
    UNAVAILABLE,
    UNKNOWN_STATE,
    Outcome,
    html_response,
    json_response,
    linked,
    linked_message,
)
from bot.web.pages import render_confirm_page, render_token_page

__all__ = ["CallbackHandlers"]

log = logging.getLogger(__name__)

MAX_VALUE_LENGTH: Final = 512
MAX_NAME_LENGTH: Final = 100
_PING_TIMEOUT: Final = 2.0
_MEMBER_NAME_TIMEOUT: Final = 3.0
_NOTIFY_DRAIN_SECONDS: Final = 5.0


class CallbackHandlers:
    """The route handlers, sharing the dependencies and the DMs still being sent."""

    def __init__(
        self,
        dependencies: WebDependencies,
        *,
        guard: ConnectionGuard | None,
        body_timeout: float,
        log_client_ips: bool,
    ) -> None:
        self._links = dependencies.links
        self._member_name = dependencies.member_name
        self._is_connected = dependencies.is_connected
        self._notify = dependencies.notify
        self._penalty = dependencies.penalty
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
            return html_response(UNKNOWN_STATE)
        attempt = await self._links.pending_attempt(state)
        if attempt is None:
            log.info("confirmation page asked by %s for an unknown state", self._shown_as(address))
            await self._bad_state(request)
            return html_response(UNKNOWN_STATE)
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
            return html_response(
                DENIED if query.get("error") == "access_denied" else GRANT_REJECTED
            )
        code = query.get("code")
        if code is None:
            # The token flow: its fragment is only visible to the page's script.
            return web.Response(text=render_token_page(), content_type="text/html")
        state = query.get("state", "")
        outcome = await self._finish(request, state, code=code)
        return html_response(outcome)

    async def token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return json_response(
                Outcome(415, "Not linked", "The bot expected JSON from its own page.")
            )
        try:
            async with asyncio.timeout(self._body_timeout):
                payload = await request.json()
        except TimeoutError:
            response = json_response(
                Outcome(408, "Not linked", "That request took too long to arrive.")
            )
            response.force_close()
            return response
        except ConnectionResetError:  # closed while its body dawdled (the guard made room)
            return json_response(Outcome(400, "Not linked", "The connection closed."))
        except web.HTTPRequestEntityTooLarge:
            return json_response(Outcome(413, "Not linked", "That request was too large."))
        except ValueError:
            return json_response(NO_GRANT)
        if not isinstance(payload, dict):
            return json_response(NO_GRANT)
        if "error" in payload:
            return json_response(
                DENIED if payload.get("error") == "access_denied" else GRANT_REJECTED
            )
        state = payload.get("state")
        try:
            tokens = parse_token_page(payload)
        except ValueError:
            return json_response(NO_GRANT)
        outcome = await self._finish(
            request, state if isinstance(state, str) else "", tokens=tokens
        )
        return json_response(outcome)

    async def healthz(self, request: web.Request) -> web.Response:
        connected = self._is_connected()
        try:
            database = await asyncio.wait_for(self._links.database_answers(), _PING_TIMEOUT)
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
        self._notify_later(link.discord_user_id, link.imgur_username)
        return linked(link.imgur_username)

    def _notify_later(self, discord_user_id: int, imgur_username: str) -> None:
        # The page must not wait for Discord; drain() waits for DMs still being sent.
        task = asyncio.create_task(
            self._send_notification(discord_user_id, linked_message(imgur_username))
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
