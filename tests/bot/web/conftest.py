"""Fixtures for the callback server: the app under aiohttp's test client, on the fake Imgur."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.imgur import ResponseType
from bot.linking import LinkService
from bot.storage import LinkStore
from bot.web import BadStatePenalty, WebDependencies, create_app
from tests.fakes.imgur import FakeImgur
from tests.waiting import RecordedSleeps, eventually

# aiohttp's test client for the callback application.
WebClient = TestClient[web.Request, web.Application]


class Notifications:
    """The ``notify`` callback: records every DM the server asks for."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def __call__(self, discord_user_id: int, text: str) -> None:
        self.sent.append((discord_user_id, text))

    async def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[tuple[int, str]]:  # noqa: ASYNC109
        await eventually(
            lambda: len(self.sent) >= count, timeout, lambda: f"{count} DMs (sent: {self.sent!r})"
        )
        return self.sent


class Gateway:
    """``is_connected`` as the bot's gateway event would answer it."""

    def __init__(self) -> None:
        self.connected = True

    def __call__(self) -> bool:
        return self.connected


def continue_link(page: str) -> str:
    """The confirmation page's "Continue to Imgur" address, as a browser would read it."""
    found = re.search(r'<a class="continue" id="continue" href="([^"]+)"', page)
    assert found, page
    return html.unescape(found[1])


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def follow_authorize(session: aiohttp.ClientSession, authorize_url: str) -> str:
    """Play the browser at the fake authorize page: the address it redirects to."""
    async with session.get(authorize_url, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        return response.headers["Location"]


def fragment_params(url: str) -> dict[str, str]:
    """The ``#...`` parameters of a token redirect, as the page's script reads them."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).fragment).items()}


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@pytest.fixture
def notifications() -> Notifications:
    return Notifications()


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def penalty(sleeps: RecordedSleeps) -> BadStatePenalty:
    return BadStatePenalty(free=2, step=0.5, max_delay=2.0, sleep=sleeps)


@pytest.fixture
def response_type() -> ResponseType:
    return ResponseType.CODE


@pytest.fixture
def links(link_store: LinkStore, imgur, clock, response_type: ResponseType) -> LinkService:
    return LinkService(link_store, imgur, response_type=response_type, clock=clock)


@pytest.fixture
async def web_client(
    links: LinkService,
    gateway: Gateway,
    notifications: Notifications,
    penalty: BadStatePenalty,
    fake_imgur: FakeImgur,
) -> AsyncIterator[WebClient]:
    app = create_app(
        WebDependencies(links, is_connected=gateway, notify=notifications, penalty=penalty)
    )
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        fake_imgur.redirect_url = str(client.make_url("/oauth/callback"))
        fake_imgur.add_account("alice")
        fake_imgur.login_as = "alice"
        yield client
