from __future__ import annotations

from typing import Any

import pytest

from bot.render import MESSAGE_TOTAL_LIMIT, embed_length
from bot.storage import LinkStatus
from tests.e2e.conftest import Harness
from tests.e2e.discord_native import (
    button_id,
    buttons,
    favorites,
    footer_has,
    where_options,
)
from tests.fakes.imgur import Failure
from tests.fakes.imgur_data import make_favorites


async def test_favorites_are_posted_publicly_as_embeds_within_limits(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await favorites(harness, alice)
    assert not message.is_ephemeral
    assert len(message.embeds) == 5
    assert sum(embed_length(e) for e in message.embeds) <= MESSAGE_TOTAL_LIMIT
    # The fourth generated item has "nsfw": null: hidden in a channel that is not age-restricted.
    shown = message.embeds[:3] + message.embeds[4:]
    assert all(e["url"].startswith("https://imgur.com/") for e in shown)
    assert all("image" in e for e in message.embeds[:3])
    assert message.embeds[3]["title"].startswith("Hidden")
    assert "url" not in message.embeds[3]
    assert message.embeds[-1]["footer"]["text"].startswith("Imgur page 1 · 1–5 of 12")
    assert buttons(message)["Previous"].get("disabled") is True
    assert not buttons(message)["Next"].get("disabled")
    assert harness.imgur.count("favorites") == 1


async def test_long_titles_are_cut_and_discord_accepts_the_message(harness: Harness) -> None:
    alice = harness.member("alice")
    items = make_favorites(5, "long")
    for item in items:
        item["title"] = "T" * 1000
        item["description"] = "D" * 8000
        item["nsfw"] = False
    harness.imgur.add_account("longtexts", favorites=items)
    await harness.link(alice, "longtexts")
    _, message = await favorites(harness, alice)
    assert len(message.embeds) == 5
    assert all(e["title"].endswith("…") and len(e["title"]) <= 256 for e in message.embeds)


async def test_next_and_previous_page_through_items_and_imgur_pages(harness: Harness) -> None:
    harness.imgur.page_size = 10
    alice = harness.member("alice")
    await harness.link(alice, "pager", favorites=25)
    _, message = await favorites(harness, alice)
    for expected in ("6–10 of 10", "Imgur page 2 · 1–5 of 10"):
        press = await harness.discord.press_button(alice, message, button_id(message, "Next"))
        await press.wait_acknowledged()
        message = await press.wait_for_message(footer_has(expected))
    assert harness.imgur.count("favorites") == 2
    press = await harness.discord.press_button(alice, message, button_id(message, "Previous"))
    message = await press.wait_for_message(
        lambda m: "Imgur page 1 · 6–10" in m.embeds[-1]["footer"]["text"]
    )
    assert harness.imgur.count("favorites") == 2  # page 1 came from the cache


async def test_next_past_the_last_favorite_says_so_privately(harness: Harness) -> None:
    harness.imgur.page_size = 5
    alice = harness.member("alice")
    await harness.link(alice, "short", favorites=5)
    _, message = await favorites(harness, alice)
    press = await harness.discord.press_button(alice, message, button_id(message, "Next"))
    note = await press.wait_for_message(lambda m: m.is_ephemeral)
    assert "last of your favorites" in note.text
    edited = await press.wait_for_message(
        lambda m: buttons(m).get("Next", {}).get("disabled") is True
    )
    assert "1–5 of 5" in edited.embeds[-1]["footer"]["text"]


async def test_only_the_invoking_member_can_press_the_buttons(harness: Harness) -> None:
    alice, bob = harness.member("alice"), harness.member("bob")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await favorites(harness, alice)
    before = [dict(e) for e in message.embeds]
    press = await harness.discord.press_button(bob, message, button_id(message, "Next"))
    reply = await press.wait_for_message()
    assert reply.is_ephemeral
    assert "Run `/imgur favorites` yourself" in reply.text
    assert message.embeds == before
    assert harness.imgur.count("favorites") == 1


def nsfw_first() -> list[dict[str, Any]]:
    items = make_favorites(8, "nsfw")
    nsfw = [item for item in items if item.get("nsfw") is True]
    assert nsfw, "the fake's generator has an NSFW kind"
    return nsfw[:1] + [item for item in items if item.get("nsfw") is not True][:2]


@pytest.mark.parametrize(
    ("where", "shown"),
    [("text", False), ("nsfw", True), ("dm", True)],
)
async def test_nsfw_items_only_show_in_dms_and_nsfw_channels(
    harness: Harness, where: str, shown: bool
) -> None:
    harness.imgur.add_account("spicy", favorites=nsfw_first())
    alice = harness.member("alice")
    await harness.link(alice, "spicy")
    _, message = await favorites(harness, alice, **where_options(harness, where))
    first = message.embeds[0]
    if shown:
        assert "NSFW" not in first["title"]
        assert "image" in first
    else:
        assert "Hidden: marked NSFW" in first["title"]
        assert "image" not in first
        assert "url" not in first
    assert "image" in message.embeds[1]


async def test_not_linked_is_told_privately(harness: Harness) -> None:
    alice = harness.member("alice")
    _interaction, reply = await favorites(harness, alice)
    assert reply.is_ephemeral
    assert "not linked an Imgur account" in reply.text
    assert harness.discord.channel_messages(harness.discord.text_channel_id) == []


async def test_broken_link_is_told_privately(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    await harness.bot.store.mark_broken(alice.id, "test")
    _, reply = await favorites(harness, alice)
    assert reply.is_ephemeral
    assert "no longer accepts your link" in reply.text


async def test_rate_limit_says_when_to_retry_and_leaves_nothing_public(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    harness.imgur.retry_after = 120
    harness.imgur.fail("favorites", Failure.RATE_LIMITED)
    interaction = await harness.command(alice, "favorites", {})
    reply = await interaction.wait_for_message(lambda m: "rate-limiting" in m.text)
    assert reply.is_ephemeral
    assert "<t:" in reply.text
    await harness.discord.wait_for(
        lambda: all(m.is_ephemeral for m in interaction.messages),
        timeout=3,
        what="the public placeholder to be removed",
    )
    assert (await harness.stored_link(alice)).status is LinkStatus.OK


async def test_imgur_hanging_is_still_acknowledged_in_time(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    harness.bot.favorites.forget(alice.id)
    harness.imgur.fail("favorites", Failure.HANG, times=5)
    interaction = await harness.command(alice, "favorites", {})
    await interaction.wait_acknowledged(timeout=3)
    assert interaction.acknowledged_after is not None
    assert interaction.acknowledged_after < 3
    reply = await interaction.wait_for_message(lambda m: "not answering" in m.text, timeout=10)
    assert reply.is_ephemeral
    assert (await harness.stored_link(alice)).status is LinkStatus.OK


async def test_page_out_of_bounds_is_refused_by_the_bot_too(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    interaction = await harness.command(alice, "favorites", {"page": 0}, check=False)
    reply = await interaction.wait_for_message()
    assert reply.is_ephemeral
    assert reply.text == "`page` must be between 1 and 1000."  # the bot's own check answers
    assert harness.imgur.count("favorites") == 0


async def test_empty_favorites_say_so(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "nobody_likes", favorites=0)
    _, reply = await favorites(harness, alice)
    assert "No favorites yet" in reply.text


async def test_cache_is_dropped_on_relink(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    await favorites(harness, alice)
    await harness.link(alice, "alice_imgur")
    await favorites(harness, alice)
    assert harness.imgur.count("favorites") == 2


async def test_cache_is_dropped_on_unlink(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    await favorites(harness, alice)
    question = await (await harness.command(alice, "unlink")).wait_for_message()
    unlink_id = next(
        c["custom_id"]
        for row in question.components
        for c in row["components"]
        if c.get("label") == "Unlink"
    )
    press = await harness.discord.press_button(alice, question, unlink_id)
    await press.wait_for_message(lambda m: "Unlinked" in m.text)
    assert len(harness.bot.favorites.cache) == 0


async def test_sort_and_page_options_reach_imgur(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=70)
    _, message = await favorites(harness, alice, {"sort": "oldest", "page": 2})
    assert not message.is_ephemeral
    paths = [r.path for r in harness.imgur.requests if r.route == "favorites"]
    assert paths == ["/3/account/me/favorites/1/oldest"]
    assert message.embeds[-1]["footer"]["text"].startswith("Imgur page 2 · 1–")
    assert message.embeds[-1]["footer"]["text"].endswith("oldest first")


async def test_a_member_running_favorites_too_often_is_slowed_down_privately(
    harness: Harness,
) -> None:
    per_minute = harness.config.limits.favorites_per_minute
    alice, bob = harness.member("alice"), harness.member("bob")
    await harness.link(alice, "alice_imgur", favorites=3)
    await harness.link(bob, "bob_imgur", favorites=3)
    for _ in range(per_minute):
        _, message = await favorites(harness, alice)
        assert not message.is_ephemeral
    _, refused = await favorites(harness, alice)
    assert refused.is_ephemeral
    assert "going a little fast" in refused.text
    _, other = await favorites(harness, bob)  # the limit is per member
    assert not other.is_ephemeral
