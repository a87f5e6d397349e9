"""The SQL both backends run, written once, and the queries that are the same in both.

Statements are written in SQLite's ``?`` style; :func:`numbered` turns one into PostgreSQL's
``$1, $2, ...`` (asyncpg). A value used twice is passed twice. Where PostgreSQL must know a
parameter's type (``? IS NULL``), the statement says ``CAST(? AS BIGINT)``, which SQLite reads
the same way. :class:`SqlBackend` holds the one-statement operations over two primitives each
backend provides (``_query`` and ``_change``); what only one database can say (SQLite's
``INDEXED BY`` and ``json_each``, PostgreSQL's ``SKIP LOCKED``, ``COPY`` and arrays) and
what runs in a transaction stays in sqlite.py and postgres.py.

Every value is a parameter: the statements are built only from this module's constants.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from .backend import CLAIMED, BioCodeRow, DueRow, LinkRow, StateRow, TokenRow
from .models import StoreStats

LINK_COLUMNS = (
    "discord_user_id, kind, imgur_account_id, imgur_username, access_token, refresh_token,"
    " expires_at, status, linked_at, refreshed_at, last_error, refresh_after"
)
STATE_COLUMNS = "state_digest, discord_user_id, response_type, created_at, expires_at"
BIO_COLUMNS = "attempt, code_digest, discord_user_id, imgur_username, created_at, expires_at"
DUE_COLUMNS = "discord_user_id, expires_at, linked_at, refreshed_at, refresh_after"
LINK_FIELDS = tuple(LINK_COLUMNS.split(", "))
STATE_FIELDS = tuple(STATE_COLUMNS.split(", "))
BIO_FIELDS = tuple(BIO_COLUMNS.split(", "))
DUE_FIELDS = tuple(DUE_COLUMNS.split(", "))


def _marks(count: int) -> str:
    return ", ".join("?" * count)


# -- links ------------------------------------------------------------------------------------

GET_LINK = f"SELECT {LINK_COLUMNS} FROM links WHERE discord_user_id = ?"
# Insert the member's link or replace every field of the one there; a replaced link has no lease.
UPSERT_LINK = (
    f"INSERT INTO links ({LINK_COLUMNS}) VALUES ({_marks(len(LINK_FIELDS))})"
    " ON CONFLICT (discord_user_id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in LINK_FIELDS[1:])
    + ", lease_owner = NULL, lease_until = NULL"
)
# The change is for the link stored at ``linked_at`` (passed twice), or any link if None.
SAME_LINK = "(CAST(? AS BIGINT) IS NULL OR linked_at = ?)"
RENAME_ACCOUNT = f"UPDATE links SET imgur_username = ? WHERE discord_user_id = ? AND {SAME_LINK}"
# The writes after a refresh end any lease on the link.
NO_LEASE = "lease_owner = NULL, lease_until = NULL"
# Fencing: a write made under a claim (its owner passed twice) only happens while that owner
# still holds the lease, or nobody does; None writes without a claim (e.g. a relink's save).
FENCED = "(CAST(? AS TEXT) IS NULL OR lease_owner IS NULL OR lease_owner = ?)"
WRITE_REFRESHED = (
    "UPDATE links SET access_token = ?, refresh_token = ?, expires_at = ?, refreshed_at = ?,"
    f" refresh_after = ?, status = 'ok', last_error = NULL, {NO_LEASE}"
    f" WHERE discord_user_id = ? AND {SAME_LINK} AND {FENCED}"
)
MARK_BROKEN = (
    f"UPDATE links SET status = 'broken', last_error = ?, {NO_LEASE}"
    f" WHERE discord_user_id = ? AND {SAME_LINK} AND {FENCED}"
)
RECORD_ERROR = (
    f"UPDATE links SET last_error = ?, {NO_LEASE}"
    f" WHERE discord_user_id = ? AND {SAME_LINK} AND {FENCED}"
)
# Lease one link to an owner (passed twice) unless another owner's lease is still running.
CLAIM_LINK = (
    "UPDATE links SET lease_owner = ?, lease_until = ? WHERE discord_user_id = ?"
    " AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?)"
)
RELEASE_LINK = f"UPDATE links SET {NO_LEASE} WHERE discord_user_id = ? AND lease_owner = ?"
DELETE_MEMBER = tuple(
    f"DELETE FROM {table} WHERE discord_user_id = ?"
    for table in ("links", "auth_states", "bio_codes")
)
LINK_PAGE = (
    f"SELECT {LINK_COLUMNS} FROM links WHERE discord_user_id > ? ORDER BY discord_user_id LIMIT ?"
)
CIPHERTEXT_PAGE = (
    "SELECT discord_user_id, access_token, refresh_token FROM links"
    " WHERE discord_user_id > ? AND access_token IS NOT NULL"
    " ORDER BY discord_user_id LIMIT ?"
)
WRITE_CIPHERTEXT = "UPDATE links SET access_token = ?, refresh_token = ? WHERE discord_user_id = ?"
# (PostgreSQL copies links in with COPY instead: postgres.py.)
IMPORT_LINK = (
    f"INSERT INTO links ({LINK_COLUMNS}) VALUES ({_marks(len(LINK_FIELDS))}) ON CONFLICT DO NOTHING"
)

# -- authorization states ---------------------------------------------------------------------
# ``{seq}`` is the column that orders a member's rows: SQLite's rowid, PostgreSQL's seq.

INSERT_STATE = f"INSERT INTO auth_states ({STATE_COLUMNS}) VALUES ({_marks(len(STATE_FIELDS))})"
# Drop the member's expired pending states and all but the newest ``?`` (params: member,
# now, member, keep).
PRUNE_STATES = (
    "DELETE FROM auth_states WHERE discord_user_id = ?"
    " AND state_digest NOT LIKE 'claimed:%' AND (expires_at <= ?"
    " OR {seq} NOT IN (SELECT {seq} FROM auth_states WHERE discord_user_id = ?"
    " AND state_digest NOT LIKE 'claimed:%'"
    " ORDER BY created_at DESC, {seq} DESC LIMIT ?))"
)
# One UPDATE ... RETURNING: a state cannot be claimed twice, even concurrently (a claimed key
# no longer matches a digest, nor the pending ones). ``{lock}``: PostgreSQL's row lock.
CLAIM_NEWEST_STATE = (
    "UPDATE auth_states SET state_digest = 'claimed:' || state_digest"
    " WHERE {seq} = (SELECT {seq} FROM auth_states WHERE discord_user_id = ?"
    " AND expires_at > ? AND state_digest NOT LIKE 'claimed:%'"
    " ORDER BY created_at DESC, {seq} DESC LIMIT 1{lock})"
    f" RETURNING {STATE_COLUMNS}"
)
CLAIM_STATE = (
    "UPDATE auth_states SET state_digest = 'claimed:' || state_digest"
    " WHERE state_digest = ? AND (CAST(? AS BIGINT) IS NULL OR discord_user_id = ?)"
    f" AND expires_at > ? RETURNING {STATE_COLUMNS}"
)
DELETE_CLAIMED_STATE = "DELETE FROM auth_states WHERE state_digest = ? AND discord_user_id = ?"
PENDING_STATES = f"SELECT {STATE_COLUMNS} FROM auth_states WHERE state_digest NOT LIKE 'claimed:%'"
IMPORT_STATE = INSERT_STATE + " ON CONFLICT DO NOTHING"

# -- profile (bio) codes ----------------------------------------------------------------------

INSERT_BIO_CODE = f"INSERT INTO bio_codes ({BIO_COLUMNS}) VALUES ({_marks(len(BIO_FIELDS))})"
PRUNE_BIO_CODES = (
    "DELETE FROM bio_codes WHERE discord_user_id = ? AND (expires_at <= ?"
    " OR {seq} NOT IN (SELECT {seq} FROM bio_codes WHERE discord_user_id = ?"
    " ORDER BY created_at DESC, {seq} DESC LIMIT ?))"
)
IMPORT_BIO_CODE = INSERT_BIO_CODE + " ON CONFLICT DO NOTHING"

# -- settings ---------------------------------------------------------------------------------

IMPORT_SETTING = "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING"


def prune_params(discord_user_id: int, now: int, keep: int) -> tuple[int, int, int, int]:
    """The parameters of ``PRUNE_STATES`` and ``PRUNE_BIO_CODES``."""
    return (discord_user_id, now, discord_user_id, keep)


@functools.cache
def numbered(sql: str) -> str:
    """``sql`` with its ``?`` placeholders numbered ``$1, $2, ...`` (PostgreSQL's style).

    A ``?`` inside a quoted literal or name is left as it is.
    """
    out: list[str] = []
    quote = ""
    count = 0
    for char in sql:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)


# -- rows -------------------------------------------------------------------------------------


class Row(Protocol):
    """A result row of either driver (``sqlite3.Row``, ``asyncpg.Record``)."""

    def __getitem__(self, key: str, /) -> Any: ...


def _blob(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def link_row(row: Row) -> LinkRow:
    values = {name: row[name] for name in LINK_FIELDS}
    values["access_token"] = _blob(values["access_token"])
    values["refresh_token"] = _blob(values["refresh_token"])
    return LinkRow(**values)


def due_row(row: Row) -> DueRow:
    return DueRow(**{name: row[name] for name in DUE_FIELDS})


def state_row(row: Row) -> StateRow:
    values = {name: row[name] for name in STATE_FIELDS}
    values["state_digest"] = str(values["state_digest"]).removeprefix(CLAIMED)
    return StateRow(**values)


def bio_row(row: Row) -> BioCodeRow:
    return BioCodeRow(**{name: row[name] for name in BIO_FIELDS})


def link_values(row: LinkRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in LINK_FIELDS)


def state_values(row: StateRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in STATE_FIELDS)


def bio_values(row: BioCodeRow) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in BIO_FIELDS)


class SqlBackend:
    """What both backends do in one statement, over their ``_query`` and ``_change``."""

    _location: str  # where the database is, for messages (no password)

    @property
    def location(self) -> str:
        return self._location

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._location!r})"

    async def _query(self, sql: str, params: Iterable[Any] = ()) -> Sequence[Row]:
        """The rows ``sql`` (``?`` style) returns."""
        raise NotImplementedError

    async def _change(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run ``sql`` (``?`` style); how many rows it changed."""
        raise NotImplementedError

    # links

    async def get(self, discord_user_id: int) -> LinkRow | None:
        rows = await self._query(GET_LINK, (discord_user_id,))
        return link_row(rows[0]) if rows else None

    async def rename_account(
        self, discord_user_id: int, imgur_username: str, linked_at: int | None
    ) -> bool:
        params = (imgur_username, discord_user_id, linked_at, linked_at)
        return await self._change(RENAME_ACCOUNT, params) > 0

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
        owner: str | None = None,
    ) -> bool:
        times = (expires_at, refreshed_at, refresh_after)
        params = (
            *(access_token, refresh_token, *times, discord_user_id),
            *(linked_at, linked_at, owner, owner),
        )
        return await self._change(WRITE_REFRESHED, params) > 0

    async def mark_broken(
        self, discord_user_id: int, error: str, linked_at: int | None, owner: str | None = None
    ) -> bool:
        params = (error, discord_user_id, linked_at, linked_at, owner, owner)
        return await self._change(MARK_BROKEN, params) > 0

    async def record_error(
        self, discord_user_id: int, error: str, linked_at: int | None, owner: str | None = None
    ) -> bool:
        params = (error, discord_user_id, linked_at, linked_at, owner, owner)
        return await self._change(RECORD_ERROR, params) > 0

    # leases of single links (claims of due links are each backend's: see claim_due)

    async def claim(self, discord_user_id: int, owner: str, now: int, until: int) -> bool:
        params = (owner, until, discord_user_id, now, owner)
        return await self._change(CLAIM_LINK, params) > 0

    async def release(self, discord_user_id: int, owner: str) -> None:
        await self._change(RELEASE_LINK, (discord_user_id, owner))

    # authorization states

    async def claim_state(
        self, state_digest: str, discord_user_id: int | None, now: int
    ) -> StateRow | None:
        params = (state_digest, discord_user_id, discord_user_id, now)
        rows = await self._query(CLAIM_STATE, params)
        return state_row(rows[0]) if rows else None

    async def restore_state(self, state_digest: str) -> bool:
        sql = "UPDATE auth_states SET state_digest = ? WHERE state_digest = ?"
        return await self._change(sql, (state_digest, CLAIMED + state_digest)) > 0

    async def drop_state(self, state_digest: str) -> None:
        await self._change(
            "DELETE FROM auth_states WHERE state_digest = ?", (CLAIMED + state_digest,)
        )

    async def purge_expired_states(self, now: int, claim_grace: int) -> int:
        return await self._change(
            "DELETE FROM auth_states WHERE expires_at <= ?"
            " AND (state_digest NOT LIKE 'claimed:%' OR expires_at <= ?)",
            (now, now - claim_grace),
        )

    # profile (bio) codes

    async def get_bio_code(self, discord_user_id: int, attempt: str, now: int) -> BioCodeRow | None:
        rows = await self._query(
            f"SELECT {BIO_COLUMNS} FROM bio_codes"
            " WHERE attempt = ? AND discord_user_id = ? AND expires_at > ?",
            (attempt, discord_user_id, now),
        )
        return bio_row(rows[0]) if rows else None

    async def purge_expired_bio_codes(self, now: int) -> int:
        return await self._change("DELETE FROM bio_codes WHERE expires_at <= ?", (now,))

    # settings

    async def get_setting(self, name: str) -> str | None:
        rows = await self._query("SELECT value FROM settings WHERE name = ?", (name,))
        return str(rows[0]["value"]) if rows else None

    async def set_setting(self, name: str, value: str | None) -> None:
        if value is None:
            await self._change("DELETE FROM settings WHERE name = ?", (name,))
        else:
            await self._change(
                "INSERT INTO settings (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    # operations

    async def stats(self, now: int) -> StoreStats:
        rows = await self._query(
            "SELECT (SELECT count(*) FROM links) AS links,"
            " (SELECT count(*) FROM links WHERE status = 'broken') AS broken_links,"
            " (SELECT count(*) FROM auth_states WHERE expires_at > ?) AS pending_states,"
            " (SELECT count(*) FROM bio_codes WHERE expires_at > ?) AS pending_bio_codes,"
            " (SELECT count(*) FROM links WHERE kind = 'bio') AS bio_links",
            (now, now),
        )
        names = ("links", "broken_links", "pending_states", "pending_bio_codes", "bio_links")
        return StoreStats(**{name: int(rows[0][name]) for name in names})

    async def token_rows(self, after: int, limit: int) -> list[TokenRow]:
        rows = await self._query(CIPHERTEXT_PAGE, (after, limit))
        return [
            TokenRow(r["discord_user_id"], bytes(r["access_token"]), bytes(r["refresh_token"]))
            for r in rows
        ]

    async def link_rows(self, after: int, limit: int) -> list[LinkRow]:
        return [link_row(row) for row in await self._query(LINK_PAGE, (after, limit))]

    async def state_rows(self) -> list[StateRow]:
        # Pending ones only: a claimed state belongs to a completion under way in this database.
        return [state_row(row) for row in await self._query(PENDING_STATES)]

    async def bio_code_rows(self) -> list[BioCodeRow]:
        return [bio_row(row) for row in await self._query(f"SELECT {BIO_COLUMNS} FROM bio_codes")]

    async def settings(self) -> dict[str, str]:
        rows = await self._query("SELECT name, value FROM settings")
        return {str(r["name"]): str(r["value"]) for r in rows}
