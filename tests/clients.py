"""The one way tests build an ``ImgurClient``: pointed at a fake Imgur (or any base URL), with
test-sized timeouts and no backoff unless a test asks for them."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.imgur import ImgurClient
from tests.fakes.imgur import FakeImgur

UNREACHABLE = "http://127.0.0.1:9"
"""A base URL nothing answers on (the discard port): for clients that must never be used."""


def imgur_client(
    session: aiohttp.ClientSession,
    imgur: FakeImgur | str = UNREACHABLE,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    timeout: float = 2.0,
    retry_backoff: float = 0.0,
    **options: Any,
) -> ImgurClient:
    """A client of ``imgur`` (a fake, whose credentials it uses unless others are given, or a
    base URL); ``options`` are the other ``ImgurClient`` settings (retries, sleep, jitter)."""
    if isinstance(imgur, FakeImgur):
        base_url, known_id, known_secret = imgur.base_url, imgur.client_id, imgur.client_secret
    else:
        base_url, known_id, known_secret = imgur, "cid", "secret"
    return ImgurClient(
        session,
        known_id if client_id is None else client_id,
        known_secret if client_secret is None else client_secret,
        api_base=base_url,
        timeout=timeout,
        retry_backoff=retry_backoff,
        **options,
    )
