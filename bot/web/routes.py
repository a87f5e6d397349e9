"""The callback application: its paths, and which handler and middleware serve them."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from bot.web.dependencies import WebDependencies
from bot.web.guard import ConnectionGuard
from bot.web.handlers import CallbackHandlers
from bot.web.middleware import error_pages, security_headers

__all__ = ["CALLBACK_PATH", "CONFIRM_PATH", "HEALTH_PATH", "TOKEN_PATH", "create_app"]

CONFIRM_PATH: Final = "/oauth/continue"
CALLBACK_PATH: Final = "/oauth/callback"
TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 - a path, not a secret
HEALTH_PATH: Final = "/healthz"
MAX_BODY_BYTES: Final = 8 * 1024


def create_app(
    dependencies: WebDependencies,
    *,
    guard: ConnectionGuard | None = None,
    body_timeout: float = 10.0,
    log_client_ips: bool = False,
) -> web.Application:
    """The callback application; run it with ``CallbackServer`` or aiohttp's test server.

    ``guard`` (``CallbackServer``'s) is told when each request begins and ends.
    """
    handlers = CallbackHandlers(
        dependencies, guard=guard, body_timeout=body_timeout, log_client_ips=log_client_ips
    )
    middlewares = [error_pages] if guard is None else [guard.middleware, error_pages]
    app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
    # No HEAD: a probe must not use up the single-use code and state meant for the browser.
    app.router.add_get(CONFIRM_PATH, handlers.confirm, allow_head=False)
    app.router.add_get(CALLBACK_PATH, handlers.callback, allow_head=False)
    app.router.add_post(TOKEN_PATH, handlers.token)
    app.router.add_get(HEALTH_PATH, handlers.healthz)
    app.on_response_prepare.append(security_headers)
    app.on_cleanup.append(handlers.drain)
    return app
