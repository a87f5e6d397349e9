"""User installs: /imgur works where the bot is not, through the interaction's webhook only."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e.conftest import Harness
from tests.e2e.discord_native import (
    button_id,
    favorites,
    footer,
    nsfw_first,
    rest_calls_during,
)
from tests.fakes.discord import RestCall
from tests.fakes.discord_models import PERM_EMBED_LINKS, PERM_SEND_MESSAGES


def webhook_only(calls: list[RestCall]) -> bool:
    return all(c.path.startswith(("/interactions/", "/webhooks/")) for c in calls)


async def test_the_commands_can_be_installed_by_members_and_used_everywhere(
    harness: Harness,
) -> None:
    (group,) = [c for c in harness.discord.commands if c["name"] == "imgur"]
    assert sorted(group["integration_types"]) == [0, 1]
    assert sorted(group["contexts"]) == [0, 1, 2]


async def test_favorites_in_a_server_without_the_bot_go_through_the_webhook_only(
    harness: Harness,
) -> None:
    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    before = len(discord.rest_calls)
    interaction, message = await favorites(harness, alice, channel_id=discord.other_text_channel_id)
    assert interaction.payload["authorizing_integration_owners"] == {"1": str(alice.id)}
    assert not message.is_ephemeral
    assert message.channel_id == discord.other_text_channel_id
    assert len(message.embeds) == 5
    press = await discord.press_button(alice, message, button_id(message, "Next"))
    await press.wait_for_message(lambda m: "6–10 of 12" in footer(m))
    await discord.wait_all_acknowledged()
    calls = rest_calls_during(harness, before)
    assert webhook_only(calls), [c for c in calls if not webhook_only([c])]
    assert discord.refused_calls == []
    assert len(interaction.followups) <= 5


async def test_the_fake_refuses_a_sixth_follow_up_and_channel_endpoints_there(
    harness: Harness,
) -> None:
    """What the bot must never meet: Discord's limits for apps outside their servers."""
    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    interaction, _ = await favorites(harness, alice, channel_id=discord.other_text_channel_id)
    url = f"{discord.rest_base}/webhooks/{discord.application_id}/{interaction.token}"
    statuses = []
    async with aiohttp.ClientSession() as session:
        for _ in range(6 - len(interaction.followups)):
            async with session.post(url, json={"content": "more", "flags": 64}) as response:
                statuses.append(
                    (
                        response.status,
                        (await response.json())["code"] if response.status >= 400 else None,
                    )
                )
        channel = f"{discord.rest_base}/channels/{discord.other_text_channel_id}/messages"
        headers = {"Authorization": f"Bot {discord.token}"}
        async with session.post(channel, json={"content": "hi"}, headers=headers) as response:
            refused = (response.status, (await response.json())["code"])
    assert statuses[-1] == (400, 40094)
    # Without ?wait=true Discord answers an accepted follow-up with 204 and no body.
    assert statuses[:-1] == [(204, None)] * (len(statuses) - 1)
    assert refused == (403, 50001)


@pytest.mark.parametrize(
    ("deny", "note"),
    [
        (PERM_SEND_MESSAGES, "You cannot post in this channel"),
        (PERM_EMBED_LINKS, "no Embed Links permission"),
    ],
)
async def test_a_member_who_may_not_post_or_embed_gets_everything_privately(
    harness: Harness, deny: int, note: str
) -> None:
    discord = harness.discord
    channel = discord.add_foreign_channel("read-only", deny=deny)
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    interaction, message = await favorites(harness, alice, channel_id=channel)
    assert message.is_ephemeral
    assert note in message.content
    assert len(message.embeds) == 5  # ephemeral messages always show their embeds
    await discord.wait_all_acknowledged()
    assert discord.channel_messages(channel) == []
    assert all(m.is_ephemeral for m in interaction.messages)
    assert interaction.rejected_callbacks == []


async def test_a_server_that_turned_off_external_apps_gets_private_answers(
    harness: Harness,
) -> None:
    discord = harness.discord
    discord.other_guild_external_apps = False
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    _, message = await favorites(harness, alice, channel_id=discord.other_text_channel_id)
    assert message.is_ephemeral
    assert discord.channel_messages(discord.other_text_channel_id) == []


@pytest.mark.parametrize(("where", "shown"), [("text", False), ("nsfw", True)])
async def test_nsfw_gating_reads_the_channel_in_the_interaction(
    harness: Harness, where: str, shown: bool
) -> None:
    discord = harness.discord
    harness.imgur.add_account("spicy", favorites=nsfw_first())
    alice = harness.member("alice")
    await harness.link(alice, "spicy")
    channel = {"text": discord.other_text_channel_id, "nsfw": discord.other_nsfw_channel_id}[where]
    _, message = await favorites(harness, alice, channel_id=channel)
    first = message.embeds[0]
    assert ("Hidden: marked NSFW" in first["title"]) is not shown
    assert ("image" in first) is shown


async def test_group_dms_count_as_not_age_restricted(harness: Harness) -> None:
    discord = harness.discord
    harness.imgur.add_account("spicy", favorites=nsfw_first())
    alice, bob, carol = harness.member("alice"), harness.member("bob"), harness.member("carol")
    await harness.link(alice, "spicy")
    group_dm = discord.add_private_channel(alice, bob, carol)
    interaction, message = await favorites(harness, alice, channel_id=group_dm)
    assert interaction.payload["context"] == 2
    assert not message.is_ephemeral
    assert "Hidden: marked NSFW" in message.embeds[0]["title"]
    await discord.wait_all_acknowledged()
    assert discord.refused_calls == []


async def test_guild_install_is_unchanged(harness: Harness) -> None:
    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    interaction, message = await favorites(harness, alice)
    assert interaction.payload["authorizing_integration_owners"] == {"0": str(discord.guild_id)}
    assert not message.is_ephemeral
    assert message.channel_id == discord.text_channel_id
    assert footer(message).startswith("Imgur page 1 · 1–5 of 12")
    _, in_dm = await favorites(harness, alice, dm=True)
    assert len(in_dm.embeds) == 5
