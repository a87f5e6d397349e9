"""``GET /oauth/callback?code=..&state=..``: Imgur's ``code`` redirect links the member at once."""

from __future__ import annotations

import aiohttp

from bot.linking import LinkService, LinkStart
from tests.bot.web.conftest import WebClient, follow_authorize, path_and_query, state_of
from tests.fakes.imgur import Failure

MEMBER = 4242


async def redirect_for(
    web_client: WebClient, links: LinkService, http_session: aiohttp.ClientSession
) -> tuple[str, LinkStart]:
    start = await links.start(MEMBER)
    return path_and_query(await follow_authorize(http_session, start.url)), start


async def test_code_redirect_links_the_member_and_says_so(
    web_client, links, link_store, http_session, notifications
):
    target, _ = await redirect_for(web_client, links, http_session)
    response = await web_client.get(target)
    page = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert 'data-result="linked"' in page
    assert "alice" in page
    link = await link_store.get(MEMBER)
    assert link is not None
    assert link.imgur_username == "alice"
    (dm,) = await notifications.wait_for(1)
    assert dm[0] == MEMBER
    assert "Linked as **alice**" in dm[1]


async def test_success_page_holds_no_code_state_or_token(
    web_client, links, link_store, http_session
):
    target, start = await redirect_for(web_client, links, http_session)
    code = target.split("code=")[1].split("&")[0]
    response = await web_client.get(target)
    page = await response.text()
    link = await link_store.get(MEMBER)
    for secret in (code, state_of(start.url), link.access_token, link.refresh_token):
        assert secret not in page


async def test_replayed_callback_is_refused_and_exchanges_nothing_more(
    web_client, links, link_store, http_session, fake_imgur
):
    target, _ = await redirect_for(web_client, links, http_session)
    assert (await web_client.get(target)).status == 200
    first = await link_store.get(MEMBER)
    replay = await web_client.get(target)
    assert replay.status == 400
    assert "expired or already used" in await replay.text()
    assert fake_imgur.count("token") == 1
    assert (await link_store.get(MEMBER)).access_token == first.access_token


async def test_unknown_state_is_refused_before_imgur_is_asked(web_client, link_store, fake_imgur):
    code = fake_imgur.issue_code("alice")
    response = await web_client.get("/oauth/callback", params={"code": code, "state": "made-up"})
    page = await response.text()
    assert response.status == 400
    assert 'data-result="failed"' in page
    assert "/imgur link" in page
    assert fake_imgur.count("token") == 0
    assert await link_store.get(MEMBER) is None


async def test_code_without_state_is_refused(web_client, link_store, fake_imgur):
    response = await web_client.get("/oauth/callback", params={"code": "abc123"})
    assert response.status == 400
    assert fake_imgur.count("token") == 0


async def test_expired_state_is_refused(web_client, links, link_store, http_session, clock):
    target, _ = await redirect_for(web_client, links, http_session)
    clock.advance(minutes=10, seconds=1)
    response = await web_client.get(target)
    assert response.status == 400
    assert await link_store.get(MEMBER) is None


async def test_denied_on_imgur_shows_a_refusal_and_stores_nothing(
    web_client, links, link_store, http_session, fake_imgur, notifications
):
    fake_imgur.deny_next_authorize = True
    target, _ = await redirect_for(web_client, links, http_session)
    assert "error=access_denied" in target
    response = await web_client.get(target)
    page = await response.text()
    assert response.status == 403
    assert "declined" in page
    assert await link_store.get(MEMBER) is None
    assert notifications.sent == []


async def test_code_imgur_refuses_is_a_clear_failure(web_client, links, link_store):
    start = await links.start(MEMBER)
    response = await web_client.get(
        "/oauth/callback", params={"code": "0" * 40, "state": state_of(start.url)}
    )
    assert response.status == 400
    assert "did not accept" in await response.text()
    assert await link_store.get(MEMBER) is None


async def test_temporary_imgur_failure_keeps_the_attempt_for_a_reload(
    web_client, links, link_store, http_session, fake_imgur
):
    target, _ = await redirect_for(web_client, links, http_session)
    fake_imgur.fail("token", Failure.SERVER_ERROR)
    failed = await web_client.get(target)
    assert failed.status == 503
    assert "not answering" in await failed.text()
    assert await link_store.get(MEMBER) is None
    reloaded = await web_client.get(target)
    assert reloaded.status == 200
    assert (await link_store.get(MEMBER)).imgur_username == "alice"


async def test_rate_limited_exchange_is_a_temporary_failure(
    web_client, links, link_store, http_session, fake_imgur
):
    target, _ = await redirect_for(web_client, links, http_session)
    fake_imgur.fail("token", Failure.RATE_LIMITED)
    assert (await web_client.get(target)).status == 503
    assert (await web_client.get(target)).status == 200


async def test_oversized_code_is_refused_without_asking_imgur(web_client, links, fake_imgur):
    start = await links.start(MEMBER)
    response = await web_client.get(
        "/oauth/callback", params={"code": "a" * 600, "state": state_of(start.url)}
    )
    assert response.status == 400
    assert fake_imgur.count("token") == 0


async def test_head_request_does_not_use_up_the_attempt(
    web_client, links, link_store, http_session
):
    target, _ = await redirect_for(web_client, links, http_session)
    assert (await web_client.head(target)).status == 405
    assert (await web_client.get(target)).status == 200
