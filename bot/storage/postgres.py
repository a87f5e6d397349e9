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
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from .backend import CLAIMED, BioCodeRow, DueKey, DueRow, LinkRow, StateRow, TokenRow
from .errors import DatabaseUnavailableError, MigrationError, SchemaTooNewError, StorageError
from .migrate import Migration, in_order, load_migrations
from .models import StoreStats

__all__ = ["PostgresBackend", "apply_postgres_migrations", "redact_url"]

log = logging.getLogger(__name__)

MIGRATIONS_FOLDER = "postgres_migrations"
_COMMAND_TIMEOUT = 30.0  # seconds any one statement may take
_CONNECT_TIMEOUT = 10.0
# Second half of the advisory lock keys; the first is hashtext('imgur-link-bot:' || schema).
_MIGRATION_LOCK = 1
_INSTANCE_LOCK = 2
_LOCK_NAMESPACE = "hashtext('imgur-link-bot:' || current_schema())"

_LINK_COLUMNS = (
    "discord_user_id, kind, imgur_account_id, imgur_username, access_token, refresh_token,"
    " expires_at, status, linked_at, refreshed_at, last_error, refresh_after"
)
_LINK_FIELDS = [name.strip() for name in _LINK_COLUMNS.split(",")]
_STATE_COLUMNS = "state_digest, discord_user_id, response_type, created_at, expires_at"
_BIO_COLUMNS = "attempt, code_digest, discord_user_id, imgur_username, created_at, expires_at"
_BIO_FIELDS = [name.strip() for name in _BIO_COLUMNS.split(",")]
_DUE_COLUMNS = "discord_user_id, expires_at, linked_at, refreshed_at, refresh_after"
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
    f" RETURNING {', '.join('links.' + c.strip() for c in _DUE_COLUMNS.split(','))}"
)
_SAME_LINK = "($X::bigint IS NULL OR linked_at = $X)"
_UPSERT_LINK_SQL = (
    f"INSERT INTO links ({_LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
    " $12) ON CONFLICT (discord_user_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in _LINK_FIELDS[1:])
    + ", lease_owner = NULL, lease_until = NULL"
)
_NO_LEASE = "lease_owner = NULL, lease_until = NULL"


def redact_url(url: str) -> str:
    """``url`` without its password (and query), for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _same_link(n: int) -> str:
    return _SAME_LINK.replace("$X", f"${n}")


def _link_row(row: asyncpg.Record) -> LinkRow:
    return LinkRow(**{name: row[name] for name in _LINK_FIELDS})


def _due_row(row: asyncpg.Record) -> DueRow:
    return DueRow(
        discord_user_id=row["discord_user_id"],
        expires_at=row["expires_at"],
        linked_at=row["linked_at"],
        refreshed_at=row["refreshed_at"],
        refresh_after=row["refresh_after"],
    )


def _bio_row(row: asyncpg.Record) -> BioCodeRow:
    return BioCodeRow(**{name: row[name] for name in _BIO_FIELDS})


def _bio_values(row: BioCodeRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in _BIO_FIELDS)


def _state_row(row: asyncpg.Record) -> StateRow:
    return StateRow(
        state_digest=str(row["state_digest"]).removeprefix(CLAIMED),
        discord_user_id=row["discord_user_id"],
        response_type=row["response_type"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
    )


def _link_values(row: LinkRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in _LINK_FIELDS)


def _state_values(row: StateRow) -> tuple[Any, ...]:
    return (
        row.state_digest,
        row.discord_user_id,
        row.response_type,
        row.created_at,
        row.expires_at,
    )


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
    latest = ordered[-1].version if ordered else 0
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
        if current > latest:
            raise SchemaTooNewError(
                f"the database schema is version {current}, newer than this bot supports "
                f"(up to {latest}); run a newer version of the bot or restore a backup"
            )
        pending = [m for m in ordered if m.version > current]
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


class PostgresBackend:
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

    @property
    def location(self) -> str:
        return self._location

    def __repr__(self) -> str:
        return f"PostgresBackend({self._location!r})"

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

    async def get(self, discord_user_id: int) -> LinkRow | None:
        row = await self._p().fetchrow(
            f"SELECT {_LINK_COLUMNS} FROM links WHERE discord_user_id = $1", discord_user_id
        )
        return None if row is None else _link_row(row)

    async def save_link(self, row: LinkRow, attempt_digest: str | None = None) -> bool:
        async with self._p().acquire() as connection, connection.transaction():
            if attempt_digest is not None:
                gone = await connection.execute(
                    "DELETE FROM auth_states WHERE state_digest = $1 AND discord_user_id = $2",
                    CLAIMED + attempt_digest,
                    row.discord_user_id,
                )
                if gone.endswith(" 0"):
                    return False
            await connection.execute(_UPSERT_LINK_SQL, *_link_values(row))
        return True

    async def rename_account(
        self, discord_user_id: int, imgur_username: str, linked_at: int | None
    ) -> bool:
        changed = await self._execute_count(
            f"UPDATE links SET imgur_username = $1 WHERE discord_user_id = $2 AND {_same_link(3)}",
            imgur_username,
            discord_user_id,
            linked_at,
        )
        return changed > 0

    async def update_tokens(
        self,
        discord_user_id: int,
        *,
        access_token: bytes,
        refresh_token: bytes,
        expires_at: int,
        refreshed_at: int,
        refresh_after: int | None,
        linked_at: int | None,
    ) -> bool:
        changed = await self._execute_count(
            "UPDATE links SET access_token = $1, refresh_token = $2, expires_at = $3,"
            f" refreshed_at = $4, refresh_after = $5, status = 'ok', last_error = NULL,"
            f" {_NO_LEASE} WHERE discord_user_id = $6 AND {_same_link(7)}",
            access_token,
            refresh_token,
            expires_at,
            refreshed_at,
            refresh_after,
            discord_user_id,
            linked_at,
        )
        return changed > 0

    async def mark_broken(self, discord_user_id: int, error: str, linked_at: int | None) -> bool:
        changed = await self._execute_count(
            f"UPDATE links SET status = 'broken', last_error = $1, {_NO_LEASE}"
            f" WHERE discord_user_id = $2 AND {_same_link(3)}",
            error,
            discord_user_id,
            linked_at,
        )
        return changed > 0

    async def record_error(self, discord_user_id: int, error: str, linked_at: int | None) -> bool:
        changed = await self._execute_count(
            f"UPDATE links SET last_error = $1, {_NO_LEASE}"
            f" WHERE discord_user_id = $2 AND {_same_link(3)}",
            error,
            discord_user_id,
            linked_at,
        )
        return changed > 0

    async def delete_member(self, discord_user_id: int) -> bool:
        async with self._p().acquire() as connection, connection.transaction():
            links = await connection.execute(
                "DELETE FROM links WHERE discord_user_id = $1", discord_user_id
            )
            states = await connection.execute(
                "DELETE FROM auth_states WHERE discord_user_id = $1", discord_user_id
            )
            codes = await connection.execute(
                "DELETE FROM bio_codes WHERE discord_user_id = $1", discord_user_id
            )
        return any(int(status.rsplit(" ", 1)[-1]) for status in (links, states, codes))

    # -- the refresh sweep --------------------------------------------------------------------

    async def due(self, now: int, before: int, limit: int, after: DueKey) -> list[DueRow]:
        rows = await self._p().fetch(DUE_SQL, now, before, *after, limit)
        return [_due_row(row) for row in rows]

    async def claim_due(
        self, now: int, before: int, limit: int, after: DueKey, owner: str, until: int
    ) -> list[DueRow]:
        rows = await self._p().fetch(CLAIM_DUE_SQL, now, before, *after, limit, owner, until)
        claimed = [_due_row(row) for row in rows]
        return sorted(claimed, key=lambda r: (r.refresh_after, r.expires_at, r.discord_user_id))

    async def claim(self, discord_user_id: int, owner: str, now: int, until: int) -> bool:
        changed = await self._execute_count(
            "UPDATE links SET lease_owner = $1, lease_until = $2 WHERE discord_user_id = $3"
            " AND (lease_until IS NULL OR lease_until <= $4 OR lease_owner = $1)",
            owner,
            until,
            discord_user_id,
            now,
        )
        return changed > 0

    async def release(self, discord_user_id: int, owner: str) -> None:
        await self._p().execute(
            f"UPDATE links SET {_NO_LEASE} WHERE discord_user_id = $1 AND lease_owner = $2",
            discord_user_id,
            owner,
        )

    # -- authorization states -----------------------------------------------------------------

    async def create_state(self, row: StateRow, keep_per_member: int) -> None:
        async with self._p().acquire() as connection, connection.transaction():
            await connection.execute(
                f"INSERT INTO auth_states ({_STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)",
                *_state_values(row),
            )
            await connection.execute(
                "DELETE FROM auth_states WHERE discord_user_id = $1"
                " AND state_digest NOT LIKE 'claimed:%' AND (expires_at <= $2"
                " OR seq NOT IN (SELECT seq FROM auth_states WHERE discord_user_id = $1"
                " AND state_digest NOT LIKE 'claimed:%'"
                " ORDER BY created_at DESC, seq DESC LIMIT $3))",
                row.discord_user_id,
                row.created_at,
                keep_per_member,
            )

    async def claim_newest_state(self, discord_user_id: int, now: int) -> StateRow | None:
        # SKIP LOCKED: of two claims at once, the second takes the next state, not none.
        row = await self._p().fetchrow(
            "UPDATE auth_states SET state_digest = 'claimed:' || state_digest"
            " WHERE seq = (SELECT seq FROM auth_states WHERE discord_user_id = $1"
            " AND expires_at > $2 AND state_digest NOT LIKE 'claimed:%'"
            " ORDER BY created_at DESC, seq DESC LIMIT 1 FOR UPDATE SKIP LOCKED)"
            f" RETURNING {_STATE_COLUMNS}",
            discord_user_id,
            now,
        )
        return None if row is None else _state_row(row)

    async def claim_state(
        self, state_digest: str, discord_user_id: int | None, now: int
    ) -> StateRow | None:
        row = await self._p().fetchrow(
            "UPDATE auth_states SET state_digest = 'claimed:' || state_digest"
            " WHERE state_digest = $1 AND ($2::bigint IS NULL OR discord_user_id = $2)"
            f" AND expires_at > $3 RETURNING {_STATE_COLUMNS}",
            state_digest,
            discord_user_id,
            now,
        )
        return None if row is None else _state_row(row)

    async def restore_state(self, state_digest: str) -> bool:
        changed = await self._execute_count(
            "UPDATE auth_states SET state_digest = $1 WHERE state_digest = $2",
            state_digest,
            CLAIMED + state_digest,
        )
        return changed > 0

    async def drop_state(self, state_digest: str) -> None:
        await self._p().execute(
            "DELETE FROM auth_states WHERE state_digest = $1", CLAIMED + state_digest
        )

    async def purge_expired_states(self, now: int, claim_grace: int) -> int:
        return await self._execute_count(
            "DELETE FROM auth_states WHERE expires_at <= $1"
            " AND (state_digest NOT LIKE 'claimed:%' OR expires_at <= $2)",
            now,
            now - claim_grace,
        )

    # -- profile (bio) codes ------------------------------------------------------------------

    async def create_bio_code(self, row: BioCodeRow, keep_per_member: int) -> None:
        async with self._p().acquire() as connection, connection.transaction():
            await connection.execute(
                f"INSERT INTO bio_codes ({_BIO_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)",
                *_bio_values(row),
            )
            await connection.execute(
                "DELETE FROM bio_codes WHERE discord_user_id = $1 AND (expires_at <= $2"
                " OR seq NOT IN (SELECT seq FROM bio_codes WHERE discord_user_id = $1"
                " ORDER BY created_at DESC, seq DESC LIMIT $3))",
                row.discord_user_id,
                row.created_at,
                keep_per_member,
            )

    async def get_bio_code(self, discord_user_id: int, attempt: str, now: int) -> BioCodeRow | None:
        row = await self._p().fetchrow(
            f"SELECT {_BIO_COLUMNS} FROM bio_codes"
            " WHERE attempt = $1 AND discord_user_id = $2 AND expires_at > $3",
            attempt,
            discord_user_id,
            now,
        )
        return None if row is None else _bio_row(row)

    async def complete_bio_link(
        self, row: LinkRow, attempt: str, now: int, digests: Sequence[str]
    ) -> BioCodeRow | None:
        if not digests:
            return None
        async with self._p().acquire() as connection, connection.transaction():
            # The DELETE locks the attempt's row: of concurrent calls one takes it.
            taken = await connection.fetchrow(
                "DELETE FROM bio_codes WHERE attempt = $1 AND discord_user_id = $2"
                f" AND expires_at > $3 AND code_digest = ANY($4::text[]) RETURNING {_BIO_COLUMNS}",
                attempt,
                row.discord_user_id,
                now,
                list(digests),
            )
            if taken is None:
                return None
            await connection.execute(_UPSERT_LINK_SQL, *_link_values(row))
        return _bio_row(taken)

    async def purge_expired_bio_codes(self, now: int) -> int:
        return await self._execute_count("DELETE FROM bio_codes WHERE expires_at <= $1", now)

    # -- settings -----------------------------------------------------------------------------

    async def get_setting(self, name: str) -> str | None:
        value = await self._p().fetchval("SELECT value FROM settings WHERE name = $1", name)
        return None if value is None else str(value)

    async def set_setting(self, name: str, value: str | None) -> None:
        if value is None:
            await self._p().execute("DELETE FROM settings WHERE name = $1", name)
        else:
            await self._p().execute(
                "INSERT INTO settings (name, value) VALUES ($1, $2)"
                " ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                name,
                value,
            )

    # -- operations ---------------------------------------------------------------------------

    async def stats(self, now: int) -> StoreStats:
        row = await self._p().fetchrow(
            "SELECT (SELECT count(*) FROM links), "
            "(SELECT count(*) FROM links WHERE status = 'broken'), "
            "(SELECT count(*) FROM auth_states WHERE expires_at > $1), "
            "(SELECT count(*) FROM bio_codes WHERE expires_at > $1), "
            "(SELECT count(*) FROM links WHERE kind = 'bio')",
            now,
        )
        assert row is not None
        return StoreStats(
            links=row[0],
            broken_links=row[1],
            pending_states=row[2],
            pending_bio_codes=row[3],
            bio_links=row[4],
        )

    async def token_rows(self, after: int, limit: int) -> list[TokenRow]:
        rows = await self._p().fetch(
            "SELECT discord_user_id, access_token, refresh_token FROM links"
            " WHERE discord_user_id > $1 AND access_token IS NOT NULL"
            " ORDER BY discord_user_id LIMIT $2",
            after,
            limit,
        )
        return [TokenRow(r[0], r[1], r[2]) for r in rows]

    async def write_token_rows(self, rows: Sequence[TokenRow]) -> None:
        async with self._p().acquire() as connection, connection.transaction():
            await connection.executemany(
                "UPDATE links SET access_token = $1, refresh_token = $2 WHERE discord_user_id = $3",
                [(r.access_token, r.refresh_token, r.discord_user_id) for r in rows],
            )

    async def link_rows(self, after: int, limit: int) -> list[LinkRow]:
        rows = await self._p().fetch(
            f"SELECT {_LINK_COLUMNS} FROM links WHERE discord_user_id > $1"
            " ORDER BY discord_user_id LIMIT $2",
            after,
            limit,
        )
        return [_link_row(row) for row in rows]

    async def set_refresh_after(self, values: Sequence[tuple[int, int | None]]) -> None:
        await self._p().execute(
            "UPDATE links SET refresh_after = v.refresh_after FROM"
            " unnest($1::bigint[], $2::bigint[]) AS v(discord_user_id, refresh_after)"
            " WHERE links.discord_user_id = v.discord_user_id",
            [user_id for user_id, _ in values],
            [refresh_after for _, refresh_after in values],
        )

    async def state_rows(self) -> list[StateRow]:
        rows = await self._p().fetch(
            f"SELECT {_STATE_COLUMNS} FROM auth_states WHERE state_digest NOT LIKE 'claimed:%'"
        )
        return [_state_row(row) for row in rows]

    async def bio_code_rows(self) -> list[BioCodeRow]:
        rows = await self._p().fetch(f"SELECT {_BIO_COLUMNS} FROM bio_codes")
        return [_bio_row(row) for row in rows]

    async def settings(self) -> dict[str, str]:
        rows = await self._p().fetch("SELECT name, value FROM settings")
        return {str(r[0]): str(r[1]) for r in rows}

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
                    "import_links", records=[_link_values(r) for r in links], columns=_LINK_FIELDS
                )
                await connection.execute(
                    f"INSERT INTO links ({_LINK_COLUMNS}) SELECT {_LINK_COLUMNS}"
                    " FROM import_links ON CONFLICT (discord_user_id) DO NOTHING"
                )
            if states:
                await connection.executemany(
                    f"INSERT INTO auth_states ({_STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
                    " ON CONFLICT (state_digest) DO NOTHING",
                    [_state_values(r) for r in states],
                )
            if bio_codes:
                await connection.executemany(
                    f"INSERT INTO bio_codes ({_BIO_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
                    " ON CONFLICT (attempt) DO NOTHING",
                    [_bio_values(r) for r in bio_codes],
                )
            if settings:
                await connection.executemany(
                    "INSERT INTO settings (name, value) VALUES ($1, $2)"
                    " ON CONFLICT (name) DO NOTHING",
                    list(settings.items()),
                )

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
