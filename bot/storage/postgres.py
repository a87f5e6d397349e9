"""The PostgreSQL backend (asyncpg, a pool): one database that several bot processes share.

Migrations (``postgres_migrations/NNNN_name.sql``) are applied in one transaction under an
advisory lock, so processes starting together migrate once. Claims of due links use
``FOR UPDATE SKIP LOCKED`` and a lease (owner, until). Each running bot holds a shared advisory
lock on a connection of its own; ``rotate-key`` takes it exclusively (``hold_instance_lock``).
Advisory lock keys are scoped to the schema the tables live in (``current_schema()``), so
bots on different schemas of one server do not meet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from .backend import CLAIMED, BioCodeRow, DueKey, DueRow, LinkRow, StateRow, TokenRow
from .errors import DatabaseUnavailableError, MigrationError, StorageError
from .migrate import Migration, in_order, load_migrations, pending_migrations
from .sql import (
    BIO_COLUMNS,
    CLAIM_NEWEST_STATE,
    DELETE_CLAIMED_STATE,
    DELETE_MEMBER,
    DUE_FIELDS,
    IMPORT_BIO_CODE,
    IMPORT_SETTING,
    IMPORT_STATE,
    INSERT_BIO_CODE,
    INSERT_STATE,
    LINK_COLUMNS,
    LINK_FIELDS,
    PRUNE_BIO_CODES,
    PRUNE_STATES,
    UPSERT_LINK,
    WRITE_CIPHERTEXT,
    SqlBackend,
    bio_row,
    bio_values,
    due_row,
    link_values,
    numbered,
    prune_params,
    state_row,
    state_values,
)

__all__ = ["PostgresBackend", "apply_postgres_migrations", "redact_url"]

log = logging.getLogger(__name__)

MIGRATIONS_FOLDER = "postgres_migrations"
_COMMAND_TIMEOUT = 30.0  # seconds any one statement may take
_CONNECT_TIMEOUT = 10.0
# Second half of the advisory lock keys; the first is hashtext('imgur-link-bot:' || schema).
_MIGRATION_LOCK = 1
_INSTANCE_LOCK = 2
_LOCK_NAMESPACE = "hashtext('imgur-link-bot:' || current_schema())"

_DUE_COLUMNS = ", ".join(DUE_FIELDS)
_DUE_WHERE = (
    "status = 'ok' AND refresh_after <= $1 AND expires_at <= $2"
    " AND (refresh_after, expires_at, discord_user_id) > ($3, $4, $5)"
)
_DUE_ORDER = " ORDER BY refresh_after, expires_at, discord_user_id LIMIT $6"
DUE_SQL = f"SELECT {_DUE_COLUMNS} FROM links WHERE {_DUE_WHERE}{_DUE_ORDER}"
# The claimed rows are locked by this statement; rows another claim holds locked are passed
# over (SKIP LOCKED), and rows it already leased fail the lease test once it has committed.
CLAIM_DUE_SQL = (
    "WITH claimed AS (SELECT discord_user_id FROM links WHERE "
    f"{_DUE_WHERE} AND (lease_until IS NULL OR lease_until <= $1){_DUE_ORDER}"
    " FOR UPDATE SKIP LOCKED)"
    " UPDATE links SET lease_owner = $7, lease_until = $8 FROM claimed"
    " WHERE links.discord_user_id = claimed.discord_user_id"
    f" RETURNING {', '.join('links.' + name for name in DUE_FIELDS)}"
)
# PostgreSQL orders a member's rows by their seq column, and locks the state it claims (SKIP
# LOCKED: of two claims at once, the second takes the next state, not none).
_PRUNE_STATES = numbered(PRUNE_STATES.format(seq="seq"))
_PRUNE_BIO_CODES = numbered(PRUNE_BIO_CODES.format(seq="seq"))
_CLAIM_NEWEST_STATE = numbered(CLAIM_NEWEST_STATE.format(seq="seq", lock=" FOR UPDATE SKIP LOCKED"))


def redact_url(url: str) -> str:
    """``url`` without its password (and query), for messages and logs; never raises."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address: nothing to read safely
        return "postgresql://(unreadable URL)"
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}@{host}" if parts.username else host
    try:
        port = str(parts.port or "")
    except ValueError:  # out of range or not a number: shown as given
        port = parts.netloc.rpartition("@")[2].rpartition(":")[2]
    if port:
        netloc += f":{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


async def apply_postgres_migrations(
    connection: asyncpg.Connection | PoolConnectionProxy,
    migrations: Sequence[Migration] | None = None,
) -> list[int]:
    """Bring the schema up to date in one transaction; returns the versions applied.

    The transaction first takes an advisory lock, so of several processes starting at once one
    migrates and the others then find nothing pending.
    """
    if migrations is None:
        ordered = await asyncio.to_thread(load_migrations, MIGRATIONS_FOLDER)
    else:
        ordered = in_order(migrations)
    async with connection.transaction():
        await connection.execute(
            f"SELECT pg_advisory_xact_lock({_LOCK_NAMESPACE}, {_MIGRATION_LOCK})"
        )
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = await connection.fetchval(
            "SELECT coalesce(max(version), 0) FROM schema_migrations"
        )
        pending = pending_migrations(ordered, current)
        for migration in pending:
            try:
                await connection.execute(migration.sql)
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"migration {migration.label} failed: {exc}") from exc
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
    for migration in pending:
        log.info("applied PostgreSQL schema migration %s", migration.label)
    return [m.version for m in pending]


class PostgresBackend(SqlBackend):
    """A PostgreSQL database. Create with ``await PostgresBackend.open(url, pool_size=...)``."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool: asyncpg.Pool | None = pool
        self._url = url
        self._location = redact_url(url)
        self._lock_connection: asyncpg.Connection | None = None

    @classmethod
    async def open(cls, url: str, *, pool_size: int = 10) -> PostgresBackend:
        """Connect a pool of at most ``pool_size`` connections and migrate the schema."""
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=pool_size,
                command_timeout=_COMMAND_TIMEOUT,
                timeout=_CONNECT_TIMEOUT,
            )
        except _UNREACHABLE as exc:  # the bot retries these at start (bot.startup)
            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL at {redact_url(url)}: {_reason(exc)}"
            ) from None
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StorageError(
                f"cannot connect to PostgreSQL at {redact_url(url)}: {_reason(exc)}"
            ) from None
        except (ValueError, OverflowError):  # asyncpg could not parse the URL
            raise StorageError(
                f"{redact_url(url)} is not a valid PostgreSQL URL (check the host and the port, "
                "0-65535): postgresql://user:password@host:5432/database"
            ) from None
        try:
            async with pool.acquire() as connection:
                await apply_postgres_migrations(connection)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, url)

    @property
    def shared(self) -> bool:
        """Several bot processes share the database."""
        return True

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        lock, self._lock_connection = self._lock_connection, None
        if lock is not None:
            await lock.close()  # ends the session: its advisory lock goes with it
        if pool is not None:
            await pool.close()

    def _p(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StorageError("the link store is closed")
        return self._pool

    async def _execute_count(self, sql: str, *args: Any) -> int:
        status = await self._p().execute(sql, *args)
        return int(status.rsplit(" ", 1)[-1])

    async def _query(self, sql: str, params: Iterable[Any] = ()) -> list[asyncpg.Record]:
        return list(await self._p().fetch(numbered(sql), *params))

    async def _change(self, sql: str, params: Iterable[Any] = ()) -> int:
        return await self._execute_count(numbered(sql), *params)

    # -- instance lock ------------------------------------------------------------------------

    async def hold_instance_lock(self, *, exclusive: bool) -> bool:
        """Take the advisory lock of a running bot (shared) or of ``rotate-key`` (exclusive) on
        a connection of its own, held until close. False if a conflicting one is held."""
        if self._lock_connection is not None:
            raise StorageError("the instance lock is already held")
        function = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        connection = await asyncpg.connect(self._url, timeout=_CONNECT_TIMEOUT)
        try:
            held = await connection.fetchval(
                f"SELECT {function}({_LOCK_NAMESPACE}, {_INSTANCE_LOCK})"
            )
        except BaseException:
            await connection.close()
            raise
        if not held:
            await connection.close()
            return False
        self._lock_connection = connection
        return True

    # -- links --------------------------------------------------------------------------------

    async def ping(self) -> bool:
        try:
            return bool(await self._p().fetchval("SELECT 1") == 1)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def save_link(self, row: LinkRow, attempt_digest: str | None = None) -> bool:
        async with self._p().acquire() as connection, connection.transaction():
            if attempt_digest is not None:
                gone = await connection.execute(
                    numbered(DELETE_CLAIMED_STATE), CLAIMED + attempt_digest, row.discord_user_id
                )
                if gone.endswith(" 0"):
                    return False
            await connection.execute(numbered(UPSERT_LINK), *link_values(row))
        return True

    async def delete_member(self, discord_user_id: int) -> bool:
        async with self._p().acquire() as connection, connection.transaction():
            statuses = [
                await connection.execute(numbered(statement), discord_user_id)
                for statement in DELETE_MEMBER
            ]
        return any(int(status.rsplit(" ", 1)[-1]) for status in statuses)

    # -- the refresh sweep --------------------------------------------------------------------

    async def due(self, now: int, before: int, limit: int, after: DueKey) -> list[DueRow]:
        rows = await self._p().fetch(DUE_SQL, now, before, *after, limit)
        return [due_row(row) for row in rows]

    async def claim_due(
        self, now: int, before: int, limit: int, after: DueKey, owner: str, until: int
    ) -> list[DueRow]:
        rows = await self._p().fetch(CLAIM_DUE_SQL, now, before, *after, limit, owner, until)
        claimed = [due_row(row) for row in rows]
        return sorted(claimed, key=lambda r: (r.refresh_after, r.expires_at, r.discord_user_id))

    # -- authorization states -----------------------------------------------------------------

    async def create_state(self, row: StateRow, keep_per_member: int) -> None:
        async with self._p().acquire() as connection, connection.transaction():
            await connection.execute(numbered(INSERT_STATE), *state_values(row))
            await connection.execute(
                _PRUNE_STATES, *prune_params(row.discord_user_id, row.created_at, keep_per_member)
            )

    async def claim_newest_state(self, discord_user_id: int, now: int) -> StateRow | None:
        row = await self._p().fetchrow(_CLAIM_NEWEST_STATE, discord_user_id, now)
        return None if row is None else state_row(row)

    # -- profile (bio) codes ------------------------------------------------------------------

    async def create_bio_code(self, row: BioCodeRow, keep_per_member: int) -> None:
        async with self._p().acquire() as connection, connection.transaction():
            await connection.execute(numbered(INSERT_BIO_CODE), *bio_values(row))
            await connection.execute(
                _PRUNE_BIO_CODES,
                *prune_params(row.discord_user_id, row.created_at, keep_per_member),
            )

    async def complete_bio_link(
        self, row: LinkRow, attempt: str, now: int, digests: Sequence[str]
    ) -> BioCodeRow | None:
        if not digests:
            return None
        async with self._p().acquire() as connection, connection.transaction():
            # The DELETE locks the attempt's row: of concurrent calls one takes it.
            taken = await connection.fetchrow(
                "DELETE FROM bio_codes WHERE attempt = $1 AND discord_user_id = $2"
                f" AND expires_at > $3 AND code_digest = ANY($4::text[]) RETURNING {BIO_COLUMNS}",
                attempt,
                row.discord_user_id,
                now,
                list(digests),
            )
            if taken is None:
                return None
            await connection.execute(numbered(UPSERT_LINK), *link_values(row))
        return bio_row(taken)

    # -- operations ---------------------------------------------------------------------------

    async def write_token_rows(self, rows: Sequence[TokenRow]) -> None:
        async with self._p().acquire() as connection, connection.transaction():
            await connection.executemany(
                numbered(WRITE_CIPHERTEXT),
                [(r.access_token, r.refresh_token, r.discord_user_id) for r in rows],
            )

    async def set_refresh_after(self, values: Sequence[tuple[int, int | None]]) -> None:
        # One statement over two arrays, not one UPDATE a link as SQLite's executemany does.
        await self._p().execute(
            "UPDATE links SET refresh_after = v.refresh_after FROM"
            " unnest($1::bigint[], $2::bigint[]) AS v(discord_user_id, refresh_after)"
            " WHERE links.discord_user_id = v.discord_user_id",
            [user_id for user_id, _ in values],
            [refresh_after for _, refresh_after in values],
        )

    async def import_rows(
        self,
        links: Sequence[LinkRow],
        states: Sequence[StateRow],
        bio_codes: Sequence[BioCodeRow],
        settings: dict[str, str],
    ) -> None:
        # COPY into a temporary table, then one INSERT that keeps rows already present.
        async with self._p().acquire() as connection, connection.transaction():
            if links:
                await connection.execute(
                    "CREATE TEMPORARY TABLE import_links (LIKE links INCLUDING DEFAULTS)"
                    " ON COMMIT DROP"
                )
                await connection.copy_records_to_table(
                    "import_links", records=[link_values(r) for r in links], columns=LINK_FIELDS
                )
                await connection.execute(
                    f"INSERT INTO links ({LINK_COLUMNS}) SELECT {LINK_COLUMNS}"
                    " FROM import_links ON CONFLICT (discord_user_id) DO NOTHING"
                )
            if states:
                await connection.executemany(
                    numbered(IMPORT_STATE), [state_values(r) for r in states]
                )
            if bio_codes:
                await connection.executemany(
                    numbered(IMPORT_BIO_CODE), [bio_values(r) for r in bio_codes]
                )
            if settings:
                await connection.executemany(numbered(IMPORT_SETTING), list(settings.items()))

    async def count_present(self, discord_user_ids: Sequence[int]) -> int:
        """How many of these members have a link here (to verify a copy)."""
        value = await self._p().fetchval(
            "SELECT count(*) FROM links WHERE discord_user_id = ANY($1::bigint[])",
            list(discord_user_ids),
        )
        return int(value)

    async def raw_rows(self, sql: str) -> list[asyncpg.Record]:
        """Run a read-only statement as is (tests and operators only; never with member input)."""
        return list(await self._p().fetch(sql))


# Failures to reach the server at all, as opposed to one that answers "no" (password, database).
_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.TooManyConnectionsError,
)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    # asyncpg's messages name the server's reason (no password: it is never echoed back).
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
