"""The fake itself: what tests elsewhere rely on that the client tests do not show."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.fakes.imgur import Failure, FakeImgur
from tests.waiting import eventually


async def test_stopping_is_not_slowed_by_a_hanging_request(
    session: aiohttp.ClientSession,
) -> None:
    fake = FakeImgur()
    await fake.__aenter__()
    try:
        fake.fail("account", Failure.HANG, times=2)
        url = f"{fake.base_url}/3/account/me"
        with pytest.raises(TimeoutError):  # a client that gave up leaves the hang behind
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=0.2)):
                pass
        waiting = asyncio.create_task(get_status(session, url))  # one still waiting
        await eventually(lambda: fake.count("account") == 2, 10, "the second request to hang")
    finally:
        # Stopping releases the hangs at once: the waiting client gets its answer, instead of
        # being cut off when aiohttp's shutdown timeout runs out.
        await asyncio.wait_for(fake.__aexit__(None, None, None), 10)
    assert await asyncio.wait_for(waiting, 10) == 504


async def get_status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        return response.status


async def test_hang_seconds_bounds_the_hang(session: aiohttp.ClientSession) -> None:
    async with FakeImgur() as fake:
        fake.hang_seconds = 0.05
        fake.fail("account", Failure.HANG)
        async with session.get(f"{fake.base_url}/3/account/me") as response:
            assert response.status == 504


async def test_failures_are_used_up_in_order(
    fake: FakeImgur, session: aiohttp.ClientSession
) -> None:
    fake.fail("account", Failure.SERVER_ERROR, times=2)
    statuses = []
    for _ in range(3):
        async with session.get(f"{fake.base_url}/3/account/me") as response:
            statuses.append(response.status)

    assert statuses == [500, 500, 401]


def test_unknown_route_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown route"):
        FakeImgur().fail("acount", Failure.SERVER_ERROR)


async def test_code_redirect_keeps_a_query_already_in_the_redirect_url(
    fake: FakeImgur, session: aiohttp.ClientSession
) -> None:
    fake.redirect_url = "https://bot.example/cb?from=imgur"
    url = f"{fake.base_url}/oauth2/authorize?client_id={fake.client_id}&response_type=code&state=s"
    async with session.get(url, allow_redirects=False) as response:
        location = response.headers["Location"]

    assert location.startswith("https://bot.example/cb?from=imgur&code=")
    assert location.endswith("&state=s")


async def test_authorize_without_a_logged_in_account_is_refused(
    fake: FakeImgur, session: aiohttp.ClientSession
) -> None:
    fake.login_as = None
    url = f"{fake.base_url}/oauth2/authorize?client_id={fake.client_id}&response_type=pin"
    async with session.get(url) as response:
        assert response.status == 400


async def test_requests_are_recorded_with_their_route(
    fake: FakeImgur, session: aiohttp.ClientSession
) -> None:
    async with session.get(f"{fake.base_url}/3/account/me/favorites/0/newest"):
        pass

    assert [(r.method, r.path, r.route) for r in fake.requests] == [
        ("GET", "/3/account/me/favorites/0/newest", "favorites")
    ]
