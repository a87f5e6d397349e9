"""The calls that need only the client id: public profiles and gallery favorites, against
FakeImgur's public endpoints (which refuse a missing or wrong client id as Imgur does)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.imgur import (
    ImgurClient,
    ImgurNotFound,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidClientId,
    RateLimited,
    Sort,
)
from tests.clients import imgur_client
from tests.fakes.imgur import Failure, FakeImgur
from tests.fakes.imgur_data import make_favorites


async def raw_get(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> tuple[int, Any]:
    async with session.get(url, headers=headers) as response:
        return response.status, await response.json()


# --- the fake answers like Imgur -----------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "error"),
    [
        ({}, 401, "Authentication required"),
        ({"Authorization": "Client-ID nope"}, 403, "Invalid client_id"),
        ({"Authorization": "Token abc"}, 403, "Malformed auth header"),
    ],
)
async def test_public_endpoints_refuse_a_missing_or_wrong_client_id(
    fake: FakeImgur,
    session: aiohttp.ClientSession,
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    for path in ("/3/account/alice", "/3/account/alice/gallery_favorites/0/newest"):
        got, body = await raw_get(session, fake.base_url + path, headers)
        assert (got, body["success"], body["status"], body["data"]["error"]) == (
            status,
            False,
            status,
            error,
        )
        assert body["data"]["request"] == path


async def test_unknown_user_is_404_in_imgurs_envelope(
    fake: FakeImgur, session: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": f"Client-ID {fake.client_id}"}
    status, body = await raw_get(session, fake.base_url + "/3/account/nobody_here", headers)
    assert status == 404
    assert body == {
        "data": {
            "error": "Unable to find account",
            "request": "/3/account/nobody_here",
            "method": "GET",
        },
        "success": False,
        "status": 404,
    }


async def test_bio_is_a_string_or_null(fake: FakeImgur, session: aiohttp.ClientSession) -> None:
    fake.account("alice").bio = "hello there"
    headers = {"Authorization": f"Client-ID {fake.client_id}"}
    _, alice = await raw_get(session, fake.base_url + "/3/account/alice", headers)
    _, bob = await raw_get(session, fake.base_url + "/3/account/bob", headers)
    assert alice["data"]["bio"] == "hello there"
    assert bob["data"]["bio"] is None
    assert {"id", "url", "avatar", "reputation", "created", "user_follow"} <= set(bob["data"])


def test_account_names_are_unique_whatever_their_case(fake: FakeImgur) -> None:
    with pytest.raises(ValueError, match="already"):
        fake.add_account("ALICE")


# --- account_by_name / account_by_id ---------------------------------------------------------


async def test_account_by_name_sends_the_client_id_and_reads_the_bio(
    fake: FakeImgur, client: ImgurClient
) -> None:
    fake.account("alice").bio = "I like cats. imgur-link-7KQ2-M9XD"
    account = await client.account_by_name("alice")
    assert (account.id, account.username) == (fake.account("alice").id, "alice")
    assert account.bio == "I like cats. imgur-link-7KQ2-M9XD"
    assert "imgur-link" not in repr(account)
    request = fake.requests[-1]
    assert (request.route, request.path) == ("public_account", "/3/account/alice")
    assert request.headers["Authorization"] == f"Client-ID {fake.client_id}"


async def test_an_empty_bio_is_none(client: ImgurClient) -> None:
    assert (await client.account_by_name("bob")).bio is None


async def test_names_are_case_insensitive_and_come_back_in_imgurs_capitalisation(
    fake: FakeImgur, client: ImgurClient
) -> None:
    fake.add_account("MixedCase")
    account = await client.account_by_name("mixedcase")
    assert account.username == "MixedCase"


async def test_account_by_name_of_an_unknown_user_is_not_found(client: ImgurClient) -> None:
    with pytest.raises(ImgurNotFound) as caught:
        await client.account_by_name("nobody_here")
    assert caught.value.status == 404
    assert isinstance(caught.value, ImgurRequestFailed)


async def test_account_by_id_follows_a_rename(fake: FakeImgur, client: ImgurClient) -> None:
    account_id = fake.account("alice").id
    fake.rename("alice", "alice2026")
    with pytest.raises(ImgurNotFound):
        await client.account_by_name("alice")
    found = await client.account_by_id(account_id, "alice")
    assert (found.id, found.username) == (account_id, "alice2026")
    request = fake.requests[-1]
    assert (request.path, request.query) == ("/3/account/alice", {"account_id": str(account_id)})


async def test_a_deleted_account_is_not_found_by_name_or_id(
    fake: FakeImgur, client: ImgurClient
) -> None:
    account_id = fake.account("bob").id
    fake.delete_account("bob")
    with pytest.raises(ImgurNotFound):
        await client.account_by_id(account_id, "bob")
    with pytest.raises(ImgurNotFound):
        await client.account_by_name("bob")


@pytest.mark.parametrize("client_id", ["wrong-id", ""])
async def test_a_refused_client_id_is_invalid_client_id_and_never_logged(
    fake: FakeImgur,
    session: aiohttp.ClientSession,
    client_id: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = imgur_client(session, fake, client_id=client_id, client_secret="")
    with pytest.raises(InvalidClientId) as caught:
        await client.account_by_name("alice")
    assert caught.value.status == 403  # a Client-ID header was sent: Imgur says 403, not 401
    assert fake.count("public_account") == 1  # not retried
    if client_id:
        assert client_id not in caplog.text
        assert client_id not in str(caught.value)


async def test_public_calls_retry_a_5xx_and_report_a_429(
    fake: FakeImgur, client: ImgurClient
) -> None:
    fake.fail("public_account", Failure.SERVER_ERROR)
    assert (await client.account_by_name("alice")).username == "alice"
    assert fake.count("public_account") == 2
    fake.fail("public_account", Failure.RATE_LIMITED)
    with pytest.raises(RateLimited):
        await client.account_by_name("alice")
    fake.fail("public_account", Failure.OVER_CAPACITY, times=3)
    with pytest.raises(ImgurUnavailable):
        await client.account_by_name("alice")


async def test_an_account_without_id_is_unavailable_not_a_crash(
    fake: FakeImgur, client: ImgurClient
) -> None:
    fake.fail("public_account", Failure.HTML_BODY, times=3)
    with pytest.raises(ImgurUnavailable):
        await client.account_by_name("alice")


# --- gallery_favorites -----------------------------------------------------------------------


async def test_gallery_favorites_page_with_the_client_id(
    fake: FakeImgur, client: ImgurClient
) -> None:
    first = await client.gallery_favorites("alice")
    second = await client.gallery_favorites("alice", page=1)
    last = await client.gallery_favorites("alice", page=2)
    past = await client.gallery_favorites("alice", page=3)
    assert [len(first), len(second), len(last), len(past)] == [60, 60, 10, 0]
    assert {item.id for item in first}.isdisjoint(item.id for item in second)
    request = fake.requests[-1]
    assert (request.route, request.path) == (
        "gallery_favorites",
        "/3/account/alice/gallery_favorites/3/newest",
    )
    assert request.headers["Authorization"] == f"Client-ID {fake.client_id}"


async def test_gallery_favorites_sort_and_leave_out_what_is_not_in_the_gallery(
    fake: FakeImgur, client: ImgurClient
) -> None:
    items = make_favorites(6, "carol")
    items[1]["in_gallery"] = False
    fake.add_account("carol", favorites=items)
    newest = await client.gallery_favorites("Carol", sort=Sort.NEWEST)
    oldest = await client.gallery_favorites("carol", sort=Sort.OLDEST)
    expected = [item["id"] for item in items if item.get("in_gallery") is not False]
    assert [item.id for item in newest] == expected
    assert [item.id for item in oldest] == expected[::-1]
    assert fake.requests[-1].path.endswith("/gallery_favorites/0/oldest")


async def test_gallery_favorites_of_an_unknown_user_is_not_found(client: ImgurClient) -> None:
    with pytest.raises(ImgurNotFound):
        await client.gallery_favorites("nobody_here")


async def test_gallery_favorites_refuse_a_negative_page(client: ImgurClient) -> None:
    with pytest.raises(ValueError, match="page"):
        await client.gallery_favorites("alice", page=-1)


async def test_usernames_are_quoted_into_the_path(fake: FakeImgur, client: ImgurClient) -> None:
    with pytest.raises(ImgurNotFound):
        await client.account_by_name("../me")
    # one path segment, never /3/account/me (which would have asked for a Bearer token)
    assert (fake.requests[-1].route, fake.requests[-1].path) == (
        "public_account",
        "/3/account/../me",
    )


async def test_the_authorize_page_can_answer_error_1024(
    fake: FakeImgur, client: ImgurClient, session: aiohttp.ClientSession
) -> None:
    fake.authorize_error_1024 = True
    async with session.get(client.authorize_url("pin", "s" * 43)) as response:  # type: ignore[arg-type]
        page = await response.text()
    assert "Error (1024)" in page
    assert "There was an error (code: 1024) retrieving the page" in page
    assert 'id="pin"' not in page


async def test_log_lines_of_public_calls_name_no_imgur_username(
    fake: FakeImgur, client: ImgurClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="bot.imgur")
    fake.add_account("Secret_Name_42")
    fake.fail("gallery_favorites", Failure.SERVER_ERROR, times=3)
    with pytest.raises(ImgurUnavailable):
        await client.gallery_favorites("Secret_Name_42")
    with pytest.raises(ImgurNotFound):
        await client.account_by_name("Another_Name_43")
    fake.fail("public_account", Failure.SERVER_ERROR)
    await client.account_by_id(fake.account("Secret_Name_42").id, "Secret_Name_42")
    assert "/3/account/{username}/gallery_favorites/0/newest" in caplog.text
    assert "Secret_Name_42" not in caplog.text
    assert "Another_Name_43" not in caplog.text
