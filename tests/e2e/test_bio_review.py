"""Hostile review of linking by profile code: members, Imgur data and operators that try to
break it, each against the real bot, the fake Discord and the fake Imgur."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage import LinkStatus
from cogs.bio_views import VERIFY_BUTTON_ID
from cogs.replies import CLIENT_ID_REFUSED
from tests.e2e.conftest import Harness, make_config, running_harness
from tests.e2e.test_bio_link import (
    ask_code,
    code_of,
    fakes_for_restarts,
    link_by_bio,
    press_check,
)


async def test_turning_bio_off_stops_the_check_buttons_already_sent(tmp_path: Path) -> None:
    async with fakes_for_restarts(tmp_path) as (imgur, discord, config, alice):
        async with running_harness(config, discord, imgur) as harness:
            message = await ask_code(harness, alice, "alice_imgur")
            await (await harness.command(alice, "link")).wait_for_message()
            offer = await discord.wait_for_dm(alice, lambda m: m.id != message.id)
        imgur.account("alice_imgur").bio = code_of(message)
        config = make_config(tmp_path, discord, imgur, imgur={"link_methods": ["oauth"]})
        async with running_harness(config, discord, imgur) as harness:
            calls = len(imgur.requests)
            answer = await press_check(harness, alice, message)
            assert "turned off" in answer.text, answer.text
            assert await harness.bot.store.get(alice.id) is None
            assert len(imgur.requests) == calls
            press = await discord.press_button(alice, offer, VERIFY_BUTTON_ID)
            reply = await press.wait_for_message()
            assert reply.is_ephemeral
            assert "turned off" in reply.text, reply.text


@pytest.mark.parametrize("typed", ["..", ".", "...", "-", "_"])
async def test_a_name_of_dots_alone_is_no_username(harness: Harness, typed: str) -> None:
    alice = harness.member("alice")
    reply = await (await harness.command(alice, "link", {"username": typed})).wait_for_message()
    assert reply.is_ephemeral
    assert "does not look like an Imgur username" in reply.text, reply.text
    assert (await harness.bot.store.stats()).pending_bio_codes == 0


async def test_a_client_id_revoked_after_linking_keeps_the_bio_link_and_says_so_privately(
    harness: Harness,
) -> None:
    alice = harness.member("alice")
    await link_by_bio(harness, alice, "alice_imgur", favorites=3)
    harness.bot.bio._confirmed.clear()  # the name is confirmed again first: that call fails too
    harness.imgur.client_id = "someone-else"  # Imgur no longer takes the bot's client id
    interaction = await harness.command(alice, "favorites", {})
    answer = await interaction.wait_for_message(lambda m: m.is_ephemeral)
    assert answer.text == CLIENT_ID_REFUSED
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert link.status is LinkStatus.OK
    assert harness.discord.dms(alice)[-1].embeds  # no "account gone" DM after the code
    assert all(
        not m.embeds
        for m in harness.discord.channel_messages(harness.discord.text_channel_id)
        if not m.is_ephemeral
    )


async def test_two_checks_at_once_link_once_and_both_get_a_private_answer(
    harness: Harness,
) -> None:
    import asyncio

    from tests.e2e.test_bio_link import check_button_id

    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur", favorites=2)
    message = await ask_code(harness, alice, "alice_imgur")
    harness.imgur.account("alice_imgur").bio = code_of(message)
    custom_id = check_button_id(message)
    presses = await asyncio.gather(
        harness.discord.press_button(alice, message, custom_id),
        harness.discord.press_button(alice, message, custom_id),
    )
    answers = [await press.wait_for_message() for press in presses]
    assert all(answer.is_ephemeral for answer in answers)
    texts = sorted(answer.text for answer in answers)
    assert sum("verified by your profile" in text for text in texts) == 1, texts
    assert (await harness.bot.store.stats()).bio_links == 1
