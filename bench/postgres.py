"""PostgreSQL for the benchmarks: a schema of their own on a given server, dropped after."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """``url`` with its tables in a new schema of its own, dropped afterwards."""
    import asyncpg

    from tests.postgres import schema_over

    admin = await asyncpg.connect(url, timeout=10)
    try:
        async with schema_over(admin, url, "bench") as schema_url:
            yield schema_url
    finally:
        await admin.close()
