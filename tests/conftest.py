"""Fixtures shared by the service and end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.imgur import ImgurClient
from bot.storage import LinkStore, TokenCipher, generate_key
from tests.clients import imgur_client
from tests.fakes.imgur import FakeImgur


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake_imgur() -> AsyncIterator[FakeImgur]:
    async with FakeImgur() as fake:
        yield fake


@pytest.fixture
async def http_session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def imgur(http_session: aiohttp.ClientSession, fake_imgur: FakeImgur) -> ImgurClient:
    return imgur_client(http_session, fake_imgur, timeout=0.5, retry_backoff=0.01)


@pytest.fixture
async def link_store(tmp_path: Path) -> AsyncIterator[LinkStore]:
    store = await LinkStore.open(tmp_path / "bot.db", TokenCipher([generate_key()]))
    try:
        yield store
    finally:
        await store.close()
