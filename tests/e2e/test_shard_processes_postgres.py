"""Three ``python -m bot`` processes, one shard each, on one PostgreSQL and one fake Discord.

Commands reach every process and see the one shared database; the refresh sweep that all three
run spends exactly one token call per due link (counted at the fake Imgur, which rotates refresh
tokens, so a second call for a link would break it); a process killed mid-sweep loses nothing
but its in-flight calls, and the others finish its links once its leases expire.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from bot.config import Config, parse_config
from bot.database import open_store
from bot.storage import Link, LinkStatus, generate_key
from tests.e2e.shard_processes import (
    BotProcess,
    bot_processes,
    process_sections,
    wait_for_shards,
)
from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import FakeImgur, Hold
from tests.postgres import fresh_schema

SHARDS = 3
CONCURRENCY = 8  # refreshes in flight per process
# The sweep claims up to 500 due links at a time: with more than 1,000 due, all three take part.
DUE = 1_100
# Every refresh is held at the fake Imgur until all three processes have some in flight: that
# wait must stay below the Imgur timeout, which stays below half the lease (as the
# configuration demands), so that no claim runs out while its call is under way.
IMGUR_TIMEOUT = 5
LEASE_SECONDS = 10
SWEEP_DEADLINE = 90.0
SLOW_IMGUR = 0.25  # seconds an answer: 500 claims at 8 in flight then take about 16 s
MEMBER_BASE = 400_000_000_000_000_000


class CountingImgur(FakeImgur):
    """The fake Imgur, counting each refresh token asked for and each one exchanged.

    A token request on a connection ``cut_off`` (one of a killed process) is dropped, not
    acted on: the process went away before Imgur answered. (Had Imgur acted, it would have
    rotated a refresh token nobody holds any more; that link is lost whatever the bot does.)
    The connections themselves are named, not their ports: other processes reuse those.
    """

    def __init__(self) -> None:
        super().__init__()
        self.asked: Counter[str] = Counter()
        self.exchanged: Counter[str] = Counter()
        self.dropped: Counter[str] = Counter()
        self.abandoned: Counter[str] = Counter()  # the client gave up (timed out) while held
        self.cut_off: set[asyncio.BaseTransport] = set()

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()  # kept by aiohttp for the fake's own handler
        refresh_token = str(form.get("refresh_token"))
        refreshing = form.get("grant_type") == "refresh_token"
        if refreshing:
            self.asked[refresh_token] += 1
        hold = self._holds.get("token")
        if hold is not None:
            # Held before Imgur acts (the fake's own hold comes after its effect), so a
            # request of a process killed meanwhile can still be dropped.
            await hold.wait()
        transport = request.transport
        if transport is None or transport in self.cut_off:
            self.dropped[refresh_token] += 1
            return web.Response(status=499)
        if transport.is_closing():
            self.abandoned[refresh_token] += 1
            return web.Response(status=499)
        response = await super()._token(request)
        if refreshing and response.status == 200:
            self.exchanged[refresh_token] += 1
        return response

    def connections_from(self, ports: set[int]) -> set[asyncio.BaseTransport]:
        """The open connections to this fake whose client end is on one of ``ports``."""
        server = self._runner.server if self._runner is not None else None
        assert server is not None
        found: set[asyncio.BaseTransport] = set()
        for handler in server.connections:
            transport = handler.transport
            if transport is not None and transport.get_extra_info("peername")[1] in ports:
                found.add(transport)
        return found


@dataclass
class Cluster:
    discord: FakeDiscord
    imgur: CountingImgur
    config: Config  # the shared database, as the test reads it
    channels: dict[int, int]  # shard: a text channel of a guild on it
    original_refresh_tokens: dict[int, str]  # member: refresh token before the sweep
    reader: Any  # a store on the same database, for the test's own checks
    shown_member: int


def sections_for(cluster: dict[str, Any], url: str, key: str) -> Any:
    def sections(number: int, data_dir: Path) -> dict[str, dict[str, Any]]:
        return process_sections(
            cluster["discord"],
            cluster["imgur"],
            url,
            key,
            storage={"data_dir": str(data_dir)},
            imgur={"request_timeout_seconds": IMGUR_TIMEOUT},
            refresh={
                "interval_seconds": 1,
                "lease_seconds": LEASE_SECONDS,
                "concurrency": CONCURRENCY,
            },
        )

    return sections


async def seed(config: Config, imgur: FakeImgur) -> tuple[dict[int, str], int]:
    """``DUE`` links due for refresh, and one member whose link is not; through the store."""
    now = datetime.now(UTC).replace(microsecond=0)
    originals: dict[int, str] = {}
    store = await open_store(config)
    try:
        for n in range(DUE + 1):
            account = imgur.add_account(f"member{n}")
            tokens = imgur.issue_tokens(account.username)
            due = n < DUE
            link = Link(
                discord_user_id=MEMBER_BASE + n,
                imgur_account_id=account.id,
                imgur_username=account.username,
                access_token=tokens["access_token"],
                refresh_token=tokens["refresh_token"],
                # Due: an hour left of a two-day token (the default lead is a day).
                expires_at=now + (timedelta(hours=1) if due else timedelta(days=20)),
                linked_at=now - timedelta(days=2 if due else 1),
            )
            await store.save_link(link)
            if due:
                originals[link.discord_user_id] = tokens["refresh_token"]
    finally:
        await store.close()
    return originals, MEMBER_BASE + DUE


@pytest.fixture
async def cluster() -> AsyncIterator[Cluster]:
    key = generate_key()
    async with (
        fresh_schema() as url,
        CountingImgur() as imgur,
        FakeDiscord(shard_count=SHARDS) as discord,
    ):
        channels = {0: discord.text_channel_id}
        for shard in range(1, SHARDS):
            guild = discord.add_guild(f"guild on shard {shard}", shard=shard)
            channels[shard] = discord.add_text_channel("general", guild_id=guild)
        config = parse_config({"storage": {"database": url, "encryption_key": key}}, {})
        originals, shown = await seed(config, imgur)
        reader = await open_store(config)
        try:
            yield Cluster(discord, imgur, config, channels, originals, reader, shown)
        finally:
            await reader.close()


async def poll(condition: Any, what: str, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        await asyncio.sleep(0.1)


async def all_refreshed(cluster: Cluster) -> bool:
    """Whether every due link has tokens newer than the seeded ones (read from the database)."""
    for member, original in cluster.original_refresh_tokens.items():
        link = await cluster.reader.get(member)
        if link is None or link.refresh_token == original:
            return False
    return True


async def every_link_refreshed(cluster: Cluster) -> None:
    """Until Imgur has exchanged every seeded refresh token (cheap to ask: the fake Imgur
    shares the test's event loop), then until the database has every new one."""
    originals = set(cluster.original_refresh_tokens.values())

    async def exchanged() -> bool:
        return originals <= set(cluster.imgur.exchanged)

    await poll(exchanged, "every seeded refresh token exchanged at Imgur", SWEEP_DEADLINE)
    await poll(lambda: all_refreshed(cluster), "every due link's new tokens written", 30)


async def assert_links_intact(cluster: Cluster) -> None:
    for member in cluster.original_refresh_tokens:
        link = await cluster.reader.get(member)
        assert link is not None
        assert link.status is LinkStatus.OK, (member, link.last_error)
        assert link.refreshed_at is not None


def shared_logs_ok(processes: list[BotProcess]) -> None:
    for process in processes:
        log = process.log()
        assert "Traceback" not in log, log[-3000:]
        assert " ERROR " not in log, log[-3000:]
        assert "SQLite is for one process only" not in log


@asynccontextmanager
async def a_process_per_shard(cluster: Cluster, tmp_path: Path) -> AsyncIterator[list[BotProcess]]:
    """One bot process for each shard, all on the cluster's database, each shard identified."""
    sections = sections_for(
        {"discord": cluster.discord, "imgur": cluster.imgur},
        cluster.config.storage.database,
        cluster.config.storage.encryption_key,
    )
    splits = [[shard] for shard in range(SHARDS)]
    async with bot_processes(tmp_path, SHARDS, splits, sections) as processes:
        await wait_for_shards(cluster.discord, processes)
        yield processes


async def all_sweeping(discord: FakeDiscord, hold: Hold) -> None:
    """Until more refreshes are held than two processes can have in flight."""
    await discord.wait_for(
        lambda: hold.held > 2 * CONCURRENCY, timeout=30, what="three sweeping processes"
    )


async def test_commands_reach_every_process_and_the_sweep_refreshes_each_link_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    imgur, discord = cluster.imgur, cluster.discord
    async with a_process_per_shard(cluster, tmp_path) as processes:
        # Sweeps begin once a process is ready (2 s after its shard identified): from now on
        # every refresh waits until all three processes are sweeping.
        hold = imgur.hold("token")
        # Commands reach each process, and each reads the one database.
        member = discord.add_user(cluster.shown_member, name="shown")
        asked = [
            await discord.slash_command(member, "imgur", "status", channel_id=channel)
            for channel in cluster.channels.values()
        ]
        asked.append(await discord.slash_command(member, "imgur", "status", dm=True))
        for interaction in asked:
            reply = await interaction.wait_for_message(timeout=10)
            fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
            assert fields["Account"] == f"member{DUE}"
        for shard, conn in discord.shards.items():
            got = {int(f["d"]["id"]) for f in conn.sent if f["t"] == "INTERACTION_CREATE"}
            assert asked[shard].id in got

        # More refreshes held than two processes can have in flight: all three are sweeping.
        await all_sweeping(discord, hold)
        # A slow Imgur from now on: a process's batch of claims takes longer than a lease, so
        # the processes that run out of work take over claims that ran out while queued.
        imgur.latency = SLOW_IMGUR
        hold.release()
        await every_link_refreshed(cluster)
        await assert_links_intact(cluster)
        assert imgur.count("token") == DUE  # exactly one token call per due link
        assert set(imgur.exchanged) == set(cluster.original_refresh_tokens.values())
        assert set(imgur.exchanged.values()) == {1}

        # Linking started in a guild on shard 1 (process 1) finishes by PIN in a DM (process 0).
        alice = discord.add_user(name="alice")
        imgur.add_account("alice_imgur")
        started = await discord.slash_command(
            alice, "imgur", "link", channel_id=cluster.channels[1]
        )
        await started.wait_for_message(timeout=10)
        pin = imgur.issue_pin("alice_imgur")
        done = await discord.slash_command(alice, "imgur", "pin", {"code": pin}, dm=True)
        assert "Linked!" in (await done.wait_for_message(timeout=10)).text
        link = await cluster.reader.get(alice.id)
        assert link is not None
        assert link.imgur_username == "alice_imgur"
        shared_logs_ok(processes)
    discord.assert_all_acknowledged()


async def test_a_process_killed_mid_sweep_loses_only_its_in_flight_calls(
    cluster: Cluster, tmp_path: Path
) -> None:
    imgur, discord = cluster.imgur, cluster.discord
    async with a_process_per_shard(cluster, tmp_path) as processes:
        hold = imgur.hold("token")
        await all_sweeping(discord, hold)
        victim = processes[2]
        victim.freeze()  # nothing more leaves it; what it had sent is in flight
        ports = victim.ports_connected_to(urlsplit(imgur.base_url).port or 0)

        async def accepted() -> bool:  # by the fake Imgur: its end of each is known then
            return len(imgur.connections_from(ports)) == len(ports)

        await poll(accepted, "the killed process's connections to Imgur accepted", 5)
        imgur.cut_off = imgur.connections_from(ports)
        victim.kill()  # SIGKILL: its claims stay in the database until their lease ends
        await victim.process.wait()
        hold.release()
        # The survivors finish their own claims, then the victim's once its leases run out.
        await every_link_refreshed(cluster)
        await assert_links_intact(cluster)
        originals = set(cluster.original_refresh_tokens.values())
        # The calls the killed process had in flight reached Imgur but were never acted on.
        assert not imgur.abandoned, "a survivor gave up on a held call: the hold was too long"
        in_flight = set(imgur.dropped)
        assert 1 <= len(in_flight) <= CONCURRENCY, imgur.dropped
        assert in_flight <= originals
        assert set(imgur.dropped.values()) == {1}
        # Each seeded refresh token was spent exactly once, none twice, none lost: one call
        # per due link, and one more for each of the killed process's in-flight calls.
        assert imgur.exchanged == Counter(dict.fromkeys(originals, 1))
        assert imgur.asked == Counter({t: 2 if t in in_flight else 1 for t in originals})
        assert imgur.count("token") == DUE + len(in_flight)
        shared_logs_ok(processes[:2])
        assert 2 not in discord.shards  # its shard is gone with it
