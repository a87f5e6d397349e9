"""``CallbackServer``: listens between start and stop, logs no secrets, lets DMs finish."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.config import ConfigError, WebConfig
from bot.web import CallbackServer, WebDependencies
from tests.bot.web.conftest import follow_authorize, state_of

MEMBER = 99


def web_config(port: int = 0) -> WebConfig:
    return WebConfig(enabled=True, host="127.0.0.1", port=port, public_url="https://bot.example")


@pytest.fixture
async def server(links, gateway, notifications, penalty) -> AsyncIterator[CallbackServer]:
    callback_server = CallbackServer(
        web_config(),
        WebDependencies(links, is_connected=gateway, notify=notifications, penalty=penalty),
    )
    await callback_server.start()
    try:
        yield callback_server
    finally:
        await callback_server.stop()


def base(server: CallbackServer) -> str:
    return f"http://127.0.0.1:{server.port}"


async def test_serves_between_start_and_stop(server, http_session):
    async with http_session.get(base(server) + "/healthz") as response:
        assert response.status == 200
    url = base(server) + "/healthz"
    await server.stop()
    assert server.port is None
    with pytest.raises(aiohttp.ClientConnectionError):
        async with http_session.get(url):
            pass
    await server.stop()  # twice is fine


def test_callback_url_is_the_public_url_plus_the_callback_path(links):
    config = WebConfig(enabled=True, public_url="https://bot.example/imgur")
    server = CallbackServer(
        config, WebDependencies(links, is_connected=lambda: True, notify=_no_notify)
    )
    assert server.callback_url == "https://bot.example/imgur/oauth/callback"


async def _no_notify(_user: int, _text: str) -> None:
    return None


async def test_a_port_in_use_is_a_config_error_naming_web_port(links):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = CallbackServer(
            web_config(port), WebDependencies(links, is_connected=lambda: True, notify=_no_notify)
        )
        with pytest.raises(ConfigError, match=r"^web\.port: cannot listen on 127\.0\.0\.1:"):
            await server.start()
    assert server.port is None


async def test_logs_hold_no_code_state_or_token(
    server, links, link_store, http_session, caplog, fake_imgur
):
    fake_imgur.redirect_url = base(server) + "/oauth/callback"
    fake_imgur.add_account("alice")
    fake_imgur.login_as = "alice"
    caplog.set_level(logging.DEBUG)
    start = await links.start(MEMBER)
    location = await follow_authorize(http_session, start.url)
    code = location.split("code=")[1].split("&")[0]
    async with http_session.get(location) as response:
        assert response.status == 200
    async with http_session.get(location) as replay:  # a failure is logged too
        assert replay.status == 400
    link = await link_store.get(MEMBER)
    access_lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert any('"GET /oauth/callback" 200' in line for line in access_lines), access_lines
    for secret in (code, state_of(start.url), link.access_token, link.refresh_token):
        assert secret not in caplog.text


async def test_stop_lets_a_dm_being_sent_finish(links, fake_imgur, http_session):
    release = asyncio.Event()
    started = asyncio.Event()
    delivered = []

    async def slow_notify(user_id: int, text: str) -> None:
        started.set()
        await release.wait()
        delivered.append(user_id)

    server = CallbackServer(
        web_config(), WebDependencies(links, is_connected=lambda: True, notify=slow_notify)
    )
    await server.start()
    stopping: asyncio.Task[None] | None = None
    try:
        fake_imgur.redirect_url = base(server) + "/oauth/callback"
        fake_imgur.add_account("alice")
        fake_imgur.login_as = "alice"
        start = await links.start(MEMBER)
        async with http_session.get(await follow_authorize(http_session, start.url)) as response:
            assert response.status == 200  # the page does not wait for Discord
        await asyncio.wait_for(started.wait(), 5)
        stopping = asyncio.create_task(server.stop())
        # While the DM is held, stop() must still be waiting for it (not merely slow to return).
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(stopping), 0.3)
        assert delivered == []
        release.set()
        await asyncio.wait_for(stopping, 10)
        assert delivered == [MEMBER]
    finally:
        release.set()
        if stopping is None:
            await server.stop()
        else:
            await asyncio.gather(stopping, return_exceptions=True)


async def test_a_failing_dm_does_not_fail_the_link(
    links, link_store, fake_imgur, http_session, caplog
):
    async def broken_notify(_user: int, _text: str) -> None:
        raise RuntimeError("discord is down")

    server = CallbackServer(
        web_config(), WebDependencies(links, is_connected=lambda: True, notify=broken_notify)
    )
    await server.start()
    try:
        fake_imgur.redirect_url = base(server) + "/oauth/callback"
        fake_imgur.add_account("alice")
        fake_imgur.login_as = "alice"
        start = await links.start(MEMBER)
        async with http_session.get(await follow_authorize(http_session, start.url)) as response:
            assert response.status == 200
    finally:
        await server.stop()  # waits for the notification task
    assert (await link_store.get(MEMBER)).imgur_username == "alice"
    assert "could not tell member 99" in caplog.text
