"""Fixtures for the storage tests: a cipher and a store on a real database file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import LinkStore, TokenCipher, generate_key


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def cipher(key: str) -> TokenCipher:
    return TokenCipher([key])


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.db"


@pytest.fixture
async def store(db_path: Path, cipher: TokenCipher) -> AsyncIterator[LinkStore]:
    async with await LinkStore.open(db_path, cipher) as opened:
        yield opened
