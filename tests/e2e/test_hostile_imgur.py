"""Hostile Imgur data through the real bot: what the fake Discord accepts and a channel shows."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.render import MESSAGE_TOTAL_LIMIT, embed_length
from tests.e2e.conftest import Harness, poll
from tests.e2e.discord_native import where_options
from tests.fakes.discord import FakeMessage, FakeUser
from tests.fakes.imgur_data import make_favorites

MASKED_LINK = re.compile(r"(?<!\\)(?:\\\\)*\[[^\]]*\]\(")
LINE_START_MARKUP = re.compile(r"^(?:#{1,3} |-# |> |[-*+] |\d+[.)] )", re.MULTILINE)


def safe_items(count: int, seed: str) -> list[dict[str, Any]]:
    items = make_favorites(count, seed)
    for item in items:
        item["nsfw"] = False
    return items


async def show_favorites(harness: Harness, user: FakeUser, **kw: Any) -> FakeMessage:
    interaction = await harness.command(user, "favorites", {}, **kw)
    return await interaction.wait_for_message()


async def test_phishing_links_and_headings_from_imgur_are_shown_as_text(harness: Harness) -> None:
    items = safe_items(5, "phish")
    items[0]["title"] = "[Claim your Nitro](https://evil.example/login)"
    items[0]["description"] = "# FREE NITRO\n-# official\n> [click](https://evil.example) @everyone"
    items[1]["description"] = "ok [a] [b](https://evil.example) </imgur unlink:1> <@1234567890123>"
    items[2]["title"] = "**loud** __and__ ||hidden||"
    harness.imgur.add_account("phisher", favorites=items)
    alice = harness.member("alice")
    await harness.link(alice, "phisher")
    message = await show_favorites(harness, alice)
    assert not message.is_ephemeral
    for embed in message.embeds:
        for text in (embed.get("title", ""), embed.get("description", "")):
            assert not MASKED_LINK.search(text.replace("[Play the animation](", "")), text
            assert not LINE_START_MARKUP.search(text), text
            assert "@everyone" not in text
            assert not re.search(r"(?<!\\)<[@/#]", text), text
    first = message.embeds[0]
    assert "evil.example/login" in first["title"]  # shown, as text
    assert first["description"].startswith("\\# FREE NITRO")
    assert message.embeds[2]["title"].startswith("\\*\\*loud\\*\\*")


async def test_the_play_link_only_ever_leads_to_imgur(harness: Harness) -> None:
    items = safe_items(2, "video")
    animated = next(item for item in items if item.get("animated"))
    animated["mp4"] = "https://evil.example/video.mp4"
    animated["gifv"] = "https://evil.example/video.gifv"
    harness.imgur.add_account("videos", favorites=[animated])
    alice = harness.member("alice")
    await harness.link(alice, "videos")
    (embed,) = (await show_favorites(harness, alice)).embeds
    assert "evil.example" not in embed["description"]
    assert "[Play the animation](https://" in embed["description"]


async def test_links_that_are_not_https_never_reach_discord(harness: Harness) -> None:
    items = safe_items(4, "links")
    items[0]["link"] = "http://example.com/a.jpg"  # not Imgur: dropped (the item goes)
    items[1]["link"] = "http://i.imgur.com/b.jpg"  # Imgur: upgraded
    items[1]["animated"] = False
    items[1]["type"] = "image/jpeg"
    items[2]["cover"] = "../../evil"  # an album cover that is not an Imgur id
    items[2]["is_album"] = True
    items[3]["link"] = "javascript:alert(1)"
    harness.imgur.add_account("oldlinks", favorites=items)
    alice = harness.member("alice")
    await harness.link(alice, "oldlinks")
    message = await show_favorites(harness, alice)
    urls: list[str] = [e["url"] for e in message.embeds if "url" in e] + [
        e["image"]["url"] for e in message.embeds if "image" in e
    ]
    assert urls
    assert all(url.startswith("https://") for url in urls), urls
    assert "https://i.imgur.com/b.jpg" in urls
    assert not any("evil" in url or "example.com" in url for url in urls)


async def test_odd_numbers_and_types_from_imgur_still_give_a_message(harness: Harness) -> None:
    items = safe_items(5, "numbers")
    odd_values = ["--1", 10**400, "9" * 5000, True, {"nested": [1, {"deep": None}]}]
    for item, odd in zip(items, odd_values, strict=True):
        for key in ("views", "ups", "downs", "points", "datetime", "images_count", "width"):
            item[key] = odd
        item["title"] = odd if not isinstance(odd, str) else item["title"]
    harness.imgur.add_account("numbers", favorites=items)
    alice = harness.member("alice")
    await harness.link(alice, "numbers")
    message = await show_favorites(harness, alice)
    assert len(message.embeds) == 5
    assert sum(embed_length(e) for e in message.embeds) <= MESSAGE_TOTAL_LIMIT


@pytest.mark.parametrize("flag", [None, "missing", "yes", 2, {"nsfw": True}])
@pytest.mark.parametrize(("where", "shown"), [("text", False), ("nsfw", True), ("dm", True)])
async def test_an_unknown_nsfw_flag_is_hidden_where_nsfw_is_not_allowed(
    harness: Harness, flag: object, where: str, shown: bool
) -> None:
    items = safe_items(2, "unknown-nsfw")
    items[0]["title"] = "maybe spicy"
    if flag == "missing":
        del items[0]["nsfw"]
    else:
        items[0]["nsfw"] = flag
    harness.imgur.add_account("unsure", favorites=items)
    alice = harness.member("alice")
    await harness.link(alice, "unsure")
    message = await show_favorites(harness, alice, **where_options(harness, where))
    first, second = message.embeds
    if shown:
        assert first["title"] == "maybe spicy"
        assert "image" in first
    else:
        assert first["title"].startswith("Hidden")
        assert "maybe spicy" not in str(first)
        assert "image" not in first
        assert "url" not in first
    assert "image" in second  # an item Imgur says is safe is shown everywhere


@pytest.mark.parametrize(
    "username",
    [
        "n" * 5000,
        "_*" * 1500,  # escaping doubles it
        "\u200b" * 40,  # nothing visible at all
        "evil\u202egnp.exe",
        "[me](https://evil.example) @everyone",
    ],
)
async def test_odd_usernames_never_break_link_pin_or_status(
    harness: Harness, username: str
) -> None:
    alice = harness.member("alice")
    await harness.link(alice, username)  # /imgur link, then /imgur pin: "Linked!" arrived
    status = await (await harness.command(alice, "status")).wait_for_message()
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    account = fields["Account"]
    assert 0 < len(account) <= 1024
    assert "\u200b" not in account.replace("@\u200b", "")
    assert "\u202e" not in account
    assert not MASKED_LINK.search(account)
    assert "@everyone" not in account
    again = await (await harness.command(alice, "link")).wait_for_message()
    assert again.is_ephemeral
    dm = await harness.discord.wait_for_dm(
        alice, lambda m: bool(m.embeds) and "fields" in m.embeds[0]
    )
    (already,) = [f for f in dm.embeds[0]["fields"] if f["name"] == "Already linked"]
    assert len(already["value"]) <= 1024
    assert not MASKED_LINK.search(already["value"])


async def test_an_oversized_imgur_answer_is_told_privately_and_the_link_is_kept(
    harness: Harness,
) -> None:
    items = safe_items(60, "huge")
    for item in items:
        item["description"] = "D" * 80_000  # 60 of them: a page over the 4 MiB cap
    harness.imgur.add_account("hoarder", favorites=items)
    alice = harness.member("alice")
    await harness.link(alice, "hoarder")
    interaction = await harness.command(alice, "favorites", {})
    reply = await interaction.wait_for_message(lambda m: m.is_ephemeral, timeout=10)
    assert "Imgur sent something odd" in reply.text

    async def channel_is_empty() -> bool:  # the public "thinking…" placeholder is deleted
        return harness.discord.channel_messages(harness.discord.text_channel_id) == []

    await poll(channel_is_empty)
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert link.status.value == "ok"
