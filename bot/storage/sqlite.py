"""``LinkStore``: members' Imgur links and pending authorization states, in SQLite.

Tokens are encrypted before they reach SQL and states are stored only as digests, so the
database file alone reveals neither. Times are Unix seconds in the database and timezone-aware
UTC datetimes in the API (sub-second precision is dropped).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import secrets
import sqlite3
import stat
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiosqlite

from .crypto import TokenCipher, bio_code_digest, state_digest
from .errors import AttemptGoneError, LinkNotFoundError, StorageError, TokenDecryptError
from .migrate import apply_migrations
from .models import AuthState, BioCode, DueLink, Link, LinkKind, LinkStatus, StoreStats

__all__ = [
    "BIO_CODE_TTL",
    "MAX_PENDING_BIO_CODES_PER_MEMBER",
    "MAX_PENDING_STATES_PER_MEMBER",
    "MEMORY",
    "LinkStore",
]

log = logging.getLogger(__name__)

MEMORY = ":memory:"
MAX_PENDING_STATES_PER_MEMBER = 5  # older ones are dropped, so one member cannot pile them up
MAX_PENDING_BIO_CODES_PER_MEMBER = 3  # likewise for profile codes
BIO_CODE_TTL = timedelta(minutes=15)
MAX_BIO_CODE_CANDIDATES = 20  # codes looked up from one profile text at most
_MAX_ERROR_LENGTH = 500
_BUSY_TIMEOUT_MS = 5000
_MIN_INT64 = -(2**63)
_STATE_COLUMNS = "state_digest, discord_user_id, response_type, created_at, expires_at"
# A state being completed is claimed, not deleted: its key gets this prefix, so it can be neither
# consumed again nor taken for a pending one, while unlink (delete_member) still deletes it with
# the member's other states. A link is stored for an attempt only while its claim exists
# (save_link with ``attempt``), so an unlink during the exchange with Imgur wins.
# (The prefix is spelled out in the SQL below, as 'claimed:'.)
_CLAIMED = "claimed:"
_CLAIM_NEWEST_SQL = (
    "UPDATE auth_states SET state_digest = 'claimed:' || state_digest"
    " WHERE rowid = (SELECT rowid FROM auth_states WHERE discord_user_id = ? AND expires_at > ?"
    " AND state_digest NOT LIKE 'claimed:%' ORDER BY created_at DESC, rowid DESC LIMIT 1)"
    " RETURNING state_digest, discord_user_id, response_type, created_at, expires_at"
)
_CLAIM_MEMBERS_SQL = (
    "UPDATE auth_states SET state_digest = 'claimed:' || state_digest"
    " WHERE state_digest = ? AND discord_user_id = ? AND expires_at > ?"
    " RETURNING state_digest, discord_user_id, response_type, created_at, expires_at"
)
_CLAIM_ANY_SQL = (
    "UPDATE auth_states SET state_digest = 'claimed:' || state_digest"
    " WHERE state_digest = ? AND expires_at > ?"
    " RETURNING state_digest, discord_user_id, response_type, created_at, expires_at"
)
# Claims of completions that never finished (the bot was killed) go this long after expiry.
_CLAIM_GRACE_SECONDS = 3600

# The sweep's query: TokenManager.due's rule in SQL (keep the two in step). An ok link is due
# when it expires within the lead, expires_at <= :before (= now + lead), and is past half its
# token's lifetime, expires_at - now <= (expires_at - issued) / 2, that is
# expires_at + issued <= 2 * now with issued = COALESCE(refreshed_at, linked_at). The two agree
# exactly but for a token with no lifetime at all (expires_at <= issued) issued after `now`:
# TokenManager.due finds it due at once, this query only from the first sweep with now >= issued.
#
# The half-life sum is the key of the index links_half_life (migration 0002), so only links
# past half their life are visited; the index's second column, expires_at, passes over those
# not yet within the lead (long-lived tokens) without reading their rows. INDEXED BY: without
# statistics SQLite might scan another index and visit every link within the lead (every link,
# when tokens are short-lived).
#
# Keyset paging on (half_life, expires_at, discord_user_id), half_life being the sum: one arm
# per part of the key, each a seek in the index, so a page costs the same however many links
# share an expiry time. Each arm is limited and ordered by the index itself; the outer ORDER BY
# sorts at most 3 * :limit rows.
DUE_FOR_REFRESH_SQL = (
    "SELECT discord_user_id, expires_at, refreshed_at, linked_at FROM ("
    # 1. the rest of the cursor's (half_life, expires_at): member ids after its id
    "SELECT * FROM (SELECT discord_user_id, expires_at, refreshed_at, linked_at,"
    " expires_at + COALESCE(refreshed_at, linked_at) AS half_life"
    " FROM links INDEXED BY links_half_life WHERE status = 'ok'"
    " AND expires_at + COALESCE(refreshed_at, linked_at) = :half_life"
    " AND expires_at = :expires_at AND discord_user_id > :user_id"
    " AND :half_life <= :twice_now AND :expires_at <= :before"
    " ORDER BY discord_user_id LIMIT :limit)"
    # 2. the rest of the cursor's half_life: later expiry times
    " UNION ALL SELECT * FROM (SELECT discord_user_id, expires_at, refreshed_at, linked_at,"
    " expires_at + COALESCE(refreshed_at, linked_at) AS half_life"
    " FROM links INDEXED BY links_half_life WHERE status = 'ok'"
    " AND expires_at + COALESCE(refreshed_at, linked_at) = :half_life"
    " AND expires_at > :expires_at AND expires_at <= :before AND :half_life <= :twice_now"
    " ORDER BY expires_at, discord_user_id LIMIT :limit)"
    # 3. later half_life values
    " UNION ALL SELECT * FROM (SELECT discord_user_id, expires_at, refreshed_at, linked_at,"
    " expires_at + COALESCE(refreshed_at, linked_at) AS half_life"
    " FROM links INDEXED BY links_half_life WHERE status = 'ok'"
    " AND expires_at + COALESCE(refreshed_at, linked_at) > :half_life"
    " AND expires_at + COALESCE(refreshed_at, linked_at) <= :twice_now"
    " AND expires_at <= :before"
    " ORDER BY half_life, expires_at, discord_user_id LIMIT :limit)"
    ") ORDER BY half_life, expires_at, discord_user_id LIMIT :limit"
)


def _unix(moment: datetime) -> int:
    if moment.utcoffset() is None:
        raise ValueError("naive datetime: the store takes timezone-aware UTC datetimes")
    return math.floor(moment.timestamp())


def _unix_or_none(moment: datetime | None) -> int | None:
    return None if moment is None else _unix(moment)


def _utc(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now


def _same_link(linked_at: datetime | None) -> tuple[int | None, int | None]:
    """Parameters of ``AND (? IS NULL OR linked_at = ?)``: any link, or only that one."""
    moment = _unix_or_none(linked_at)
    return moment, moment


def _claimed(state: AuthState) -> str:
    if not state.digest:
        raise ValueError("only a state handed out by this store names a claim")
    return _CLAIMED + state.digest


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:_MAX_ERROR_LENGTH]


def _check_link_shape(link: Link) -> None:
    """The same rule as the links table's CHECK, with a clearer error."""
    tokens = (link.access_token, link.refresh_token, link.expires_at)
    if link.kind is LinkKind.BIO:
        if any(value is not None for value in tokens) or link.imgur_account_id is None:
            raise ValueError("a bio link has an account id and no tokens or expiry")
    elif any(value is None for value in tokens):
        raise ValueError("an oauth link needs both tokens and expires_at")


def _bio_code(row: sqlite3.Row) -> BioCode:
    return BioCode(
        discord_user_id=row["discord_user_id"],
        imgur_username=row["imgur_username"],
        attempt=row["attempt"],
        created_at=datetime.fromtimestamp(row["created_at"], tz=UTC),
        expires_at=datetime.fromtimestamp(row["expires_at"], tz=UTC),
    )


def _prepare_database_file(path: Path) -> None:
    """Create the directory and an empty database file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if os.name != "posix":
        return
    # SQLite gives the -wal and -shm files the permissions of the database file.
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and stat.S_IMODE(file.stat().st_mode) & 0o077:
            file.chmod(0o600)
            log.warning("restricted %s to its owner (mode 0600)", file)


async def _configure(db: aiosqlite.Connection, in_memory: bool) -> None:
    async with db.execute("PRAGMA journal_mode = WAL") as cursor:
        row = await cursor.fetchone()
    if not in_memory and (row is None or str(row[0]).lower() != "wal"):
        log.warning("the database could not switch to WAL mode; continuing without it")
    await db.execute("PRAGMA synchronous = NORMAL")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS:d}")
    # Deleted rows (an unlinked member's encrypted tokens) are overwritten, not left in free pages.
    await db.execute("PRAGMA secure_delete = ON")


class LinkStore:
    """Members' links and authorization states. Create with ``await LinkStore.open(...)``."""

    def __init__(self, db: aiosqlite.Connection, cipher: TokenCipher, location: str) -> None:
        self._db: aiosqlite.Connection | None = db
        self._cipher = cipher
        self._location = location
        # One connection: statements of concurrent callers must not land in each other's
        # transactions, so every use of the connection holds this lock.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, cipher: TokenCipher) -> LinkStore:
        """Open (creating if needed) the database at ``path`` (or ``":memory:"``) and migrate it."""
        location = str(path)
        in_memory = location == MEMORY
        if not in_memory:
            await asyncio.to_thread(_prepare_database_file, Path(path))
        db = await aiosqlite.connect(location, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            await _configure(db, in_memory)
            await apply_migrations(db)
        except BaseException:
            await db.close()
            raise
        return cls(db, cipher, location)

    async def close(self) -> None:
        """Close the database; waits for a running transaction. Safe to call twice."""
        db, self._db = self._db, None
        if db is not None:
            async with self._lock:
                await db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"LinkStore({self._location!r})"

    # -- plumbing (callers hold self._lock) ---------------------------------------------------

    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("the link store is closed")
        return self._db

    # One trip each to aiosqlite's thread (a cursor used with ``async with`` costs two or three).

    async def _rows(
        self, sql: str, params: Iterable[Any] | Mapping[str, Any] = ()
    ) -> list[sqlite3.Row]:
        return list(await self._conn().execute_fetchall(sql, params))

    async def _run(self, sql: str, params: Iterable[Any] = ()) -> int:
        # The statement has run to completion: the cursor holds nothing but its row count.
        cursor = await self._conn().execute(sql, params)
        return cursor.rowcount

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[None]:
        db = self._conn()
        await db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")

    def _decrypt(self, blob: bytes | None) -> str | None:
        return None if blob is None else self._cipher.decrypt(blob)

    def _encrypt(self, text: str | None) -> bytes | None:
        return None if text is None else self._cipher.encrypt(text)

    def _link(self, row: sqlite3.Row) -> Link:
        user_id = int(row["discord_user_id"])
        try:
            access_token = self._decrypt(row["access_token"])
            refresh_token = self._decrypt(row["refresh_token"])
        except TokenDecryptError:
            log.error(
                "cannot decrypt the stored tokens of member %d: wrong encryption key?", user_id
            )
            raise TokenDecryptError(
                f"the stored tokens of member {user_id} could not be decrypted"
                " with the configured encryption key(s)"
            ) from None
        return Link(
            discord_user_id=user_id,
            imgur_account_id=row["imgur_account_id"],
            imgur_username=row["imgur_username"],
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=_utc(row["expires_at"]),
            status=LinkStatus(row["status"]),
            linked_at=_utc(row["linked_at"]),
            refreshed_at=_utc(row["refreshed_at"]),
            last_error=row["last_error"],
            kind=LinkKind(row["kind"]),
        )

    # -- links --------------------------------------------------------------------------------

    async def get(self, discord_user_id: int) -> Link | None:
        """The member's link, or None."""
        async with self._lock:
            rows = await self._rows(
                "SELECT * FROM links WHERE discord_user_id = ?", (discord_user_id,)
            )
        return self._link(rows[0]) if rows else None

    async def save_link(self, link: Link, *, attempt: AuthState | None = None) -> None:
        """Insert the member's link, replacing any previous one (of either kind).

        An ``oauth`` link needs both tokens and ``expires_at``; a ``bio`` link must have no
        tokens and no expiry, and needs ``imgur_account_id``. ``ValueError`` otherwise.

        With ``attempt`` (a state this store handed out by ``consume_state*``), the attempt is
        used up in the same transaction, and ``AttemptGoneError`` is raised, with nothing
        stored, if it is gone: the member unlinked (or it was purged) while it was completed.
        """
        _check_link_shape(link)
        async with self._lock, self._transaction():
            if attempt is not None and not await self._run(
                "DELETE FROM auth_states WHERE state_digest = ? AND discord_user_id = ?",
                (_claimed(attempt), link.discord_user_id),
            ):
                raise AttemptGoneError(link.discord_user_id)
            await self._insert_link(link)

    async def _insert_link(self, link: Link) -> None:
        # Callers hold the lock and a transaction, and checked the link's shape.
        linked_at = link.linked_at if link.linked_at is not None else datetime.now(UTC)
        await self._run(
            "INSERT OR REPLACE INTO links (discord_user_id, kind, imgur_account_id,"
            " imgur_username, access_token, refresh_token, expires_at, status, linked_at,"
            " refreshed_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                link.discord_user_id,
                LinkKind(link.kind).value,
                link.imgur_account_id,
                link.imgur_username,
                self._encrypt(link.access_token),
                self._encrypt(link.refresh_token),
                _unix_or_none(link.expires_at),
                LinkStatus(link.status).value,
                _unix(linked_at),
                _unix_or_none(link.refreshed_at),
                _clip(link.last_error),
            ),
        )

    async def update_tokens(
        self,
        discord_user_id: int,
        *,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        refreshed_at: datetime,
        linked_at: datetime | None = None,
    ) -> None:
        """Store refreshed tokens; the link becomes ok again. ``LinkNotFoundError`` if unlinked.

        With ``linked_at``, only the link made at that moment is touched: a refresh that began
        before the member linked again must not write the old account's tokens over the new.
        """
        async with self._lock:
            changed = await self._run(
                "UPDATE links SET access_token = ?, refresh_token = ?, expires_at = ?,"
                " refreshed_at = ?, status = 'ok', last_error = NULL"
                " WHERE discord_user_id = ? AND (? IS NULL OR linked_at = ?)",
                (
                    self._cipher.encrypt(access_token),
                    self._cipher.encrypt(refresh_token),
                    _unix(expires_at),
                    _unix(refreshed_at),
                    discord_user_id,
                    *_same_link(linked_at),
                ),
            )
        if not changed:
            raise LinkNotFoundError(discord_user_id)

    async def mark_broken(
        self, discord_user_id: int, error: str, *, linked_at: datetime | None = None
    ) -> None:
        """Imgur refused the refresh token: the member must link again (see update_tokens)."""
        async with self._lock:
            changed = await self._run(
                "UPDATE links SET status = 'broken', last_error = ?"
                " WHERE discord_user_id = ? AND (? IS NULL OR linked_at = ?)",
                (_clip(error), discord_user_id, *_same_link(linked_at)),
            )
        if not changed:
            raise LinkNotFoundError(discord_user_id)

    async def record_error(
        self, discord_user_id: int, error: str, *, linked_at: datetime | None = None
    ) -> None:
        """Remember a temporary failure for ``/imgur status``; the status is kept."""
        async with self._lock:
            changed = await self._run(
                "UPDATE links SET last_error = ?"
                " WHERE discord_user_id = ? AND (? IS NULL OR linked_at = ?)",
                (_clip(error), discord_user_id, *_same_link(linked_at)),
            )
        if not changed:
            raise LinkNotFoundError(discord_user_id)

    async def rename_account(
        self, discord_user_id: int, imgur_username: str, *, linked_at: datetime | None = None
    ) -> None:
        """The linked Imgur account is now called ``imgur_username`` (renamed on Imgur).

        With ``linked_at``, only the link made at that moment is touched (see update_tokens).
        ``LinkNotFoundError`` if there is no such link.
        """
        async with self._lock:
            changed = await self._run(
                "UPDATE links SET imgur_username = ?"
                " WHERE discord_user_id = ? AND (? IS NULL OR linked_at = ?)",
                (imgur_username, discord_user_id, *_same_link(linked_at)),
            )
        if not changed:
            raise LinkNotFoundError(discord_user_id)

    async def delete_member(self, discord_user_id: int) -> bool:
        """Delete the member's link, pending states and bio codes; True if there was anything."""
        async with self._lock, self._transaction():
            deleted = await self._run(
                "DELETE FROM links WHERE discord_user_id = ?", (discord_user_id,)
            )
            deleted += await self._run(
                "DELETE FROM auth_states WHERE discord_user_id = ?", (discord_user_id,)
            )
            deleted += await self._run(
                "DELETE FROM bio_codes WHERE discord_user_id = ?", (discord_user_id,)
            )
        return deleted > 0

    async def due_for_refresh(
        self, before: datetime, limit: int, *, now: datetime, after: DueLink | None = None
    ) -> list[DueLink]:
        """Up to ``limit`` ok links due for refresh at ``now``, without their tokens.

        Due as ``TokenManager.due`` says (the SQL mirrors it, see ``DUE_FOR_REFRESH_SQL``):
        expiring at or before ``before`` (``now`` plus the lead) and past half their token's
        lifetime at ``now``. Links that became due first come first (for tokens of one lifetime,
        the soonest expiring). To page, pass the previous page's last link as ``after``.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if after is None:
            key = (_MIN_INT64, _MIN_INT64, _MIN_INT64)
        else:
            issued = after.refreshed_at or after.linked_at
            expires_at = _unix(after.expires_at)
            key = (expires_at + _unix(issued), expires_at, after.discord_user_id)
        params = {
            "before": _unix(before),
            "twice_now": 2 * _unix(now),
            "half_life": key[0],
            "expires_at": key[1],
            "user_id": key[2],
            "limit": limit,
        }
        async with self._lock:
            rows = await self._rows(DUE_FOR_REFRESH_SQL, params)
        return [
            DueLink(
                discord_user_id=user_id,
                expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
                linked_at=datetime.fromtimestamp(linked_at, tz=UTC),
                refreshed_at=_utc(refreshed_at),
            )
            for user_id, expires_at, refreshed_at, linked_at in rows
        ]

    # -- authorization states -----------------------------------------------------------------

    async def create_state(
        self,
        discord_user_id: int,
        response_type: str,
        *,
        ttl: timedelta = timedelta(minutes=10),
        now: datetime | None = None,
    ) -> AuthState:
        """A new single-use state for the member; the result carries the clear state, once."""
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        created = _now(now)
        created_at, expires_at = _unix(created), _unix(created + ttl)
        state = secrets.token_urlsafe(32)
        async with self._lock, self._transaction():
            await self._run(
                "INSERT INTO auth_states (state_digest, discord_user_id, response_type,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (state_digest(state), discord_user_id, response_type, created_at, expires_at),
            )
            await self._run(
                "DELETE FROM auth_states WHERE discord_user_id = ?"
                " AND state_digest NOT LIKE 'claimed:%'"
                " AND (expires_at <= ? OR rowid NOT IN (SELECT rowid FROM auth_states"
                " WHERE discord_user_id = ? AND state_digest NOT LIKE 'claimed:%'"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?))",
                (discord_user_id, created_at, discord_user_id, MAX_PENDING_STATES_PER_MEMBER),
            )
        return AuthState(
            discord_user_id=discord_user_id,
            response_type=response_type,
            created_at=datetime.fromtimestamp(created_at, tz=UTC),
            expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
            state=state,
            digest=state_digest(state),
        )

    async def consume_state(
        self, discord_user_id: int, state: str | None, *, now: datetime | None = None
    ) -> AuthState | None:
        """Claim the member's unexpired ``state``, or with None their newest pending one.

        A claimed state cannot be consumed again; it ends with ``save_link(attempt=...)``,
        ``restore_state`` or ``drop_state``, or is deleted by unlink. A state belonging to
        another member is left alone and gives None.
        """
        moment = _unix(_now(now))
        if state is None:
            return await self._take_state(_CLAIM_NEWEST_SQL, (discord_user_id, moment))
        return await self._take_state(
            _CLAIM_MEMBERS_SQL, (state_digest(state), discord_user_id, moment)
        )

    async def consume_state_any_member(
        self, state: str, *, now: datetime | None = None
    ) -> AuthState | None:
        """Claim an unexpired ``state`` whoever it belongs to (a web callback); None if unknown."""
        return await self._take_state(_CLAIM_ANY_SQL, (state_digest(state), _unix(_now(now))))

    async def _take_state(self, claim_sql: str, params: Iterable[Any]) -> AuthState | None:
        # One UPDATE ... RETURNING: a state cannot be claimed twice, even concurrently (a
        # claimed key no longer matches a digest, nor the pending ones).
        async with self._lock:
            rows = await self._rows(claim_sql, params)
        if not rows:
            return None
        row = rows[0]
        return AuthState(
            discord_user_id=row["discord_user_id"],
            response_type=row["response_type"],
            created_at=datetime.fromtimestamp(row["created_at"], tz=UTC),
            expires_at=datetime.fromtimestamp(row["expires_at"], tz=UTC),
            digest=row["state_digest"].removeprefix(_CLAIMED),
        )

    async def restore_state(self, state: AuthState) -> bool:
        """Give back a claimed state whose use failed for a passing reason, for another try.

        Only a claim that still exists is given back: after an unlink nothing comes back.
        True if the state is pending again.
        """
        async with self._lock:
            return bool(
                await self._run(
                    "UPDATE auth_states SET state_digest = ? WHERE state_digest = ?",
                    (state.digest, _claimed(state)),
                )
            )

    async def drop_state(self, state: AuthState) -> None:
        """Forget a claimed state whose use failed for good (Imgur refused the PIN or code)."""
        async with self._lock:
            await self._run("DELETE FROM auth_states WHERE state_digest = ?", (_claimed(state),))

    async def purge_expired_states(self, now: datetime | None = None) -> int:
        """Delete expired states (claimed ones an hour after expiry); returns how many."""
        moment = _unix(_now(now))
        async with self._lock:
            return await self._run(
                "DELETE FROM auth_states WHERE expires_at <= ?"
                " AND (state_digest NOT LIKE 'claimed:%' OR expires_at <= ?)",
                (moment, moment - _CLAIM_GRACE_SECONDS),
            )

    # -- profile (bio) codes ------------------------------------------------------------------

    async def create_bio_code(
        self,
        discord_user_id: int,
        imgur_username: str,
        code: str,
        *,
        ttl: timedelta = BIO_CODE_TTL,
        now: datetime | None = None,
    ) -> BioCode:
        """Remember a profile code for the member and that Imgur username (case-insensitive).

        Only the code's digest is stored, bound to the member and the lowercased username.
        The result carries a fresh, non-secret ``attempt`` reference (for a Check button) and
        the clear code, once. The member keeps at most ``MAX_PENDING_BIO_CODES_PER_MEMBER``
        unexpired codes: older ones are dropped.
        """
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        if not code or not imgur_username:
            raise ValueError("a bio code needs a code and a username")
        username = imgur_username.lower()
        created = _now(now)
        created_at, expires_at = _unix(created), _unix(created + ttl)
        attempt = secrets.token_urlsafe(9)  # 12 characters; a reference, not a secret
        async with self._lock, self._transaction():
            await self._run(
                "INSERT INTO bio_codes (attempt, code_digest, discord_user_id, imgur_username,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    attempt,
                    bio_code_digest(discord_user_id, username, code),
                    discord_user_id,
                    username,
                    created_at,
                    expires_at,
                ),
            )
            await self._run(
                "DELETE FROM bio_codes WHERE discord_user_id = ? AND (expires_at <= ?"
                " OR rowid NOT IN (SELECT rowid FROM bio_codes WHERE discord_user_id = ?"
                " ORDER BY created_at DESC, rowid DESC LIMIT ?))",
                (discord_user_id, created_at, discord_user_id, MAX_PENDING_BIO_CODES_PER_MEMBER),
            )
        return BioCode(
            discord_user_id=discord_user_id,
            imgur_username=username,
            attempt=attempt,
            created_at=datetime.fromtimestamp(created_at, tz=UTC),
            expires_at=datetime.fromtimestamp(expires_at, tz=UTC),
            code=code,
        )

    async def get_bio_code(
        self, discord_user_id: int, attempt: str, *, now: datetime | None = None
    ) -> BioCode | None:
        """The member's unexpired attempt ``attempt`` (without its code), or None.

        Another member's attempt gives None, as an unknown, expired or used one does.
        """
        async with self._lock:
            rows = await self._rows(
                "SELECT attempt, discord_user_id, imgur_username, created_at, expires_at"
                " FROM bio_codes WHERE attempt = ? AND discord_user_id = ? AND expires_at > ?",
                (attempt, discord_user_id, _unix(_now(now))),
            )
        return _bio_code(rows[0]) if rows else None

    async def complete_bio_link(
        self,
        link: Link,
        attempt: str,
        candidates: Iterable[str],
        *,
        now: datetime | None = None,
    ) -> BioCode | None:
        """Link the member by profile code, if one of ``candidates`` is the attempt's code.

        ``link`` is the ``bio`` link to store (its member owns ``attempt``); ``candidates``
        are the code-shaped words found in the profile's About text (at most
        ``MAX_BIO_CODE_CANDIDATES`` are tried). When one is the code of the member's unexpired
        ``attempt``, the attempt is used up and ``link`` replaces any previous link, in one
        transaction, and the attempt is returned. Otherwise None and nothing changes: the
        attempt stays for another check. Single use: of concurrent calls, one links. An
        unlink meanwhile deletes the attempt, so it wins.
        """
        if link.kind is not LinkKind.BIO:
            raise ValueError("complete_bio_link stores bio links only")
        _check_link_shape(link)
        member = link.discord_user_id
        words = list(candidates)[:MAX_BIO_CODE_CANDIDATES]
        async with self._lock, self._transaction():
            rows = await self._rows(
                "SELECT imgur_username FROM bio_codes WHERE attempt = ? AND discord_user_id = ?",
                (attempt, member),
            )
            if not rows or not words or rows[0]["imgur_username"] != link.imgur_username.lower():
                return None  # unknown, another member's, or for another account
            username = rows[0]["imgur_username"]
            digests = list(dict.fromkeys(bio_code_digest(member, username, w) for w in words))
            # DELETE ... RETURNING in the transaction: a code cannot be used twice.
            taken = await self._rows(
                "DELETE FROM bio_codes WHERE attempt = ? AND discord_user_id = ?"
                " AND expires_at > ? AND code_digest IN (SELECT value FROM json_each(?))"
                " RETURNING attempt, discord_user_id, imgur_username, created_at, expires_at",
                (attempt, member, _unix(_now(now)), json.dumps(digests)),
            )
            if not taken:
                return None
            await self._insert_link(link)
        return _bio_code(taken[0])

    async def purge_expired_bio_codes(self, now: datetime | None = None) -> int:
        """Delete expired profile codes; returns how many."""
        async with self._lock:
            return await self._run(
                "DELETE FROM bio_codes WHERE expires_at <= ?", (_unix(_now(now)),)
            )

    # -- operations ---------------------------------------------------------------------------

    async def stats(self, *, now: datetime | None = None) -> StoreStats:
        """Counts of links (all, broken, bio), unexpired states and unexpired bio codes."""
        moment = _unix(_now(now))
        async with self._lock:
            rows = await self._rows(
                "SELECT (SELECT count(*) FROM links),"
                " (SELECT count(*) FROM links WHERE status = 'broken'),"
                " (SELECT count(*) FROM auth_states WHERE expires_at > ?),"
                " (SELECT count(*) FROM bio_codes WHERE expires_at > ?),"
                " (SELECT count(*) FROM links WHERE kind = 'bio')",
                (moment, moment),
            )
        links, broken, pending, bio_codes, bio_links = rows[0]
        return StoreStats(
            links=links,
            broken_links=broken,
            pending_states=pending,
            pending_bio_codes=bio_codes,
            bio_links=bio_links,
        )

    async def ping(self) -> bool:
        """True if the database answers."""
        try:
            async with self._lock:
                rows = await self._rows("SELECT 1")
        except (sqlite3.Error, ValueError, StorageError):
            return False
        return bool(rows) and rows[0][0] == 1

    async def reencrypt_all(self, new_cipher: TokenCipher, batch: int = 500) -> int:
        """Re-encrypt every token with ``new_cipher``'s first key; returns the links done.

        ``new_cipher`` must also hold the old key(s): rows not yet done are read with it, so an
        interrupted run loses nothing and can simply be repeated. The store uses it from now on.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        async with self._lock:
            sample = await self._rows(
                "SELECT access_token FROM links WHERE access_token IS NOT NULL LIMIT 1"
            )
            if sample:
                new_cipher.decrypt(sample[0]["access_token"])  # refuse before changing anything
            self._cipher = new_cipher
        done, after = 0, _MIN_INT64
        while True:
            async with self._lock, self._transaction():
                rows = await self._rows(
                    "SELECT discord_user_id, access_token, refresh_token FROM links"
                    " WHERE discord_user_id > ? AND access_token IS NOT NULL"
                    " ORDER BY discord_user_id LIMIT ?",
                    (after, batch),
                )
                for row in rows:
                    user_id = row["discord_user_id"]
                    try:
                        tokens = (
                            new_cipher.rotate(row["access_token"]),
                            new_cipher.rotate(row["refresh_token"]),
                        )
                    except TokenDecryptError:
                        log.error(
                            "cannot decrypt the tokens of member %d; re-encryption stopped", user_id
                        )
                        raise
                    await self._run(
                        "UPDATE links SET access_token = ?, refresh_token = ?"
                        " WHERE discord_user_id = ?",
                        (*tokens, user_id),
                    )
            done += len(rows)
            if len(rows) < batch:
                break
            after = rows[-1]["discord_user_id"]
        log.info("re-encrypted the tokens of %d links with the new key", done)
        return done
