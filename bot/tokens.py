"""Valid access tokens for members: lazy refresh, one refresh per member at a time, the sweep."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from bot.clock import Clock, utcnow
from bot.errors import AccountGone, LinkBroken, NoAccessToken, NotLinked
from bot.imgur import (
    ImgurClient,
    ImgurError,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidGrant,
    RateLimited,
)
from bot.storage import (
    DueLink,
    LeaseLostError,
    Link,
    LinkKind,
    LinkNotFoundError,
    LinkStatus,
    RefreshRule,
    Store,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

SWEEP_BATCH = 500
# A sweep stops early once this many temporary failures show Imgur is struggling; the next
# sweep picks up where it stopped, since nothing was changed for those links.
SWEEP_FAILURE_BUDGET = 16
# Refreshed tokens whose database write failed are kept in memory and written again after these
# many seconds, doubling up to the last (see TokenManager._keep_unsaved).
WRITE_RETRY_FIRST = 0.5
WRITE_RETRY_MAX = 30.0
# A claim (lease) on a link lasts this long: longer than any refresh takes, short enough that
# the links of a process that died are taken over soon.
DEFAULT_LEASE = timedelta(minutes=2)
# How long a command waits for a refresh another process holds the claim of.
CLAIM_WAIT_SECONDS = 10.0
_CLAIM_POLL_SECONDS = 0.1
_ELSEWHERE = "another bot process is refreshing this member's tokens"


class _ClaimUnwritable(Exception):
    """The claim on a shared database could not be written (its cause says why)."""


def process_owner() -> str:
    """A name for this process in the database's leases: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(slots=True)
class SweepResult:
    """What one sweep did."""

    refreshed: int = 0
    failed: int = 0
    broken: list[int] = field(default_factory=list)
    stopped_early: bool = False


class TokenManager:
    """Hands out valid access tokens and keeps stored tokens fresh."""

    def __init__(
        self,
        store: Store,
        imgur: ImgurClient,
        *,
        lead: timedelta = timedelta(days=1),
        concurrency: int = 8,
        clock: Clock = utcnow,
        lease: timedelta = DEFAULT_LEASE,
        owner: str | None = None,
        claim_wait: float = CLAIM_WAIT_SECONDS,
        write_retry: tuple[float, float] = (WRITE_RETRY_FIRST, WRITE_RETRY_MAX),
    ) -> None:
        self._store = store
        self._imgur = imgur
        self._lead = lead
        self._rule = RefreshRule(lead)
        self._concurrency = concurrency
        self._clock = clock
        self._lease = lease
        self.owner = owner or process_owner()
        self._claim_wait = claim_wait
        self._inflight: dict[int, asyncio.Task[Link]] = {}
        # Refreshes Imgur answered whose write failed: the only copy of a rotated refresh token.
        self._unsaved: dict[int, Link] = {}
        self._write_retry = write_retry
        self._writer: asyncio.Task[None] | None = None

    @property
    def unsaved(self) -> int:
        """How many members' refreshed tokens are waiting to be written to the database."""
        return len(self._unsaved)

    async def linked(self, discord_user_id: int) -> Link:
        """The member's link; :class:`NotLinked` or :class:`LinkBroken` when unusable.

        Tokens refreshed but not yet written (see ``_keep_unsaved``) stand in for the stored ones.
        """
        link = await self._store.get(discord_user_id)
        unsaved = self._unsaved.get(discord_user_id)
        if unsaved is not None:
            if link is not None and link.linked_at == unsaved.linked_at:
                return unsaved
            del self._unsaved[discord_user_id]  # unlinked or linked anew: those tokens are moot
        if link is None:
            raise NotLinked
        if link.status is LinkStatus.BROKEN:
            raise AccountGone if link.kind is LinkKind.BIO else LinkBroken
        return link

    async def aclose(self, grace: float) -> None:
        """Let refreshes under way finish (at most ``grace`` seconds), then cancel the rest.

        Refreshed tokens not written yet are tried again until they are written or ``grace``
        runs out (a database locked for a moment must not lose the only copy of a rotated
        refresh token); those still unwritten then are logged.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        running = list(self._inflight.values())
        if running:
            _, pending = await asyncio.wait(running, timeout=grace)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._writer is not None:
            self._writer.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
            self._writer = None
        delay = self._write_retry[0]
        while self._unsaved:
            await self._write_unsaved()
            remaining = deadline - loop.time()
            if not self._unsaved or remaining <= 0:
                break
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, self._write_retry[1])
        if self._unsaved:
            log.error(
                "the refreshed tokens of %d member(s) could not be written to the database; "
                "their next refresh uses the older refresh token, which Imgur may refuse",
                len(self._unsaved),
            )

    def due(self, link: Link | DueLink, now: datetime) -> bool:
        """Whether the link's access token should be refreshed now (see ``RefreshRule``).

        The store keeps the moment the same rule gives beside each link, so the sweep's query
        asks for nothing but ``refresh_after <= now``.
        """
        return self._rule.due(link, now)

    async def access_token_for(self, discord_user_id: int) -> str:
        """A usable access token, refreshed first when it expires within the lead time."""
        link = await self.linked(discord_user_id)
        access_token, expires_at = _token_of(link)
        now = self._clock()
        if not self.due(link, now):
            return access_token
        try:
            return _token_of(await self._refresh_for_command(discord_user_id))[0]
        except (LinkBroken, NotLinked):
            raise
        except ImgurError:
            if expires_at > now:
                # Refreshing early failed for a passing reason: the old token still works.
                return access_token
            raise
        except _ClaimUnwritable as exc:
            if expires_at > now:
                # The database failed for a moment (it is a passing reason too).
                log.info(
                    "could not claim the refresh of member %s (%s); using the current token",
                    discord_user_id,
                    type(exc.__cause__).__name__,
                )
                return access_token
            raise exc.__cause__ or exc from None

    async def call(self, discord_user_id: int, request: Callable[[str], Awaitable[T]]) -> T:
        """Run ``request(token)``; if Imgur rejects the token, refresh once and retry once."""
        token = await self.access_token_for(discord_user_id)
        try:
            return await request(token)
        except InvalidAccessToken:
            log.info("access token of member %s rejected; refreshing", discord_user_id)
        link = await self.refresh(discord_user_id, rejected_access_token=token)
        return await request(_token_of(link)[0])

    async def refresh(
        self, discord_user_id: int, *, rejected_access_token: str | None = None
    ) -> Link:
        """Refresh the member's tokens; concurrent callers share one call to Imgur."""
        try:
            link = await self._join_or_start(discord_user_id, rejected_access_token)
            if rejected_access_token is not None and link.access_token == rejected_access_token:
                # We joined a refresh that found nothing due; the token is known bad: go again.
                link = await self._join_or_start(discord_user_id, rejected_access_token)
        except _ClaimUnwritable as exc:
            raise exc.__cause__ or exc from None
        return link

    async def _refresh_for_command(self, discord_user_id: int) -> Link:
        """``refresh``, but a claim the database could not write raises ``_ClaimUnwritable``."""
        return await self._join_or_start(discord_user_id, None)

    async def _join_or_start(
        self, discord_user_id: int, rejected_access_token: str | None, *, claimed: bool = False
    ) -> Link:
        task = self._inflight.get(discord_user_id)
        if task is None:
            task = asyncio.create_task(
                self._refresh(discord_user_id, rejected_access_token, claimed=claimed)
            )
            self._inflight[discord_user_id] = task
            task.add_done_callback(partial(self._forget_refresh, discord_user_id))
        # shield: one caller giving up (a cancelled command) must not cancel the others' refresh.
        return await asyncio.shield(task)

    def _forget_refresh(self, discord_user_id: int, task: asyncio.Task[Link]) -> None:
        if self._inflight.get(discord_user_id) is task:
            del self._inflight[discord_user_id]
        if not task.cancelled():
            task.exception()  # retrieved here: every caller may have given up waiting

    async def _refresh(
        self, discord_user_id: int, rejected_access_token: str | None, *, claimed: bool
    ) -> Link:
        try:
            return await self._refresh_link(discord_user_id, rejected_access_token, claimed)
        except LinkNotFoundError:
            # Unlinked, or linked anew, while the refresh was under way: what Imgur said is
            # about the old link. The new one (if any) is what counts.
            return await self.linked(discord_user_id)

    async def _claimed_link(
        self, discord_user_id: int, rejected_access_token: str | None, claimed: bool
    ) -> tuple[Link, bool]:
        """The link to refresh and True, once this process holds its claim; or the link and
        False when no refresh is needed (any more). Another process holding the claim is
        waited for (at most ``claim_wait`` seconds): two processes never spend one refresh
        token."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._claim_wait
        seen: str | None = None
        while True:
            # Claimed by the sweep too: the lease is renewed right before the token is spent,
            # since the link may have waited in the sweep's queue until its lease ran out and
            # another process took it over.
            if await self._claim(discord_user_id, self._clock()):
                # Read under the claim, not before: another process may write its refresh
                # (which ends its lease) between a read and the claim, and the refresh token
                # read then would be spent already.
                try:
                    link = await self.linked(discord_user_id)
                    if link.refresh_token is None:
                        raise NoAccessToken  # a bio link
                except BaseException:
                    await self._release(discord_user_id)
                    raise
                if self._needless(link, rejected_access_token, seen):
                    await self._release(discord_user_id)
                    return link, False
                return link, True
            link = await self.linked(discord_user_id)
            if claimed or self._needless(link, rejected_access_token, seen):
                return link, False  # another process refreshes it (or did)
            seen = link.access_token
            if loop.time() >= deadline:
                raise ImgurUnavailable(_ELSEWHERE)
            await asyncio.sleep(_CLAIM_POLL_SECONDS)

    def _needless(self, link: Link, rejected_access_token: str | None, seen: str | None) -> bool:
        """Whether a refresh of ``link`` is not needed (any more)."""
        if rejected_access_token is not None and link.access_token != rejected_access_token:
            return True  # somebody refreshed it since that token was read
        if rejected_access_token is None and not self.due(link, self._clock()):
            return True  # refreshed by a caller that finished before this one began
        # another process refreshed it while this one waited
        return seen is not None and link.access_token != seen

    async def _claim(self, discord_user_id: int, now: datetime) -> bool:
        try:
            return await self._store.claim(
                discord_user_id, owner=self.owner, now=now, lease=self._lease
            )
        except Exception as exc:
            if self._store.shared:
                # another process might hold it: never spend the token unclaimed
                raise _ClaimUnwritable from exc
            # This process is the only one on the database (it holds its lock), and this
            # process's refreshes of one member are one task: the claim adds nothing here, and
            # a refresh must not fail because its bookkeeping could not be written.
            log.info("could not write the refresh claim (%s); going on", type(exc).__name__)
            return True

    async def _refresh_link(
        self, discord_user_id: int, rejected_access_token: str | None, claimed: bool
    ) -> Link:
        link, must_refresh = await self._claimed_link(
            discord_user_id, rejected_access_token, claimed
        )
        if not must_refresh:
            if claimed:
                await self._release(discord_user_id)
            return link
        written = False
        try:
            link = await self._spend_refresh_token(link)
            written = True
            return link
        finally:
            if not written and discord_user_id not in self._unsaved:
                # Imgur failed or this was cancelled: the next attempt may go ahead at once.
                # (Not so when new tokens wait to be written: the stored refresh token is spent,
                # and the claim keeps other processes from spending it; see _renew_claim.)
                await self._release(discord_user_id)

    async def _release(self, discord_user_id: int) -> None:
        try:
            await self._store.release(discord_user_id, owner=self.owner)
        except Exception as exc:  # the lease runs out by itself
            log.info("could not release the refresh claim (%s)", type(exc).__name__)

    async def _spend_refresh_token(self, link: Link) -> Link:
        """One call to Imgur with the refresh token; its answer is written to the store."""
        discord_user_id = link.discord_user_id
        if link.refresh_token is None:
            raise NoAccessToken  # a bio link
        try:
            tokens = await self._imgur.refresh(link.refresh_token)
        except InvalidGrant:
            return await self._refused(link)
        except ImgurError as exc:
            log.info("refresh for member %s failed for now: %s", discord_user_id, exc)
            try:
                await self._store.record_error(
                    discord_user_id, _short(exc), linked_at=link.linked_at, owner=self.owner
                )
            except LinkNotFoundError:
                raise
            except Exception as write_error:  # a note for /imgur status; Imgur's failure counts
                log.info("could not record the failure (%s)", type(write_error).__name__)
            raise
        now = self._clock()
        refreshed = Link(
            discord_user_id=link.discord_user_id,
            imgur_account_id=link.imgur_account_id,
            imgur_username=link.imgur_username,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token or link.refresh_token,
            expires_at=tokens.expires_at(now),
            status=LinkStatus.OK,
            linked_at=link.linked_at,
            refreshed_at=now,
        )
        try:
            await self._write(refreshed)
        except LinkNotFoundError:
            raise
        except BaseException as exc:
            # Imgur has answered: with rotating refresh tokens the old one is dead now, and this
            # answer is the only copy of the new one. It must not be dropped.
            self._keep_unsaved(refreshed, exc)
            if not isinstance(exc, Exception):
                raise
        log.debug("refreshed tokens of member %s", discord_user_id)
        return refreshed

    async def _refused(self, link: Link) -> Link:
        """Imgur refused the refresh token of ``link``: the link is broken, unless it changed
        meanwhile (another process, whose claim ran out on this one's, refreshed it and wrote
        the new tokens), in which case the newer link is the answer."""
        discord_user_id = link.discord_user_id
        if self._unsaved.get(discord_user_id) is link:
            stored: Link | None = link  # the tokens refused are this process's own unsaved ones
        else:
            stored = await self._store.get(discord_user_id)
        if stored is None or stored.linked_at != link.linked_at:
            raise LinkNotFoundError(discord_user_id)  # unlinked or linked anew meanwhile
        if (stored.refresh_token, stored.refreshed_at) != (link.refresh_token, link.refreshed_at):
            log.info(
                "refresh token of member %s was refreshed elsewhere meanwhile", discord_user_id
            )
            return await self.linked(discord_user_id)
        try:
            await self._store.mark_broken(
                discord_user_id,
                "Imgur refused the refresh token",
                linked_at=link.linked_at,
                owner=self.owner,
            )
        except LeaseLostError:
            # Another process holds the claim now and refreshes it: its answer counts.
            raise ImgurUnavailable(_ELSEWHERE) from None
        log.warning(
            "refresh token of member %s refused by Imgur; link marked broken", discord_user_id
        )
        self._unsaved.pop(discord_user_id, None)
        raise LinkBroken

    async def _write(self, link: Link) -> None:
        """Store refreshed tokens (only into the link they belong to, see update_tokens)."""
        refreshed_at = link.refreshed_at or self._clock()
        access_token, expires_at = _token_of(link)
        if link.refresh_token is None:
            raise NoAccessToken  # only oauth links are refreshed
        await self._store.update_tokens(
            link.discord_user_id,
            access_token=access_token,
            refresh_token=link.refresh_token,
            expires_at=expires_at,
            refreshed_at=refreshed_at,
            linked_at=link.linked_at,
            owner=self.owner,
        )
        kept = self._unsaved.get(link.discord_user_id)
        if kept is not None and (kept.refreshed_at or refreshed_at) <= refreshed_at:
            del self._unsaved[link.discord_user_id]  # what was kept is written, or superseded

    def _keep_unsaved(self, link: Link, exc: BaseException) -> None:
        log.warning(
            "refreshed tokens of member %s could not be written (%s); kept in memory and "
            "written again shortly",
            link.discord_user_id,
            type(exc).__name__,
        )
        self._unsaved[link.discord_user_id] = link
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._retry_writes())

    async def _retry_writes(self) -> None:
        delay, longest = self._write_retry
        # Each retry renews the claim (see _write_unsaved): often enough that it never runs out.
        longest = min(longest, self._lease.total_seconds() / 3)
        delay = min(delay, longest)
        while self._unsaved:
            await asyncio.sleep(delay)
            await self._write_unsaved()
            delay = min(delay * 2, longest)

    async def _write_unsaved(self) -> None:
        for user_id, link in list(self._unsaved.items()):
            if user_id in self._inflight:
                continue  # that refresh starts from these tokens and writes its own result
            await self._renew_claim(user_id)
            try:
                await self._write(link)
            except LinkNotFoundError:
                self._unsaved.pop(user_id, None)  # unlinked or linked anew meanwhile
            except Exception as exc:
                log.info(
                    "refreshed tokens of member %s still not written (%s)",
                    user_id,
                    type(exc).__name__,
                )
            else:
                log.info("refreshed tokens of member %s written after all", user_id)

    async def _renew_claim(self, discord_user_id: int) -> None:
        """Keep the claim of a link whose refreshed tokens wait to be written: the stored
        refresh token is spent, and another process that claimed the link once the lease ran
        out would spend it again (Imgur refuses it: the link would break)."""
        try:
            held = await self._store.claim(
                discord_user_id, owner=self.owner, now=self._clock(), lease=self._lease
            )
        except Exception as exc:  # the write is tried all the same
            log.info("could not renew the refresh claim (%s)", type(exc).__name__)
            return
        if not held:
            log.warning(
                "the refresh claim of member %s ran out while its new tokens waited to be "
                "written; another process holds it now",
                discord_user_id,
            )

    async def sweep(self) -> SweepResult:
        """Refresh every link that is due (see ``due``), ``concurrency`` at a time."""
        result = SweepResult()
        started = self._clock().replace(microsecond=0)
        queue: asyncio.Queue[int] = asyncio.Queue(maxsize=self._concurrency * 2)
        stop = asyncio.Event()

        async def worker() -> None:
            while True:
                user_id = await queue.get()
                try:
                    if stop.is_set():
                        await self._release(user_id)
                    else:
                        await self._sweep_one(user_id, result, stop)
                finally:
                    queue.task_done()

        workers = [asyncio.create_task(worker()) for _ in range(self._concurrency)]
        # Claim only what the workers take up soon: a lease must not run out while its link
        # waits in the queue (another process would then refresh it too), and other
        # processes sweeping meanwhile get their share.
        claim_batch = min(SWEEP_BATCH, 2 * self._concurrency)
        try:
            after: DueLink | None = None
            while not stop.is_set():
                # Only links due by self.due's rule (stored beside each link), without their
                # tokens, each now leased to this process: other processes sweeping the same
                # database pass them over. Each refresh reads its link again.
                # Each claim's lease runs from now, not from the start of the sweep: in a
                # sweep that runs longer than a lease, claims dated from its start would be
                # over when taken (other processes' sweeps would claim those links again), and
                # leases of a process that died would not run out for this sweep.
                now = self._clock().replace(microsecond=0)
                batch = await self._store.claim_due(
                    now + self._lead,
                    claim_batch,
                    now=now,
                    owner=self.owner,
                    lease=self._lease,
                    after=after,
                )
                for number, link in enumerate(batch):
                    if stop.is_set():
                        await self._release_all(batch[number:])
                        break
                    if (link.refreshed_at is not None and link.refreshed_at >= started) or (
                        not self.due(link, now)
                    ):
                        # refreshed since the sweep started; or not due (see due)
                        await self._release(link.discord_user_id)
                        continue
                    await queue.put(link.discord_user_id)
                if len(batch) < claim_batch:
                    break
                after = batch[-1]
            await queue.join()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        result.stopped_early = stop.is_set()
        return result

    async def _release_all(self, links: list[DueLink]) -> None:
        for link in links:
            await self._release(link.discord_user_id)

    async def _sweep_one(self, user_id: int, result: SweepResult, stop: asyncio.Event) -> None:
        try:
            await self._join_or_start(user_id, None, claimed=True)
        except LinkBroken:
            result.broken.append(user_id)
        except NotLinked:
            pass  # unlinked while the sweep ran
        except RateLimited:
            result.failed += 1
            stop.set()
        except ImgurError:
            result.failed += 1
            if result.failed >= SWEEP_FAILURE_BUDGET:
                stop.set()
        except Exception:
            # One bad row must never stop the sweep for everybody else.
            result.failed += 1
            log.exception("refresh of member %s failed unexpectedly", user_id)
        else:
            result.refreshed += 1


def _token_of(link: Link) -> tuple[str, datetime]:
    """The access token of an oauth link and its expiry; a bio link has none."""
    if link.access_token is None or link.expires_at is None:
        raise NoAccessToken
    return link.access_token, link.expires_at


def _short(exc: ImgurError) -> str:
    return f"{type(exc).__name__}: {exc.message}"[:200]
