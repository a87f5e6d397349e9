"""What the callback server writes to the logs: access lines and aiohttp's complaints, each one
escaped line naming no query (which carries codes and states) and no client address unless
the operator asked for them (``web.log_client_ips``)."""

from __future__ import annotations

import logging
from typing import Any, Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

__all__ = ["AccessLogger", "AccessLoggerWithIPs", "ServerLog", "printable"]

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


class AccessLogger(AbstractAccessLogger):
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


class AccessLoggerWithIPs(AccessLogger):
    log_client_ips = True


class ServerLog:
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
