"""ImgurClient's OAuth2 side against FakeImgur: authorize URL, the three grants, and refusals."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.imgur import (
    ImgurClient,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidGrant,
    RateLimited,
    ResponseType,
    grant_from_redirect,
)
from tests.clients import imgur_client
from tests.fakes.imgur import Failure, FakeImgur


def test_authorize_url_carries_client_id_response_type_and_state(
    fake: FakeImgur, client: ImgurClient
) -> None:
    url = client.authorize_url(ResponseType.CODE, "st&te=/?")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{client.api_base}/oauth2/authorize"
    assert parse_qs(parts.query) == {
        "client_id": [fake.client_id],
        "response_type": ["code"],
        "state": ["st&te=/?"],
    }


async def test_pin_from_the_authorize_page_links_the_logged_in_account(
    fake: FakeImgur, client: ImgurClient, session: aiohttp.ClientSession
) -> None:
    async with session.get(client.authorize_url(ResponseType.PIN, "s1")) as response:
        pin = FakeImgur.pin_from_page(await response.text())

    tokens = await client.exchange_pin(pin)

    assert tokens.account_username == "alice"
    assert tokens.account_id == fake.account("alice").id
    assert tokens.expires_in == 3600
    assert tokens.refresh_token


async def test_code_from_the_redirect_links_the_logged_in_account(
    client: ImgurClient, session: aiohttp.ClientSession
) -> None:
    url = client.authorize_url(ResponseType.CODE, "s2")
    async with session.get(url, allow_redirects=False) as response:
        grant = grant_from_redirect(response.headers["Location"])

    tokens = await client.exchange_code(grant.code or "")

    assert grant.state == "s2"
    assert tokens.account_username == "alice"


async def test_token_redirect_carries_working_tokens(
    client: ImgurClient, session: aiohttp.ClientSession
) -> None:
    url = client.authorize_url(ResponseType.TOKEN, "s3")
    async with session.get(url, allow_redirects=False) as response:
        grant = grant_from_redirect(response.headers["Location"])

    assert grant.state == "s3"
    assert grant.tokens is not None
    account = await client.account(grant.tokens.access_token)
    assert account.username == grant.tokens.account_username == "alice"


async def test_denied_authorization_redirects_with_access_denied(
    fake: FakeImgur, client: ImgurClient, session: aiohttp.ClientSession
) -> None:
    fake.deny_next_authorize = True
    url = client.authorize_url(ResponseType.CODE, "s4")
    async with session.get(url, allow_redirects=False) as response:
        grant = grant_from_redirect(response.headers["Location"])

    assert (grant.error, grant.state, grant.code) == ("access_denied", "s4", None)


async def test_authorize_with_unknown_client_id_is_refused(
    fake: FakeImgur, session: aiohttp.ClientSession
) -> None:
    other = imgur_client(session, fake, client_id="0123456789abcde", client_secret="x")
    async with session.get(other.authorize_url(ResponseType.PIN, "s")) as response:
        assert response.status == 400


async def test_pin_works_only_once(fake: FakeImgur, client: ImgurClient) -> None:
    pin = fake.issue_pin("alice")
    await client.exchange_pin(pin)

    with pytest.raises(InvalidGrant):
        await client.exchange_pin(pin)


async def test_code_works_only_once(fake: FakeImgur, client: ImgurClient) -> None:
    code = fake.issue_code("alice")
    await client.exchange_code(code)

    with pytest.raises(InvalidGrant):
        await client.exchange_code(code)


async def test_refresh_returns_a_new_access_token_and_rotated_refresh_token(
    client: ImgurClient, alice_tokens: dict[str, Any]
) -> None:
    tokens = await client.refresh(alice_tokens["refresh_token"])

    assert tokens.access_token != alice_tokens["access_token"]
    assert tokens.refresh_token not in (None, alice_tokens["refresh_token"])


async def test_rotated_refresh_token_dies_after_use(
    client: ImgurClient, alice_tokens: dict[str, Any]
) -> None:
    await client.refresh(alice_tokens["refresh_token"])

    with pytest.raises(InvalidGrant):
        await client.refresh(alice_tokens["refresh_token"])


async def test_refresh_without_rotation_keeps_the_refresh_token(
    fake: FakeImgur, client: ImgurClient, alice_tokens: dict[str, Any]
) -> None:
    fake.rotate_refresh_tokens = False

    first = await client.refresh(alice_tokens["refresh_token"])
    second = await client.refresh(alice_tokens["refresh_token"])

    assert first.refresh_token == second.refresh_token == alice_tokens["refresh_token"]


async def test_refresh_of_a_revoked_link_is_an_invalid_grant(
    fake: FakeImgur, client: ImgurClient, alice_tokens: dict[str, Any]
) -> None:
    fake.revoke("alice")

    with pytest.raises(InvalidGrant):
        await client.refresh(alice_tokens["refresh_token"])


async def test_long_expires_in_is_kept_as_given(fake: FakeImgur, client: ImgurClient) -> None:
    fake.expires_in = 315_360_000

    tokens = await client.exchange_pin(fake.issue_pin("alice"))

    assert tokens.expires_in == 315_360_000
    assert tokens.expires_at().year >= time.gmtime().tm_year + 9


async def test_wrong_client_secret_is_a_request_failure_not_a_dead_grant(
    fake: FakeImgur, session: aiohttp.ClientSession, alice_tokens: dict[str, Any]
) -> None:
    wrong = imgur_client(session, fake, client_secret="f" * 40)

    with pytest.raises(ImgurRequestFailed) as caught:
        await wrong.refresh(alice_tokens["refresh_token"])
    assert not isinstance(caught.value, InvalidGrant)


@pytest.mark.parametrize("failure", [Failure.INVALID_REFRESH_TOKEN, Failure.REFRESH_TOKEN_UNKNOWN])
async def test_both_dead_refresh_token_wordings_are_invalid_grant(
    fake: FakeImgur, client: ImgurClient, alice_tokens: dict[str, Any], failure: Failure
) -> None:
    fake.fail("token", failure)

    with pytest.raises(InvalidGrant) as caught:
        await client.refresh(alice_tokens["refresh_token"])
    assert caught.value.status == 400


async def test_invalid_pin_is_invalid_grant(fake: FakeImgur, client: ImgurClient) -> None:
    fake.fail("token", Failure.INVALID_PIN)

    with pytest.raises(InvalidGrant):
        await client.exchange_pin(fake.issue_pin("alice"))


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (Failure.SERVER_ERROR, ImgurUnavailable),
        (Failure.BAD_GATEWAY, ImgurUnavailable),
        (Failure.OVER_CAPACITY, ImgurUnavailable),
        (Failure.HTML_BODY, ImgurUnavailable),
        (Failure.EMPTY_BODY, ImgurUnavailable),
        (Failure.RATE_LIMITED, RateLimited),
        (Failure.RATE_LIMITED_ERRORS, RateLimited),
        (Failure.ERROR_AS_OBJECT, ImgurRequestFailed),
    ],
)
async def test_token_post_failure_is_mapped_and_never_retried(
    fake: FakeImgur,
    client: ImgurClient,
    alice_tokens: dict[str, Any],
    failure: Failure,
    error: type[Exception],
) -> None:
    fake.fail("token", failure, times=3)

    with pytest.raises(error):
        await client.refresh(alice_tokens["refresh_token"])
    assert fake.count("token") == 1


async def test_hanging_token_post_times_out_once_without_retry(
    fake: FakeImgur, session: aiohttp.ClientSession, alice_tokens: dict[str, Any]
) -> None:
    client = imgur_client(session, fake, timeout=0.2)
    fake.fail("token", Failure.HANG, times=3)

    with pytest.raises(ImgurUnavailable):
        await client.refresh(alice_tokens["refresh_token"])
    assert fake.count("token") == 1


async def test_refresh_succeeds_after_a_temporary_failure(
    fake: FakeImgur, client: ImgurClient, alice_tokens: dict[str, Any]
) -> None:
    fake.fail("token", Failure.SERVER_ERROR)
    with pytest.raises(ImgurUnavailable):
        await client.refresh(alice_tokens["refresh_token"])

    tokens = await client.refresh(alice_tokens["refresh_token"])

    assert tokens.account_username == "alice"


async def test_a_refresh_refused_in_other_words_does_not_count_as_a_dead_token(fake, client):
    from bot.imgur import ImgurRequestFailed
    from tests.fakes.imgur import Failure

    tokens = fake.issue_tokens("alice")
    fake.fail("token", Failure.INVALID_PIN)  # a 400 grant refusal that is not about refreshing
    with pytest.raises(ImgurRequestFailed):
        await client.refresh(tokens["refresh_token"])
