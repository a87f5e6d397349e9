"""One bot process running two shards (``AutoShardedBot``) against a fake Discord with two.

Guild interactions reach the shard ``(guild_id >> 22) % 2``, DMs shard 0: the bot answers on
both, syncs the commands once, and counts as connected only while both shards are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import ShardedImgurBot
from tests.e2e.conftest import Harness, make_config, running_bot
from tests.fakes.discord import FakeDiscord, point_discord_py_at
from tests.fakes.imgur import FakeImgur

# A shard after the first waits discord.py's 5 s identify pause (Discord's rate limit).
SHARD_START = 20.0


@dataclass
class TwoShards(Harness):
    other_guild: int = 0
    other_channel: int = 0


@pytest.fixture
async def two_shards(tmp_path: Path) -> AsyncIterator[TwoShards]:
    async with FakeImgur() as imgur, FakeDiscord(shard_count=2) as discord:
        other_guild = discord.add_guild("Other Guild", shard=1)
        other_channel = discord.add_text_channel("general", guild_id=other_guild)
        with point_discord_py_at(discord):
            config = make_config(tmp_path, discord, imgur, discord={"shard_count": 2})
            async with running_bot(config, discord, ready_timeout=SHARD_START) as bot:
                yield TwoShards(bot, discord, imgur, config, other_guild, other_channel)
        discord.assert_all_acknowledged(within=3.0)


async def test_one_process_answers_guilds_on_both_shards_and_dms(two_shards: TwoShards) -> None:
    h = two_shards
    assert isinstance(h.bot, ShardedImgurBot)
    assert sorted(h.bot.shards) == [0, 1]
    assert {g.id: g.shard_id for g in h.bot.guilds} == {h.discord.guild_id: 0, h.other_guild: 1}
    assert h.bot.gateway_connected.is_set()
    assert len(h.discord.command_syncs) == 1  # this process runs shard 0: it syncs, once

    alice = h.member("alice")
    h.imgur.add_account("alice_imgur", favorites=7)
    # Start linking in the guild on shard 1, finish by PIN in a DM (shard 0).
    started = await h.command(alice, "link", channel_id=h.other_channel)
    await started.wait_for_message()
    pin = h.imgur.issue_pin("alice_imgur")
    done = await h.command(alice, "pin", {"code": pin}, dm=True)
    assert "Linked!" in (await done.wait_for_message()).text

    on_one = await h.command(alice, "favorites", channel_id=h.other_channel)
    on_zero = await h.command(alice, "favorites")
    in_dm = await h.command(alice, "status", dm=True)
    for interaction in (on_one, on_zero):
        message = await interaction.wait_for_message()
        assert not message.is_ephemeral
        assert message.embeds
        assert message.embeds[0]["url"].startswith("https://imgur.com/")
    status = await in_dm.wait_for_message()
    assert status.is_ephemeral
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert fields["Account"] == "alice\\_imgur"
    # Each interaction went out on the shard Discord routes it to, and was answered.
    sent_on = {
        shard: {int(f["d"]["id"]) for f in conn.sent if f["t"] == "INTERACTION_CREATE"}
        for shard, conn in h.discord.shards.items()
    }
    assert sent_on[1] == {started.id, on_one.id}
    assert sent_on[0] == {done.id, on_zero.id, in_dm.id}


async def test_connected_only_while_every_shard_is(two_shards: TwoShards) -> None:
    h = two_shards
    assert h.bot.gateway_connected.is_set()
    h.discord.held_down_shards.add(1)
    await h.discord.disconnect_gateway(4000, shard=1)  # its RESUME is refused (op 9)
    await h.discord.wait_for(
        lambda: not h.bot.gateway_connected.is_set() and 1 not in h.discord.shards,
        what="shard 1 down and the bot not counted as connected",
    )
    # Shard 0 drops and resumes: still not connected, since shard 1 is not.
    await h.discord.disconnect_gateway(4000, shard=0)
    # (discord.py handles one shard's reconnect at a time: shard 1's 5 s identify pause first.)
    await h.discord.wait_for(
        lambda: h.discord.resumes == 1 and 0 in h.discord.shards,
        timeout=SHARD_START,
        what="shard 0 resumed",
    )
    # Shard 0 serves its guild and DMs meanwhile (the answer follows its RESUMED).
    alice = h.member("alice")
    reply = await (await h.command(alice, "status", dm=True)).wait_for_message()
    assert "not linked" in reply.text
    assert not h.bot.gateway_connected.is_set()

    h.discord.held_down_shards.clear()  # the next IDENTIFY (after discord.py's 5 s) is let in
    await h.discord.wait_for(
        h.bot.gateway_connected.is_set, timeout=SHARD_START, what="both shards back"
    )
    assert set(h.discord.shards) == {0, 1}
    reply = await (await h.command(alice, "status", channel_id=h.other_channel)).wait_for_message()
    assert "not linked" in reply.text


async def test_a_process_without_shard_zero_never_syncs_commands(tmp_path: Path) -> None:
    async with FakeImgur() as imgur, FakeDiscord(shard_count=2) as discord:
        other_guild = discord.add_guild("Other Guild", shard=1)
        channel = discord.add_text_channel("general", guild_id=other_guild)
        with point_discord_py_at(discord):
            config = make_config(
                tmp_path, discord, imgur, discord={"shard_count": 2, "shard_ids": [1]}
            )
            async with running_bot(config, discord) as bot:
                assert set(discord.shards) == {1}
                assert [g.id for g in bot.guilds] == [other_guild]
                assert bot.gateway_connected.is_set()  # all of its own shards are up
                alice = discord.add_user(name="alice")
                reply = await (
                    await discord.slash_command(alice, "imgur", "status", channel_id=channel)
                ).wait_for_message()
                assert "not linked" in reply.text
        discord.assert_all_acknowledged(within=3.0)
    assert discord.command_syncs == []
    assert not any("/commands" in call.path for call in discord.rest_calls)


async def test_auto_shard_count_asks_discord(tmp_path: Path) -> None:
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = make_config(
                tmp_path, discord, imgur, discord={"shard_count": "auto", "gateway_url": ""}
            )
            async with running_bot(config, discord) as bot:
                assert bot.shard_count == 1
                assert discord.calls("GET", "/gateway/bot")
                assert discord.shards[0].identify is not None
                assert discord.shards[0].identify["shard"] == [0, 1]
                assert bot.gateway_connected.is_set()
