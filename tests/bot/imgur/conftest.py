"""Fixtures: a running FakeImgur, a session, and an ImgurClient pointed at the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.imgur import ImgurClient
from tests.clients import imgur_client
from tests.fakes.imgur import FakeImgur


@pytest.fixture
async def fake() -> AsyncIterator[FakeImgur]:
    async with FakeImgur() as server:
        server.add_account("alice", favorites=130)
        server.add_account("bob", favorites=3)
        server.login_as = "alice"
        yield server


@pytest.fixture
def session(http_session: aiohttp.ClientSession) -> aiohttp.ClientSession:
    """The suite's one HTTP session (tests/conftest.py), by the name these tests use."""
    return http_session


@pytest.fixture
def client(fake: FakeImgur, session: aiohttp.ClientSession) -> ImgurClient:
    """Retries without backoff, so retry tests stay fast."""
    return imgur_client(session, fake, max_retries=2)


@pytest.fixture
def alice_tokens(fake: FakeImgur) -> dict[str, Any]:
    """Tokens for alice, as the token endpoint would have answered."""
    return fake.issue_tokens("alice")
