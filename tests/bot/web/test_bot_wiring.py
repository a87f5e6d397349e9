"""The real bot with ``web.enabled``: one click from the DM'd link to a linked member and a DM."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.config import Config
from tests.bot.web.conftest import continue_link
from tests.e2e.conftest import make_config, running_bot
from tests.e2e.test_link_flow import authorize_url, custom_ids
from tests.fakes.discord import FakeDiscord, point_discord_py_at
from tests.fakes.imgur import FakeImgur
from tests.waiting import eventually


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def web_bot_config(
    tmp_path: Path, discord: FakeDiscord, imgur: FakeImgur, port: int, response_type: str
) -> Config:
    """The bot's config with its callback server on ``port`` of this machine."""
    base = f"http://127.0.0.1:{port}"
    return make_config(
        tmp_path,
        discord,
        imgur,
        imgur={"response_type": response_type},
        web={"enabled": True, "host": "127.0.0.1", "port": port, "public_url": base},
    )


async def test_bot_serves_the_callback_links_by_one_click_and_stops_it(tmp_path, http_session):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        imgur.add_account("alice_imgur")
        imgur.login_as = "alice_imgur"
        imgur.redirect_url = base + "/oauth/callback"
        with point_discord_py_at(discord):
            config = web_bot_config(tmp_path, discord, imgur, port, "code")
            async with running_bot(config, discord) as bot:
                async with http_session.get(base + "/healthz") as health:
                    assert health.status == 200
                alice = discord.add_user(name="alice")
                await (await discord.slash_command(alice, "imgur", "link")).wait_for_message()
                url = authorize_url(await discord.wait_for_dm(alice))
                assert url.startswith(base + "/oauth/continue?state=")
                async with http_session.get(url) as confirm:  # the bot's page comes first
                    assert confirm.status == 200
                    page = await confirm.text()
                assert "Link your Imgur account to @alice on Discord?" in page
                assert await bot.store.get(alice.id) is None  # nothing happened yet
                async with http_session.get(continue_link(page)) as done:  # Imgur, callback
                    assert done.status == 200
                    assert "alice_imgur" in await done.text()
                dm = await discord.wait_for_dm(alice, lambda m: "Linked as" in m.text)
                assert "alice\\_imgur" in dm.text
                link = await bot.store.get(alice.id)
                assert link is not None
                assert link.imgur_username == "alice_imgur"
            with pytest.raises(aiohttp.ClientConnectionError):
                async with http_session.get(base + "/healthz"):
                    pass


@pytest.mark.parametrize("response_type", ["code", "token"])
async def test_when_imgur_redirects_to_the_bot_the_dm_has_no_pin_button(
    tmp_path: Path, response_type: str, http_session: aiohttp.ClientSession
) -> None:
    port = free_port()
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = web_bot_config(tmp_path, discord, imgur, port, response_type)
            async with running_bot(config, discord):
                alice = discord.add_user(name="alice", global_name="Alice <3")
                await (await discord.slash_command(alice, "imgur", "link")).wait_for_message()
                dm = await discord.wait_for_dm(alice)
                url = authorize_url(dm)
                async with http_session.get(url) as confirm:
                    page = await confirm.text()
    assert url.startswith(f"http://127.0.0.1:{port}/oauth/continue?")
    assert "imgur:enter-pin" not in custom_ids(dm)
    assert "Alice &lt;3 (@alice) on Discord" in page  # the display name, escaped
    query = parse_qs(urlsplit(continue_link(page)).query)
    assert query["response_type"] == [response_type]
    assert query["state"] == parse_qs(urlsplit(url).query)["state"]


async def healthz_status(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with session.get(url) as response:
        return response.status, await response.json()


async def test_healthz_turns_503_when_the_gateway_is_gone_for_good(tmp_path, http_session):
    # A fatal close code (4004) makes discord.py close the whole bot, web server included, so
    # /healthz could never answer 503 there. Here Discord goes away entirely: the bot keeps
    # trying to reconnect, stays up, and its /healthz must say it is not connected.
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    url = base + "/healthz"
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        with point_discord_py_at(discord):
            config = web_bot_config(tmp_path, discord, imgur, port, "code")
            async with running_bot(config, discord) as bot:
                assert (await healthz_status(http_session, url))[0] == 200
                await discord.close()  # the gateway drops, and every reconnect is refused

                async def unhealthy():
                    answer = await healthz_status(http_session, url)
                    return answer if answer[0] == 503 else None

                answer = await eventually(unhealthy, 10, "/healthz answering 503", every=0.05)
                assert answer[1]["gateway"] is False
                assert answer[1]["database"] is True
                assert not bot.is_closed()  # still trying: the web server is still up
