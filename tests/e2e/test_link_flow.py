from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.storage import LinkStatus
from tests.e2e.conftest import Harness
from tests.fakes.discord import FakeMessage


def authorize_url(message: FakeMessage) -> str:
    for row in message.components:
        for component in row.get("components", []):
            if component.get("url"):
                return str(component["url"])
    raise AssertionError("no link button")


def custom_ids(message: FakeMessage) -> list[str | None]:
    return [c.get("custom_id") for row in message.components for c in row.get("components", [])]


async def test_commands_are_synced_with_their_options(harness: Harness) -> None:
    (imgur,) = [c for c in harness.discord.commands if c["name"] == "imgur"]
    subcommands = {o["name"]: o for o in imgur["options"]}
    assert set(subcommands) == {"link", "pin", "favorites", "status", "unlink"}
    pin_option = subcommands["pin"]["options"][0]
    assert (pin_option["name"], pin_option["type"], pin_option["required"]) == ("code", 3, True)
    favorites = {o["name"]: o for o in subcommands["favorites"]["options"]}
    assert [c["value"] for c in favorites["sort"]["choices"]] == ["newest", "oldest"]
    assert favorites["page"]["min_value"] == 1
    assert not favorites["page"].get("required", False)
    assert all(o["description"] for o in imgur["options"])


async def test_link_sends_the_authorize_url_by_dm_and_answers_ephemerally(harness: Harness) -> None:
    alice = harness.member("alice")
    interaction = await harness.command(alice, "link")
    reply = await interaction.wait_for_message()
    assert reply.is_ephemeral
    assert "DM" in reply.text
    dm = await harness.discord.wait_for_dm(alice)
    url = authorize_url(dm)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(harness.imgur.base_url + "/oauth2/authorize")
    assert query["client_id"] == [harness.imgur.client_id]
    assert query["response_type"] == ["pin"]
    assert len(query["state"][0]) >= 32
    assert "imgur:enter-pin" in custom_ids(dm)
    assert url not in reply.text


async def test_link_then_pin_links_the_member(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("alice_imgur")
    await (await harness.command(alice, "link")).wait_for_message()
    done = await harness.command(alice, "pin", {"code": harness.imgur.issue_pin("alice_imgur")})
    reply = await done.wait_for_message()
    assert reply.is_ephemeral
    assert "**alice\\_imgur**" in reply.text  # escaped for Discord markdown
    link = await harness.stored_link(alice)
    assert link.imgur_username == "alice_imgur"
    assert link.status is LinkStatus.OK


async def test_enter_pin_button_opens_a_modal_that_links(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("modal_user")
    await (await harness.command(alice, "link")).wait_for_message()
    dm = await harness.discord.wait_for_dm(alice)
    press = await harness.discord.press_button(alice, dm, "imgur:enter-pin")
    modal = await press.wait_for_modal()
    (text_input,) = [c for row in modal["components"] for c in row["components"]]
    submit = await harness.discord.submit_modal(
        alice, press, {text_input["custom_id"]: harness.imgur.issue_pin("modal_user")}
    )
    reply = await submit.wait_for_message()
    assert reply.is_ephemeral
    assert "modal" in reply.text
    assert (await harness.stored_link(alice)).imgur_username == "modal_user"


async def test_closed_dms_put_the_link_only_in_the_ephemeral_answer(harness: Harness) -> None:
    bob = harness.member("bob", dms_open=False)
    interaction = await harness.command(bob, "link")
    reply = await interaction.wait_for_message()
    assert reply.is_ephemeral
    url = authorize_url(reply)
    assert "/oauth2/authorize" in url
    assert harness.discord.dms(bob) == []
    public = harness.discord.channel_messages(harness.discord.text_channel_id)
    assert all(
        url not in message.text and "state=" not in str(message.components) for message in public
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0000000000", "did not accept that PIN"),
        ("not a pin!", "does not look like an Imgur PIN"),
        ("x" * 600, "too long"),
    ],
)
async def test_bad_pins_get_a_clear_private_message(
    harness: Harness, code: str, expected: str
) -> None:
    alice = harness.member("alice")
    await (await harness.command(alice, "link")).wait_for_message()
    interaction = await harness.command(alice, "pin", {"code": code})
    reply = await interaction.wait_for_message()
    assert reply.is_ephemeral
    assert expected in reply.text
    assert await harness.bot.store.get(alice.id) is None


async def test_pin_without_link_attempt_says_to_start_over(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("a")
    interaction = await harness.command(alice, "pin", {"code": harness.imgur.issue_pin("a")})
    reply = await interaction.wait_for_message()
    assert reply.is_ephemeral
    assert "unknown, expired" in reply.text
    assert harness.imgur.count("token") == 0


@pytest.mark.parametrize("bot_settings", [{"imgur": {"response_type": "code"}}])
async def test_someone_elses_redirect_url_does_not_link_them(harness: Harness) -> None:
    alice, mallory = harness.member("alice"), harness.member("mallory")
    harness.imgur.add_account("alice_imgur")
    await (await harness.command(alice, "link")).wait_for_message()
    dm = await harness.discord.wait_for_dm(alice)
    state = parse_qs(urlsplit(authorize_url(dm)).query)["state"][0]
    stolen = f"https://x.example/cb?code={harness.imgur.issue_code('alice_imgur')}&state={state}"
    reply = await (await harness.command(mallory, "pin", {"code": stolen})).wait_for_message()
    assert reply.is_ephemeral
    assert "unknown, expired" in reply.text
    assert await harness.bot.store.get(mallory.id) is None


async def test_commands_are_synced_again_only_when_they_changed(tmp_path: Path) -> None:
    from tests.e2e.conftest import make_config, running_bot
    from tests.fakes.discord import FakeDiscord, point_discord_py_at
    from tests.fakes.imgur import FakeImgur

    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = make_config(tmp_path, discord, imgur)
            for _ in range(2):
                async with running_bot(config, discord):
                    pass
            assert len(discord.calls("PUT", "/applications/")) == 1
            guild = make_config(
                tmp_path, discord, imgur, discord={"sync_commands": f"guild:{discord.guild_id}"}
            )
            async with running_bot(guild, discord):
                pass
            puts = discord.calls("PUT", "/applications/")
            assert len(puts) == 2
            assert f"/guilds/{discord.guild_id}/commands" in puts[-1].path
