"""Helpers for the operations tests: run ``python -m bot`` as operators do, and seed databases."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import Link, LinkStore, TokenCipher
from tests.bot.storage.factories import make_link
from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import FakeImgur

ROOT = Path(__file__).resolve().parents[2]

# Variables the bot reads; a developer's own values must not leak into a test.
_BOT_VARIABLE_PREFIXES = ("DISCORD_", "IMGUR_", "BOT_")


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any bot setting, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_BOT_VARIABLE_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(values)
    return env


def fakes_env(discord: FakeDiscord, imgur: FakeImgur, **values: str) -> dict[str, str]:
    """``clean_env`` that points the bot at the fake Discord (no command sync) and the fake
    Imgur, plus ``values`` (the Discord token, the database, ...)."""
    return clean_env(
        DISCORD_API_BASE=discord.rest_base,
        DISCORD_GATEWAY_URL=discord.gateway_url,
        DISCORD_SYNC_COMMANDS="off",
        IMGUR_CLIENT_ID=imgur.client_id,
        IMGUR_CLIENT_SECRET=imgur.client_secret,
        IMGUR_API_BASE=imgur.base_url,
        **values,
    )


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, env: Mapping[str, str], cwd: Path, timeout: float = 60) -> Result:
    """``python -m bot ARGS`` in a child process, as an operator (or Docker) runs it."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot", *args],
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


async def run_cli_async(*args: str, env: Mapping[str, str], cwd: Path) -> Result:
    """``run_cli`` without blocking the event loop (for tests that serve something meanwhile)."""
    return await asyncio.to_thread(run_cli, *args, env=env, cwd=cwd)


async def seed_links(database: Path | str, keys: list[str], count: int = 3) -> list[Link]:
    """Store ``count`` links encrypted under ``keys[0]`` in ``database`` (a SQLite file or a
    PostgreSQL URL); returns them.

    They expire in 60 days, so a bot started on the database has nothing to refresh.
    """
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(days=60)
    links = [make_link(1000 + n, expires_at=expires_at) for n in range(count)]
    store = await LinkStore.open(database, TokenCipher(keys))
    try:
        for link in links:
            await store.save_link(link)
    finally:
        await store.close()
    return links


async def read_links(
    database: Path | str, keys: list[str], user_ids: list[int]
) -> list[Link | None]:
    """The stored links of ``user_ids``, decrypted with ``keys`` (raises if they cannot be)."""
    store = await LinkStore.open(database, TokenCipher(keys))
    try:
        return [await store.get(user_id) for user_id in user_ids]
    finally:
        await store.close()


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """``main()`` and ``setup_logging`` replace the root handlers; put pytest's back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    http_level = logging.getLogger("discord.http").level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("discord.http").setLevel(http_level)
