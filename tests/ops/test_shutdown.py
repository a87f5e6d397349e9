"""SIGTERM/SIGINT stop the bot cleanly; commands in flight finish or are told the bot restarts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli.run import run
from bot.config import Config
from bot.shutdown import RESTARTING_NOTICE, interaction_tasks
from bot.storage import generate_key
from tests.e2e.conftest import make_config
from tests.fakes.discord import FakeDiscord, point_discord_py_at
from tests.fakes.imgur import Failure, FakeImgur
from tests.ops.conftest import fakes_env, read_links, run_cli_async, seed_links
from tests.waiting import eventually

START_DEADLINE = 30.0  # a cold interpreter importing discord.py on a slow machine
STOP_DEADLINE = 15.0


@contextlib.asynccontextmanager
async def bot_in_this_process(
    config: Config, discord: FakeDiscord, *, grace: float
) -> AsyncIterator[tuple[asyncio.Event, asyncio.Task[int]]]:
    """The bot run in this process against ``discord`` until ready: the event that stops it,
    and its task (cancelled on the way out if still running)."""
    stop = asyncio.Event()
    with point_discord_py_at(discord):
        bot = asyncio.create_task(run(config, stop=stop, grace=grace))
        try:
            await discord.wait_until_ready_sent(timeout=10)
            yield stop, bot
        finally:
            if not bot.done():
                bot.cancel()
                await asyncio.gather(bot, return_exceptions=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
async def test_a_stop_signal_stops_the_bot_process_cleanly(
    tmp_path: Path, signum: signal.Signals
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    links = await seed_links(database, [key], count=2)
    heartbeat = tmp_path / "bot.db.heartbeat"
    log_file = tmp_path / "bot.log"
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        token_file = tmp_path / "discord_token"
        token_file.write_text(discord.token + "\n", encoding="utf-8")
        env = fakes_env(
            discord,
            imgur,
            DISCORD_TOKEN_FILE=str(token_file),
            BOT_DATABASE=str(database),
            BOT_ENCRYPTION_KEY=key,
            BOT_LOG_FORMAT="json",
        )
        with log_file.open("w", encoding="utf-8") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", env=env, cwd=tmp_path, stdout=log, stderr=log
            )
            try:
                await discord.wait_until_ready_sent(timeout=START_DEADLINE)
                await eventually(heartbeat.exists, START_DEADLINE, "the heartbeat file")
                running = await run_cli_async("healthcheck", env=env, cwd=tmp_path)
                assert running.returncode == 0, running.stdout

                process.send_signal(signum)
                returncode = await asyncio.wait_for(process.wait(), STOP_DEADLINE)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        stopped = await run_cli_async("healthcheck", env=env, cwd=tmp_path)

    output = log_file.read_text(encoding="utf-8")
    assert returncode == 0, output
    lines = [json.loads(line) for line in output.splitlines()]  # JSON lines, as configured
    assert any(entry["message"] == "shutting down" for entry in lines)
    assert lines[-1]["message"] == "stopped"
    assert discord.token not in output
    assert key not in output
    assert stopped.returncode == 1  # no heartbeat left behind
    assert not heartbeat.exists()
    # The database was closed: checkpointed, no WAL left, intact, nothing lost.
    assert not (tmp_path / "bot.db-wal").exists()
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert await read_links(database, [key], [link.discord_user_id for link in links]) == links


async def test_a_command_still_waiting_for_imgur_is_told_the_bot_restarts(
    tmp_path: Path,
) -> None:
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        config = make_config(tmp_path, discord, imgur, imgur={"request_timeout_seconds": 60})
        async with bot_in_this_process(config, discord, grace=0.3) as (stop, bot):
            alice = discord.add_user(name="alice")
            started = await discord.slash_command(alice, "imgur", "link")
            await started.wait_acknowledged()
            imgur.fail("token", Failure.HANG)
            pin = await discord.slash_command(alice, "imgur", "pin", {"code": "4071526398"})
            await pin.wait_acknowledged()
            await eventually(lambda: imgur.count("token") == 1, 5, "the call to Imgur")

            stop.set()
            assert await asyncio.wait_for(bot, 10) == 0
        notice = await pin.wait_for_message(lambda m: RESTARTING_NOTICE in m.text)
        assert notice.is_ephemeral


async def test_commands_that_finish_within_the_grace_period_are_not_cut(
    tmp_path: Path,
) -> None:
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        imgur.latency = 1.0  # every Imgur answer takes a moment (the PIN needs two)
        config = make_config(tmp_path, discord, imgur, imgur={"request_timeout_seconds": 30})
        imgur.add_account("alice")
        async with bot_in_this_process(config, discord, grace=10) as (stop, bot):
            alice = discord.add_user(name="alice")
            started = await discord.slash_command(alice, "imgur", "link")
            await started.wait_acknowledged()
            pin = await discord.slash_command(
                alice, "imgur", "pin", {"code": imgur.issue_pin("alice")}
            )
            await pin.wait_acknowledged()
            # The fake records the token request before its latency: the command is
            # then still waiting for Imgur (and has the account call still to make).
            await eventually(lambda: imgur.count("token") == 1, 10, "the call to Imgur")
            assert interaction_tasks(), "the command should still be talking to Imgur"
            stop.set()
            assert await asyncio.wait_for(bot, 15) == 0
        done = await pin.wait_for_message()
        assert "Linked!" in done.text
        assert RESTARTING_NOTICE not in done.text
