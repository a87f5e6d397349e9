"""The fake Discord with shards: GET /gateway/bot, IDENTIFY ``shard``, routing by guild.

An unmodified ``AutoShardedBot`` logs into ``FakeDiscord(shard_count=N)`` and gets each guild's
events on the shard ``(guild_id >> 22) % N``, DMs on shard 0, as Discord sends them.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord import FakeDiscord, point_discord_py_at
from tests.fakes.discord_gateway import GatewayConnection
from tests.fakes.test_fake_discord import running


class ShardedDemoBot(commands.AutoShardedBot):
    """Says which guild and shard each command reached; syncs once in ``setup_hook``."""

    def __init__(self, **options: Any) -> None:
        options.setdefault("guild_ready_timeout", 0.05)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=discord.Intents.none() | discord.Intents(guilds=True),
            **options,
        )
        self.shards_ready: list[int] = []

        @self.tree.command(description="Where did this arrive?")
        @app_commands.allowed_contexts(guilds=True, dms=True)
        async def where(interaction: discord.Interaction) -> None:
            guild = interaction.guild
            place = f"guild {guild.id} shard {guild.shard_id}" if guild else "DM"
            await interaction.response.send_message(place, ephemeral=True)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s pause between shards: the fake does not rate-limit IDENTIFY."""

    async def on_shard_ready(self, shard_id: int) -> None:
        self.shards_ready.append(shard_id)


def events_on(conn: GatewayConnection, name: str) -> list[dict[str, Any]]:
    return [frame["d"] for frame in conn.sent if frame["t"] == name]


async def test_gateway_bot_reports_the_shard_count_and_the_url() -> None:
    async with FakeDiscord(shard_count=3) as server, aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {server.token}"}
        async with session.get(server.rest_base + "/gateway/bot", headers=headers) as response:
            assert response.headers["Content-Type"] == "application/json"
            body = await response.json()
        async with session.get(server.rest_base + "/gateway/bot") as anonymous:
            assert anonymous.status == 401
        async with session.get(server.rest_base + "/gateway") as public:
            assert (await public.json())["url"] == server.gateway_url
    assert body["shards"] == 3
    assert body["url"] == server.gateway_url
    assert body["session_start_limit"]["max_concurrency"] >= 1


def test_guilds_can_be_placed_on_a_shard() -> None:
    server = FakeDiscord(shard_count=3)
    assert server.shard_for(server.guild_id) == 0  # the default guild lives with the DMs
    for shard in (0, 1, 2, 1):
        guild_id = server.add_guild(f"on {shard}", shard=shard)
        assert (guild_id >> 22) % 3 == shard == server.shard_for(guild_id)
    assert server.shard_for(None) == 0
    with pytest.raises(ValueError, match="shard 3"):
        server.add_guild("nowhere", shard=3)


async def test_auto_sharded_bot_gets_each_guild_on_its_shard_and_dms_on_shard_zero() -> None:
    async with FakeDiscord(shard_count=2) as server, point_discord_py_at(server):
        other = server.add_guild("Second Guild", shard=1)
        other_channel = server.add_text_channel("general", guild_id=other)
        bot = ShardedDemoBot()  # no shard_count: discord.py asks GET /gateway/bot
        async with running(bot, server):
            assert bot.shard_count == 2
            assert sorted(bot.shards_ready) == [0, 1]
            zero, one = server.shards[0], server.shards[1]
            assert zero.identify is not None
            assert zero.identify["shard"] == [0, 2]
            assert one.identify is not None
            assert one.identify["shard"] == [1, 2]
            # READY and GUILD_CREATE: each shard hears of its own guilds only.
            assert events_on(zero, "READY")[0]["shard"] == [0, 2]
            assert [g["id"] for g in events_on(zero, "GUILD_CREATE")] == [str(server.guild_id)]
            assert [g["id"] for g in events_on(one, "GUILD_CREATE")] == [str(other)]
            first, second = bot.get_guild(server.guild_id), bot.get_guild(other)
            assert first is not None
            assert first.shard_id == 0
            assert second is not None
            assert second.shard_id == 1
            assert [c.id for c in second.channels] == [other_channel]

            alice = server.add_user(name="alice")
            here = await server.slash_command(alice, "where", channel_id=other_channel)
            home = await server.slash_command(alice, "where")
            dm = await server.slash_command(alice, "where", dm=True)
            assert (await here.wait_for_message()).content == f"guild {other} shard 1"
            assert (await home.wait_for_message()).content == f"guild {server.guild_id} shard 0"
            assert (await dm.wait_for_message()).content == "DM"
            on_zero = {int(d["id"]) for d in events_on(zero, "INTERACTION_CREATE")}
            on_one = {int(d["id"]) for d in events_on(one, "INTERACTION_CREATE")}
            assert on_zero == {home.id, dm.id}
            assert on_one == {here.id}

            # A guild the bot joins later: its GUILD_CREATE goes to its shard only.
            later = server.add_guild("Third Guild", shard=1)
            await server.dispatch("GUILD_CREATE", server.guild_create_payload(later))
            await server.wait_for(lambda: bot.get_guild(later), what="the new guild")
            assert bot.get_guild(later).shard_id == 1  # type: ignore[union-attr]
            assert str(later) not in {g["id"] for g in events_on(zero, "GUILD_CREATE")}
        server.assert_all_acknowledged()
    # Commands were synced once, by the one process.
    assert len(server.command_syncs) == 1


async def test_bot_given_some_shard_ids_connects_only_those() -> None:
    async with FakeDiscord(shard_count=3) as server, point_discord_py_at(server):
        on_two = server.add_guild("Two", shard=2)
        bot = ShardedDemoBot(shard_count=3, shard_ids=[2])
        async with running(bot, server):
            assert set(server.shards) == {2}
            assert [g.id for g in bot.guilds] == [on_two]
            alice = server.add_user(name="alice")
            with pytest.raises(RuntimeError, match="no bot is connected to shard 0"):
                await server.slash_command(alice, "where", dm=True)
        # The gateway saw no IDENTIFY but shard 2's.
        identified = [c.identify["shard"] for c in server.gateway_connections if c.identify]
        assert identified == [[2, 3]]


async def _identify_and_close_code(server: FakeDiscord, extra: dict[str, Any]) -> int | None:
    async with aiohttp.ClientSession() as session, session.ws_connect(server.gateway_url) as ws:
        hello = json.loads((await ws.receive()).data)
        assert hello["op"] == 10
        identify = {"token": server.token, "intents": 1, "properties": {}, **extra}
        await ws.send_str(json.dumps({"op": 2, "d": identify}))
        message = await ws.receive(timeout=5)
        if message.type is aiohttp.WSMsgType.TEXT:
            return None  # READY: accepted
        return ws.close_code


@pytest.mark.parametrize(
    ("shard_count", "extra", "code"),
    [
        (2, {}, 4011),  # sharding required: no shard field
        (2, {"shard": [2, 2]}, 4010),  # id out of range
        (2, {"shard": [-1, 2]}, 4010),
        (2, {"shard": [0, 3]}, 4010),  # another count than the fake's
        (2, {"shard": [0]}, 4010),
        (2, {"shard": ["0", "2"]}, 4010),
        (1, {"shard": [0, 1]}, None),
        (1, {}, None),
        (2, {"shard": [1, 2]}, None),
    ],
)
async def test_identify_shard_is_validated(
    shard_count: int, extra: dict[str, Any], code: int | None
) -> None:
    async with FakeDiscord(shard_count=shard_count) as server:
        assert await _identify_and_close_code(server, extra) == code
        if code is not None:
            assert server.shards == {}


async def test_a_shard_that_drops_resumes_and_keeps_its_guilds() -> None:
    async with FakeDiscord(shard_count=2) as server, point_discord_py_at(server):
        other = server.add_guild("Second Guild", shard=1)
        channel = server.add_text_channel("general", guild_id=other)
        bot = ShardedDemoBot()
        async with running(bot, server):
            await server.disconnect_gateway(4000, shard=1)
            await server.wait_for(lambda: server.resumes == 1, what="shard 1 resuming")
            await server.wait_for(lambda: 1 in server.shards, what="shard 1 back")
            assert server.shards[1].shard == (1, 2)
            alice = server.add_user(name="alice")
            inter = await server.slash_command(alice, "where", channel_id=channel)
            assert (await inter.wait_for_message()).content == f"guild {other} shard 1"
            assert server.identifies == 2  # the resume did not identify again
