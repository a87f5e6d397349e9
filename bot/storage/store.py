"""``LinkStore``: members' Imgur links and pending authorization states, in any backend.

Everything the backends share is written here once: tokens are encrypted before they reach a
backend (which stores bytes) and states are kept only as digests, so the database alone reveals
neither; each link's ``refresh_after`` comes from the one refresh rule; key rotation re-encrypts
through the backend's plain row reads and writes. Times are Unix seconds in the database and
timezone-aware UTC datetimes in the API (sub-second precision is dropped).

``storage.database`` picks the backend: a ``postgresql://`` URL is PostgreSQL (asyncpg, a
pool), anything else a SQLite file (or ``":memory:"``).
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self

from .backend import MIN_KEY, Backend, BioCodeRow, DueKey, DueRow, LinkRow, StateRow, TokenRow
from .crypto import TokenCipher, bio_code_digest, state_digest
from .errors import (
    AttemptGoneError,
    LeaseLostError,
    LinkNotFoundError,
    StorageError,
    TokenDecryptError,
)
from .models import AuthState, BioCode, DueLink, Link, LinkKind, LinkStatus, StoreStats
from .refresh import RefreshRule

__all__ = [
    "AUTH_STATE_TTL",
    "BIO_CODE_TTL",
    "DEFAULT_POOL_SIZE",
    "MAX_BIO_CODE_CANDIDATES",
    "MAX_PENDING_BIO_CODES_PER_MEMBER",
    "MAX_PENDING_STATES_PER_MEMBER",
    "LinkStore",
    "is_postgres_url",
]

log = logging.getLogger(__name__)

MAX_PENDING_STATES_PER_MEMBER = 5  # older ones are dropped, so one member cannot pile them up
MAX_PENDING_BIO_CODES_PER_MEMBER = 3  # likewise for profile codes
# How long a link attempt (an authorization state) and a profile code last; the texts that
# tell members so take the number from here.
AUTH_STATE_TTL = timedelta(minutes=10)
BIO_CODE_TTL = timedelta(minutes=15)
MAX_BIO_CODE_CANDIDATES = 20  # codes looked up from one profile text at most
# Claims of completions that never finished (the bot was killed) go this long after expiry.
_CLAIM_GRACE_SECONDS = 3600
DEFAULT_POOL_SIZE = 10
_MAX_ERROR_LENGTH = 500
# Settings every process shares (see Backend.get_setting).
ROTATION_SETTING = "key_rotation_target"  # fingerprint of the key a rotation re-encrypts to
LEAD_SETTING = "refresh_lead_seconds"  # the lead the stored refresh_after times were made with


def is_postgres_url(database: str) -> bool:
    """Whether ``storage.database`` names a PostgreSQL server rather than a SQLite file."""
    return database.startswith(("postgresql://", "postgres://"))


def _unix(moment: datetime) -> int:
    if moment.utcoffset() is None:
        raise ValueError("naive datetime: the store takes timezone-aware UTC datetimes")
    return math.floor(moment.timestamp())


def _unix_or_none(moment: datetime | None) -> int | None:
    return None if moment is None else _unix(moment)


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _utc_or_none(seconds: int | None) -> datetime | None:
    return None if seconds is None else _utc(seconds)


def _now(now: datetime | None) -> datetime:
    return datetime.now(UTC) if now is None else now


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:_MAX_ERROR_LENGTH]


def _due_link(row: DueRow) -> DueLink:
    return DueLink(
        discord_user_id=row.discord_user_id,
        expires_at=_utc(row.expires_at),
        linked_at=_utc(row.linked_at),
        refreshed_at=_utc_or_none(row.refreshed_at),
    )


def _bio_code(row: BioCodeRow) -> BioCode:
    return BioCode(
        discord_user_id=row.discord_user_id,
        imgur_username=row.imgur_username,
        attempt=row.attempt,
        created_at=_utc(row.created_at),
        expires_at=_utc(row.expires_at),
    )


def _check_link_shape(link: Link) -> None:
    """The same rule as the links table's CHECK, with a clearer error."""
    tokens = (link.access_token, link.refresh_token, link.expires_at)
    if link.kind is LinkKind.BIO:
        if any(value is not None for value in tokens) or link.imgur_account_id is None:
            raise ValueError("a bio link has an account id and no tokens or expiry")
    elif any(value is None for value in tokens):
        raise ValueError("an oauth link needs both tokens and expires_at")


def _digest_of(state: AuthState) -> str:
    if not state.digest:
        raise ValueError("only a state handed out by this store names a claim")
    return state.digest


def _auth_state(row: StateRow) -> AuthState:
    return AuthState(
        discord_user_id=row.discord_user_id,
        response_type=row.response_type,
        created_at=_utc(row.created_at),
        expires_at=_utc(row.expires_at),
        digest=row.state_digest,
    )


class LinkStore:
    """Members' links and authorization states. Create with ``await LinkStore.open(...)``."""

    def __init__(self, backend: Backend, cipher: TokenCipher, rule: RefreshRule) -> None:
        self._backend = backend
        self._cipher = cipher
        self.rule = rule

    @classmethod
    async def open(
        cls,
        database: str | Path,
        cipher: TokenCipher,
        *,
        rule: RefreshRule | None = None,
        pool_size: int = DEFAULT_POOL_SIZE,
    ) -> LinkStore:
        """Open (creating if needed) and migrate the database: a SQLite path, ``":memory:"``,
        or a ``postgresql://`` URL (a pool of at most ``pool_size`` connections)."""
        backend: Backend
        if is_postgres_url(str(database)):
            from .postgres import PostgresBackend  # asyncpg is loaded only when used

            backend = await PostgresBackend.open(str(database), pool_size=pool_size)
        else:
            from .sqlite import SqliteBackend

            backend = await SqliteBackend.open(database)
        store = cls(backend, cipher, rule or RefreshRule())
        try:
            await store._align_refresh_times()
        except BaseException:
            await backend.close()
            raise
        return store

    @property
    def shared(self) -> bool:
        """Whether several bot processes may use this database at once (PostgreSQL)."""
        return self._backend.shared

    @property
    def backend(self) -> Backend:
        """The database underneath (for operator commands: copy, locks, backups)."""
        return self._backend

    @property
    def cipher(self) -> TokenCipher:
        return self._cipher

    async def close(self) -> None:
        """Close the database; waits for a running transaction. Safe to call twice."""
        await self._backend.close()

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
        return f"LinkStore({self._backend.location!r})"

    # -- encryption and the refresh rule ------------------------------------------------------

    def _encrypt(self, text: str | None) -> bytes | None:
        return None if text is None else self._cipher.encrypt(text)

    def _decrypt(self, user_id: int, blob: bytes | None) -> str | None:
        if blob is None:
            return None
        try:
            return self._cipher.decrypt(blob)
        except TokenDecryptError:
            log.error(
                "cannot decrypt the stored tokens of member %d: wrong encryption key?", user_id
            )
            raise TokenDecryptError(
                f"the stored tokens of member {user_id} could not be decrypted"
                " with the configured encryption key(s)"
            ) from None

    def _link(self, row: LinkRow) -> Link:
        return Link(
            discord_user_id=row.discord_user_id,
            imgur_account_id=row.imgur_account_id,
            imgur_username=row.imgur_username,
            access_token=self._decrypt(row.discord_user_id, row.access_token),
            refresh_token=self._decrypt(row.discord_user_id, row.refresh_token),
            expires_at=_utc_or_none(row.expires_at),
            status=LinkStatus(row.status),
            linked_at=_utc(row.linked_at),
            refreshed_at=_utc_or_none(row.refreshed_at),
            last_error=row.last_error,
            kind=LinkKind(row.kind),
        )

    def _refresh_after(
        self, expires_at: int | None, linked_at: int, refreshed_at: int | None
    ) -> int | None:
        issued = refreshed_at if refreshed_at is not None else linked_at
        return self.rule.refresh_after_seconds(expires_at, issued)

    async def _align_refresh_times(self) -> None:
        """Recompute every stored ``refresh_after`` if the lead changed since they were made."""
        lead = str(self.rule.lead.total_seconds())
        stored = await self._backend.get_setting(LEAD_SETTING)
        if stored == lead:
            return
        if stored is not None:
            log.info("refresh lead changed: recomputing the refresh times of every link")
        after, done = MIN_KEY, 0
        while rows := await self._backend.link_rows(after, 1000):
            await self._backend.set_refresh_after(
                [
                    (
                        r.discord_user_id,
                        self._refresh_after(r.expires_at, r.linked_at, r.refreshed_at),
                    )
                    for r in rows
                ]
            )
            done += len(rows)
            after = rows[-1].discord_user_id
        await self._backend.set_setting(LEAD_SETTING, lead)

    # -- links --------------------------------------------------------------------------------

    async def get(self, discord_user_id: int) -> Link | None:
        """The member's link, or None."""
        row = await self._backend.get(discord_user_id)
        return None if row is None else self._link(row)

    def _link_row(self, link: Link) -> LinkRow:
        """What the backend stores of ``link``: tokens encrypted, the refresh moment computed."""
        linked_at = _unix(link.linked_at if link.linked_at is not None else datetime.now(UTC))
        expires_at = _unix_or_none(link.expires_at)
        refreshed_at = _unix_or_none(link.refreshed_at)
        return LinkRow(
            discord_user_id=link.discord_user_id,
            kind=LinkKind(link.kind).value,
            imgur_account_id=link.imgur_account_id,
            imgur_username=link.imgur_username,
            access_token=self._encrypt(link.access_token),
            refresh_token=self._encrypt(link.refresh_token),
            expires_at=expires_at,
            status=LinkStatus(link.status).value,
            linked_at=linked_at,
            refreshed_at=refreshed_at,
            last_error=_clip(link.last_error),
            refresh_after=self._refresh_after(expires_at, linked_at, refreshed_at),
        )

    async def save_link(self, link: Link, *, attempt: AuthState | None = None) -> None:
        """Insert the member's link, replacing any previous one (of either kind).

        An ``oauth`` link needs both tokens and ``expires_at``; a ``bio`` link must have no
        tokens and no expiry, and needs ``imgur_account_id``. ``ValueError`` otherwise.

        With ``attempt`` (a state this store handed out by ``consume_state*``), the attempt is
        used up in the same transaction, and ``AttemptGoneError`` is raised, with nothing
        stored, if it is gone: the member unlinked (or it was purged) while it was completed.
        """
        _check_link_shape(link)
        saved = await self._backend.save_link(
            self._link_row(link),
            None if attempt is None else _digest_of(attempt),
        )
        if not saved:
            raise AttemptGoneError(link.discord_user_id)

    async def update_tokens(
        self,
        discord_user_id: int,
        *,
        access_token: str,
        refresh_token: str,
        expires_at: datetime,
        refreshed_at: datetime,
        linked_at: datetime | None = None,
        owner: str | None = None,
    ) -> None:
        """Store refreshed tokens; the link becomes ok again. ``LinkNotFoundError`` if unlinked.

        With ``linked_at``, only the link made at that moment is touched: a refresh that began
        before the member linked again must not write the old account's tokens over the new.
        Any lease on the link ends. With ``owner`` (a write under that owner's claim), nothing
        is written while another owner holds the lease: ``LeaseLostError`` (fencing).
        """
        expires, refreshed = _unix(expires_at), _unix(refreshed_at)
        changed = await self._backend.update_tokens(
            discord_user_id,
            access_token=self._cipher.encrypt(access_token),
            refresh_token=self._cipher.encrypt(refresh_token),
            expires_at=expires,
            refreshed_at=refreshed,
            refresh_after=self.rule.refresh_after_seconds(expires, refreshed),
            linked_at=_unix_or_none(linked_at),
            owner=owner,
        )
        if not changed:
            await self._not_written(discord_user_id, linked_at, owner)

    async def mark_broken(
        self,
        discord_user_id: int,
        error: str,
        *,
        linked_at: datetime | None = None,
        owner: str | None = None,
    ) -> None:
        """Imgur refused the refresh token: the member must link again (see update_tokens)."""
        if not await self._backend.mark_broken(
            discord_user_id, _clip(error) or "", _unix_or_none(linked_at), owner
        ):
            await self._not_written(discord_user_id, linked_at, owner)

    async def record_error(
        self,
        discord_user_id: int,
        error: str,
        *,
        linked_at: datetime | None = None,
        owner: str | None = None,
    ) -> None:
        """Remember a temporary failure for ``/imgur status``; the status is kept (see
        update_tokens for ``linked_at`` and ``owner``)."""
        if not await self._backend.record_error(
            discord_user_id, _clip(error) or "", _unix_or_none(linked_at), owner
        ):
            await self._not_written(discord_user_id, linked_at, owner)

    async def _not_written(
        self, discord_user_id: int, linked_at: datetime | None, owner: str | None
    ) -> NoReturn:
        """Why a write to the member's link changed nothing: the link is gone (or linked anew),
        or, for a write under ``owner``'s claim, another owner holds the lease."""
        if owner is not None:
            row = await self._backend.get(discord_user_id)
            if row is not None and (linked_at is None or row.linked_at == _unix(linked_at)):
                raise LeaseLostError(discord_user_id)
        raise LinkNotFoundError(discord_user_id)

    async def rename_account(
        self, discord_user_id: int, imgur_username: str, *, linked_at: datetime | None = None
    ) -> None:
        """The linked Imgur account is now called ``imgur_username`` (renamed on Imgur).

        With ``linked_at``, only the link made at that moment is touched (see update_tokens).
        ``LinkNotFoundError`` if there is no such link.
        """
        if not await self._backend.rename_account(
            discord_user_id, imgur_username, _unix_or_none(linked_at)
        ):
            raise LinkNotFoundError(discord_user_id)

    async def delete_member(self, discord_user_id: int) -> bool:
        """Delete the member's link, pending states and bio codes; True if there was anything.

        Nothing of them stays readable in the database files (see the backends).
        """
        return await self._backend.delete_member(discord_user_id)

    # -- the refresh sweep --------------------------------------------------------------------

    @staticmethod
    def _after_key(after: DueLink | None, rule: RefreshRule) -> DueKey:
        if after is None:
            return (MIN_KEY, MIN_KEY, MIN_KEY)
        expires_at = _unix(after.expires_at)
        issued = _unix(after.refreshed_at or after.linked_at)
        refresh_after = rule.refresh_after_seconds(expires_at, issued)
        assert refresh_after is not None  # a due link has an expiry
        return (refresh_after, expires_at, after.discord_user_id)

    async def due_for_refresh(
        self, before: datetime, limit: int, *, now: datetime, after: DueLink | None = None
    ) -> list[DueLink]:
        """Up to ``limit`` ok links due for refresh at ``now``, without their tokens.

        Due by the refresh rule (``RefreshRule``, whose moment each link stores) and expiring
        at or before ``before`` (``now`` plus the lead). Links that became due first come first.
        To page, pass the previous page's last link as ``after``.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        rows = await self._backend.due(
            _unix(now), _unix(before), limit, self._after_key(after, self.rule)
        )
        return [_due_link(row) for row in rows]

    async def claim_due(
        self,
        before: datetime,
        limit: int,
        *,
        now: datetime,
        owner: str,
        lease: timedelta,
        after: DueLink | None = None,
    ) -> list[DueLink]:
        """Like ``due_for_refresh``, but each link returned is leased to ``owner`` for ``lease``.

        Links another process holds (an unexpired lease) are passed over; a lease of a process
        that died runs out and its links are claimed again.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        moment = _unix(now)
        rows = await self._backend.claim_due(
            moment,
            _unix(before),
            limit,
            self._after_key(after, self.rule),
            owner,
            moment + math.ceil(lease.total_seconds()),
        )
        return [_due_link(row) for row in rows]

    async def claim(
        self, discord_user_id: int, *, owner: str, now: datetime, lease: timedelta
    ) -> bool:
        """Lease the member's link to ``owner`` before refreshing it; False if another holds it."""
        moment = _unix(now)
        return await self._backend.claim(
            discord_user_id, owner, moment, moment + math.ceil(lease.total_seconds())
        )

    async def release(self, discord_user_id: int, *, owner: str) -> None:
        """End ``owner``'s lease on the member's link (writing a refresh result ends it too)."""
        await self._backend.release(discord_user_id, owner)

    # -- authorization states -----------------------------------------------------------------

    async def create_state(
        self,
        discord_user_id: int,
        response_type: str,
        *,
        ttl: timedelta = AUTH_STATE_TTL,
        now: datetime | None = None,
    ) -> AuthState:
        """A new single-use state for the member; the result carries the clear state, once."""
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        created = _now(now)
        created_at, expires_at = _unix(created), _unix(created + ttl)
        state = secrets.token_urlsafe(32)
        digest = state_digest(state)
        await self._backend.create_state(
            StateRow(digest, discord_user_id, response_type, created_at, expires_at),
            MAX_PENDING_STATES_PER_MEMBER,
        )
        return AuthState(
            discord_user_id=discord_user_id,
            response_type=response_type,
            created_at=_utc(created_at),
            expires_at=_utc(expires_at),
            state=state,
            digest=digest,
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
            row = await self._backend.claim_newest_state(discord_user_id, moment)
        else:
            row = await self._backend.claim_state(state_digest(state), discord_user_id, moment)
        return None if row is None else _auth_state(row)

    async def consume_state_any_member(
        self, state: str, *, now: datetime | None = None
    ) -> AuthState | None:
        """Claim an unexpired ``state`` whoever it belongs to (a web callback); None if unknown."""
        row = await self._backend.claim_state(state_digest(state), None, _unix(_now(now)))
        return None if row is None else _auth_state(row)

    async def restore_state(self, state: AuthState) -> bool:
        """Give back a claimed state whose use failed for a passing reason, for another try.

        Only a claim that still exists is given back: after an unlink nothing comes back.
        True if the state is pending again.
        """
        return await self._backend.restore_state(_digest_of(state))

    async def drop_state(self, state: AuthState) -> None:
        """Forget a claimed state whose use failed for good (Imgur refused the PIN or code)."""
        await self._backend.drop_state(_digest_of(state))

    async def purge_expired_states(self, now: datetime | None = None) -> int:
        """Delete expired states (claimed ones an hour after expiry); returns how many."""
        return await self._backend.purge_expired_states(_unix(_now(now)), _CLAIM_GRACE_SECONDS)

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
        await self._backend.create_bio_code(
            BioCodeRow(
                attempt=attempt,
                code_digest=bio_code_digest(discord_user_id, username, code),
                discord_user_id=discord_user_id,
                imgur_username=username,
                created_at=created_at,
                expires_at=expires_at,
            ),
            MAX_PENDING_BIO_CODES_PER_MEMBER,
        )
        return BioCode(
            discord_user_id=discord_user_id,
            imgur_username=username,
            attempt=attempt,
            created_at=_utc(created_at),
            expires_at=_utc(expires_at),
            code=code,
        )

    async def get_bio_code(
        self, discord_user_id: int, attempt: str, *, now: datetime | None = None
    ) -> BioCode | None:
        """The member's unexpired attempt ``attempt`` (without its code), or None.

        Another member's attempt gives None, as an unknown, expired or used one does.
        """
        row = await self._backend.get_bio_code(discord_user_id, attempt, _unix(_now(now)))
        return None if row is None else _bio_code(row)

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
        moment = _unix(_now(now))
        words = list(candidates)[:MAX_BIO_CODE_CANDIDATES]
        pending = await self._backend.get_bio_code(member, attempt, moment)
        if pending is None or not words or pending.imgur_username != link.imgur_username.lower():
            return None  # unknown, expired, another member's, or for another account
        digests = list(
            dict.fromkeys(bio_code_digest(member, pending.imgur_username, w) for w in words)
        )
        row = await self._backend.complete_bio_link(self._link_row(link), attempt, moment, digests)
        return None if row is None else _bio_code(row)

    async def purge_expired_bio_codes(self, now: datetime | None = None) -> int:
        """Delete expired profile codes; returns how many."""
        return await self._backend.purge_expired_bio_codes(_unix(_now(now)))

    # -- settings every process shares --------------------------------------------------------

    async def get_setting(self, name: str) -> str | None:
        """A value every process sees (for example the hash of the last command sync)."""
        return await self._backend.get_setting(name)

    async def set_setting(self, name: str, value: str | None) -> None:
        await self._backend.set_setting(name, value)

    # -- operations ---------------------------------------------------------------------------

    async def stats(self, *, now: datetime | None = None) -> StoreStats:
        """Counts of links, broken links and unexpired states."""
        return await self._backend.stats(_unix(_now(now)))

    async def ping(self) -> bool:
        """True if the database answers."""
        try:
            return await self._backend.ping()
        except (OSError, StorageError, ValueError):
            return False

    async def key_reads_tokens(self) -> bool:
        """True if the store's key decrypts a stored token (checked on one; True if none)."""
        sample = await self._backend.token_rows(MIN_KEY, 1)
        if not sample:
            return True
        try:
            self._cipher.decrypt(sample[0].access_token)
        except TokenDecryptError:
            return False
        return True

    async def pending_rotation(self) -> str | None:
        """Fingerprint of the key an unfinished ``reencrypt_all`` was re-encrypting to."""
        return await self._backend.get_setting(ROTATION_SETTING)

    async def reencrypt_all(self, new_cipher: TokenCipher, batch: int = 500) -> int:
        """Re-encrypt every token with ``new_cipher``'s first key; returns the links done.

        ``new_cipher`` must also hold the old key(s): rows not yet done are read with it, so an
        interrupted run loses nothing and can simply be repeated. Until it is done, the database
        remembers which key it re-encrypts to (``pending_rotation``), so that a bot started
        meanwhile finishes it rather than ignoring the new key. The store uses it from now on.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        sample = await self._backend.token_rows(MIN_KEY, 1)
        if sample:
            new_cipher.decrypt(sample[0].access_token)  # refuse before changing anything
        self._cipher = new_cipher
        await self._backend.set_setting(ROTATION_SETTING, new_cipher.fingerprint)
        done, after = 0, MIN_KEY
        while True:
            rows = await self._backend.token_rows(after, batch)
            rotated = []
            for row in rows:
                try:
                    rotated.append(
                        TokenRow(
                            row.discord_user_id,
                            new_cipher.rotate(row.access_token),
                            new_cipher.rotate(row.refresh_token),
                        )
                    )
                except TokenDecryptError:
                    log.error(
                        "cannot decrypt the tokens of member %d; re-encryption stopped",
                        row.discord_user_id,
                    )
                    raise
            await self._backend.write_token_rows(rotated)
            done += len(rows)
            if len(rows) < batch:
                break
            after = rows[-1].discord_user_id
        await self._backend.set_setting(ROTATION_SETTING, None)
        log.info("re-encrypted the tokens of %d links with the new key", done)
        return done
