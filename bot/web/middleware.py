"""What every answer of the callback server gets: security headers, and an HTML page for any
failure (an unexpected one logged by its path only, never its query)."""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.web.logs import printable
from bot.web.outcomes import BROKEN, Outcome, html_response
from bot.web.pages import CONTENT_SECURITY_POLICY

__all__ = ["SECURITY_HEADERS", "error_pages", "security_headers"]

log = logging.getLogger(__name__)

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


async def security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the security headers on every answer, errors included."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure as a small HTML page; unexpected ones logged (paths only, no query)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = html_response(
            Outcome(exc.status, exc.reason, "There is nothing here for that request.")
        )
        allow = exc.headers.get("Allow")
        if allow is not None:  # a 405 names the methods the path takes (RFC 9110 15.5.6)
            response.headers["Allow"] = allow
        return response
    except Exception:
        log.exception(
            "unexpected error serving %s %s",
            printable(request.method, 16),
            printable(request.rel_url.raw_path),
        )
        return html_response(BROKEN)
