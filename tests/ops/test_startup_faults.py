"""Start-up faults, run as an operator (or Docker) runs the bot: one clear line each, no traceback.

Each test starts ``python -m bot`` in a child process against the fake Discord (or a port
nothing listens on) and reads what the operator reads: its stderr, its exit status, and
``python -m bot healthcheck``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.startup import FATAL_EXIT_CODE, Backoff, OneLineReconnects, not_writable
from bot.storage import generate_key
from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import FakeImgur
from tests.ops.conftest import clean_env, run_cli, run_cli_async
from tests.waiting import eventually

START_DEADLINE = 30.0  # a cold interpreter importing discord.py on a slow machine
STOP_DEADLINE = 15.0
RETRY_LINE = "cannot log in to Discord"
GATEWAY_LINE = "cannot reach the Discord gateway"
DATABASE_LINE = "cannot reach the database"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_env(tmp_path: Path, discord_base: str, gateway: str, **values: str) -> dict[str, str]:
    settings = {
        "DISCORD_TOKEN": "fake-discord-bot-token",
        "DISCORD_API_BASE": discord_base,
        "DISCORD_GATEWAY_URL": gateway,
        "DISCORD_SYNC_COMMANDS": "off",
        "IMGUR_CLIENT_ID": "imgur-client-id",
        "IMGUR_CLIENT_SECRET": "imgur-client-secret",
        "IMGUR_API_BASE": f"http://127.0.0.1:{closed_port()}",
        "BOT_DATABASE": str(tmp_path / "data" / "bot.db"),
        "BOT_ENCRYPTION_KEY": generate_key(),
    }
    return clean_env(**(settings | values))


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def lines(self, needle: str) -> list[str]:
        return [line for line in self.output.splitlines() if needle in line]

    async def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        def holds() -> bool:
            if condition():
                return True
            if self.process.returncode is not None:
                raise AssertionError(f"the bot exited while waiting for {what}:\n{self.output}")
            return False

        def told() -> str:
            return f"{what}; output:\n{self.output}"

        await eventually(holds, START_DEADLINE, told, every=0.05)

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), STOP_DEADLINE)


@asynccontextmanager
async def bot_process(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[BotProcess]:
    log = tmp_path / "bot.log"
    with log.open("w", encoding="utf-8") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=tmp_path, stdout=out, stderr=out
        )
    try:
        yield BotProcess(process, log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def assert_no_traceback(output: str) -> None:
    assert "Traceback" not in output, output
    assert "Unclosed" not in output, output  # no aiohttp session left behind by a failed attempt


# -- Discord unreachable or failing at start ---------------------------------------------------


async def test_discord_unreachable_at_start_is_retried_one_line_per_attempt(
    tmp_path: Path,
) -> None:
    port = closed_port()
    env = bot_env(tmp_path, f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    async with bot_process(tmp_path, env) as bot:
        await bot.wait_for("two retries", lambda: len(bot.lines(RETRY_LINE)) >= 2)
        health = await run_cli_async("healthcheck", env=env, cwd=tmp_path)
        returncode = await bot.stop()

    first, second = bot.lines(RETRY_LINE)[:2]
    assert f"cannot connect to 127.0.0.1:{port}" in first
    assert "retrying in" in first
    assert "(attempt 1)" in first
    assert "(attempt 2)" in second
    assert health.returncode == 1
    assert health.stdout.startswith("unhealthy: no heartbeat"), health.stdout
    assert returncode == 0  # a stop while waiting for Discord is a clean stop
    assert_no_traceback(bot.output)


async def test_discord_answering_5xx_at_start_is_retried_until_it_recovers(
    tmp_path: Path,
) -> None:
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        discord.inject_error("GET", "/users/@me", 503, times=2)
        env = bot_env(
            tmp_path, discord.rest_base, discord.gateway_url, IMGUR_API_BASE=imgur.base_url
        )
        async with bot_process(tmp_path, env) as bot:
            await bot.wait_for("the first retry", lambda: len(bot.lines(RETRY_LINE)) >= 1)
            unhealthy = await run_cli_async("healthcheck", env=env, cwd=tmp_path)
            await discord.wait_until_ready_sent(timeout=START_DEADLINE)
            heartbeat = tmp_path / "data" / "bot.db.heartbeat"
            await bot.wait_for("the heartbeat", heartbeat.exists)
            healthy = await run_cli_async("healthcheck", env=env, cwd=tmp_path)
            returncode = await bot.stop()

    retries = bot.lines(RETRY_LINE)
    assert len(retries) == 2, bot.output
    assert all("Discord answered 503" in line for line in retries), retries
    assert unhealthy.returncode == 1
    assert healthy.returncode == 0, healthy.stdout
    assert len(bot.lines("logged in to Discord after 3 attempts")) == 1
    assert returncode == 0
    assert_no_traceback(bot.output)


async def test_a_gateway_unreachable_at_start_is_retried_one_line_per_attempt(
    tmp_path: Path,
) -> None:
    # discord.py itself only reconnects a connection it once had: a first connection that
    # fails would end in its own AttributeError traceback.
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        port = closed_port()
        env = bot_env(
            tmp_path,
            discord.rest_base,
            f"ws://127.0.0.1:{port}/gateway",
            IMGUR_API_BASE=imgur.base_url,
        )
        async with bot_process(tmp_path, env) as bot:
            await bot.wait_for("two retries", lambda: len(bot.lines(GATEWAY_LINE)) >= 2)
            health = await run_cli_async("healthcheck", env=env, cwd=tmp_path)
            returncode = await bot.stop()

    first, second = bot.lines(GATEWAY_LINE)[:2]
    assert f"{GATEWAY_LINE}: cannot connect to 127.0.0.1:{port} (Connection refused)" in first
    assert "(attempt 1)" in first
    assert "(attempt 2)" in second
    assert not bot.lines("reconnecting in")  # discord.py's own line is not doubled
    assert health.returncode == 1
    assert returncode == 0
    assert_no_traceback(bot.output)
    assert not bot.lines(" ERROR ")


class _Bot:
    """Stands in for the discord.Client the filter asks whether it ever connected."""

    def __init__(self, ws: object) -> None:
        self.ws = ws


def reconnect_record() -> logging.LogRecord:
    try:
        raise OSError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 1)")
    except OSError:
        exc_info = sys.exc_info()
    return logging.LogRecord(
        "discord.client",
        logging.ERROR,
        "client.py",
        1,
        OneLineReconnects.RECONNECT,
        (1.5,),
        exc_info,
    )


def test_a_reconnect_after_a_lost_gateway_is_one_warning_line() -> None:
    record = reconnect_record()
    assert OneLineReconnects(_Bot(ws=object())).filter(record)  # type: ignore[arg-type]
    assert record.levelname == "WARNING"
    assert record.exc_info is None
    assert record.getMessage() == (
        "lost the Discord gateway (Connection refused); reconnecting in 1.5 s"
    )


def test_before_the_first_connection_discord_py_s_reconnect_line_is_left_to_ours() -> None:
    assert not OneLineReconnects(_Bot(ws=None)).filter(reconnect_record())  # type: ignore[arg-type]


# -- a refused token ---------------------------------------------------------------------------


async def test_a_refused_token_exits_with_one_line_and_the_fatal_status(tmp_path: Path) -> None:
    async with FakeDiscord() as discord:
        env = bot_env(
            tmp_path, discord.rest_base, discord.gateway_url, DISCORD_TOKEN="not-the-token"
        )
        async with bot_process(tmp_path, env) as bot:
            returncode = await asyncio.wait_for(bot.process.wait(), START_DEADLINE)

    errors = bot.lines("error:")
    assert len(errors) == 1, bot.output
    assert "Discord refused the bot token" in errors[0]
    assert "DISCORD_TOKEN" in errors[0]
    assert "not-the-token" not in bot.output
    assert returncode == FATAL_EXIT_CODE
    assert not bot.lines(RETRY_LINE)  # a refused token is not retried
    assert_no_traceback(bot.output)


async def test_a_refused_token_holds_before_exiting_and_a_stop_ends_the_hold(
    tmp_path: Path,
) -> None:
    # The Docker image sets BOT_FATAL_EXIT_DELAY=60: `restart: unless-stopped` then restarts
    # the bot once a minute at most, not in a loop every few seconds.
    async with FakeDiscord() as discord:
        env = bot_env(
            tmp_path,
            discord.rest_base,
            discord.gateway_url,
            DISCORD_TOKEN="not-the-token",
            BOT_FATAL_EXIT_DELAY="600",
        )
        async with bot_process(tmp_path, env) as bot:
            await bot.wait_for("the error line", lambda: bool(bot.lines("error:")))
            assert bot.process.returncode is None  # holding, not exited
            returncode = await bot.stop()

    assert returncode == FATAL_EXIT_CODE
    assert len(bot.lines("error:")) == 1
    assert_no_traceback(bot.output)


async def start_until_the_error_line(tmp_path: Path) -> tuple[BotProcess, int]:
    """Start the bot (on ``tmp_path/data/bot.db``) until it prints its error line and holds
    (a fault a restart cannot cure); stop it; the process and its exit status."""
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        env = bot_env(
            tmp_path,
            discord.rest_base,
            discord.gateway_url,
            IMGUR_API_BASE=imgur.base_url,
            BOT_FATAL_EXIT_DELAY="600",
        )
        async with bot_process(tmp_path, env) as bot:
            await bot.wait_for("the error line", lambda: bool(bot.lines("error:")))
            assert bot.process.returncode is None  # holding, not exited
            return bot, await bot.stop()


async def test_a_database_fault_a_restart_cannot_cure_holds_before_exiting(
    tmp_path: Path,
) -> None:
    # A database newer than the code, as after a downgrade: one line, then the hold, status 1.
    database = tmp_path / "data" / "bot.db"
    database.parent.mkdir()
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute("PRAGMA user_version = 999")
    database.chmod(0o600)
    bot, returncode = await start_until_the_error_line(tmp_path)

    (line,) = bot.lines("error:")
    assert line.startswith("error: database: ")
    assert "999" in line
    assert returncode == 1
    assert not bot.lines(DATABASE_LINE)  # not retried: a restart would not cure it
    assert_no_traceback(bot.output)


async def test_a_damaged_database_file_is_named_at_start(tmp_path: Path) -> None:
    database = tmp_path / "data" / "bot.db"
    database.parent.mkdir()
    database.write_bytes(b"garbage" * 200)
    database.chmod(0o600)
    bot, returncode = await start_until_the_error_line(tmp_path)

    (line,) = bot.lines("error:")
    assert line == f"error: database: {database} is not an SQLite database or is damaged"
    assert returncode == 1
    assert not bot.lines(DATABASE_LINE)  # not retried: a restart would not cure it
    assert_no_traceback(bot.output)


# -- a data directory the bot cannot write -----------------------------------------------------


def without_root_powers() -> tuple[str, ...]:
    """A command prefix under which root obeys file modes, as uid 10001 in the image does."""
    if os.geteuid() != 0:
        return ()
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all")


@pytest.fixture
def read_only_data_dir(tmp_path: Path) -> Iterator[Path]:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o500)
    yield data
    data.chmod(0o700)


@pytest.mark.parametrize("args", [(), ("--check",)], ids=["run", "check"])
async def test_a_data_dir_that_is_not_writable_is_named_with_the_chown_to_run(
    tmp_path: Path, read_only_data_dir: Path, args: tuple[str, ...]
) -> None:
    port = closed_port()
    env = bot_env(tmp_path, f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    prefix = without_root_powers()
    command = (*prefix, sys.executable, "-m", "bot", *args)
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), START_DEADLINE)
    output = (stdout + stderr).decode()

    lines = stderr.decode().splitlines()
    assert len(lines) == 1, output
    uid, gid = os.getuid(), os.getgid()
    assert f"the data directory {read_only_data_dir} is not writable" in lines[0]
    assert f"the bot runs as uid {uid}" in lines[0]
    assert f"chown -R {uid}:{gid} {read_only_data_dir}" in lines[0]
    assert process.returncode == FATAL_EXIT_CODE
    assert_no_traceback(output)
    assert not any(name.startswith(".write-test") for name in os.listdir(read_only_data_dir))


def test_a_read_only_filesystem_is_told_apart_from_permissions() -> None:
    line = not_writable(Path("/data"), OSError(errno.EROFS, "Read-only file system"))
    assert line.startswith("the data directory /data is on a read-only filesystem")
    assert "docker run -v bot-data:/data" in line
    assert "chown" not in line


def test_a_database_file_of_another_user_is_named_with_its_folder() -> None:
    denied = PermissionError(errno.EACCES, "Permission denied")
    line = not_writable(Path("/data/bot.db"), denied, is_file=True)
    assert line.startswith("the database file /data/bot.db is not writable (Permission denied")
    assert f"chown -R {os.getuid()}:{os.getgid()} /data`" in line


def test_missing_credentials_still_exit_at_once_outside_the_image(tmp_path: Path) -> None:
    # BOT_FATAL_EXIT_DELAY is unset outside the image: an operator at a terminal waits for nothing.
    env = clean_env(BOT_DATABASE=str(tmp_path / "bot.db"))
    result = run_cli(env=env, cwd=tmp_path, timeout=START_DEADLINE)
    assert result.returncode == 2
    assert "missing credentials" in result.stderr


# -- the backoff -------------------------------------------------------------------------------


def test_the_backoff_doubles_from_one_second_up_to_its_cap_with_jitter() -> None:
    backoff = Backoff(first=1.0, maximum=8.0)
    delays = [backoff.next_delay() for _ in range(6)]
    ceilings = [1, 2, 4, 8, 8, 8]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling


# -- the database unreachable (PostgreSQL) -----------------------------------------------------


async def test_a_database_server_unreachable_at_start_is_retried_one_line_per_attempt(
    tmp_path: Path,
) -> None:
    port = closed_port()
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        env = bot_env(
            tmp_path,
            discord.rest_base,
            discord.gateway_url,
            IMGUR_API_BASE=imgur.base_url,
            BOT_DATABASE=f"postgresql://bot:secret-password@127.0.0.1:{port}/bot",
            BOT_DATA_DIR=str(tmp_path / "data"),
        )
        async with bot_process(tmp_path, env) as bot:
            await bot.wait_for("two retries", lambda: len(bot.lines(DATABASE_LINE)) >= 2)
            health = await run_cli_async("healthcheck", env=env, cwd=tmp_path)
            returncode = await bot.stop()

    first, second = bot.lines(DATABASE_LINE)[:2]
    assert f"127.0.0.1:{port}" in first
    assert "(attempt 1)" in first
    assert "(attempt 2)" in second
    assert "secret-password" not in bot.output
    assert health.returncode == 1
    assert returncode == 0
    assert_no_traceback(bot.output)
