"""Isolation: no member can see or use another's link, attempt, buttons or forms.

Each attempt by "mallory" on what belongs to "alice" (her state, her button custom ids, her
form, or ids made up) gets a clear private answer and changes nothing of alice's.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.stale_components import STALE_NOTICE
from bot.storage import Link
from cogs.paging import NOT_YOUR_PAGER
from cogs.replies import UNKNOWN_STATE
from cogs.views import NOT_YOUR_FORM, NOT_YOURS, PIN_BUTTON_ID
from tests.e2e.conftest import Harness
from tests.e2e.discord_native import button_id, favorites
from tests.e2e.test_link_flow import authorize_url
from tests.fakes.discord import FakeInteraction, FakeMessage, FakeUser


async def alices_attempt(harness: Harness) -> tuple[FakeUser, FakeMessage, str]:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur", favorites=12)
    await (await harness.command(alice, "link")).wait_for_message()
    dm = await harness.discord.wait_for_dm(alice)
    return alice, dm, parse_qs(urlsplit(authorize_url(dm)).query)["state"][0]


async def assert_refused_privately(interaction: FakeInteraction, text: str) -> FakeMessage:
    reply = await interaction.wait_for_message()
    assert reply.is_ephemeral
    assert reply.text == text
    return reply


async def forge_modal(
    harness: Harness, user: FakeUser, modal_id: str, values: dict[str, str]
) -> FakeInteraction:
    """``user`` sends a form with ``modal_id`` from the server's channel, as a forged request."""
    components = [
        {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
        for key, value in values.items()
    ]
    return await harness.discord.dispatch_interaction(
        user, type=5, data={"custom_id": modal_id, "components": components}
    )


async def snapshot(harness: Harness, user_id: int) -> tuple[Link | None, int]:
    return await harness.bot.store.get(user_id), (await harness.bot.store.stats()).pending_states


@pytest.mark.parametrize("bot_settings", [{"imgur": {"response_type": "token"}}])
async def test_another_members_state_in_a_token_redirect_is_refused(harness: Harness) -> None:
    alice, _, state = await alices_attempt(harness)
    mallory = harness.member("mallory")
    harness.imgur.add_account("mallory_imgur")
    tokens = harness.imgur.issue_tokens("mallory_imgur")
    fragment = "&".join(f"{k}={v}" for k, v in tokens.items() if v is not None)
    before = await snapshot(harness, alice.id)
    pasted = await harness.command(
        mallory, "pin", {"code": f"https://x.example/cb?state={state}#{fragment}"}
    )
    await assert_refused_privately(pasted, UNKNOWN_STATE)
    assert await snapshot(harness, alice.id) == before
    assert await harness.bot.store.get(mallory.id) is None
    assert harness.imgur.count("account") == 0  # refused before anything reached Imgur


async def test_a_pin_pasted_by_a_member_without_an_attempt_leaves_the_others_alone(
    harness: Harness,
) -> None:
    alice, _, _ = await alices_attempt(harness)
    mallory = harness.member("mallory")
    pin = harness.imgur.issue_pin("alice_imgur")
    await assert_refused_privately(
        await harness.command(mallory, "pin", {"code": pin}), UNKNOWN_STATE
    )
    assert harness.imgur.count("token") == 0
    done = await (await harness.command(alice, "pin", {"code": pin})).wait_for_message()
    assert "Linked!" in done.text  # her attempt and her PIN still work


async def test_another_members_pin_form_is_refused_and_stays_usable_for_its_owner(
    harness: Harness,
) -> None:
    alice, dm, _ = await alices_attempt(harness)
    mallory = harness.member("mallory")
    await (await harness.command(mallory, "link")).wait_for_message()  # an attempt of her own
    opened = await harness.discord.press_button(alice, dm, PIN_BUTTON_ID)
    modal = await opened.wait_for_modal()
    (field,) = [c["custom_id"] for row in modal["components"] for c in row["components"]]
    pin = harness.imgur.issue_pin("alice_imgur")
    replay = await forge_modal(harness, mallory, modal["custom_id"], {field: pin})
    await assert_refused_privately(replay, NOT_YOUR_FORM)
    assert harness.imgur.count("token") == 0
    assert await harness.bot.store.get(mallory.id) is None
    mine = await harness.discord.submit_modal(alice, opened, {field: pin})
    assert "Linked!" in (await mine.wait_for_message()).text


async def test_a_form_sent_twice_gets_a_private_answer_the_second_time(harness: Harness) -> None:
    alice, dm, _ = await alices_attempt(harness)
    opened = await harness.discord.press_button(alice, dm, PIN_BUTTON_ID)
    modal = await opened.wait_for_modal()
    (field,) = [c["custom_id"] for row in modal["components"] for c in row["components"]]
    pin = harness.imgur.issue_pin("alice_imgur")
    first = await harness.discord.submit_modal(alice, opened, {field: pin})
    assert "Linked!" in (await first.wait_for_message()).text
    linked = await harness.bot.store.get(alice.id)
    again = await harness.discord.submit_modal(alice, opened, {field: pin})
    await assert_refused_privately(again, STALE_NOTICE)
    assert await harness.bot.store.get(alice.id) == linked
    assert harness.imgur.count("token") == 1


async def test_enter_pin_forged_onto_a_message_without_it_gets_a_private_answer(
    harness: Harness,
) -> None:
    # The Enter PIN button's id is fixed (it survives restarts), and only ever sent privately
    # to the member it is for; pressed on a message that does not carry it, it does nothing.
    alice, _, _ = await alices_attempt(harness)
    bob = harness.member("bob")
    await harness.link(bob, "bob_imgur")
    _, public = await favorites(harness, bob)
    before = await snapshot(harness, alice.id)
    mallory = harness.member("mallory")
    press = await harness.discord.press_button(mallory, public, PIN_BUTTON_ID, check=False)
    await assert_refused_privately(press, STALE_NOTICE)
    assert await snapshot(harness, alice.id) == before
    assert harness.imgur.count("token") == 1  # bob's link only


@pytest.mark.parametrize("label", ["Next", "Previous"])
async def test_another_members_paging_buttons_are_refused(harness: Harness, label: str) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=12)
    _, message = await favorites(harness, alice)
    alice_next = await harness.discord.press_button(alice, message, button_id(message, "Next"))
    await alice_next.wait_acknowledged()
    message = await alice_next.wait_for_message(lambda m: "6–10" in str(m.embeds))
    before = [dict(e) for e in message.embeds]
    fetched = harness.imgur.count("favorites")
    mallory = harness.member("mallory")
    press = await harness.discord.press_button(mallory, message, button_id(message, label))
    await assert_refused_privately(press, NOT_YOUR_PAGER)
    assert harness.discord.messages[message.id].embeds == before
    assert harness.imgur.count("favorites") == fetched


async def test_another_members_unlink_confirmation_is_refused(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur")
    question = await (await harness.command(alice, "unlink")).wait_for_message()
    unlink_id = button_id(question, "Unlink")
    mallory = harness.member("mallory")
    await harness.link(mallory, "mallory_imgur")
    press = await harness.discord.press_button(mallory, question, unlink_id, check=False)
    await assert_refused_privately(press, NOT_YOURS)
    assert await harness.bot.store.get(alice.id) is not None
    assert await harness.bot.store.get(mallory.id) is not None  # nor is it hers to use


async def test_a_button_id_copied_onto_another_message_matches_nothing(harness: Harness) -> None:
    alice, mallory = harness.member("alice"), harness.member("mallory")
    await harness.link(alice, "alice_imgur", favorites=12)
    await harness.link(mallory, "mallory_imgur", favorites=12)
    _, hers = await favorites(harness, alice)
    _, own = await favorites(harness, mallory)
    fetched = harness.imgur.count("favorites")
    press = await harness.discord.press_button(mallory, own, button_id(hers, "Next"), check=False)
    await assert_refused_privately(press, STALE_NOTICE)
    assert harness.imgur.count("favorites") == fetched


@pytest.mark.parametrize(
    "custom_id", ["imgur:enter-pin:123", "0" * 32, "imgur:unlink", "x" * 100, "imgur:page:1:2"]
)
async def test_guessed_button_ids_get_a_private_answer(harness: Harness, custom_id: str) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    _, message = await favorites(harness, alice)
    before = await snapshot(harness, alice.id)
    mallory = harness.member("mallory")
    press = await harness.discord.press_button(mallory, message, custom_id, check=False)
    await assert_refused_privately(press, STALE_NOTICE)
    assert await snapshot(harness, alice.id) == before


async def test_a_guessed_form_id_gets_a_private_answer(harness: Harness) -> None:
    mallory = harness.member("mallory")
    await (await harness.command(mallory, "link")).wait_for_message()
    sent = await forge_modal(harness, mallory, "f" * 32, {"pin": "4071526398"})
    await assert_refused_privately(sent, STALE_NOTICE)
    assert harness.imgur.count("token") == 0


async def test_another_members_profile_form_is_refused_and_stays_usable(harness: Harness) -> None:
    from cogs.bio_views import VERIFY_BUTTON_ID

    alice, dm, _ = await alices_attempt(harness)
    opened = await harness.discord.press_button(alice, dm, VERIFY_BUTTON_ID)
    modal = await opened.wait_for_modal()
    (field,) = [c["custom_id"] for row in modal["components"] for c in row["components"]]
    mallory = harness.member("mallory")
    replay = await forge_modal(harness, mallory, modal["custom_id"], {field: "mallory_imgur"})
    await assert_refused_privately(replay, NOT_YOUR_FORM)
    assert (await harness.bot.store.stats()).pending_bio_codes == 0
    mine = await harness.discord.submit_modal(alice, opened, {field: "alice_imgur"})
    assert "imgur-link-" in str((await mine.wait_for_message()).embeds)


async def test_a_check_button_id_made_up_for_another_attempt_matches_nothing(
    harness: Harness,
) -> None:
    # The Check button's id names a member and an attempt; pressed where the bot never sent
    # it (another attempt's reference, or on another message), it does nothing.
    from tests.e2e.test_bio_link import ask_code, check_button_id

    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    message = await ask_code(harness, alice, "alice_imgur")
    real = check_button_id(message)
    mallory = harness.member("mallory")
    _, public = await favorites(harness, mallory)
    for custom_id in (f"imgur:bio-check:{mallory.id}:{'A' * 16}", real):
        press = await harness.discord.press_button(mallory, public, custom_id, check=False)
        await assert_refused_privately(press, STALE_NOTICE)
    assert harness.imgur.count("public_account") == 0
    assert (await harness.bot.store.stats()).pending_bio_codes == 1
