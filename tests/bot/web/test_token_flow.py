"""Imgur's ``token`` redirect: the callback page's script posts the fragment to ``/oauth/token``."""

from __future__ import annotations

import base64
import hashlib
import re

import aiohttp
import pytest
from aiohttp import ClientResponse

from bot.imgur import ResponseType
from bot.linking import LinkService
from tests.bot.web.conftest import (
    WebClient,
    follow_authorize,
    fragment_params,
    path_and_query,
    state_of,
)
from tests.fakes.imgur import Failure

MEMBER = 777


@pytest.fixture
def response_type():
    return ResponseType.TOKEN


async def token_redirect(
    links: LinkService, http_session: aiohttp.ClientSession
) -> tuple[str, dict[str, str]]:
    """The address Imgur sends the browser to, and what the page's script would post."""
    start = await links.start(MEMBER)
    location = await follow_authorize(http_session, start.url)
    params = fragment_params(location)
    assert "state" not in params  # Imgur puts it in the query: the script takes it from there
    return location, {**params, "state": state_of(location)}


async def post_fragment(web_client: WebClient, params: dict[str, str]) -> ClientResponse:
    return await web_client.post("/oauth/token", json=params)


async def test_callback_serves_the_page_whose_script_posts_the_fragment(
    web_client, links, http_session
):
    location, params = await token_redirect(links, http_session)
    assert "access_token" in params
    assert "#" in location
    response = await web_client.get(path_and_query(location))  # a browser never sends the #...
    page = await response.text()
    assert response.status == 200
    assert "location.hash" in page
    assert "history.replaceState" in page
    assert 'fetch("token"' in page
    assert params["state"] not in page


async def test_page_script_is_the_one_the_csp_allows(web_client):
    response = await web_client.get("/oauth/callback", params={"state": "s"})
    page = await response.text()
    policy = response.headers["Content-Security-Policy"]
    (script,) = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    (style,) = re.findall(r"<style>(.*?)</style>", page, flags=re.S)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy
    assert not re.search(r"\son[a-z]+\s*=", page, flags=re.I)  # no inline event handlers


async def test_posted_tokens_link_the_member(
    web_client, links, link_store, http_session, notifications
):
    _, params = await token_redirect(links, http_session)
    response = await post_fragment(web_client, params)
    body = await response.json()
    assert response.status == 200
    assert body["ok"] is True
    assert "alice" in body["message"]
    link = await link_store.get(MEMBER)
    assert link.imgur_username == "alice"
    assert link.access_token == params["access_token"]
    assert link.refresh_token == params["refresh_token"]
    (dm,) = await notifications.wait_for(1)
    assert dm == (MEMBER, "Linked as **alice** on Imgur. Try `/imgur favorites`.")


async def test_answer_holds_no_token_or_state(web_client, links, http_session):
    _, params = await token_redirect(links, http_session)
    text = await (await post_fragment(web_client, params)).text()
    for key in ("access_token", "refresh_token", "state"):
        assert params[key] not in text


async def test_state_is_used_once(web_client, links, link_store, http_session, fake_imgur):
    _, params = await token_redirect(links, http_session)
    assert (await post_fragment(web_client, params)).status == 200
    again = await post_fragment(web_client, params)
    assert again.status == 400
    assert (await again.json())["ok"] is False
    assert fake_imgur.count("account") == 1


async def test_unknown_state_is_refused_without_asking_imgur(
    web_client, links, link_store, http_session, fake_imgur
):
    _, params = await token_redirect(links, http_session)
    response = await post_fragment(web_client, {**params, "state": "not-a-state"})
    assert response.status == 400
    assert "already used" in (await response.json())["message"]
    assert fake_imgur.count("account") == 0
    assert await link_store.get(MEMBER) is None


async def test_missing_state_is_refused(web_client, links, link_store, http_session):
    _, params = await token_redirect(links, http_session)
    del params["state"]
    assert (await post_fragment(web_client, params)).status == 400
    assert await link_store.get(MEMBER) is None


async def test_tokens_of_another_account_than_claimed_are_refused(
    web_client, links, link_store, http_session, fake_imgur
):
    fake_imgur.add_account("mallory")
    _, params = await token_redirect(links, http_session)
    mallory = fake_imgur.issue_tokens("mallory")
    forged = {**params, "access_token": mallory["access_token"]}
    response = await post_fragment(web_client, forged)
    assert response.status == 400
    assert "do not belong" in (await response.json())["message"]
    assert await link_store.get(MEMBER) is None


async def test_access_token_imgur_refuses_is_refused(web_client, links, link_store, http_session):
    _, params = await token_redirect(links, http_session)
    response = await post_fragment(web_client, {**params, "access_token": "f" * 40})
    assert response.status == 400
    assert await link_store.get(MEMBER) is None


async def test_denial_is_reported(web_client, links, link_store):
    start = await links.start(MEMBER)
    response = await post_fragment(
        web_client, {"state": state_of(start.url), "error": "access_denied"}
    )
    assert response.status == 403
    assert "declined" in (await response.json())["message"]
    assert await link_store.get(MEMBER) is None


async def test_fragment_without_a_token_is_refused(web_client, links, link_store):
    start = await links.start(MEMBER)
    response = await post_fragment(web_client, {"state": state_of(start.url), "expires_in": "1"})
    assert response.status == 400
    assert await link_store.get(MEMBER) is None


async def test_temporary_imgur_failure_offers_a_retry_that_works(
    web_client, links, link_store, http_session, fake_imgur
):
    _, params = await token_redirect(links, http_session)
    fake_imgur.fail("account", Failure.OVER_CAPACITY)
    failed = await post_fragment(web_client, params)
    body = await failed.json()
    assert failed.status == 503
    assert body["retry"] is True
    assert await link_store.get(MEMBER) is None
    assert (await post_fragment(web_client, params)).status == 200
    assert (await link_store.get(MEMBER)).imgur_username == "alice"


async def test_only_json_is_accepted(web_client, links, http_session, link_store):
    _, params = await token_redirect(links, http_session)
    response = await web_client.post("/oauth/token", data=params)  # a form, not JSON
    assert response.status == 415
    assert await link_store.get(MEMBER) is None


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"'])
async def test_malformed_json_is_refused(web_client, body):
    response = await web_client.post(
        "/oauth/token", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert (await response.json())["ok"] is False


async def test_oversized_body_is_refused_and_the_attempt_survives(
    web_client, links, link_store, http_session
):
    _, params = await token_redirect(links, http_session)
    response = await post_fragment(web_client, {**params, "padding": "x" * 20_000})
    assert response.status == 413
    assert await link_store.get(MEMBER) is None
    assert (await post_fragment(web_client, params)).status == 200
