"""The confirmation page: a ``code``/``token`` link first says whose link it is (finding 2).

Someone who forwards their own ``/imgur link`` to another person would otherwise get that
person's Imgur account linked to their Discord account. The page names the member the attempt
belongs to, and only its "Continue" link goes on to Imgur.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import WebConfig
from bot.imgur import ResponseType
from bot.linking import LinkService
from bot.web import CONFIRM_PATH, CallbackServer, WebDependencies, create_app
from tests.bot.web.conftest import (
    WebClient,
    continue_link,
    follow_authorize,
    path_and_query,
    state_of,
)

MEMBER = 4242


class Names:
    """The bot's ``member_name``: what Discord would say, or a failure."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {MEMBER: "Alice (@alice)"}
        self.fail = False
        self.asked: list[int] = []

    async def __call__(self, discord_user_id: int) -> str | None:
        self.asked.append(discord_user_id)
        if self.fail:
            raise RuntimeError("Discord is down")
        return self.names.get(discord_user_id)


@pytest.fixture
def names() -> Names:
    return Names()


@pytest.fixture
async def client(
    links: LinkService, gateway, notifications, penalty, fake_imgur, names
) -> AsyncIterator[WebClient]:
    app = create_app(
        WebDependencies(
            links, is_connected=gateway, notify=notifications, penalty=penalty, member_name=names
        )
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        links.confirm_url = str(test_client.make_url(CONFIRM_PATH))
        fake_imgur.redirect_url = str(test_client.make_url("/oauth/callback"))
        fake_imgur.add_account("alice_imgur")
        fake_imgur.login_as = "alice_imgur"
        yield test_client


async def confirm_page(client: WebClient, url: str) -> tuple[int, str]:
    response = await client.get(path_and_query(url))
    return response.status, await response.text()


@pytest.mark.parametrize("response_type", [ResponseType.CODE, ResponseType.TOKEN])
async def test_the_link_opens_a_page_naming_the_member_then_goes_on_to_imgur(
    client, links, link_store, response_type
):
    start = await links.start(MEMBER)
    assert start.url.startswith(str(client.make_url(CONFIRM_PATH)) + "?state=")
    status, page = await confirm_page(client, start.url)
    assert status == 200
    assert 'data-result="confirm"' in page
    assert "Link your Imgur account to Alice (@alice) on Discord?" in page
    assert "someone sent you this link, stop here" in page
    onward = continue_link(page)
    query = parse_qs(urlsplit(onward).query)
    assert onward.startswith(links._imgur.authorize_url(response_type, "x").split("?")[0])
    assert query["response_type"] == [response_type.value]
    assert query["state"] == [state_of(start.url)]
    assert 'rel="noreferrer noopener"' in page
    assert await link_store.get(MEMBER) is None  # showing the page linked nothing


async def test_the_page_does_not_use_the_attempt_up_and_the_link_then_completes(
    client, links, link_store, http_session, notifications
):
    start = await links.start(MEMBER)
    for _ in range(2):  # a reload, or a link checker, changes nothing
        status, page = await confirm_page(client, start.url)
        assert status == 200
    location = await follow_authorize(http_session, continue_link(page))
    done = await client.get(path_and_query(location))
    assert done.status == 200
    assert (await link_store.get(MEMBER)).imgur_username == "alice_imgur"
    # Single use, as before: neither the callback nor the page accept the state again.
    assert (await client.get(path_and_query(location))).status == 400
    status, page = await confirm_page(client, start.url)
    assert status == 400
    assert "expired or already used" in page


async def test_the_display_name_is_escaped(client, links, names):
    names.names[MEMBER] = '<img src=x onerror="alert(1)"> & co'
    status, page = await confirm_page(client, (await links.start(MEMBER)).url)
    assert status == 200
    assert "<img" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co on Discord" in page


async def test_without_a_name_from_discord_the_page_gives_the_member_id(client, links, names):
    names.fail = True
    status, page = await confirm_page(client, (await links.start(MEMBER)).url)
    assert status == 200
    assert f"the Discord user with the id {MEMBER}" in page


async def test_an_unknown_or_missing_state_is_refused_and_counted(client, sleeps):
    for query in ("?state=nobody-knows-this", "", "?state=" + "x" * 600):
        response = await client.get(CONFIRM_PATH + query)
        assert response.status == 400
        assert "expired or already used" in await response.text()
    assert sleeps.delays  # the bad-state penalty applies here too


async def test_after_unlink_the_page_is_refused(client, links):
    start = await links.start(MEMBER)
    await links.unlink(MEMBER)
    status, _ = await confirm_page(client, start.url)
    assert status == 400


@pytest.mark.parametrize("response_type", [ResponseType.PIN])
async def test_pin_links_still_go_straight_to_imgur(client, links, response_type):
    start = await links.start(MEMBER)
    assert "/oauth2/authorize?" in start.url
    assert CONFIRM_PATH not in start.url


async def test_the_page_keeps_the_state_out_of_logs_and_referrers(
    links, names, http_session, caplog
):
    # The real server (its own access log), at DEBUG.
    server = CallbackServer(
        WebConfig(enabled=True, host="127.0.0.1", port=0, public_url="https://bot.example"),
        WebDependencies(links, is_connected=lambda: True, notify=_no_notify, member_name=names),
    )
    caplog.set_level(logging.DEBUG)
    await server.start()
    try:
        links.confirm_url = f"http://127.0.0.1:{server.port}{CONFIRM_PATH}"
        start = await links.start(MEMBER)
        async with http_session.get(start.url) as response:
            assert response.status == 200
            headers, page = response.headers, await response.text()
    finally:
        await server.stop()
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert '<meta name="referrer" content="no-referrer">' in page
    assert any(f'"GET {CONFIRM_PATH}" 200' in r.getMessage() for r in caplog.records)
    assert state_of(start.url) not in caplog.text


async def _no_notify(_user: int, _text: str) -> None:
    return None
