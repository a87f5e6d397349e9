"""The real bot against the fake Discord and the fake Imgur."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot import discord_text
from bot.app import ImgurBot, create_bot
from bot.config import Config, parse_config
from bot.storage import Link, generate_key
from cogs.refresh import RefreshLoop
from tests.fakes.discord import FakeDiscord, FakeInteraction, FakeUser, point_discord_py_at
from tests.fakes.imgur import FakeImgur
from tests.postgres import fresh_schema
from tests.waiting import eventually


@dataclass
class Harness:
    bot: ImgurBot
    discord: FakeDiscord
    imgur: FakeImgur
    config: Config

    async def run_sql(self, statement: str, *params: Any) -> None:
        """Change the bot's database behind its back (``?`` placeholders), either backend."""
        if not self.config.storage.is_postgres:
            with contextlib.closing(sqlite3.connect(self.config.storage.database)) as db, db:
                db.execute(statement, params)
            return
        numbered = iter(range(1, len(params) + 1))
        connection = await asyncpg.connect(self.config.storage.database)
        try:
            await connection.execute(
                re.sub(r"\?", lambda _: f"${next(numbered)}", statement), *params
            )
        finally:
            await connection.close()

    async def dump_database(self) -> str:
        """Every row of every table of the bot's database, as text (either backend)."""
        if not self.config.storage.is_postgres:
            with contextlib.closing(sqlite3.connect(self.config.storage.database)) as db:
                return "\n".join(db.iterdump())
        connection = await asyncpg.connect(self.config.storage.database)
        try:
            tables = await connection.fetch(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
            lines = []
            for (table,) in tables:
                # table names come from the catalogue, not from any input
                rows = await connection.fetch(f'SELECT t::text FROM "{table}" t')  # noqa: S608
                lines += [row[0] for row in rows]
            return "\n".join(lines)
        finally:
            await connection.close()

    def member(self, name: str = "alice", **options: Any) -> FakeUser:
        return self.discord.add_user(name=name, **options)

    async def stored_link(self, user: FakeUser) -> Link:
        """The member's link as the bot stored it (failing when there is none)."""
        link = await self.bot.store.get(user.id)
        assert link is not None, f"{user.name} has no stored link"
        return link

    @property
    def refresh_loop(self) -> RefreshLoop:
        cog = self.bot.get_cog("RefreshLoop")
        assert isinstance(cog, RefreshLoop)
        return cog

    async def command(
        self, user: FakeUser, subcommand: str, options: dict[str, Any] | None = None, **kw: Any
    ) -> FakeInteraction:
        return await self.discord.slash_command(user, "imgur", subcommand, options, **kw)

    async def link(self, user: FakeUser, username: str, favorites: int = 0) -> None:
        """Link ``user`` to Imgur account ``username`` through /imgur link and /imgur pin."""
        try:
            self.imgur.account(username)
        except KeyError:
            self.imgur.add_account(username, favorites=favorites)
        started = await self.command(user, "link")
        await started.wait_for_message()
        done = await self.command(user, "pin", {"code": self.imgur.issue_pin(username)})
        message = await done.wait_for_message()
        shown = discord_text.inline(username, 100, fallback="?")  # escaped and cut, as shown
        assert f"**{shown}**" in message.text, message.text  # "Linked! ..." in any language


def raw_config(
    tmp_path: Path,
    discord: FakeDiscord,
    /,
    *,
    imgur_base: str,
    client_id: str,
    client_secret: str,
    **sections: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """The raw configuration (as ``parse_config`` takes it) of a bot pointed at ``discord`` and
    the fake Imgur at ``imgur_base``, its database in ``tmp_path``; ``sections`` are merged
    over it, a key at a time."""
    raw: dict[str, dict[str, Any]] = {
        "discord": {
            "token": discord.token,
            "api_base": discord.rest_base,
            "gateway_url": discord.gateway_url,
            "sync_commands": "global",
        },
        "imgur": {"client_id": client_id, "client_secret": client_secret, "api_base": imgur_base},
        "storage": {"database": str(tmp_path / "bot.db")},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return raw


def make_config(
    tmp_path: Path, fake_discord: FakeDiscord, fake_imgur: FakeImgur, **sections: Any
) -> Config:
    """The configuration of a bot pointed at the fakes, its Imgur calls timing out after
    half a second unless ``sections`` say otherwise."""
    imgur = {"request_timeout_seconds": 0.5, **sections.pop("imgur", {})}
    raw = raw_config(
        tmp_path,
        fake_discord,
        imgur_base=fake_imgur.base_url,
        client_id=fake_imgur.client_id,
        client_secret=fake_imgur.client_secret,
        imgur=imgur,
        **sections,
    )
    return parse_config(raw, {})


@contextlib.asynccontextmanager
async def running_bot(
    config: Config, discord: FakeDiscord, *, ready_timeout: float = 10.0
) -> AsyncIterator[ImgurBot]:
    bot = create_bot(config, guild_ready_timeout=0.05)
    runner = asyncio.create_task(bot.start(config.discord.token))
    try:
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, runner}, timeout=ready_timeout, return_when="FIRST_COMPLETED"
        )
        if runner in done:
            runner.result()  # raises what stopped the bot
        assert ready in done, f"the bot did not become ready within {ready_timeout} s"
        yield bot
    finally:
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


@contextlib.asynccontextmanager
async def running_harness(
    config: Config, discord: FakeDiscord, imgur: FakeImgur
) -> AsyncIterator[Harness]:
    """`running_bot` with the fakes it talks to, as the `harness` fixture gives them."""
    async with running_bot(config, discord) as bot:
        yield Harness(bot=bot, discord=discord, imgur=imgur, config=config)


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    """Override per test with ``@pytest.mark.parametrize`` or by redefining the fixture."""
    return {}


@pytest.fixture(params=["sqlite", "postgres"])
async def storage_settings(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, Any]]:
    """The end-to-end suite runs once on SQLite (the default) and once more on PostgreSQL."""
    if request.param == "sqlite":
        yield {}
        return
    async with fresh_schema() as url:
        yield {"database": url, "encryption_key": generate_key()}


@pytest.fixture
async def harness(
    tmp_path: Path, bot_settings: dict[str, Any], storage_settings: dict[str, Any]
) -> AsyncIterator[Harness]:
    settings = dict(bot_settings)
    if storage_settings:
        settings["storage"] = {**settings.get("storage", {}), **storage_settings}
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = make_config(tmp_path, discord, imgur, **settings)
            async with running_harness(config, discord, imgur) as harness:
                yield harness
        discord.assert_all_acknowledged(within=3.0)


async def poll(condition: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """``eventually`` for an e2e test's named async condition (its name says what is awaited)."""
    await eventually(condition, within, condition.__name__.replace("_", " "), every=0.05)


@pytest.fixture(autouse=True)
def no_errors_logged(
    caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> Iterator[None]:
    """discord.py only logs what fails inside a command or view: make such errors fail tests."""
    yield
    if request.node.get_closest_marker("errors_expected"):
        return
    errors = [
        record
        for record in caplog.get_records("call")
        if record.levelno >= logging.ERROR
        and record.name.split(".")[0] in {"discord", "bot", "cogs"}
    ]
    assert not errors, "errors were logged: " + "; ".join(r.getMessage() for r in errors)
