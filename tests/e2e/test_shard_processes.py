"""Several ``python -m bot`` processes, one shard each, behind one fake Discord.

Each process runs the shard its ``DISCORD_SHARD_IDS`` names: Discord's events for a guild reach
the process running the guild's shard, DMs the one running shard 0, which alone syncs commands.
The sweep shared over one PostgreSQL database is in ``test_shard_processes_postgres``.
"""

from __future__ import annotations

from pathlib import Path

from bot.storage import generate_key
from tests.e2e.shard_processes import bot_processes, process_sections, wait_for_shards
from tests.fakes.discord import FakeDiscord, FakeInteraction
from tests.fakes.imgur import FakeImgur

SHARDS = 3


async def test_commands_reach_the_process_running_their_shard(tmp_path: Path) -> None:
    key = generate_key()
    async with FakeImgur() as imgur, FakeDiscord(shard_count=SHARDS) as discord:
        channels = {0: discord.text_channel_id}
        for shard in range(1, SHARDS):
            guild = discord.add_guild(f"guild on shard {shard}", shard=shard)
            channels[shard] = discord.add_text_channel("general", guild_id=guild)

        def sections(number: int, data_dir: Path) -> dict[str, dict[str, object]]:
            # A database per process: this test is about routing, not sharing.
            return process_sections(discord, imgur, str(data_dir / "bot.db"), key)

        splits = [[shard] for shard in range(SHARDS)]
        async with bot_processes(tmp_path, SHARDS, splits, sections) as processes:
            await wait_for_shards(discord, processes)
            alice = discord.add_user(name="alice")
            asked: dict[int | str, FakeInteraction] = {
                shard: await discord.slash_command(alice, "imgur", "status", channel_id=channel)
                for shard, channel in channels.items()
            }
            asked["dm"] = await discord.slash_command(alice, "imgur", "status", dm=True)
            for interaction in asked.values():
                reply = await interaction.wait_for_message(timeout=10)
                assert reply.is_ephemeral
                assert "not linked" in reply.text
            for shard, conn in discord.shards.items():
                got = {int(f["d"]["id"]) for f in conn.sent if f["t"] == "INTERACTION_CREATE"}
                expected = {asked[shard].id} | ({asked["dm"].id} if shard == 0 else set())
                assert got == expected, f"shard {shard}"
            # One identified connection per process, each with its own shard.
            assert {conn.shard for conn in discord.shards.values()} == {(0, 3), (1, 3), (2, 3)}
        discord.assert_all_acknowledged()
    # Only the process running shard 0 synced the commands.
    assert len(discord.command_syncs) == 1
    logs = [p.log() for p in processes]
    assert "synced" in logs[0]
    assert all("synced by the process that runs shard 0" in log for log in logs[1:])
    # Each was told that SQLite does not hold a bot split over processes.
    assert all("SQLite is for one process only; use PostgreSQL" in log for log in logs)
    assert not [line for log in logs for line in log.splitlines() if " ERROR " in line]
    assert all("Traceback" not in log for log in logs)
    assert all(p.process.returncode == 0 for p in processes), [
        p.process.returncode for p in processes
    ]
