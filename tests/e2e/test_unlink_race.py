"""Finding 5 through Discord: unlinking while /imgur pin waits for Imgur leaves nothing linked."""

from __future__ import annotations

from cogs.replies import LINK_CANCELLED, NOT_LINKED
from tests.e2e.conftest import Harness
from tests.e2e.discord_native import button_id


async def test_unlink_confirmed_during_a_pin_exchange_wins_and_both_are_told(
    harness: Harness,
) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    await (await harness.command(alice, "link")).wait_for_message()
    hold = harness.imgur.hold("token")
    pin = await harness.command(alice, "pin", {"code": harness.imgur.issue_pin("alice_imgur")})
    await hold.reached()

    question = await (await harness.command(alice, "unlink")).wait_for_message()
    press = await harness.discord.press_button(alice, question, button_id(question, "Unlink"))
    answer = await press.wait_for_message(lambda m: "Unlinked" in m.text)
    assert "deleted" in answer.text
    hold.release()

    told = await pin.wait_for_message(lambda m: m.text == LINK_CANCELLED)
    assert told.is_ephemeral
    assert "Linked!" not in " ".join(m.text for m in pin.messages)
    assert await harness.bot.store.get(alice.id) is None
    assert (await harness.bot.store.stats()).pending_states == 0
    status = await (await harness.command(alice, "status")).wait_for_message()
    assert status.text == NOT_LINKED


async def test_unlink_during_a_profile_check_wins(harness: Harness) -> None:
    from cogs.replies import BIO_ATTEMPT_UNKNOWN
    from tests.e2e.test_bio_link import ask_code, check_button_id, code_of

    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    message = await ask_code(harness, alice, "alice_imgur")
    harness.imgur.account("alice_imgur").bio = code_of(message)
    hold = harness.imgur.hold("public_account")
    check = await harness.discord.press_button(alice, message, check_button_id(message))
    await hold.reached()

    question = await (await harness.command(alice, "unlink")).wait_for_message()
    press = await harness.discord.press_button(alice, question, button_id(question, "Unlink"))
    await press.wait_for_message(lambda m: "Unlinked" in m.text)
    hold.release()

    told = await check.wait_for_message(lambda m: m.text == BIO_ATTEMPT_UNKNOWN)
    assert told.is_ephemeral
    assert await harness.bot.store.get(alice.id) is None
    assert (await harness.bot.store.stats()).pending_bio_codes == 0
