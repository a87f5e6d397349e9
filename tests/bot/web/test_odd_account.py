"""Odd account data from Imgur never makes the callback answer 500 after the code is spent."""

from __future__ import annotations

import pytest

from bot.imgur import ResponseType
from tests.bot.web.conftest import follow_authorize, fragment_params, path_and_query, state_of

MEMBER = 5151


@pytest.mark.parametrize("reputation", [10**400, -(10**400), 1e308, "1e999", {"n": 1}, True])
@pytest.mark.parametrize("response_type", [ResponseType.TOKEN])
async def test_an_odd_reputation_still_links_in_token_mode(
    web_client, links, link_store, http_session, fake_imgur, reputation
):
    fake_imgur.account("alice").reputation = reputation
    start = await links.start(MEMBER)
    location = await follow_authorize(http_session, start.url)
    params = {**fragment_params(location), "state": state_of(location)}
    response = await web_client.post("/oauth/token", json=params)
    assert response.status == 200, await response.text()
    assert (await link_store.get(MEMBER)).imgur_username == "alice"


async def test_a_huge_account_id_is_a_clear_answer_not_a_500(
    web_client, links, link_store, http_session, fake_imgur
):
    fake_imgur.account("alice").id = 10**30  # in the token answer and in /3/account/me
    start = await links.start(MEMBER)
    target = path_and_query(await follow_authorize(http_session, start.url))
    response = await web_client.get(target)
    page = await response.text()
    assert response.status != 500, page
    assert response.status == 503
    assert "Something went wrong" not in page
    assert await link_store.get(MEMBER) is None
    assert fake_imgur.count("token") == 1


async def test_a_very_long_username_links_and_the_dm_fits_discord(
    web_client, links, link_store, http_session, fake_imgur, notifications
):
    fake_imgur.account("alice").username = "[x](https://evil.example)" + "n" * 5000
    start = await links.start(MEMBER)
    response = await web_client.get(path_and_query(await follow_authorize(http_session, start.url)))
    assert response.status == 200, await response.text()
    (dm,) = await notifications.wait_for(1)
    assert len(dm[1]) <= 2000
    assert "\\[x\\](https://evil.example)" in dm[1]
