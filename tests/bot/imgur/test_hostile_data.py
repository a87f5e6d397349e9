"""Odd data from Imgur: numbers, links and bodies that once escaped the parser or the client."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.imgur import (
    FavoriteAlbum,
    FavoriteImage,
    ImgurClient,
    ImgurOddResponse,
    ImgurRequestFailed,
)
from bot.imgur.parse import (
    as_int,
    https,
    is_imgur_url,
    parse_account,
    parse_favorite,
    parse_favorites,
    parse_tokens,
)
from tests.clients import imgur_client
from tests.fakes.imgur import FakeImgur

# --- integers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["--1", "-", "+", "1-", "1e999", "1e3", "0x10", "²", "١٢", "1_000", " ", "", "9" * 5000,
     10**400, -(10**400), 2**63, float("inf"), float("nan"), 1e300, 1.5, True, False, None,
     [], {}, {"value": 1}, [1]],
)  # fmt: skip
def test_odd_integers_are_none(value: object) -> None:
    assert as_int(value) is None


@pytest.mark.parametrize(
    ("value", "number"),
    [(7, 7), ("42", 42), (" -3 ", -3), ("+5", 5), (640.0, 640), (2**63 - 1, 2**63 - 1)],
)
def test_plain_integers_parse(value: object, number: int) -> None:
    assert as_int(value) == number


@pytest.mark.parametrize(
    "odd",
    ["--1", "9" * 5000, 10**400, 1e300, float("inf"), True, {"n": 1}, [1, 2], "many"],
)
def test_a_favorite_with_odd_numbers_still_parses(odd: object) -> None:
    fields = ("views", "ups", "downs", "points", "width", "height", "datetime", "images_count")
    item = parse_favorite(
        {"id": "abc", "link": "https://i.imgur.com/abc.jpg", **dict.fromkeys(fields, odd)}
    )
    assert (item.views, item.points, item.datetime) == (None, None, None)


def test_a_huge_reputation_or_id_never_escapes_the_account_parser() -> None:
    account = parse_account({"id": 5, "url": "alice", "reputation": 10**400, "created": 10**30})
    assert (account.reputation, account.created) == (None, None)
    with pytest.raises(ValueError, match="account"):
        parse_account({"id": 10**30, "url": "alice"})  # no id SQLite could store


def test_token_fields_that_do_not_fit_a_header_are_refused() -> None:
    with pytest.raises(ValueError, match="token response"):
        parse_tokens({"access_token": "abc\r\nX-Evil: 1", "expires_in": 3600})
    tokens = parse_tokens(
        {"access_token": "a" * 40, "expires_in": 3600, "refresh_token": "r\nx", "account_id": "--1"}
    )
    assert (tokens.refresh_token, tokens.account_id) == (None, None)


def test_odd_is_album_and_ids() -> None:
    assert isinstance(
        parse_favorite({"id": "a1", "is_album": "false", "link": "https://i.imgur.com/a1.jpg"}),
        FavoriteImage,
    )
    album = parse_favorite({"id": "a1", "is_album": True, "cover": "../x?y"})
    assert isinstance(album, FavoriteAlbum)
    assert album.cover is None
    for bad_id in ("../etc", "a b", "x" * 65, "", 12, None, "ab)c"):
        with pytest.raises(ValueError, match="id"):
            parse_favorite({"id": bad_id, "link": "https://i.imgur.com/x.jpg"})


def test_a_listing_of_odd_items_keeps_the_usable_ones() -> None:
    data: list[Any] = [
        None,
        1,
        "x",
        [],
        {"id": {"nested": True}},
        {"id": "ok1", "link": "https://i.imgur.com/ok1.png", "title": {"t": 1}, "nsfw": "yes"},
        {"id": "bad", "link": "javascript:alert(1)"},
    ]
    (item,) = parse_favorites(data)
    assert (item.id, item.title, item.nsfw) == ("ok1", None, None)


# --- links -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("https://i.imgur.com/a.jpg", "https://i.imgur.com/a.jpg"),
        ("http://i.imgur.com/a.jpg", "https://i.imgur.com/a.jpg"),
        ("HTTP://I.IMGUR.COM/a.jpg", "https://I.IMGUR.COM/a.jpg"),
        ("//i.imgur.com/a.jpg", "https://i.imgur.com/a.jpg"),
        ("http://imgur.com/a/x", "https://imgur.com/a/x"),
        ("https://example.com/a.jpg", "https://example.com/a.jpg"),
        ("http://example.com/a.jpg", None),  # not Imgur's: no https twin promised
        ("http://imgur.com.evil.example/a.jpg", None),
        ("http://evilimgur.com/a.jpg", None),
        ("https://imgur.com@evil.example/a.jpg", None),
        ("ftp://i.imgur.com/a.jpg", None),
        ("javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("https://i.imgur.com/a.jpg) [x](https://evil.example", None),
        ("https://i.imgur.com/a b.jpg", None),
        ("https://i.imgur.com/a\n.jpg", None),
        ("https://i.imgur.com/<a>.jpg", None),
        ("https://", None),
        ("i.imgur.com/a.jpg", None),
        ("https://i.imgur.com/" + "a" * 600, None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_only_plain_https_links_come_out(link: object, expected: str | None) -> None:
    assert https(link) == expected


def test_imgur_hosts_are_recognised_exactly() -> None:
    assert is_imgur_url("https://i.imgur.com/x.mp4")
    assert is_imgur_url("https://imgur.com/x")
    assert not is_imgur_url("https://imgur.com.evil.example/x")
    assert not is_imgur_url("https://notimgur.com/x")
    assert not is_imgur_url("http://i.imgur.com/x.mp4")


def test_an_image_whose_only_link_is_unusable_is_skipped() -> None:
    assert parse_favorites([{"id": "abc", "link": "http://example.com/abc.jpg"}]) == []


# --- the shared request path: size cap, odd shapes -------------------------------------------


async def test_an_oversized_favorites_page_is_a_clear_error(
    fake: FakeImgur, session: aiohttp.ClientSession, alice_tokens: dict[str, Any]
) -> None:
    client = imgur_client(session, fake.base_url, max_body_bytes=20_000)
    with pytest.raises(ImgurOddResponse, match=r"something odd.*over 20,000 bytes"):
        await client.favorites(alice_tokens["access_token"])
    assert fake.count("favorites") == 1  # not retried: the next answer would be as large


async def test_an_oversized_account_or_token_answer_is_a_clear_error(
    fake: FakeImgur, session: aiohttp.ClientSession, alice_tokens: dict[str, Any]
) -> None:
    fake.account("alice").username = "a" * 5000
    client = imgur_client(session, fake.base_url, max_body_bytes=4000)
    with pytest.raises(ImgurOddResponse, match="over 4,000 bytes"):
        await client.account(alice_tokens["access_token"])


class OddImgur:
    """A local server answering every request with one canned body (bytes, headers)."""

    def __init__(self) -> None:
        self.body = b"{}"
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.chunked = False

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.chunked:
            return web.Response(body=self.body, headers=self.headers)
        response = web.StreamResponse(headers=self.headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(self.body), 4096):
            await response.write(self.body[start : start + 4096])
        await response.write_eof()
        return response


@pytest.fixture
async def odd_imgur() -> AsyncIterator[tuple[OddImgur, str]]:
    server = OddImgur()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield server, f"http://{host}:{port}"
    await runner.cleanup()


async def test_a_chunked_body_without_length_is_cut_off_at_the_cap(
    odd_imgur: tuple[OddImgur, str], session: aiohttp.ClientSession
) -> None:
    server, base = odd_imgur
    server.chunked = True
    server.body = json.dumps({"data": [{"id": "x", "title": "t" * 100_000}]}).encode()
    with pytest.raises(ImgurOddResponse, match="over 10,000 bytes"):
        await imgur_client(session, base, max_body_bytes=10_000).favorites("token")


async def test_a_compressed_body_is_capped_after_decompression(
    odd_imgur: tuple[OddImgur, str], session: aiohttp.ClientSession
) -> None:
    server, base = odd_imgur
    server.body = gzip.compress(b'{"data": [' + b" " * 5_000_000 + b"]}")
    server.headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    assert len(server.body) < 10_000
    with pytest.raises(ImgurOddResponse, match="over 100,000 bytes"):
        await imgur_client(session, base, max_body_bytes=100_000).favorites("token")


# Every call goes through the one request path: each gets the cap and the total parsing.
ENDPOINTS: dict[str, Callable[[ImgurClient], Awaitable[object]]] = {
    "favorites": lambda client: client.favorites("token"),
    "account": lambda client: client.account("token"),
    "account_by_name": lambda client: client.account_by_name("alice"),
    "account_by_id": lambda client: client.account_by_id(5, "alice"),
    "gallery_favorites": lambda client: client.gallery_favorites("alice"),
    "exchange_pin": lambda client: client.exchange_pin("1234"),
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
async def test_every_call_caps_the_body(
    odd_imgur: tuple[OddImgur, str], session: aiohttp.ClientSession, endpoint: str
) -> None:
    server, base = odd_imgur
    server.chunked = True
    server.body = b'{"data": {"url": "' + b"x" * 50_000 + b'"}}'
    with pytest.raises(ImgurOddResponse, match="over 10,000 bytes"):
        await ENDPOINTS[endpoint](imgur_client(session, base, max_body_bytes=10_000))


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize(
    "body",
    [b"[]", b'"text"', b"42", b"null", b'{"data": {"not": "a list"}}', b'{"data": 7}',
     b'{"data": {"id": 100000000000000000000000000000, "url": "x"}}', b'{"access_token": 5}'],
)  # fmt: skip
async def test_odd_shapes_are_something_odd(
    odd_imgur: tuple[OddImgur, str], session: aiohttp.ClientSession, body: bytes, endpoint: str
) -> None:
    server, base = odd_imgur
    server.body = body
    with pytest.raises(ImgurOddResponse, match="something odd"):
        await ENDPOINTS[endpoint](imgur_client(session, base))


@pytest.mark.parametrize("status", [10**30, -5, 0, 200, 999, "5xx", None, [500]])
async def test_a_refusal_with_an_odd_status_is_a_plain_refusal(
    odd_imgur: tuple[OddImgur, str], session: aiohttp.ClientSession, status: object
) -> None:
    server, base = odd_imgur
    envelope = {"data": {"error": "nope"}, "success": False, "status": status}
    server.body = json.dumps(envelope).encode()
    with pytest.raises(ImgurRequestFailed) as caught:
        await imgur_client(session, base).favorites("token")
    assert caught.value.status == 400
