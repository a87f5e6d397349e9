"""Private browsing (/imgur favorites private:true) and sharing one favorite publicly."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Harness
from tests.e2e.discord_native import (
    button_id,
    buttons,
    favorites,
    find_share_select,
    footer,
    nsfw_first,
    share_select,
)
from tests.fakes.discord import FakeInteraction, FakeMessage, FakeUser


async def browse_privately(
    harness: Harness, user: FakeUser, **kw: Any
) -> tuple[FakeInteraction, FakeMessage]:
    return await favorites(harness, user, {"private": True}, **kw)


async def test_private_browsing_is_ephemeral_and_pages_privately(harness: Harness) -> None:
    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await browse_privately(harness, alice)
    assert message.is_ephemeral
    assert len(message.embeds) == 5
    select = share_select(message)
    assert select is not None
    # The fourth generated item's NSFW flag is null: it may not be shared into this channel.
    assert [option["label"][:2] for option in select["options"]] == ["1.", "2.", "3.", "5."]
    press = await discord.press_button(alice, message, button_id(message, "Next"))
    await press.wait_for_message(lambda m: "6–10 of 12" in footer(m))
    assert message.is_ephemeral
    assert find_share_select(message) is not None
    assert discord.channel_messages(discord.text_channel_id) == []


async def test_public_browsing_has_no_share_menu(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await favorites(harness, alice)
    assert not message.is_ephemeral
    assert find_share_select(message) is None
    assert set(buttons(message)) == {"Previous", "Next", "Go to page…"}


async def test_share_posts_that_one_favorite_publicly_marked_as_shared_by_the_member(
    harness: Harness,
) -> None:
    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await browse_privately(harness, alice)
    chosen = message.embeds[2]
    select = share_select(message)
    share = await discord.select(
        alice, message, select["custom_id"], [select["options"][2]["value"]]
    )
    posted = await share.wait_for_message(lambda m: not m.is_ephemeral)
    assert posted.channel_id == discord.text_channel_id
    assert alice.mention in posted.content
    assert "shared a favorite" in posted.content
    assert len(posted.embeds) == 1
    assert posted.embeds[0]["url"] == chosen["url"]
    assert posted.embeds[0]["title"] == chosen["title"]
    assert discord.channel_messages(discord.text_channel_id) == [posted]
    assert message.is_ephemeral
    assert len(message.embeds) == 5


async def test_an_nsfw_favorite_cannot_be_shared_in_a_normal_channel(harness: Harness) -> None:
    discord = harness.discord
    harness.imgur.add_account("spicy", favorites=nsfw_first())
    alice = harness.member("alice")
    await harness.link(alice, "spicy")
    _, message = await browse_privately(harness, alice)
    select = share_select(message)
    nsfw_id = harness.imgur.account("spicy").favorites[0]["id"]
    assert all(not o["value"].endswith(":" + nsfw_id) for o in select["options"])
    forged = await discord.select(
        alice, message, select["custom_id"], [f"0:{nsfw_id}"], check=False
    )
    refusal = await forged.wait_for_message()
    assert refusal.is_ephemeral
    assert "only be shared in an age-restricted channel" in refusal.text
    await discord.wait_all_acknowledged()
    assert discord.channel_messages(discord.text_channel_id) == []


async def test_an_nsfw_favorite_can_be_shared_in_an_nsfw_channel(harness: Harness) -> None:
    discord = harness.discord
    harness.imgur.add_account("spicy", favorites=nsfw_first())
    alice = harness.member("alice")
    await harness.link(alice, "spicy")
    _, message = await browse_privately(harness, alice, channel_id=discord.nsfw_channel_id)
    select = share_select(message)
    nsfw_id = harness.imgur.account("spicy").favorites[0]["id"]
    assert select["options"][0]["value"] == f"0:{nsfw_id}"
    share = await discord.select(alice, message, select["custom_id"], [f"0:{nsfw_id}"])
    posted = await share.wait_for_message(lambda m: not m.is_ephemeral)
    assert posted.channel_id == discord.nsfw_channel_id
    assert "image" in posted.embeds[0]
    assert "Hidden" not in posted.embeds[0]["title"]


async def test_share_through_a_user_install_in_a_server_without_the_bot(harness: Harness) -> None:
    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    before = len(discord.rest_calls)
    _, message = await browse_privately(harness, alice, channel_id=discord.other_text_channel_id)
    select = share_select(message)
    share = await discord.select(
        alice, message, select["custom_id"], [select["options"][0]["value"]]
    )
    posted = await share.wait_for_message(lambda m: not m.is_ephemeral)
    assert posted.channel_id == discord.other_text_channel_id
    await discord.wait_all_acknowledged()
    assert all(
        c.path.startswith(("/interactions/", "/webhooks/")) for c in discord.rest_calls[before:]
    )


async def test_a_favorite_gone_from_imgur_is_not_shared(harness: Harness) -> None:
    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await browse_privately(harness, alice)
    select = share_select(message)
    value = select["options"][1]["value"]
    del harness.imgur.account("alice_imgur").favorites[1]
    harness.bot.favorites.forget(alice.id)
    share = await discord.select(alice, message, select["custom_id"], [value])
    reply = await share.wait_for_message()
    assert reply.is_ephemeral
    assert "no longer among your Imgur favorites" in reply.text
    assert discord.channel_messages(discord.text_channel_id) == []
