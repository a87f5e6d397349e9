"""Logging setup: readable text or JSON lines, with a filter that redacts secrets."""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

REDACTED = "[redacted]"

# Names whose value is a secret, in URLs and forms (``state=...``) ...
_PARAM_NAMES = (
    "access_token|refresh_token|id_token|client_secret|client_id|encryption_key|password"
    "|token|code|pin|state"
)
# ... and in JSON or Python reprs (``"access_token": "..."``); "code" and "state" are left out
# there because Discord's and Imgur's error bodies use them for error numbers.
_FIELD_NAMES = (
    "access_token|refresh_token|id_token|client_secret|encryption_key|password|token|secret"
)
_B64 = r"[A-Za-z0-9_-]"
_NOT_B64_BEFORE = r"(?<![A-Za-z0-9_-])"
_NOT_B64_AFTER = r"(?![A-Za-z0-9_=-])"

# (pattern, replacement); applied in this order.
_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # Interaction and webhook tokens sit in Discord URL paths (discord.py logs those routes).
    (re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.-]{20,}"), rf"\1{REDACTED}"),
    # Authorization headers, as "Authorization: Bot x" or in a dict repr; the scheme is kept.
    (
        re.compile(
            r"(?i)\b(authorization|x-auth-token)([\"']?\s*[:=]\s*[\"']?)"
            r"(?:(bearer|bot|basic|client-id)\s+)?[^\s\"',}]+"
        ),
        lambda m: f"{m[1]}{m[2]}{m[3] + ' ' if m[3] else ''}{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer|client-id)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (
        re.compile(rf"(?i)([\"'](?:{_FIELD_NAMES})[\"']\s*:\s*)(?:\"[^\"]*\"|'[^']*'|[^\s,}}\]]+)"),
        rf'\1"{REDACTED}"',
    ),
    (
        re.compile(rf"(?i)(?<![A-Za-z0-9_])({_PARAM_NAMES})=[^&\s#'\",;)\]}}]+"),
        rf"\1={REDACTED}",
    ),
    # Discord bot tokens (and JWTs): three base64url parts separated by dots.
    (re.compile(rf"{_NOT_B64_BEFORE}{_B64}{{20,}}\.{_B64}{{6,}}\.{_B64}{{20,}}"), REDACTED),
    # Fernet tokens (what the database holds) and Fernet keys (32 bytes, base64url).
    (re.compile(rf"{_NOT_B64_BEFORE}gAAAAA[A-Za-z0-9_=-]{{20,}}"), REDACTED),
    (re.compile(rf"{_NOT_B64_BEFORE}{_B64}{{43}}={_NOT_B64_AFTER}"), REDACTED),
    # Imgur access and refresh tokens and client secrets: 40 hex digits.
    (re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{40}(?![A-Za-z0-9])"), REDACTED),
]


def redact(text: str) -> str:
    """``text`` with every secret-looking part replaced."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments, exception and stack text included) redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = f"{record.msg} {record.args!r}"
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.msg = redact(message)
        record.args = None
        return True


class RateLimitFilter(logging.Filter):
    """Lets at most ``burst`` records of one kind through per ``period`` seconds.

    A kind is a logger name, a level and a message template, so a flood of the same complaint
    (asyncio's accept errors when descriptors run out, the callback server closing slow
    connections) cannot fill the logs. The first record of a kind let through after some were
    held back says how many. Only records from ``names`` (and their children) are limited.
    """

    def __init__(
        self,
        names: Iterable[str],
        *,
        burst: int = 5,
        period: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._names = tuple(names)
        self.burst = burst
        self.period = period
        self._monotonic = monotonic
        self._kinds: dict[tuple[str, int, str], tuple[float, int, int]] = {}  # start, let, held

    def _limited(self, name: str) -> bool:
        return any(name == limited or name.startswith(limited + ".") for limited in self._names)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._limited(record.name):
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self._monotonic()
        start, let, held = self._kinds.get(kind, (now, 0, 0))
        if now - start >= self.period:
            start, let = now, 0
        if let >= self.burst:
            self._kinds[kind] = (start, let, held + 1)
            return False
        self._kinds[kind] = (start, let + 1, 0)
        if len(self._kinds) > 1024:  # a bounded memory of kinds
            self._kinds.pop(next(iter(self._kinds)))
        if held:
            record.msg = f"{record.msg} [{held} more like this not shown]"
        return True


# Loggers whose repeated complaints are rate-limited: the event loop's (accept errors) and the
# callback server's (aiohttp's and ours). Access lines are not limited.
RATE_LIMITED_LOGGERS = ("asyncio", "aiohttp.server", "aiohttp.web", "bot.web")


def _payload_summary(value: object) -> object:
    if isinstance(value, dict):
        known = {key: value[key] for key in ("op", "t", "s") if key in value}
        return "{" + ", ".join(f"{key}={known[key]}" for key in known) + ", ...}"
    if isinstance(value, list | tuple):
        return f"[{len(value)} items]"
    return value


class GatewayPayloadFilter(logging.Filter):
    """discord.py's gateway logger (``discord.gateway``) logs every received payload at DEBUG.

    An INTERACTION_CREATE payload carries what a member typed (a PIN in ``/imgur pin``'s option
    or the PIN modal's field, a redirect URL with its code and state) and the interaction's
    token. Each payload argument is reduced to its opcode, event name and sequence number, so
    DEBUG still shows the gateway's traffic but none of its content.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(arg, dict | list | tuple) for arg in record.args
        ):
            record.args = tuple(_payload_summary(arg) for arg in record.args)
        return True


_MAX_SQL_SHOWN = 160


def _statement_summary(value: object) -> object:
    if isinstance(value, functools.partial):
        name = getattr(value.func, "__name__", "call")
        sql = next((arg for arg in value.args if isinstance(arg, str)), None)
        if sql is None:
            return f"{name}()"
        sql = " ".join(sql.split())
        cut = sql[:_MAX_SQL_SHOWN] + ("..." if len(sql) > _MAX_SQL_SHOWN else "")
        return f"{name}({cut!r}, <parameters not shown>)"
    return value


class SqlParametersFilter(logging.Filter):
    """aiosqlite logs each call at DEBUG as the repr of a ``functools.partial``: the SQL *and
    its parameters* (Imgur usernames, digests, encrypted tokens). Only the SQL text is kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_statement_summary(arg) for arg in record.args)
        return True


# discord.http's DEBUG templates that carry a body, and which argument it is.
_HTTP_BODY_ARGUMENT = {"%s %s with %s has returned %s": 2, "%s %s has received %s": 2}


class HttpBodyFilter(logging.Filter):
    """discord.http logs each request's and response's body at DEBUG: DM and reply texts (a
    profile code, an authorize link with its state). The bodies are left out; the method,
    route and status stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        at = _HTTP_BODY_ARGUMENT.get(str(record.msg))
        if at is not None and isinstance(record.args, tuple) and len(record.args) > at:
            args = list(record.args)
            args[at] = "<body not shown>"
            record.args = tuple(args)
        return True


_GATEWAY_FILTER = GatewayPayloadFilter()
_SQL_FILTER = SqlParametersFilter()
_HTTP_FILTER = HttpBodyFilter()


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, and exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_LINE_BREAKING = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


class OneLineFormatter(logging.Formatter):
    """Text lines where a message cannot start a line of its own.

    Messages carry text from outside (Imgur's error messages, request paths): a newline in one
    would forge a log line. Control and line-breaking characters in the message are escaped
    (``\\x0a``); tracebacks, which follow the message, keep their lines.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = _LINE_BREAKING.sub(
            lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}",
            record.message,
        )
        return super().formatMessage(record)


def setup_logging(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Route every logger (discord.py's included) through one redacting handler.

    ``fmt`` is "text" (readable lines) or "json" (one object a line); the handler writes to
    ``stream``, stderr by default.
    """
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.addFilter(RateLimitFilter(RATE_LIMITED_LOGGERS))
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else OneLineFormatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = max(logging.INFO, logging.getLevelName(level))
    # discord.http logs whole requests (DM texts, authorize URLs) at DEBUG; aiosqlite two lines
    # for every SQL statement (a sweep of thousands of links: tens of thousands of lines),
    # parameters included. Keep both at INFO or above whatever the level. Should anyone lower
    # them again, the filters below still keep their parameters out, as they keep what members
    # typed out of discord.py's gateway payloads (which stay at DEBUG: they show the traffic).
    logging.getLogger("discord.http").setLevel(quiet)
    logging.getLogger("aiosqlite").setLevel(quiet)
    logging.getLogger("aiosqlite").addFilter(_SQL_FILTER)  # (adding twice is a no-op)
    logging.getLogger("discord.gateway").addFilter(_GATEWAY_FILTER)
    logging.getLogger("discord.http").addFilter(_HTTP_FILTER)
