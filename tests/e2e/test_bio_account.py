"""What a bio link can do: public gallery favorites, renames and deletion on Imgur, the sweep
passing it over, and /imgur status and unlink telling the kinds apart."""

from __future__ import annotations

from typing import Any

import pytest

from bot.bio import ACCOUNT_GONE_NOTICE
from bot.storage import LinkStatus
from cogs.replies import ACCOUNT_GONE
from tests.e2e.conftest import Harness, poll, running_harness
from tests.e2e.discord_native import footer, footer_has
from tests.e2e.test_bio_link import link_by_bio
from tests.fakes.imgur_data import make_favorites


def buttons(message: Any) -> dict[str, dict[str, Any]]:
    return {c.get("label"): c for row in message.components for c in row.get("components", [])}


async def show_favorites(harness: Harness, user: Any, options: dict[str, Any] | None = None) -> Any:
    interaction = await harness.command(user, "favorites", options or {})
    return await interaction.wait_for_message()


async def favorites_error(harness: Harness, user: Any) -> Any:
    """The private answer of a /imgur favorites that failed after deferring publicly."""
    interaction = await harness.command(user, "favorites", {})
    return await interaction.wait_for_message(lambda m: m.is_ephemeral)


def fields(message: Any) -> dict[str, str]:
    return {f["name"]: f["value"] for f in message.embeds[0]["fields"]}


# -- favorites --------------------------------------------------------------------------------


async def test_a_bio_link_shows_public_gallery_favorites_and_pages(harness: Harness) -> None:
    harness.imgur.page_size = 10
    alice = harness.member("alice")
    items = make_favorites(22, "alice_imgur")
    items[0]["in_gallery"] = False  # hidden from the public gallery: never shown
    await link_by_bio(harness, alice, "alice_imgur", favorites=items)
    calls = harness.imgur.count("gallery_favorites")
    message = await show_favorites(harness, alice)
    assert not message.is_ephemeral
    assert len(message.embeds) == 5
    assert footer(message) == (
        "Imgur page 1 · 1–5 of 10 · newest first · your public gallery favorites only"
    )
    assert message.embeds[0]["url"] == f"https://imgur.com/{items[1]['id']}"
    assert all(
        e.get("url", "").startswith("https://imgur.com/") or e["title"].startswith("Hidden")
        for e in message.embeds
    )
    assert harness.imgur.count("gallery_favorites") == calls + 1  # one call per uncached page
    assert harness.imgur.count("favorites") == 0
    request = harness.imgur.requests[-1]
    assert request.path == "/3/account/alice_imgur/gallery_favorites/0/newest"
    assert request.headers["Authorization"] == f"Client-ID {harness.imgur.client_id}"
    for expected in ("Imgur page 1 · 6–10 of 10", "Imgur page 2 · 1–5 of 10"):
        press = await harness.discord.press_button(
            alice, message, buttons(message)["Next"]["custom_id"]
        )
        message = await press.wait_for_message(footer_has(expected))
    assert harness.imgur.count("gallery_favorites") == calls + 2
    press = await harness.discord.press_button(
        alice, message, buttons(message)["Previous"]["custom_id"]
    )
    await press.wait_for_message(lambda m: "Imgur page 1 · 6–10" in footer(m))
    assert harness.imgur.count("gallery_favorites") == calls + 2  # page 1 from the cache


async def test_bio_favorites_sort_oldest_and_hide_nsfw_outside_nsfw_channels(
    harness: Harness,
) -> None:
    alice = harness.member("alice")
    items = make_favorites(6, "nsfw_imgur")
    for item in items:
        item["nsfw"] = True
    await link_by_bio(harness, alice, "nsfw_imgur", favorites=items)
    message = await show_favorites(harness, alice, {"sort": "oldest"})
    assert all(e["title"] == "Hidden: marked NSFW on Imgur" for e in message.embeds)
    assert "oldest first · your public gallery favorites only" in footer(message)
    assert harness.imgur.requests[-1].path.endswith("/gallery_favorites/0/oldest")


async def test_no_public_favorites_says_so(harness: Harness) -> None:
    alice = harness.member("alice")
    await link_by_bio(harness, alice, "empty_imgur")
    message = await show_favorites(harness, alice)
    assert message.text == "No favorites yet."


async def test_a_rename_on_imgur_is_followed_by_the_account_id(harness: Harness) -> None:
    alice = harness.member("alice")
    await link_by_bio(harness, alice, "old_name", favorites=7)
    account_id = harness.imgur.account("old_name").id
    harness.imgur.rename("old_name", "New_Name")
    message = await show_favorites(harness, alice)
    assert len(message.embeds) == 5
    by_id = [r for r in harness.imgur.requests if r.query.get("account_id")]
    assert [(r.path, r.query["account_id"]) for r in by_id] == [
        ("/3/account/old_name", str(account_id))
    ]
    assert harness.imgur.requests[-1].path == "/3/account/New_Name/gallery_favorites/0/newest"
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert (link.imgur_username, link.imgur_account_id, link.status) == (
        "New_Name",
        account_id,
        LinkStatus.OK,
    )
    status = await (await harness.command(alice, "status")).wait_for_message()
    assert fields(status)["Account"] == "New\\_Name"
    calls = len(harness.imgur.requests)
    await show_favorites(harness, alice, {"page": 2})
    assert len(harness.imgur.requests) == calls + 1  # the new name is used from now on


async def test_a_deleted_account_breaks_the_link_and_the_member_is_told_once(
    harness: Harness,
) -> None:
    alice = harness.member("alice")
    await link_by_bio(harness, alice, "doomed", favorites=3)
    harness.imgur.delete_account("doomed")
    first = await favorites_error(harness, alice)
    assert first.text == ACCOUNT_GONE
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert link.status is LinkStatus.BROKEN
    dm = await harness.discord.wait_for_dm(alice, lambda m: m.content == ACCOUNT_GONE_NOTICE)
    assert dm.content == ACCOUNT_GONE_NOTICE
    calls = len(harness.imgur.requests)
    second = await favorites_error(harness, alice)
    assert second.text == ACCOUNT_GONE
    assert len(harness.imgur.requests) == calls  # a broken link costs no Imgur call
    notices = [m for m in harness.discord.dms(alice) if m.content == ACCOUNT_GONE_NOTICE]
    assert len(notices) == 1
    status = await (await harness.command(alice, "status")).wait_for_message()
    assert "no longer exists" in fields(status)["Health"]
    public = harness.discord.channel_messages(harness.discord.text_channel_id)
    assert all(ACCOUNT_GONE not in m.text for m in public if not m.is_ephemeral)


async def test_a_passing_imgur_failure_never_breaks_a_bio_link(harness: Harness) -> None:
    from tests.fakes.imgur import Failure

    alice = harness.member("alice")
    await link_by_bio(harness, alice, "steady", favorites=3)
    harness.imgur.fail("gallery_favorites", Failure.SERVER_ERROR, times=3)
    answer = await favorites_error(harness, alice)
    assert "not answering" in answer.text
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert link.status is LinkStatus.OK


# -- the sweep --------------------------------------------------------------------------------


@pytest.mark.parametrize("bot_settings", [{"refresh": {"interval_seconds": 1}}])
async def test_the_sweep_makes_no_call_for_bio_links(harness: Harness) -> None:
    for n in range(3):
        await link_by_bio(harness, harness.member(f"m{n}"), f"bio_member_{n}")
    loop = harness.bot.get_cog("RefreshLoop")
    assert loop is not None
    calls = len(harness.imgur.requests)
    sweeps = loop.sweeps_done  # type: ignore[attr-defined]

    async def two_more_sweeps() -> bool:
        return bool(loop.sweeps_done >= sweeps + 2)  # type: ignore[attr-defined]

    await poll(two_more_sweeps)
    assert len(harness.imgur.requests) == calls
    assert harness.imgur.count("token") == 0


# -- status and unlink per kind ---------------------------------------------------------------


async def test_status_says_the_kind_and_what_it_can_show(harness: Harness) -> None:
    alice, bob = harness.member("alice"), harness.member("bob")
    await link_by_bio(harness, alice, "alice_bio")
    await harness.link(bob, "bob_oauth")
    bio = await (await harness.command(alice, "status")).wait_for_message()
    oauth = await (await harness.command(bob, "status")).wait_for_message()
    assert bio.is_ephemeral
    assert oauth.is_ephemeral
    assert fields(bio)["Kind"].startswith("Verified by your Imgur profile")
    assert fields(bio)["Shows"].startswith("your public gallery favorites")
    assert fields(bio)["Health"].startswith("OK")
    assert "Token" not in fields(bio)
    assert fields(oauth)["Kind"] == "Authorized on Imgur (OAuth)"
    assert fields(oauth)["Shows"] == "all your favorites"
    assert fields(oauth)["Token"].startswith("OK")


async def test_unlinking_a_bio_link_says_there_is_nothing_to_revoke(harness: Harness) -> None:
    alice = harness.member("alice")
    await link_by_bio(harness, alice, "alice_bio")
    question = await (await harness.command(alice, "unlink")).wait_for_message()
    assert question.is_ephemeral
    assert "forgets the account" in question.text
    press = await harness.discord.press_button(
        alice, question, buttons(question)["Unlink"]["custom_id"]
    )
    answer = await press.wait_for_message(lambda m: "Unlinked" in m.text)
    assert "nothing to revoke at Imgur" in answer.text
    assert "imgur.com/account/settings/apps" not in answer.text
    assert await harness.bot.store.get(alice.id) is None
    stats = await harness.bot.store.stats()
    assert (stats.links, stats.pending_bio_codes) == (0, 0)


async def test_unlinking_an_oauth_link_still_points_to_imgurs_settings(harness: Harness) -> None:
    bob = harness.member("bob")
    await harness.link(bob, "bob_oauth")
    question = await (await harness.command(bob, "unlink")).wait_for_message()
    assert "deletes every token" in question.text
    press = await harness.discord.press_button(
        bob, question, buttons(question)["Unlink"]["custom_id"]
    )
    answer = await press.wait_for_message(lambda m: "Unlinked" in m.text)
    assert "imgur.com/account/settings/apps" in answer.text
    link = await harness.bot.store.get(bob.id)
    assert link is None


async def test_unlink_drops_a_pending_code_so_a_later_check_links_nothing(
    harness: Harness,
) -> None:
    from tests.e2e.test_bio_link import ask_code, code_of, press_check

    alice = harness.member("alice")
    harness.imgur.add_account("alice_bio")
    message = await ask_code(harness, alice, "alice_bio")
    harness.imgur.account("alice_bio").bio = code_of(message)
    question = await (await harness.command(alice, "unlink")).wait_for_message()
    press = await harness.discord.press_button(
        alice, question, buttons(question)["Unlink"]["custom_id"]
    )
    await press.wait_for_message(lambda m: "Unlinked" in m.text)
    answer = await press_check(harness, alice, message)
    assert "already used" in answer.text
    assert await harness.bot.store.get(alice.id) is None


async def test_a_name_given_up_by_a_rename_and_taken_by_someone_else_is_not_followed(
    tmp_path: Any,
) -> None:
    from tests.e2e.conftest import make_config
    from tests.fakes.discord import FakeDiscord, point_discord_py_at
    from tests.fakes.imgur import FakeImgur

    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = make_config(tmp_path, discord, imgur)
            alice = discord.add_user(name="alice")
            async with running_harness(config, discord, imgur) as harness:
                items = make_favorites(5, "a")
                for item in items:
                    item["nsfw"] = False  # an unknown flag is hidden in a public channel
                await link_by_bio(harness, alice, "popular_name", favorites=items)
            mine = [item["id"] for item in imgur.account("popular_name").favorites]
            imgur.rename("popular_name", "alice_now")
            imgur.add_account("popular_name", favorites=make_favorites(5, "stranger"))
            async with running_harness(config, discord, imgur) as harness:
                calls = len(imgur.requests)
                message = await show_favorites(harness, alice)
                shown = [embed["url"].rsplit("/", 1)[1] for embed in message.embeds]
                assert shown == mine[:5]
                # the name was confirmed by the account id first: 1 call more, once
                assert len(imgur.requests) == calls + 2
                assert imgur.requests[calls].query.get("account_id")
                link = await harness.bot.store.get(alice.id)
                assert link is not None
                assert link.imgur_username == "alice_now"
                await show_favorites(harness, alice, {"page": 2})
                assert len(imgur.requests) == calls + 3
        discord.assert_all_acknowledged(within=3.0)


async def test_if_imgur_ignored_the_account_id_a_stranger_on_the_old_name_is_never_shown(
    harness: Harness,
) -> None:
    alice = harness.member("alice")
    await link_by_bio(harness, alice, "taken_name", favorites=3)
    harness.imgur.rename("taken_name", "alice_elsewhere")
    harness.imgur.add_account("taken_name", favorites=make_favorites(5, "stranger"))
    harness.imgur.honor_account_id = False
    harness.bot.bio._confirmed.clear()  # a day has passed: the name is confirmed again
    answer = await favorites_error(harness, alice)
    assert answer.text == ACCOUNT_GONE
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert link.status is LinkStatus.BROKEN
    assert all(
        not m.embeds
        for m in harness.discord.channel_messages(harness.discord.text_channel_id)
        if not m.is_ephemeral
    )
