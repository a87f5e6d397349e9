"""Start-up faults an operator can fix, each told in one line, and the wait for Discord.

- A data directory the bot cannot write is found before anything opens the database; the
  line names the uid that needs it and the ``chown`` to run.
- Discord unreachable or answering 5xx at start: the login is retried with capped, jittered
  exponential backoff, one log line per failed attempt, until it succeeds or the bot is told to
  stop. The health check says unhealthy meanwhile (no heartbeat before the gateway is up).
- A token Discord refuses is a :class:`StartupError`: retrying cannot cure it.

A fault that a restart cannot cure ends the process with :data:`FATAL_EXIT_CODE` after holding
for ``BOT_FATAL_EXIT_DELAY`` seconds (0 by default; the Docker image sets 60). Docker's restart
policies restart any exit; a process that stays up a minute first makes ``restart:
unless-stopped`` retry once a minute, one clear line each time, instead of every few seconds.
A stop signal ends the hold at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import random
import signal
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import Protocol, TypeVar

import aiohttp
import discord

from bot.config import StorageConfig
from bot.storage import DatabaseUnavailableError

log = logging.getLogger(__name__)

FATAL_EXIT_CODE = 78  # EX_CONFIG from sysexits.h: fix the configuration, then start again
FATAL_EXIT_DELAY_VARIABLE = "BOT_FATAL_EXIT_DELAY"
LOGIN_TIMEOUT_SECONDS = 120.0  # one whole attempt: login, application info, setup, command sync
RETRY_FIRST_DELAY = 1.0
RETRY_MAX_DELAY = 60.0

# What a later attempt can get past: Discord or the network being down, slow or overloaded.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # aiohttp's connection errors are OSErrors too
    aiohttp.ClientError,
    TimeoutError,
    discord.DiscordServerError,
    discord.GatewayNotFound,
)


class StartupError(Exception):
    """A fault a restart does not cure; the message is the one line the operator reads."""


class _Startable(Protocol):
    async def login(self, token: str, /) -> None: ...

    async def close(self) -> None: ...


BotT = TypeVar("BotT", bound=_Startable)


# -- the data directory ------------------------------------------------------------------------


def check_data_dir(storage: StorageConfig) -> None:
    """Raise StartupError unless the bot can write where its files go.

    That is the SQLite database's folder (and the file, if it exists) and the folder of the
    files beside it: key file, heartbeat, lock (``storage.data_dir``, for PostgreSQL too).
    """
    folders = [storage.side_file(".heartbeat").parent.absolute()]
    database: Path | None = None
    if not storage.is_postgres:
        database = Path(storage.database).absolute()
        folders.insert(0, database.parent)
    for folder in dict.fromkeys(folders):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".write-test-{os.getpid()}"
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            probe.unlink()
        except OSError as exc:
            raise StartupError(not_writable(folder, exc)) from None
    if database is not None and database.exists() and not os.access(database, os.R_OK | os.W_OK):
        denied = PermissionError(errno.EACCES, "Permission denied")
        raise StartupError(not_writable(database, denied, is_file=True))


def not_writable(path: Path, exc: OSError, *, is_file: bool = False) -> str:
    """The one line for a data directory (or database file) the bot cannot write."""
    folder = path.parent if is_file else path
    what = "database file" if is_file else "data directory"
    if exc.errno == errno.EROFS:
        return (
            f"the {what} {path} is on a read-only filesystem: mount a writable volume at "
            f"{folder} (for example docker run -v bot-data:{folder} ...)"
        )
    uid, gid = os.getuid(), os.getgid()
    owner = ""
    with contextlib.suppress(OSError):
        owner = f", owned by uid {path.stat().st_uid}"
    return (
        f"the {what} {path} is not writable ({exc.strerror or type(exc).__name__}{owner}); "
        f"the bot runs as uid {uid}: run `chown -R {uid}:{gid} {folder}` "
        "(for a bind mount, on the host folder mounted there)"
    )


# -- waiting for Discord -----------------------------------------------------------------------


class Backoff:
    """Delays of 1, 2, 4 ... seconds capped at ``maximum``, each jittered to 50-100 %."""

    def __init__(self, first: float = RETRY_FIRST_DELAY, maximum: float = RETRY_MAX_DELAY) -> None:
        self.first = first
        self.maximum = maximum
        self.attempts = 0

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.first * 2**self.attempts)
        self.attempts += 1
        # Jitter spreads the retries of many bots after an outage; not a security measure.
        return float(ceiling * (0.5 + random.random() / 2))  # noqa: S311


def describe_failure(exc: BaseException) -> str:
    """A short reason for a failed attempt to reach Discord, without a traceback."""
    if isinstance(exc, discord.HTTPException):
        return f"Discord answered {exc.status}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        # asyncio's "Connect call failed (...)" hides the reason its errno gives; DNS errors
        # (socket.gaierror) have their own numbers and a good text.
        if cause.errno and not isinstance(cause, socket.gaierror):
            reason = os.strerror(cause.errno)
        else:
            reason = cause.strerror or str(cause)
        return f"cannot connect to {exc.host}:{exc.port} ({reason})"
    if isinstance(exc, OSError) and exc.errno and not isinstance(exc, socket.gaierror):
        return os.strerror(exc.errno)
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def token_refused() -> StartupError:
    return StartupError(
        "Discord refused the bot token (401 Unauthorized): set DISCORD_TOKEN to the token from "
        "the Discord Developer Portal (your application -> Bot -> Reset Token)"
    )


async def login_with_retry(
    make_bot: Callable[[], BotT],
    token: str,
    stop: asyncio.Event,
    *,
    backoff: Backoff | None = None,
    attempt_limit: float = LOGIN_TIMEOUT_SECONDS,
) -> BotT | None:
    """A bot from ``make_bot`` that logged in to Discord, or None if ``stop`` was set first.

    Each attempt gets a new bot: a failed one is closed with everything it opened. A refused
    token raises StartupError; other errors that a retry cannot cure propagate.
    """
    backoff = backoff or Backoff()
    attempt = 0
    while not stop.is_set():
        attempt += 1
        bot = make_bot()
        try:
            logged_in = await _attempt(bot, token, stop, attempt_limit)
        except discord.LoginFailure:
            await bot.close()
            raise token_refused() from None
        except DatabaseUnavailableError as exc:  # opened by the bot's setup_hook
            await bot.close()
            what, reason = "cannot reach the database", str(exc)
        except TRANSIENT_ERRORS as exc:
            await bot.close()
            what, reason = "cannot log in to Discord", describe_failure(exc)
        except BaseException:
            await bot.close()
            raise
        else:
            if not logged_in:
                await bot.close()
                return None
            if attempt > 1:
                log.info("logged in to Discord after %d attempts", attempt)
            return bot
        delay = backoff.next_delay()
        log.warning("%s: %s; retrying in %.1f s (attempt %d)", what, reason, delay, attempt)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    return None


async def _attempt(bot: _Startable, token: str, stop: asyncio.Event, limit: float) -> bool:
    """Log ``bot`` in; False if ``stop`` was set first; TimeoutError after ``limit`` s."""
    login = asyncio.ensure_future(bot.login(token))
    stopped = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait(
            {login, stopped}, timeout=limit, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for task in (login, stopped):
            task.cancel()
        await asyncio.gather(login, stopped, return_exceptions=True)
    if login in done:
        login.result()  # raises what failed
        return True
    if stopped in done:
        return False
    raise TimeoutError


def describe_gateway_end(exc: BaseException) -> str:
    """Why the gateway connection ended for good, in one line."""
    if isinstance(exc, discord.ConnectionClosed) and exc.code == 4004:
        return str(token_refused())
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "Discord refused a privileged intent this bot asked for"
    if isinstance(exc, discord.ConnectionClosed):
        return f"the Discord gateway closed the connection (code {exc.code})"
    return describe_failure(exc)


class OneLineReconnects(logging.Filter):
    """Turns discord.py's reconnect tracebacks into one warning line each.

    discord.py logs every failed gateway (re)connection with ``log.exception``: with Discord's
    gateway unreachable that is a traceback every few seconds. The line keeps the reason and
    the delay; the bot is unhealthy meanwhile (no heartbeat). Before the first connection
    :func:`connect_with_retry` reports the attempts, so discord.py's record is dropped then.
    """

    RECONNECT = "Attempting a reconnect in %.2fs"

    def __init__(self, bot: discord.Client) -> None:
        super().__init__()
        self._bot = bot

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.RECONNECT or not record.exc_info or not record.exc_info[1]:
            return True
        if not ever_connected(self._bot):  # connect_with_retry says it
            return False
        delay = record.args[0] if isinstance(record.args, tuple) and record.args else 0.0
        record.msg = "lost the Discord gateway (%s); reconnecting in %.1f s"
        record.args = (describe_gateway_end(record.exc_info[1]), delay)
        record.exc_info = None
        record.exc_text = None
        record.levelno = logging.WARNING
        record.levelname = logging.getLevelName(logging.WARNING)
        return True


async def connect_with_retry(
    bot: discord.Client, stop: asyncio.Event, *, backoff: Backoff | None = None
) -> None:
    """``bot.connect(reconnect=True)``, with the first gateway connection retried too.

    discord.py reconnects a connection it once had; one that never came up (the gateway
    unreachable at start) ends in its own AttributeError on the missing websocket. Each such
    attempt is one warning line here, with capped exponential backoff, until ``stop`` is set.
    """
    backoff = backoff or Backoff()
    logger = logging.getLogger("discord.client")
    shortener = OneLineReconnects(bot)
    logger.addFilter(shortener)
    attempt = 0
    try:
        while True:
            try:
                await bot.connect(reconnect=True)
            except TRANSIENT_ERRORS as exc:
                cause: BaseException = exc
            except AttributeError as exc:  # discord.py's, on the websocket it never had
                if ever_connected(bot):
                    raise
                cause = exc.__context__ or exc
            else:
                return
            if ever_connected(bot) or bot.is_closed() or isinstance(bot, discord.AutoShardedClient):
                raise cause
            attempt += 1
            delay = backoff.next_delay()
            log.warning(
                "cannot reach the Discord gateway: %s; retrying in %.1f s (attempt %d)",
                describe_failure(cause),
                delay,
                attempt,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return
    finally:
        logger.removeFilter(shortener)


def ever_connected(bot: discord.Client) -> bool:
    """Whether discord.py has had a gateway websocket (it keeps the last one)."""
    websocket: object = bot.ws  # typed as always set; None until the first connection
    return websocket is not None


# -- holding before a fatal exit ---------------------------------------------------------------


def fatal_exit_delay(env: Mapping[str, str]) -> float:
    """Seconds to hold before a fatal exit: ``BOT_FATAL_EXIT_DELAY``, 0 if unset or invalid."""
    try:
        return max(0.0, min(3600.0, float(env.get(FATAL_EXIT_DELAY_VARIABLE, "0") or 0)))
    except ValueError:
        return 0.0


def hold_before_fatal_exit(env: Mapping[str, str]) -> int:
    """Wait ``BOT_FATAL_EXIT_DELAY`` seconds (a stop signal ends it), then give the exit code.

    As a container's PID 1 the process gets SIGTERM only through a handler: one is set here
    for the hold, so ``docker stop`` does not have to wait for its kill timeout.
    """
    delay = fatal_exit_delay(env)
    if delay <= 0:
        return FATAL_EXIT_CODE
    woken = threading.Event()

    def wake(signum: int, frame: FrameType | None) -> None:
        woken.set()

    previous = {signum: signal.signal(signum, wake) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        woken.wait(delay)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return FATAL_EXIT_CODE
