"""The real bot with ``web.enabled``: one click from the DM'd link to a linked member and a DM."""

from __future__ import annotations

import socket

import aiohttp
import pytest

from tests.e2e.conftest import make_config, running_bot
from tests.e2e.test_link_flow import authorize_url
from tests.fakes.discord import FakeDiscord, point_discord_py_at
from tests.fakes.imgur import FakeImgur


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_bot_serves_the_callback_links_by_one_click_and_stops_it(tmp_path, http_session):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        imgur.add_account("alice_imgur")
        imgur.login_as = "alice_imgur"
        imgur.redirect_url = base + "/oauth/callback"
        with point_discord_py_at(discord):
            config = make_config(
                tmp_path,
                discord,
                imgur,
                imgur={"response_type": "code"},
                web={"enabled": True, "host": "127.0.0.1", "port": port, "public_url": base},
            )
            async with running_bot(config, discord) as bot:
                async with http_session.get(base + "/healthz") as health:
                    assert health.status == 200
                alice = discord.add_user(name="alice")
                await (await discord.slash_command(alice, "imgur", "link")).wait_for_message()
                url = authorize_url(await discord.wait_for_dm(alice))
                async with http_session.get(url) as page:  # Imgur redirects to the callback
                    assert page.status == 200
                    assert "alice_imgur" in await page.text()
                dm = await discord.wait_for_dm(alice, lambda m: "Linked as" in m.text)
                assert "alice\\_imgur" in dm.text
                assert (await bot.store.get(alice.id)).imgur_username == "alice_imgur"
            with pytest.raises(aiohttp.ClientConnectionError):
                async with http_session.get(base + "/healthz"):
                    pass
