"""Crash test: SIGKILL the bot process in the middle of a refresh sweep of hundreds of links.

After a restart on the same database: ``PRAGMA integrity_check`` is ok, every link is still
there, and the only links whose stored refresh token Imgur no longer takes are those whose
refresh was in flight at the kill (at most ``refresh.concurrency``). The restarted bot, once
the killed process's claims on them have lapsed, refreshes them again with the stored token:
where Imgur still takes it (it does not rotate refresh tokens) the link recovers; where Imgur
rotated it, the link is marked broken and the member is told by DM.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import Link, LinkStatus, LinkStore, TokenCipher, generate_key
from cogs.refresh import BROKEN_NOTICE
from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import FakeImgur
from tests.ops.conftest import fakes_env
from tests.ops.test_shutdown import START_DEADLINE
from tests.waiting import eventually

LINKS = 300
CONCURRENCY = 8
KILL_AFTER_REFRESHES = 60
SETTLE_DEADLINE = 60.0


async def seed_due_links(
    database: Path, key: str, imgur: FakeImgur, discord: FakeDiscord
) -> list[int]:
    """``LINKS`` members, each with a link whose tokens the fake Imgur issued, all due now."""
    now = datetime.now(UTC).replace(microsecond=0)
    store = await LinkStore.open(database, TokenCipher([key]))
    user_ids = []
    try:
        for n in range(LINKS):
            member = discord.add_user(name=f"member{n}")
            account = imgur.add_account(f"imgur{n}")
            tokens = imgur.issue_tokens(account.username)
            await store.save_link(
                Link(
                    discord_user_id=member.id,
                    imgur_account_id=account.id,
                    imgur_username=account.username,
                    access_token=tokens["access_token"],
                    refresh_token=tokens["refresh_token"],
                    expires_at=now + timedelta(minutes=5),
                    linked_at=now - timedelta(hours=2),
                    refreshed_at=now - timedelta(hours=2),
                )
            )
            user_ids.append(member.id)
    finally:
        await store.close()
    return user_ids


@contextlib.asynccontextmanager
async def bot_process(
    tmp_path: Path, env: dict[str, str], log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("a", encoding="utf-8") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(tmp_path / "bot.toml"),
            env=env,
            cwd=tmp_path,
            stdout=output,
            stderr=output,
        )
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def stored(database: Path, key: str, user_ids: list[int]) -> dict[int, Link]:
    store = await LinkStore.open(database, TokenCipher([key]))
    try:
        links = {user_id: await store.get(user_id) for user_id in user_ids}
    finally:
        await store.close()
    return {user_id: link for user_id, link in links.items() if link is not None}


def refresh_token_of(link: Link) -> str:
    assert link.refresh_token is not None, f"the OAuth link of {link.discord_user_id} has none"
    return link.refresh_token


@pytest.mark.parametrize("rotating", [True, False], ids=["imgur-rotates", "imgur-keeps"])
async def test_a_bot_killed_mid_sweep_loses_no_link_beyond_those_in_flight(
    tmp_path: Path, rotating: bool
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    log = tmp_path / "bot.log"
    (tmp_path / "bot.toml").write_text(
        # A short lease: the claims the killed process held on the links it was refreshing
        # are taken over by the restarted one this soon.
        f"[refresh]\ninterval_seconds = 1\nconcurrency = {CONCURRENCY}\nlease_seconds = 5\n"
        "[imgur]\nrequest_timeout_seconds = 2\n",
        encoding="utf-8",
    )
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        imgur.rotate_refresh_tokens = rotating
        imgur.latency = 0.02  # a sweep of LINKS takes a while: long enough to be killed in
        user_ids = await seed_due_links(database, key, imgur, discord)
        seeded = (await stored(database, key, user_ids[:1]))[user_ids[0]].refreshed_at
        assert seeded is not None
        env = fakes_env(
            discord,
            imgur,
            DISCORD_TOKEN=discord.token,
            BOT_DATABASE=str(database),
            BOT_ENCRYPTION_KEY=key,
        )

        async with bot_process(tmp_path, env, log) as process:
            await eventually(
                lambda: _running(process, log) and imgur.count("token") >= KILL_AFTER_REFRESHES,
                START_DEADLINE,
                "the sweep to be under way",
            )
            # The refreshes now in flight reach Imgur and wait there: the kill comes while
            # Imgur handles them, and it answers them (rotating refresh tokens) after.
            hold = imgur.hold("token")
            await eventually(lambda: hold.held == CONCURRENCY, 10, "every refresh to be in flight")
            process.kill()  # SIGKILL: no shutdown code runs
            await process.wait()
        hold.release()
        await eventually(lambda: hold.passed == hold.held, 10, "Imgur to answer the held refreshes")
        assert imgur.count("token") < LINKS, "the sweep finished before the kill"

        with contextlib.closing(sqlite3.connect(database)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after_kill = await stored(database, key, user_ids)
        assert set(after_kill) == set(user_ids)  # no link lost
        dead = {
            u
            for u, link in after_kill.items()
            if not imgur.accepts_refresh_token(refresh_token_of(link))
        }
        # Only the refreshes in flight at the kill, and only where Imgur rotated the token.
        assert len(dead) == (CONCURRENCY if rotating else 0)

        async with bot_process(tmp_path, env, log) as restarted:

            async def settled() -> bool:  # every link refreshed since it was seeded, or broken
                _running(restarted, log)
                links = await stored(database, key, user_ids)
                return all(
                    link.status is LinkStatus.BROKEN
                    or (link.refreshed_at is not None and link.refreshed_at > seeded)
                    for link in links.values()
                )

            await eventually(settled, SETTLE_DEADLINE, "every link refreshed or broken", every=0.2)
            final = await stored(database, key, user_ids)
            broken = {u for u, link in final.items() if link.status is LinkStatus.BROKEN}
            assert broken == dead
            for user_id in broken:
                member = discord.users[user_id]
                await discord.wait_for_dm(member, lambda m: m.text == BROKEN_NOTICE, timeout=10)
        for user_id, link in final.items():
            if user_id not in broken:
                assert imgur.accepts_refresh_token(refresh_token_of(link))
        with contextlib.closing(sqlite3.connect(database)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _running(process: asyncio.subprocess.Process, log: Path) -> bool:
    if process.returncode is not None:
        raise AssertionError(f"the bot exited ({process.returncode}): {log.read_text()[-2000:]}")
    return True
