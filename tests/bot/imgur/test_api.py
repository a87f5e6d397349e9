"""ImgurClient's API calls against FakeImgur: account, favorites, rate limits, retries, failures."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import pytest

from bot.imgur import (
    FavoriteAlbum,
    FavoriteImage,
    ImgurClient,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    RateLimited,
    Sort,
)
from tests.clients import imgur_client
from tests.fakes.imgur import Failure, FakeImgur
from tests.waiting import RecordedSleeps, eventually


@pytest.fixture
def token(alice_tokens: dict[str, Any]) -> str:
    return str(alice_tokens["access_token"])


# --- account -------------------------------------------------------------------------------


async def test_account_is_the_token_owner(fake: FakeImgur, client: ImgurClient, token: str) -> None:
    account = await client.account(token)

    assert (account.id, account.username) == (fake.account("alice").id, "alice")
    assert account.avatar is not None
    assert account.avatar.startswith("https://")


async def test_account_request_sends_the_bearer_token(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    await client.account(token)

    assert fake.requests[-1].headers["Authorization"] == f"Bearer {token}"


async def test_expired_access_token_is_invalid_access_token(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.expire_access_tokens("alice")

    with pytest.raises(InvalidAccessToken) as caught:
        await client.account(token)
    assert caught.value.status == 403


async def test_invalid_access_token_is_not_retried(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.expire_access_tokens("alice")

    with pytest.raises(InvalidAccessToken):
        await client.account(token)
    assert fake.count("account") == 1


# --- favorites -----------------------------------------------------------------------------


async def test_first_page_holds_page_size_favorites_newest_first(
    client: ImgurClient, token: str
) -> None:
    favorites = await client.favorites(token)

    assert len(favorites) == 60
    stamps = [item.datetime for item in favorites]
    assert stamps == sorted(stamps, key=lambda stamp: stamp or 0, reverse=True)


async def test_last_page_holds_the_remainder(client: ImgurClient, token: str) -> None:
    assert len(await client.favorites(token, page=2)) == 10


async def test_page_past_the_end_is_empty(client: ImgurClient, token: str) -> None:
    assert await client.favorites(token, page=3) == []


async def test_oldest_sort_reverses_the_order(client: ImgurClient, token: str) -> None:
    newest = await client.favorites(token, page=2, sort=Sort.NEWEST)
    oldest = await client.favorites(token, page=0, sort=Sort.OLDEST)

    assert [item.id for item in oldest[:10]] == [item.id for item in reversed(newest)]


async def test_favorites_request_path_names_page_and_sort(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    await client.favorites(token, page=1, sort=Sort.OLDEST)

    assert fake.requests[-1].path == "/3/account/me/favorites/1/oldest"


async def test_own_username_reads_own_favorites(client: ImgurClient, token: str) -> None:
    assert len(await client.favorites(token, username="alice")) == 60


async def test_another_members_favorites_are_refused(client: ImgurClient, token: str) -> None:
    with pytest.raises(ImgurRequestFailed) as caught:
        await client.favorites(token, username="bob")
    assert caught.value.status == 403


async def test_negative_page_is_rejected_before_any_request(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    with pytest.raises(ValueError, match="page"):
        await client.favorites(token, page=-1)
    assert fake.count("favorites") == 0


async def test_every_generated_favorite_shape_parses(fake: FakeImgur, client: ImgurClient) -> None:
    fake.add_account("carol", favorites=8)
    favorites = await client.favorites(fake.issue_tokens("carol")["access_token"])

    assert [type(item).__name__ for item in favorites] == [
        "FavoriteImage",
        "FavoriteImage",
        "FavoriteAlbum",
        "FavoriteImage",
        "FavoriteImage",
        "FavoriteAlbum",
        "FavoriteImage",
        "FavoriteImage",
    ]


async def test_animated_favorite_keeps_its_video_links(
    fake: FakeImgur, client: ImgurClient
) -> None:
    fake.add_account("carol", favorites=8)
    favorites = await client.favorites(fake.issue_tokens("carol")["access_token"])

    gif = favorites[1]
    assert isinstance(gif, FavoriteImage)
    assert gif.animated
    assert gif.mime_type == "image/gif"
    assert gif.mp4 == f"https://i.imgur.com/{gif.id}.mp4"


async def test_album_favorite_has_a_cover_and_count_but_no_images(
    fake: FakeImgur, client: ImgurClient
) -> None:
    fake.add_account("carol", favorites=8)
    favorites = await client.favorites(fake.issue_tokens("carol")["access_token"])

    album = favorites[2]
    assert isinstance(album, FavoriteAlbum)
    assert album.cover_url("m") == f"https://i.imgur.com/{album.cover}m.jpg"
    assert album.images_count is not None
    assert album.images_count >= 2


async def test_null_fields_become_none(fake: FakeImgur, client: ImgurClient) -> None:
    fake.add_account("carol", favorites=8)
    favorites = await client.favorites(fake.issue_tokens("carol")["access_token"])

    nulls_image, nulls_album = favorites[3], favorites[5]
    assert (nulls_image.title, nulls_image.nsfw, nulls_image.views) == (None, None, None)
    assert isinstance(nulls_album, FavoriteAlbum)
    assert (nulls_album.title, nulls_album.cover_width) == (None, None)


async def test_http_links_are_upgraded_to_https(fake: FakeImgur, client: ImgurClient) -> None:
    fake.add_account("carol", favorites=8)
    favorites = await client.favorites(fake.issue_tokens("carol")["access_token"])

    old = favorites[7]
    assert isinstance(old, FavoriteImage)
    assert [old.link[:8], (old.gifv or "")[:8], (old.mp4 or "")[:8]] == ["https://"] * 3


async def test_nsfw_flag_is_kept(fake: FakeImgur, client: ImgurClient) -> None:
    fake.add_account("carol", favorites=8)
    favorites = await client.favorites(fake.issue_tokens("carol")["access_token"])

    assert [item.nsfw for item in favorites] == [
        False,
        False,
        False,
        None,
        False,
        None,
        True,
        False,
    ]


async def test_malformed_items_are_skipped_and_the_rest_kept(
    fake: FakeImgur, client: ImgurClient, caplog: pytest.LogCaptureFixture
) -> None:
    good = fake.account("bob").favorites
    fake.add_account(
        "carol",
        favorites=[
            good[0],
            "not an object",
            {"id": None, "is_album": False, "link": "https://i.imgur.com/x.jpg"},
            {"id": "NoLink1", "is_album": False, "link": None},
            good[1],
        ],
    )
    caplog.set_level("DEBUG", logger="bot.imgur")

    favorites = await client.favorites(fake.issue_tokens("carol")["access_token"])

    assert [item.id for item in favorites] == [good[0]["id"], good[1]["id"]]
    assert sum("skipping favorite" in record.message for record in caplog.records) == 3


# --- rate limits ---------------------------------------------------------------------------


async def test_rate_limit_headers_of_the_last_response_are_kept(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    await client.account(token)
    await client.favorites(token)

    assert client.rate_limit is not None
    assert client.rate_limit.user_remaining == fake.user_remaining == 1998
    assert client.rate_limit.client_limit == 12_500
    assert client.rate_limit.user_reset == fake.user_reset


async def test_rate_limit_is_none_before_any_api_response(client: ImgurClient) -> None:
    assert client.rate_limit is None


async def test_rate_limited_in_data_envelope_carries_reset_time(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.user_reset = int(time.time()) + 120
    fake.fail("account", Failure.RATE_LIMITED)

    with pytest.raises(RateLimited) as caught:
        await client.account(token)
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120
    assert "User request limit exceeded" in caught.value.message


async def test_rate_limited_in_errors_envelope_without_headers_has_no_retry_after(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.fail("favorites", Failure.RATE_LIMITED_ERRORS)

    with pytest.raises(RateLimited) as caught:
        await client.favorites(token)
    assert caught.value.retry_after is None
    assert "Too Many Requests" in caught.value.message


@pytest.mark.parametrize("failure", [Failure.RATE_LIMITED, Failure.RATE_LIMITED_ERRORS])
async def test_retry_after_header_wins(
    fake: FakeImgur, client: ImgurClient, token: str, failure: Failure
) -> None:
    fake.retry_after = 30
    fake.fail("account", failure)

    with pytest.raises(RateLimited) as caught:
        await client.account(token)
    assert caught.value.retry_after == 30


async def test_rate_limited_is_not_retried(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.fail("account", Failure.RATE_LIMITED, times=3)

    with pytest.raises(RateLimited):
        await client.account(token)
    assert fake.count("account") == 1


async def test_rate_limited_answer_updates_the_rate_limit(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.fail("account", Failure.RATE_LIMITED)

    with pytest.raises(RateLimited):
        await client.account(token)
    assert client.rate_limit is not None
    assert client.rate_limit.user_remaining == 0


# --- failures and retries ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        (Failure.SERVER_ERROR, ImgurUnavailable),
        (Failure.BAD_GATEWAY, ImgurUnavailable),
        (Failure.HTML_BODY, ImgurUnavailable),
        (Failure.EMPTY_BODY, ImgurUnavailable),
        (Failure.OVER_CAPACITY, ImgurUnavailable),
        (Failure.INVALID_ACCESS_TOKEN, InvalidAccessToken),
        (Failure.UNAUTHORIZED, InvalidAccessToken),
        (Failure.ERROR_AS_OBJECT, ImgurRequestFailed),
        (Failure.RATE_LIMITED, RateLimited),
        (Failure.RATE_LIMITED_ERRORS, RateLimited),
    ],
)
@pytest.mark.parametrize("route", ["account", "favorites"])
async def test_failure_maps_to_its_exception(
    fake: FakeImgur,
    client: ImgurClient,
    token: str,
    route: str,
    failure: Failure,
    error: type[Exception],
) -> None:
    fake.fail(route, failure, times=3)

    with pytest.raises(error):
        await (client.account(token) if route == "account" else client.favorites(token))


async def test_error_object_message_is_used(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.fail("account", Failure.ERROR_AS_OBJECT)

    with pytest.raises(ImgurRequestFailed, match="Unable to process the request"):
        await client.account(token)


@pytest.mark.parametrize(
    ("failure", "max_retries", "attempts", "says"),
    [
        # A 5xx is retried max_retries times, then given up on.
        (Failure.SERVER_ERROR, 2, 3, None),
        (Failure.BAD_GATEWAY, 2, 3, None),
        (Failure.SERVER_ERROR, 0, 1, None),
        # Other unavailability is not retried.
        (Failure.OVER_CAPACITY, 2, 1, None),
        (Failure.HTML_BODY, 2, 1, None),
        (Failure.EMPTY_BODY, 2, 1, None),
        # A hang (until the fake stops) is ended by the timeout, on every attempt.
        (Failure.HANG, 0, 1, "in time"),
        (Failure.HANG, 2, 3, "in time"),
    ],
)
async def test_unavailability_is_retried_only_for_5xx_and_hangs(
    fake: FakeImgur,
    session: aiohttp.ClientSession,
    token: str,
    failure: Failure,
    max_retries: int,
    attempts: int,
    says: str | None,
) -> None:
    client = imgur_client(session, fake, timeout=0.2, max_retries=max_retries)
    fake.fail("account", failure, times=5)

    with pytest.raises(ImgurUnavailable, match=says):
        await asyncio.wait_for(client.account(token), 10)
    assert fake.count("account") == attempts


async def test_one_server_error_is_absorbed_by_a_retry(
    fake: FakeImgur, client: ImgurClient, token: str
) -> None:
    fake.fail("account", Failure.SERVER_ERROR)

    account = await client.account(token)

    assert account.username == "alice"
    assert fake.count("account") == 2


class ScriptedDraws:
    """The client's ``jitter``: the scripted draws, in order."""

    def __init__(self, draws: list[float]) -> None:
        self._draws = list(draws)

    def __call__(self) -> float:
        return self._draws.pop(0)


async def test_retries_back_off_exponentially_with_jitter(
    fake: FakeImgur, session: aiohttp.ClientSession, token: str
) -> None:
    base = 0.25
    draws = {"lowest": [0.0] * 3, "highest": [0.999] * 3, "mixed": [0.9, 0.1, 0.5]}
    delays: dict[str, list[float]] = {}
    for name, script in draws.items():
        sleeps = RecordedSleeps()
        client = imgur_client(
            session,
            fake,
            timeout=0.2,
            max_retries=3,
            retry_backoff=base,
            sleep=sleeps,
            jitter=ScriptedDraws(script),
        )
        fake.fail("account", Failure.SERVER_ERROR, times=3)

        account = await asyncio.wait_for(client.account(token), 10)

        assert account.username == "alice"
        delays[name] = list(sleeps.delays)

    assert fake.count("account") == 3 * 4  # three retries each time
    for name, run in delays.items():  # retry n+1 waits base × 2ⁿ, jittered by ±50 %
        expected = [base * 2**n * (0.5 + draw) for n, draw in enumerate(draws[name])]
        assert run == pytest.approx(expected), name
    # The jitter moves every delay: callers that failed together do not retry together.
    for n in range(3):
        assert len({run[n] for run in delays.values()}) == 3, delays


async def test_hang_is_retried_and_the_retry_answers(
    fake: FakeImgur, session: aiohttp.ClientSession, token: str
) -> None:
    client = imgur_client(session, fake, timeout=0.2, max_retries=2)
    fake.fail("favorites", Failure.HANG)

    favorites = await asyncio.wait_for(client.favorites(token), 10)

    assert len(favorites) == 60
    assert fake.count("favorites") == 2


async def test_unreachable_imgur_is_unavailable(
    session: aiohttp.ClientSession, alice_tokens: dict[str, Any]
) -> None:
    async with FakeImgur() as gone:
        base_url = gone.base_url
    client = imgur_client(session, base_url)

    with pytest.raises(ImgurUnavailable, match="Could not reach Imgur"):
        await client.account(alice_tokens["access_token"])


async def test_latency_delays_answers(
    fake: FakeImgur, session: aiohttp.ClientSession, token: str
) -> None:
    client = imgur_client(session, fake, timeout=10.0, max_retries=0)
    fake.latency = 1.0
    call = asyncio.create_task(client.account(token))
    try:
        # Recorded before the delay.
        await eventually(lambda: fake.count("account") == 1, 10, "the request at the fake")
        with pytest.raises(TimeoutError):  # not answered yet: the fake holds it
            await asyncio.wait_for(asyncio.shield(call), 0.2)
        account = await asyncio.wait_for(call, 10)
    finally:
        call.cancel()
        await asyncio.gather(call, return_exceptions=True)

    assert account.username == "alice"
    assert fake.count("account") == 1
