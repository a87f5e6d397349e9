"""Fixtures shared by the service tests that run several bot processes on one database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import LinkStore, TokenCipher, generate_key
from tests.postgres import database_on


@pytest.fixture(params=["sqlite", "postgres"])
async def shared_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """One database (each backend in turn) that several stores open, as processes would."""
    async with database_on(request.param, tmp_path / "bot.db") as url:
        yield url


@pytest.fixture
async def stores(shared_database: str) -> AsyncIterator[list[LinkStore]]:
    """Three stores on one database, as three processes would open it."""
    cipher = TokenCipher([generate_key()])
    opened = [await LinkStore.open(shared_database, cipher) for _ in range(3)]
    try:
        yield opened
    finally:
        for store in opened:
            await store.close()
