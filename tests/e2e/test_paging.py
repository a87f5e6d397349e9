"""Stateless paging: the state is in the custom ids, presses work after a restart, bounds hold."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import Harness, make_config, running_bot, running_harness
from tests.e2e.discord_native import (
    button_id,
    buttons,
    favorites,
    find_share_select,
    footer,
    footer_has,
    share_select,
)
from tests.fakes.discord import FakeDiscord, FakeMessage, point_discord_py_at
from tests.fakes.imgur import FakeImgur

STATE = re.compile(r"imgur:fav:[pngs]:(\d+):([ob]):([no]):(\d+):(\d+)")


def parse_state(custom_id: str) -> re.Match[str]:
    """A paging custom id's parts: owner, kind, sort, page, offset."""
    match = STATE.fullmatch(custom_id)
    assert match is not None, f"{custom_id!r} is not a paging id"
    return match


def custom_ids(message: FakeMessage) -> list[str]:
    ids = [b["custom_id"] for b in buttons(message).values()]
    if (select := find_share_select(message)) is not None:
        ids.append(select["custom_id"])
    return ids


async def test_custom_ids_carry_owner_kind_sort_page_and_offset(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=70)
    _, message = await favorites(harness, alice, {"sort": "oldest", "page": 2, "private": True})
    for custom_id in custom_ids(message):
        assert len(custom_id) <= 100
        owner, kind, sort, _page, _offset = parse_state(custom_id).groups()
        assert (int(owner), kind, sort) == (alice.id, "o", "o")
    # Each of Previous and Next names where it leads; Go to page and Share the shown window.
    assert parse_state(button_id(message, "Next")).group(4, 5) == ("1", "5")
    assert parse_state(button_id(message, "Previous")).group(4, 5) == ("0", "999")
    assert parse_state(button_id(message, "Go to page…")).group(4, 5) == ("1", "0")
    assert parse_state(share_select(message)["custom_id"]).group(4, 5) == ("1", "0")


async def test_the_bot_keeps_no_view_per_message(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    for private in (False, True):
        await favorites(harness, alice, {"private": private})
    store = harness.bot._connection._view_store
    assert store._synced_message_views == {}
    assert all(message_id is None for message_id in store._views)


async def test_a_button_of_a_message_sent_before_a_restart_still_works(tmp_path: Path) -> None:
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = make_config(tmp_path, discord, imgur)
            async with running_harness(config, discord, imgur) as harness:
                alice = harness.member("alice")
                await harness.link(alice, "alice_imgur", favorites=12)
                _, public = await favorites(harness, alice)
                _, private = await favorites(harness, alice, {"private": True})
            assert imgur.count("favorites") == 1
            async with running_bot(config, discord):
                press = await discord.press_button(alice, public, button_id(public, "Next"))
                await press.wait_for_message(lambda m: "6–10 of 12" in footer(m))
                press = await discord.press_button(alice, private, button_id(private, "Next"))
                await press.wait_for_message(lambda m: "6–10 of 12" in footer(m))
                select = share_select(private)
                share = await discord.select(
                    alice, private, select["custom_id"], [select["options"][0]["value"]]
                )
                await share.wait_for_message(lambda m: not m.is_ephemeral)
                await discord.wait_all_acknowledged()
            assert imgur.count("favorites") == 2  # one fetch after the restart, then the cache


async def test_previous_next_and_go_to_page_stay_within_bounds(harness: Harness) -> None:
    discord = harness.discord
    harness.imgur.page_size = 5
    alice = harness.member("alice")
    await harness.link(alice, "few", favorites=7)
    _, message = await favorites(harness, alice)
    assert buttons(message)["Previous"].get("disabled") is True
    assert not buttons(message)["Next"].get("disabled")

    press = await discord.press_button(alice, message, button_id(message, "Next"))
    await press.wait_for_message(lambda m: "Imgur page 2 · 1–2 of 2" in footer(m))
    assert not buttons(message)["Previous"].get("disabled")

    press = await discord.press_button(alice, message, button_id(message, "Next"))
    note = await press.wait_for_message(lambda m: m.is_ephemeral)
    assert "last of your favorites" in note.text
    assert "Imgur page 2 · 1–2 of 2" in footer(message)
    assert buttons(message)["Next"].get("disabled") is True

    press = await discord.press_button(alice, message, button_id(message, "Previous"))
    await press.wait_for_message(lambda m: "Imgur page 1 · 1–5 of 5" in footer(m))
    assert buttons(message)["Previous"].get("disabled") is True

    go = await discord.press_button(alice, message, button_id(message, "Go to page…"))
    modal = await go.wait_for_modal()
    (field,) = [c for row in modal["components"] for c in row["components"]]
    submitted = await discord.submit_modal(alice, go, {field["custom_id"]: "2"})
    await submitted.wait_for_message(lambda m: "Imgur page 2 · 1–2 of 2" in footer(m))

    for value, expected in (
        ("0", "from 1 to 1000"),
        ("abc", "from 1 to 1000"),
        ("9", "no favorites on page 9"),
    ):
        go = await discord.press_button(alice, message, button_id(message, "Go to page…"))
        modal = await go.wait_for_modal()
        (field,) = [c for row in modal["components"] for c in row["components"]]
        submitted = await discord.submit_modal(alice, go, {field["custom_id"]: value})
        reply = await submitted.wait_for_message(lambda m: m.is_ephemeral)
        assert expected in reply.text, value
        assert "Imgur page 2 · 1–2 of 2" in footer(message)


async def test_another_members_press_is_told_to_run_the_command_themselves(
    harness: Harness,
) -> None:
    discord = harness.discord
    alice, bob = harness.member("alice"), harness.member("bob")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await favorites(harness, alice)
    before = [dict(e) for e in message.embeds]
    for label in ("Next", "Go to page…"):
        press = await discord.press_button(bob, message, button_id(message, label))
        reply = await press.wait_for_message()
        assert reply.is_ephemeral
        assert "Run `/imgur favorites` yourself" in reply.text
        assert press.modal is None
    assert message.embeds == before
    assert harness.imgur.count("favorites") == 1


async def test_a_profile_verified_link_pages_the_same_way_with_its_kind_in_the_ids(
    harness: Harness,
) -> None:
    from tests.e2e.test_bio_link import link_by_bio

    discord = harness.discord
    harness.imgur.page_size = 10
    ana = harness.member("ana")
    await link_by_bio(harness, ana, "ana_imgur", favorites=14)
    ana.locale = "pt-BR"  # her Discord client now runs in Brazilian Portuguese
    _, message = await favorites(harness, ana, {"private": True})
    assert footer(message).endswith("· só seus favoritos públicos da galeria")
    for custom_id in custom_ids(message):
        assert parse_state(custom_id).group(2) == "b"
    for expected in ("6–10 de 10", "Página do Imgur 2 · 1–4 de 4"):
        press = await discord.press_button(ana, message, button_id(message, "Próxima"))
        await press.wait_for_message(footer_has(expected))
    assert harness.imgur.count("gallery_favorites") == 2
    assert harness.imgur.count("favorites") == 0


async def test_a_press_after_the_link_changed_kind_asks_to_run_the_command_again(
    harness: Harness,
) -> None:
    from tests.e2e.test_bio_link import link_by_bio

    discord = harness.discord
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await favorites(harness, alice)
    await link_by_bio(harness, alice, "alice_public", favorites=12)
    before = [dict(e) for e in message.embeds]
    press = await discord.press_button(alice, message, button_id(message, "Next"))
    reply = await press.wait_for_message(lambda m: m.is_ephemeral)
    assert "Your Imgur link changed since this message" in reply.text
    assert message.embeds == before
