"""Any body Imgur answers with, on any call, gives a value or an ImgurError, nothing else."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.imgur import Account, ImgurError, Tokens
from tests.clients import imgur_client
from tests.property.strategies import accounts, favorites_data, json_values, token_payloads

CALLS = ("favorites", "gallery_favorites", "account", "account_by_name", "account_by_id", "pin")


def encode(payload: Any) -> bytes:
    try:
        return json.dumps(payload).encode()
    except (ValueError, UnicodeEncodeError):  # NaN is fine for json.dumps; lone surrogates not
        return json.dumps(payload, ensure_ascii=True).encode()


bodies = st.one_of(
    st.builds(lambda data, ok: {"data": data, "success": ok, "status": 200}, favorites_data,
              st.one_of(st.booleans(), json_values)),
    st.builds(lambda data: {"data": data, "success": True}, accounts),
    token_payloads,
    json_values,
).map(encode) | st.binary(max_size=300)  # fmt: skip
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 503])


async def answer_every_call(body: bytes, status: int, content_type: str) -> list[object]:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, status=status, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    outcomes: list[object] = []
    try:
        async with aiohttp.ClientSession() as session:
            base_url = f"http://{host}:{port}"
            client = imgur_client(
                session, base_url, timeout=5.0, max_retries=0, max_body_bytes=64_000
            )
            calls: dict[str, Callable[[], Awaitable[object]]] = {
                "favorites": lambda: client.favorites("token"),
                "gallery_favorites": lambda: client.gallery_favorites("alice"),
                "account": lambda: client.account("token"),
                "account_by_name": lambda: client.account_by_name("alice"),
                "account_by_id": lambda: client.account_by_id(7, "alice"),
                "pin": lambda: client.exchange_pin("1234"),
            }
            for name in CALLS:
                try:
                    outcomes.append(await calls[name]())
                except ImgurError as error:
                    outcomes.append(error)
    finally:
        await runner.cleanup()
    return outcomes


@settings(max_examples=60)
@given(bodies, statuses, st.sampled_from(["application/json", "text/html", "text/plain"]))
def test_any_answer_to_any_call_is_a_value_or_an_imgur_error(
    body: bytes, status: int, content_type: str
) -> None:
    outcomes = asyncio.run(answer_every_call(body, status, content_type))
    favorites, gallery, account, by_name, by_id, tokens = outcomes
    for listing in (favorites, gallery):
        assert isinstance(listing, list | ImgurError)
    for profile in (account, by_name, by_id):
        assert isinstance(profile, Account | ImgurError)
    assert isinstance(tokens, Tokens | ImgurError)
