"""Linking by a code in the Imgur profile's About text: the real bot, fake Discord, fake Imgur."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.bio import CODE_ALPHABET
from bot.config import Config
from bot.storage import LinkKind, LinkStatus
from cogs.bio_views import NOT_YOUR_CHECK, VERIFY_BUTTON_ID
from tests.e2e.conftest import Harness, make_config, running_harness
from tests.e2e.discord_native import components
from tests.fakes.discord import (
    FakeDiscord,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    point_discord_py_at,
)
from tests.fakes.imgur import FakeImgur

CODE = re.compile(r"imgur-link-[A-Z0-9]{4}-[A-Z0-9]{4}")


def check_button_id(message: FakeMessage) -> str:
    (button,) = [c for c in components(message) if c.get("label") == "Check"]
    return str(button["custom_id"])


def code_of(message: FakeMessage) -> str:
    found = CODE.findall(" ".join(e.get("description", "") for e in message.embeds))
    assert len(found) == 1, message.embeds
    return str(found[0])


def public_text(harness: Harness) -> str:
    """Everything anyone in the server's channel can see."""
    return " ".join(
        f"{m.text} {m.embeds} {m.components}"
        for m in harness.discord.channel_messages(harness.discord.text_channel_id)
        if not m.is_ephemeral
    )


async def ask_code(harness: Harness, user: FakeUser, username: str) -> FakeMessage:
    """/imgur link username:<username>; the message holding the code (a DM if open)."""
    earlier = [m.id for m in harness.discord.dms(user)]
    interaction = await harness.command(user, "link", {"username": username})
    reply = await interaction.wait_for_message()
    assert reply.is_ephemeral
    if "Check your DMs" in reply.text:
        return await harness.discord.wait_for_dm(
            user, lambda m: m.id not in earlier and bool(CODE.search(str(m.embeds)))
        )
    return reply


async def open_username_form(
    harness: Harness, user: FakeUser
) -> tuple[FakeMessage, FakeInteraction, dict[str, Any]]:
    """/imgur link, then the DM's profile button: the DM, the press, the form's one field."""
    await (await harness.command(user, "link")).wait_for_message()
    dm = await harness.discord.wait_for_dm(user)
    press = await harness.discord.press_button(user, dm, VERIFY_BUTTON_ID)
    modal = await press.wait_for_modal()
    (field,) = [c for row in modal["components"] for c in row["components"]]
    return dm, press, field


async def press_check(harness: Harness, user: FakeUser, message: FakeMessage) -> FakeMessage:
    press = await harness.discord.press_button(user, message, check_button_id(message))
    answer = await press.wait_for_message()
    assert answer.is_ephemeral
    return answer


async def link_by_bio(
    harness: Harness, user: FakeUser, username: str, favorites: int | list[Any] = 0
) -> FakeMessage:
    harness.imgur.add_account(username, favorites=favorites)
    message = await ask_code(harness, user, username)
    harness.imgur.account(username).bio = f"Hello! {code_of(message)}"
    answer = await press_check(harness, user, message)
    assert "verified by your profile" in answer.text, answer.text
    return answer


# -- offering the methods ---------------------------------------------------------------------


async def test_link_offers_both_methods_in_one_private_message(harness: Harness) -> None:
    alice = harness.member("alice")
    reply = await (await harness.command(alice, "link")).wait_for_message()
    assert reply.is_ephemeral
    assert "Check your DMs" in reply.text
    (dm,) = harness.discord.dms(alice)
    labels = [c.get("label") for c in components(dm)]
    assert labels == ["Authorize on Imgur", "Enter PIN", "Verify with my Imgur profile"]
    assert [e["title"] for e in dm.embeds] == [
        "Link your Imgur account",
        "Verify with my Imgur profile",
    ]
    oauth_text = dm.embeds[0]["description"]
    assert "Error (1024)" in oauth_text
    assert "use **Verify with my Imgur profile** below instead" in oauth_text
    assert public_text(harness).strip() == ""


async def test_the_error_1024_page_is_what_the_oauth_button_may_lead_to(
    harness: Harness, http_session: Any
) -> None:
    harness.imgur.authorize_error_1024 = True
    alice = harness.member("alice")
    await (await harness.command(alice, "link")).wait_for_message()
    dm = await harness.discord.wait_for_dm(alice)
    (url,) = [c["url"] for c in components(dm) if c.get("url")]
    async with http_session.get(url) as page:
        assert "Error (1024)" in await page.text()
    # ...and the same message offers the way that works today.
    assert VERIFY_BUTTON_ID in [c.get("custom_id") for c in components(dm)]


@pytest.mark.parametrize("bot_settings", [{"imgur": {"link_methods": ["bio"]}}])
async def test_with_bio_alone_no_authorize_url_is_made(harness: Harness) -> None:
    alice = harness.member("alice")
    await (await harness.command(alice, "link")).wait_for_message()
    dm = await harness.discord.wait_for_dm(alice)
    assert [c.get("label") for c in components(dm)] == ["Verify with my Imgur profile"]
    assert (await harness.bot.store.stats()).pending_states == 0
    pin = await (await harness.command(alice, "pin", {"code": "abcdef"})).wait_for_message()
    assert pin.is_ephemeral
    assert "turned off" in pin.text
    assert harness.imgur.count("token") == 0


@pytest.mark.parametrize("bot_settings", [{"imgur": {"link_methods": ["oauth"]}}])
async def test_with_oauth_alone_there_is_no_profile_button(harness: Harness) -> None:
    alice = harness.member("alice")
    await (await harness.command(alice, "link")).wait_for_message()
    dm = await harness.discord.wait_for_dm(alice)
    assert [c.get("label") for c in components(dm)] == ["Authorize on Imgur", "Enter PIN"]
    assert "try again later" in dm.embeds[0]["description"]
    reply = await (
        await harness.command(alice, "link", {"username": "alice_imgur"})
    ).wait_for_message()
    assert reply.is_ephemeral
    assert "turned off" in reply.text


async def test_the_profile_button_opens_a_modal_whose_answer_is_the_code(harness: Harness) -> None:
    alice = harness.member("alice")
    dm, press, field = await open_username_form(harness, alice)
    assert field["label"] == "Your Imgur username"
    submit = await harness.discord.submit_modal(alice, press, {field["custom_id"]: "Alice_Imgur"})
    message = await submit.wait_for_message()
    # in the DM: a normal message, which stays while the member needs it
    assert (message.channel_id, message.is_ephemeral) == (dm.channel_id, False)
    code = code_of(message)
    assert code[len("imgur-link-") :].replace("-", "") == "".join(
        ch for ch in code[len("imgur-link-") :] if ch in CODE_ALPHABET
    )
    description = message.embeds[0]["description"]
    assert "Alice\\_Imgur" in description
    for step in ("imgur.com", "**About**", "**Check**", "expires <t:"):
        assert step in description
    custom_id = check_button_id(message)
    assert code not in custom_id
    assert code.split("-")[2] not in custom_id
    assert code.split("-")[3] not in custom_id
    assert str(alice.id) in custom_id
    assert public_text(harness).strip() == ""


async def test_a_bad_username_in_the_modal_gets_a_short_private_answer(harness: Harness) -> None:
    alice = harness.member("alice")
    _, press, field = await open_username_form(harness, alice)
    submit = await harness.discord.submit_modal(alice, press, {field["custom_id"]: "not a name!"})
    answer = await submit.wait_for_message()
    assert answer.is_ephemeral
    assert "does not look like an Imgur username" in answer.text
    assert (await harness.bot.store.stats()).pending_bio_codes == 0


async def test_closed_dms_put_the_code_only_in_the_ephemeral_answer(harness: Harness) -> None:
    bob = harness.member("bob", dms_open=False)
    message = await ask_code(harness, bob, "bob_imgur")
    assert message.is_ephemeral
    code = code_of(message)
    assert harness.discord.dms(bob) == []
    assert code not in public_text(harness)
    assert "bob_imgur" not in public_text(harness)
    assert "bob\\_imgur" not in public_text(harness)
    # the modal route answers ephemerally too when the link message was ephemeral
    offer = await (await harness.command(bob, "link")).wait_for_message()
    assert offer.is_ephemeral
    press = await harness.discord.press_button(bob, offer, VERIFY_BUTTON_ID)
    modal = await press.wait_for_modal()
    (field,) = [c for row in modal["components"] for c in row["components"]]
    answer = await (
        await harness.discord.submit_modal(bob, press, {field["custom_id"]: "bob_imgur"})
    ).wait_for_message()
    assert answer.is_ephemeral
    assert CODE.search(str(answer.embeds))


# -- checking ---------------------------------------------------------------------------------


async def test_check_before_and_after_the_bio_holds_the_code(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("Alice_Imgur", bio="I like cats")
    message = await ask_code(harness, alice, "alice_imgur")
    before = await press_check(harness, alice, message)
    assert "could not find your code" in before.text
    assert "Imgur can take a minute" in before.text
    assert await harness.bot.store.get(alice.id) is None
    assert harness.imgur.count("public_account") == 1
    harness.imgur.account("Alice_Imgur").bio = f"I like cats.\n{code_of(message)}"
    after = await press_check(harness, alice, message)
    assert after.text.startswith(
        "Linked as **Alice\\_Imgur** (verified by your profile). You can remove the code now."
    )
    assert harness.imgur.count("public_account") == 2  # one Imgur call per check
    request = harness.imgur.requests[-1]
    assert request.headers["Authorization"] == f"Client-ID {harness.imgur.client_id}"
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert (link.kind, link.imgur_username, link.status) == (
        LinkKind.BIO,
        "Alice_Imgur",
        LinkStatus.OK,
    )
    assert link.imgur_account_id == harness.imgur.account("Alice_Imgur").id
    assert (link.access_token, link.refresh_token) == (None, None)


async def test_a_code_typed_in_lower_case_counts(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    message = await ask_code(harness, alice, "alice_imgur")
    harness.imgur.account("alice_imgur").bio = f"({code_of(message).lower()})"
    assert "verified by your profile" in (await press_check(harness, alice, message)).text


async def test_another_members_check_button_and_code_are_useless_to_them(
    harness: Harness,
) -> None:
    alice, mallory = harness.member("alice", dms_open=False), harness.member("mallory")
    harness.imgur.add_account("alice_imgur")
    harness.imgur.add_account("mallory_imgur")
    alices = await ask_code(harness, alice, "alice_imgur")
    harness.imgur.account("alice_imgur").bio = code_of(alices)
    # a press of alice's Check button by mallory (a crafted interaction: Discord shows the
    # ephemeral message to alice alone) is refused, without any Imgur call
    press = await harness.discord.press_button(
        mallory, alices, check_button_id(alices), check=False
    )
    refused = await press.wait_for_message()
    assert refused.is_ephemeral
    assert refused.text == NOT_YOUR_CHECK
    assert harness.imgur.count("public_account") == 0
    # mallory puts alice's code into her own profile and checks her own attempt
    mallorys = await ask_code(harness, mallory, "mallory_imgur")
    harness.imgur.account("mallory_imgur").bio = code_of(alices)
    answer = await press_check(harness, mallory, mallorys)
    assert "could not find your code" in answer.text
    assert await harness.bot.store.get(mallory.id) is None
    # alice's own check still works
    assert "verified by your profile" in (await press_check(harness, alice, alices)).text


async def test_a_code_for_another_username_does_not_link(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("first_account")
    harness.imgur.add_account("second_account")
    first = await ask_code(harness, alice, "first_account")
    second = await ask_code(harness, alice, "second_account")
    harness.imgur.account("second_account").bio = code_of(first)
    answer = await press_check(harness, alice, second)
    assert "could not find your code" in answer.text
    assert await harness.bot.store.get(alice.id) is None


async def test_an_expired_code_and_a_reused_code_are_refused(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    old = await ask_code(harness, alice, "alice_imgur")
    fresh = await ask_code(harness, alice, "alice_imgur")
    # 15 minutes pass for the first attempt (the database is what remembers its expiry)
    attempt = check_button_id(old).rsplit(":", 1)[1]
    await harness.run_sql(
        "UPDATE bio_codes SET expires_at = expires_at - 901 WHERE attempt = ?", attempt
    )
    harness.imgur.account("alice_imgur").bio = f"{code_of(old)} {code_of(fresh)}"
    expired = await press_check(harness, alice, old)
    assert "expired (codes last 15 minutes)" in expired.text
    assert harness.imgur.count("public_account") == 0  # refused before any Imgur call
    assert "verified by your profile" in (await press_check(harness, alice, fresh)).text
    reused = await press_check(harness, alice, fresh)
    assert "already used" in reused.text
    assert harness.imgur.count("public_account") == 1


@pytest.mark.parametrize(
    "bio",
    [
        "xx{code}",
        "{code}yy",
        "{code}-2",
        "my-{code}",
        "{code}_",
        "imgur-link-{inner}",
    ],
)
async def test_a_code_hidden_inside_a_longer_word_does_not_count(
    harness: Harness, bio: str
) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    message = await ask_code(harness, alice, "alice_imgur")
    code = code_of(message)
    harness.imgur.account("alice_imgur").bio = bio.format(
        code=code, inner=code[len("imgur-link-") :] + "X"
    )
    answer = await press_check(harness, alice, message)
    assert "could not find your code" in answer.text
    assert await harness.bot.store.get(alice.id) is None


async def test_an_unknown_imgur_user_is_named_privately(harness: Harness) -> None:
    alice = harness.member("alice")
    message = await ask_code(harness, alice, "no_such_user")
    answer = await press_check(harness, alice, message)
    assert "Imgur has no user named **no\\_such\\_user**" in answer.text
    assert "no_such_user" not in public_text(harness)


@pytest.mark.parametrize("bot_settings", [{"imgur": {"bio_checks_per_hour": 2}}])
async def test_checks_are_limited_per_member_as_configured(harness: Harness) -> None:
    alice, bob = harness.member("alice"), harness.member("bob")
    harness.imgur.add_account("alice_imgur")
    harness.imgur.add_account("bob_imgur")
    message = await ask_code(harness, alice, "alice_imgur")
    for _ in range(2):
        assert "could not find" in (await press_check(harness, alice, message)).text
    limited = await press_check(harness, alice, message)
    assert "2 times an hour" in limited.text
    assert "Try again <t:" in limited.text
    assert harness.imgur.count("public_account") == 2
    bobs = await ask_code(harness, bob, "bob_imgur")
    assert "could not find" in (await press_check(harness, bob, bobs)).text  # per member


async def test_relinking_by_profile_replaces_an_oauth_link_only_on_success(
    harness: Harness,
) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_oauth")
    harness.imgur.add_account("alice_bio")
    message = await ask_code(harness, alice, "alice_bio")
    assert "could not find" in (await press_check(harness, alice, message)).text
    kept = await harness.bot.store.get(alice.id)
    assert kept is not None
    assert (kept.kind, kept.imgur_username) == (LinkKind.OAUTH, "alice_oauth")
    harness.imgur.account("alice_bio").bio = code_of(message)
    await press_check(harness, alice, message)
    link = await harness.bot.store.get(alice.id)
    assert link is not None
    assert (link.kind, link.imgur_username) == (LinkKind.BIO, "alice_bio")


async def test_the_code_is_in_no_log_line_and_not_in_the_database(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    message = await ask_code(harness, alice, "alice_imgur")
    code = code_of(message)
    dump = await harness.dump_database()
    assert code not in dump
    assert code.lower() not in dump
    harness.imgur.account("alice_imgur").bio = code
    await press_check(harness, alice, message)
    assert code not in caplog.text
    assert all(code not in str(call.path) for call in harness.discord.rest_calls)


@contextlib.asynccontextmanager
async def fakes_for_restarts(
    tmp_path: Path,
) -> AsyncIterator[tuple[FakeImgur, FakeDiscord, Config, FakeUser]]:
    """The fakes, a bot's configuration for a ``running_harness`` at a time, and alice (whose
    Imgur account is "alice_imgur"); on the way out, every interaction was acknowledged."""
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = make_config(tmp_path, discord, imgur)
            alice = discord.add_user(name="alice")
            imgur.add_account("alice_imgur")
            yield imgur, discord, config, alice
        discord.assert_all_acknowledged(within=3.0)


async def test_the_check_button_works_after_a_restart(tmp_path: Path) -> None:
    async with fakes_for_restarts(tmp_path) as (imgur, discord, config, alice):
        async with running_harness(config, discord, imgur) as harness:
            message = await ask_code(harness, alice, "alice_imgur")
        imgur.account("alice_imgur").bio = code_of(message)
        async with running_harness(config, discord, imgur) as harness:
            answer = await press_check(harness, alice, message)
            assert "verified by your profile" in answer.text
            link = await harness.bot.store.get(alice.id)
            assert link is not None
            assert link.kind is LinkKind.BIO


@pytest.mark.parametrize("bot_settings", [{"imgur": {"client_id": "revoked-client-id"}}])
async def test_a_refused_client_id_is_the_owners_problem_told_privately(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    message = await ask_code(harness, alice, "alice_imgur")
    harness.imgur.account("alice_imgur").bio = code_of(message)
    answer = await press_check(harness, alice, message)
    assert "refused this bot's client id" in answer.text
    assert "tell the server owner" in answer.text
    assert harness.imgur.requests[-1].headers["Authorization"] == "Client-ID revoked-client-id"
    assert "revoked-client-id" not in caplog.text
    assert "check IMGUR_CLIENT_ID" in caplog.text
    assert await harness.bot.store.get(alice.id) is None
    # the attempt is kept: once the owner fixes the id, the same code still works
    assert (await harness.bot.store.stats()).pending_bio_codes == 1


@pytest.mark.parametrize("bot_settings", [{"imgur": {"client_secret": ""}}])
async def test_a_bot_with_a_client_id_alone_links_by_profile(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    started = " ".join(r.getMessage() for r in caplog.get_records("setup"))
    assert "only the bio link method is offered" in started
    alice = harness.member("alice")
    await (await harness.command(alice, "link")).wait_for_message()
    offer = await harness.discord.wait_for_dm(alice)
    assert [c.get("label") for c in components(offer)] == ["Verify with my Imgur profile"]
    assert "Error (1024)" not in offer.text
    await link_by_bio(harness, alice, "alice_imgur", favorites=3)
    assert harness.imgur.count("token") == 0
    assert harness.imgur.count("authorize") == 0


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("not a name!", "does not look like an Imgur username"),
        ("https://example.com/user/x", "not an Imgur profile"),
    ],
)
async def test_a_bad_username_option_gets_a_short_private_answer(
    harness: Harness, typed: str, expected: str
) -> None:
    alice = harness.member("alice")
    reply = await (await harness.command(alice, "link", {"username": typed})).wait_for_message()
    assert reply.is_ephemeral
    assert expected in reply.text
    assert harness.discord.dms(alice) == []
    assert (await harness.bot.store.stats()).pending_bio_codes == 0


async def test_a_profile_address_is_taken_as_its_username(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("Alice_Imgur")
    message = await ask_code(harness, alice, "https://imgur.com/user/Alice_Imgur")
    assert "**Alice\\_Imgur**" in message.embeds[0]["description"]
    harness.imgur.account("Alice_Imgur").bio = code_of(message)
    assert "verified by your profile" in (await press_check(harness, alice, message)).text
