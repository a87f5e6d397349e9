from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.storage import Link, LinkStatus
from cogs.refresh import BROKEN_NOTICE
from tests.e2e.conftest import Harness, poll
from tests.e2e.discord_native import button_id
from tests.fakes.discord import FakeUser


async def test_status_shows_account_health_and_refresh_privately(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur")
    reply = await (await harness.command(alice, "status")).wait_for_message()
    assert reply.is_ephemeral
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert fields["Account"] == "alice\\_imgur"
    assert fields["Token"].startswith("OK")
    assert fields["Linked"].startswith("<t:")
    assert fields["Last refresh"].startswith("<t:")


async def test_status_of_a_broken_link_says_to_link_again(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur")
    await harness.bot.store.mark_broken(alice.id, "dead")
    reply = await (await harness.command(alice, "status")).wait_for_message()
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert "Broken" in fields["Token"]
    assert "/imgur link" in fields["Token"]


async def test_status_when_not_linked(harness: Harness) -> None:
    reply = await (await harness.command(harness.member("x"), "status")).wait_for_message()
    assert reply.is_ephemeral
    assert "not linked" in reply.text


async def test_unlink_after_confirmation_deletes_everything(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur")
    await (await harness.command(alice, "link")).wait_for_message()  # a pending attempt too
    ask = await harness.command(alice, "unlink")
    question = await ask.wait_for_message()
    assert question.is_ephemeral
    assert await harness.bot.store.get(alice.id) is not None  # nothing before the confirmation
    press = await harness.discord.press_button(alice, question, button_id(question, "Unlink"))
    answer = await press.wait_for_message(lambda m: "Unlinked" in m.text)
    assert "imgur.com/account/settings/apps" in answer.text
    assert await harness.bot.store.get(alice.id) is None
    assert (await harness.bot.store.stats()).pending_states == 0


async def test_unlink_cancel_keeps_the_link(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur")
    question = await (await harness.command(alice, "unlink")).wait_for_message()
    press = await harness.discord.press_button(alice, question, button_id(question, "Cancel"))
    await press.wait_for_message(lambda m: "Kept your link" in m.text)
    assert await harness.bot.store.get(alice.id) is not None


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"refresh": {"interval_seconds": 1, "lead_seconds": 86400}}


async def soon_expiring(harness: Harness, user: FakeUser, username: str) -> Link:
    await harness.link(user, username)
    link = await harness.stored_link(user)
    assert link.access_token is not None
    assert link.refresh_token is not None
    await harness.bot.store.update_tokens(
        user.id,
        access_token=link.access_token,
        refresh_token=link.refresh_token,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        refreshed_at=datetime.now(UTC) - timedelta(days=1),
    )
    return link


async def test_refresh_loop_refreshes_a_soon_to_expire_token(harness: Harness) -> None:
    harness.imgur.expires_in = 28 * 86400
    alice = harness.member("alice")
    old = await soon_expiring(harness, alice, "alice_imgur")

    async def refreshed() -> bool:
        link = await harness.stored_link(alice)
        return link.access_token != old.access_token

    await poll(refreshed)
    link = await harness.stored_link(alice)
    assert link.expires_at is not None
    assert link.status is LinkStatus.OK
    assert link.expires_at > datetime.now(UTC) + timedelta(days=27)


async def test_refresh_loop_tells_a_member_once_when_their_link_died(harness: Harness) -> None:
    alice = harness.member("alice")
    await soon_expiring(harness, alice, "alice_imgur")
    harness.imgur.revoke("alice_imgur")
    dm = await harness.discord.wait_for_dm(alice, lambda m: "stopped working" in m.text, timeout=10)
    assert dm.content == BROKEN_NOTICE
    assert (await harness.stored_link(alice)).status is LinkStatus.BROKEN
    sweeps = harness.refresh_loop.sweeps_done

    async def two_more_sweeps() -> bool:
        return harness.refresh_loop.sweeps_done >= sweeps + 2

    await poll(two_more_sweeps)
    notices = [m for m in harness.discord.dms(alice) if m.content == BROKEN_NOTICE]
    assert len(notices) == 1


async def test_refresh_loop_survives_a_member_with_closed_dms(harness: Harness) -> None:
    bob = harness.member("bob", dms_open=False)
    alice = harness.member("alice")
    await soon_expiring(harness, bob, "bob_imgur")
    harness.imgur.revoke("bob_imgur")
    loop = harness.refresh_loop

    async def bob_broken() -> bool:
        return (await harness.stored_link(bob)).status is LinkStatus.BROKEN

    await poll(bob_broken)
    harness.imgur.expires_in = 28 * 86400
    old = await soon_expiring(harness, alice, "alice_imgur")

    async def alice_refreshed() -> bool:
        return (await harness.stored_link(alice)).access_token != old.access_token

    await poll(alice_refreshed)
    assert loop.sweep.is_running()
