"""Pure parsing and error mapping: payload dicts in, values or exceptions out."""

from __future__ import annotations

import pytest

from bot.imgur import (
    FavoriteAlbum,
    FavoriteImage,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidGrant,
    RateLimited,
    error_from_response,
    retry_after,
)
from bot.imgur.parse import (
    error_text,
    parse_account,
    parse_favorite,
    parse_favorites,
    parse_rate_limit,
    parse_tokens,
)
from tests.fakes.imgur_data import error_envelope, errors_envelope_429

NOT_JSON = object()  # stands for a body that did not decode


# --- tokens and account --------------------------------------------------------------------


def test_token_payload_without_scope_and_account_id_parses() -> None:
    tokens = parse_tokens({"access_token": "a" * 40, "expires_in": 3600, "token_type": "Bearer"})

    assert (tokens.expires_in, tokens.account_id, tokens.refresh_token) == (3600, None, None)
    assert tokens.token_type == "Bearer"


def test_token_payload_with_string_numbers_parses() -> None:
    tokens = parse_tokens({"access_token": "a", "expires_in": "2419200", "account_id": "77"})

    assert (tokens.expires_in, tokens.account_id) == (2_419_200, 77)


@pytest.mark.parametrize(
    "payload",
    [{}, {"access_token": "a"}, {"expires_in": 3600}, {"access_token": None, "expires_in": 1}, []],
)
def test_token_payload_without_access_token_or_lifetime_is_refused(payload: object) -> None:
    with pytest.raises(ValueError, match="token response"):
        parse_tokens(payload)


def test_account_ignores_unknown_fields_and_nulls() -> None:
    account = parse_account(
        {"id": 5, "url": "alice", "bio": None, "avatar": None, "reputation": None, "new": {}}
    )

    assert (account.id, account.username, account.avatar, account.reputation) == (
        5,
        "alice",
        None,
        None,
    )


def test_account_without_username_is_refused() -> None:
    with pytest.raises(ValueError, match="account"):
        parse_account({"id": 5, "url": None})


# --- favorites -----------------------------------------------------------------------------


def test_image_item_with_only_id_and_link_parses() -> None:
    item = parse_favorite({"id": "abc", "link": "https://i.imgur.com/abc.png"})

    assert item == FavoriteImage(
        id="abc", title=None, description=None, link="https://i.imgur.com/abc.png"
    )


def test_album_without_link_falls_back_to_its_page() -> None:
    item = parse_favorite({"id": "AlB", "is_album": True, "link": None, "cover": None})

    assert isinstance(item, FavoriteAlbum)
    assert item.link == "https://imgur.com/a/AlB"
    assert item.cover_url() is None


def test_odd_field_types_become_none() -> None:
    item = parse_favorite(
        {
            "id": "abc",
            "link": "//i.imgur.com/abc.jpg",
            "title": 12,
            "views": "many",
            "ups": True,
            "nsfw": "yes",
            "width": 640.0,
        }
    )

    assert isinstance(item, FavoriteImage)
    assert (item.title, item.views, item.ups, item.nsfw, item.width) == (
        None,
        None,
        None,
        None,
        640,
    )
    assert item.link == "https://i.imgur.com/abc.jpg"


def test_nsfw_as_zero_or_one_is_a_bool() -> None:
    flags = [
        parse_favorite({"id": "a", "link": "https://x/a.jpg", "nsfw": value}).nsfw
        for value in (0, 1)
    ]

    assert flags == [False, True]


def test_favorites_that_are_not_a_list_are_refused() -> None:
    with pytest.raises(ValueError, match="not a list"):
        parse_favorites({"error": "nope"})


# --- error text ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        (error_envelope(400, "Invalid Pin", "/oauth2/token", "POST"), "Invalid Pin"),
        (error_envelope(403, "Unauthorized"), "Unauthorized"),
        (error_envelope(400, {"code": 1, "message": "Bad  thing\nhappened"}), "Bad thing happened"),
        (error_envelope(400, {"code": 1003}), "1003"),
        (errors_envelope_429(), "Too Many Requests"),
        ({"errors": [{"code": "429", "status": "Too Many Requests"}]}, "Too Many Requests"),
        ({"data": {"error": None}}, None),
        ({"data": []}, None),
        ("<html>", None),
    ],
)
def test_error_text_reads_every_envelope(payload: object, text: str | None) -> None:
    assert error_text(payload) == text


def test_error_text_is_shortened() -> None:
    text = error_text(error_envelope(400, "x" * 5000))

    assert text is not None
    assert len(text) <= 200


# --- error mapping -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "payload", "token_endpoint", "error"),
    [
        (400, error_envelope(400, "Invalid refresh token"), True, InvalidGrant),
        (
            400,
            error_envelope(400, "Refresh token doesn't exist or is invalid for the client"),
            True,
            InvalidGrant,
        ),
        (400, error_envelope(400, "Invalid Pin"), True, InvalidGrant),
        (400, error_envelope(400, {"message": "Invalid refresh token"}), True, InvalidGrant),
        (
            400,
            error_envelope(400, "Authorization code doesn't exist or is invalid for the client"),
            True,
            InvalidGrant,
        ),
        (400, error_envelope(400, "The authorization code has expired"), True, InvalidGrant),
        (
            400,
            error_envelope(400, 'Missing parameter. "code" is required'),
            True,
            ImgurRequestFailed,
        ),
        (400, error_envelope(400, "Invalid grant_type parameter"), True, ImgurRequestFailed),
        (400, error_envelope(400, "The client credentials are invalid"), True, ImgurRequestFailed),
        (400, error_envelope(400, "Invalid refresh token"), False, ImgurRequestFailed),
        (401, error_envelope(401, "Unauthorized"), False, InvalidAccessToken),
        (401, NOT_JSON, False, InvalidAccessToken),
        (401, error_envelope(401, "Unauthorized"), True, ImgurRequestFailed),
        (
            403,
            error_envelope(403, "The access token provided is invalid."),
            False,
            InvalidAccessToken,
        ),
        (
            403,
            error_envelope(403, {"code": 1, "message": "The access token provided is invalid."}),
            False,
            InvalidAccessToken,
        ),
        (403, error_envelope(403, "Imgur is temporarily over capacity."), False, ImgurUnavailable),
        (403, error_envelope(403, "Unauthorized"), False, ImgurRequestFailed),
        (403, NOT_JSON, False, ImgurUnavailable),
        (404, error_envelope(404, "Unable to find account"), False, ImgurRequestFailed),
        (429, error_envelope(429, "Daily client requests exceeded"), False, RateLimited),
        (429, errors_envelope_429(), False, RateLimited),
        (429, NOT_JSON, True, RateLimited),
        (500, error_envelope(500, "Internal error"), False, ImgurUnavailable),
        (503, NOT_JSON, True, ImgurUnavailable),
        (200, NOT_JSON, False, ImgurUnavailable),
    ],
)
def test_error_mapping(
    status: int, payload: object, token_endpoint: bool, error: type[Exception]
) -> None:
    mapped = error_from_response(status, payload, {}, token_endpoint=token_endpoint)

    assert type(mapped) is error
    assert mapped.status == status


def test_error_message_is_short_and_names_imgurs_text() -> None:
    mapped = error_from_response(
        403,
        error_envelope(403, "Unauthorized", "/3/account/x/favorites", "GET"),
        {},
        token_endpoint=False,
    )

    assert mapped.message == "Imgur refused the request (HTTP 403): Unauthorized"


# --- rate-limit headers --------------------------------------------------------------------


def test_rate_limit_headers_are_parsed() -> None:
    limit = parse_rate_limit(
        {
            "X-RateLimit-ClientLimit": "12500",
            "X-RateLimit-ClientRemaining": "12000",
            "X-RateLimit-UserLimit": "2000",
            "X-RateLimit-UserRemaining": "1999",
            "X-RateLimit-UserReset": "1717003600",
        }
    )

    assert limit is not None
    assert (limit.client_remaining, limit.user_remaining, limit.user_reset) == (
        12_000,
        1_999,
        1_717_003_600,
    )


def test_no_rate_limit_headers_is_none() -> None:
    assert parse_rate_limit({"Content-Type": "application/json"}) is None


def test_garbled_rate_limit_header_is_none_in_its_field() -> None:
    limit = parse_rate_limit({"X-RateLimit-UserRemaining": "lots"})

    assert limit is not None
    assert limit.user_remaining is None


@pytest.mark.parametrize(
    ("headers", "now", "seconds"),
    [
        ({"Retry-After": "17"}, 0.0, 17.0),
        ({"Retry-After": "Thu, 01 Jan 1970 00:01:40 GMT"}, 60.0, 40.0),
        ({"X-RateLimit-UserReset": "1000000100"}, 1_000_000_060.0, 40.0),
        ({"X-RateLimit-UserReset": "1000000000"}, 1_000_000_060.0, 0.0),
        ({"X-RateLimit-UserReset": "90"}, 1_000_000_060.0, 90.0),
        ({"Retry-After": "soon"}, 0.0, None),
        ({}, 0.0, None),
    ],
)
def test_retry_after_reads_retry_after_or_user_reset(
    headers: dict[str, str], now: float, seconds: float | None
) -> None:
    assert retry_after(headers, now=now) == seconds


def test_retry_after_header_wins_over_user_reset() -> None:
    headers = {"Retry-After": "5", "X-RateLimit-UserReset": "1000003600"}

    assert retry_after(headers, now=1_000_000_000) == 5.0


def test_absurd_token_lifetimes_are_kept_within_bounds():
    from bot.imgur.parse import parse_tokens

    huge = parse_tokens({"access_token": "a" * 40, "expires_in": 10**30})
    assert huge.expires_in == 20 * 365 * 86_400
    huge.expires_at()  # no OverflowError
    assert parse_tokens({"access_token": "a" * 40, "expires_in": -5}).expires_in == 0


def test_an_infinite_retry_after_is_capped():
    from bot.imgur.client import retry_after

    assert retry_after({"Retry-After": "inf"}) is None
    assert retry_after({"Retry-After": "1e400"}) is None
    assert retry_after({"Retry-After": "999999999"}) == 86_400
