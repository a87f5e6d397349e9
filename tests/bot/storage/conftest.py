"""Fixtures for the storage tests: a cipher, and a store on a real database (a SQLite file,
or a schema of its own on the PostgreSQL server the tests were given, see tests/postgres.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import LinkStore, TokenCipher, generate_key
from tests.postgres import fresh_schema

BACKENDS = ["sqlite", "postgres"]


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
    """A SQLite store (tests of SQLite's own behaviour)."""
    async with await LinkStore.open(db_path, cipher) as opened:
        yield opened


@pytest.fixture
async def sqlite_store(db_path: Path, cipher: TokenCipher) -> AsyncIterator[LinkStore]:
    """A SQLite store, in modules whose ``store`` is both backends."""
    async with await LinkStore.open(db_path, cipher) as opened:
        yield opened


@pytest.fixture(params=BACKENDS)
async def database(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[str]:
    """Where a contract test's database is: once a SQLite file, once PostgreSQL."""
    if request.param == "sqlite":
        yield str(db_path)
        return
    async with fresh_schema() as url:
        yield url


@pytest.fixture
async def any_store(database: str, cipher: TokenCipher) -> AsyncIterator[LinkStore]:
    """A store on each backend in turn (the contract both must keep)."""
    async with await LinkStore.open(database, cipher) as opened:
        yield opened
