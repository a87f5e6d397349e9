"""PostgreSQL for the benchmarks: a schema of their own on a given server, dropped after."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """``url`` with its tables in a new schema of its own, dropped afterwards."""
    import asyncpg

    from tests.postgres import with_schema

    schema = f"bench_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(url, timeout=10)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield with_schema(url, schema)
        finally:
            await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await admin.close()
