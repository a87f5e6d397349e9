"""A real PostgreSQL server for the tests, when there is one.

``BOT_TEST_POSTGRES`` names it (``.ci/postgres`` starts one and sets it). Without it the
PostgreSQL tests are skipped, each with the reason; with ``BOT_TEST_REQUIRE_POSTGRES=1`` (set by
``.ci/postgres`` for ``.ci/run``) they fail instead, so CI never skips them silently.
Each test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

if TYPE_CHECKING:
    import asyncpg

DSN_VARIABLE = "BOT_TEST_POSTGRES"
REQUIRE_VARIABLE = "BOT_TEST_REQUIRE_POSTGRES"
SKIP_REASON = (
    f"needs a PostgreSQL server: set {DSN_VARIABLE}=postgresql://... "
    "(`source .ci/postgres` starts one)"
)


def postgres_dsn() -> str:
    """The server's DSN; skips the test (or fails it, in CI) when there is none."""
    dsn = os.environ.get(DSN_VARIABLE, "").strip()
    if dsn:
        return dsn
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{REQUIRE_VARIABLE}=1 but {DSN_VARIABLE} is not set", pytrace=False)
    pytest.skip(SKIP_REASON)


def with_schema(dsn: str, schema: str) -> str:
    """``dsn`` with its tables in ``schema`` (asyncpg passes the query on as server settings)."""
    parts = urlsplit(dsn)
    query = f"{parts.query}&search_path={schema}" if parts.query else f"search_path={schema}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


@asynccontextmanager
async def schema_over(admin: asyncpg.Connection, dsn: str, prefix: str) -> AsyncIterator[str]:
    """``dsn`` with its tables in a new schema (``prefix`` and a random part), created and
    dropped afterwards over the connection ``admin``."""
    schema = f"{prefix}_{secrets.token_hex(6)}"
    await admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_schema(dsn, schema)
    finally:
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """A URL whose tables go into a new, empty schema; the schema is dropped afterwards."""
    import asyncpg

    dsn = postgres_dsn()
    try:
        admin = await asyncpg.connect(dsn, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(f"{DSN_VARIABLE} is set but the server does not answer: {exc}", pytrace=False)
    try:
        async with schema_over(admin, dsn, "test") as url:
            yield url
    finally:
        await admin.close()


@asynccontextmanager
async def database_on(backend: str, sqlite_path: Path) -> AsyncIterator[str]:
    """Where a test's database is: the SQLite file ``sqlite_path`` for ``"sqlite"``, else a
    fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield str(sqlite_path)
        return
    async with fresh_schema() as url:
        yield url
