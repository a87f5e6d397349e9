"""No token, PIN, code, state or client secret in a repr, an exception or a log line."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import pytest

from bot.imgur import (
    ImgurClient,
    ImgurError,
    ResponseType,
    Tokens,
    error_from_response,
    grant_from_redirect,
)
from tests.clients import imgur_client
from tests.fakes.imgur import Failure, FakeImgur
from tests.fakes.imgur_data import error_envelope

ACCESS = "4f3c1a9b8e7d6c5b4a39281706f5e4d3c2b1a098"
REFRESH = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
CODE = "0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d"
STATE = "c0ffee0c0ffee0c0ffee0c0ffee0c0ffee0c0ffe"


def test_tokens_repr_and_str_hide_both_tokens() -> None:
    tokens = Tokens(access_token=ACCESS, refresh_token=REFRESH, expires_in=3600)

    for text in (repr(tokens), str(tokens)):
        assert ACCESS not in text
        assert REFRESH not in text


def test_redirect_grant_repr_hides_code_state_and_tokens() -> None:
    code_grant = grant_from_redirect(f"https://x/cb?code={CODE}&state={STATE}")
    token_grant = grant_from_redirect(
        f"https://x/cb?state={STATE}#access_token={ACCESS}&expires_in=1&refresh_token={REFRESH}"
    )

    text = repr(code_grant) + str(code_grant) + repr(token_grant) + str(token_grant)

    assert not [secret for secret in (CODE, STATE, ACCESS, REFRESH) if secret in text]


async def test_client_repr_hides_the_client_secret(session: aiohttp.ClientSession) -> None:
    client = imgur_client(session, client_id="0123456789abcde", client_secret=REFRESH)

    assert REFRESH not in repr(client)


def test_secret_echoed_by_imgur_is_redacted_from_the_message() -> None:
    payload = error_envelope(400, f"Invalid refresh token {REFRESH}")

    error = error_from_response(400, payload, {}, token_endpoint=True, secrets=(REFRESH,))

    assert REFRESH not in str(error)
    assert REFRESH not in repr(error)
    assert "[redacted]" in error.message


async def test_client_redacts_a_pin_echoed_by_imgur(fake: FakeImgur, client: ImgurClient) -> None:
    pin = fake.issue_pin("alice")
    fake.fail("token", Failure.INVALID_PIN, message=f"Invalid Pin {pin}")

    with pytest.raises(ImgurError) as caught:
        await client.exchange_pin(pin)

    assert pin not in str(caught.value)
    assert pin not in repr(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        Failure.INVALID_REFRESH_TOKEN,
        Failure.SERVER_ERROR,
        Failure.HTML_BODY,
        Failure.RATE_LIMITED,
        Failure.ERROR_AS_OBJECT,
    ],
)
async def test_refresh_failures_carry_no_secret(
    fake: FakeImgur, client: ImgurClient, alice_tokens: dict[str, Any], failure: Failure
) -> None:
    fake.fail("token", failure)

    with pytest.raises(ImgurError) as caught:
        await client.refresh(alice_tokens["refresh_token"])

    text = str(caught.value) + repr(caught.value) + repr(caught.value.args)
    assert alice_tokens["refresh_token"] not in text
    assert fake.client_secret not in text
    assert caught.value.__cause__ is None


async def test_logs_of_a_whole_session_carry_no_secret(
    fake: FakeImgur,
    session: aiohttp.ClientSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = imgur_client(session, fake, timeout=0.2)
    url = client.authorize_url(ResponseType.PIN, STATE)
    async with session.get(url) as response:
        pin = FakeImgur.pin_from_page(await response.text())
    tokens = await client.exchange_pin(pin)
    assert tokens.refresh_token is not None
    fake.fail("account", Failure.SERVER_ERROR, times=3)
    fake.fail("favorites", Failure.HANG, times=3)
    fake.fail("token", Failure.INVALID_REFRESH_TOKEN)
    for call in (
        client.account(tokens.access_token),
        client.favorites(tokens.access_token),
        client.refresh(tokens.refresh_token),
        client.exchange_pin(pin),
    ):
        with pytest.raises(ImgurError):
            await call

    secrets = {STATE, pin, tokens.access_token, tokens.refresh_token, fake.client_secret}
    assert not [secret for secret in secrets if secret in caplog.text]
    assert caplog.records, "the failures should have been logged"
