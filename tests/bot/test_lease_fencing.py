"""Review (issue 11): a lease that runs out while its holder is still refreshing.

A process paused (SIGSTOP, a frozen VM, a stalled pool) past its lease, or one whose write of
the refreshed tokens keeps failing while its renewals fail too, still spends and writes as if it
held the claim: nothing fences its later writes. These tests show what a member then sees.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest

from bot.storage import LeaseLostError, LinkStatus
from bot.tokens import TokenManager
from tests.bot.helpers import linked_member
from tests.clients import imgur_client
from tests.fakes.imgur import FakeImgur
from tests.waiting import eventually

LEASE = timedelta(minutes=2)


async def test_a_member_whose_refresh_outlived_its_lease_keeps_a_working_link(
    stores, http_session: aiohttp.ClientSession, fake_imgur: FakeImgur, clock
):
    """process-0 is stalled past its lease with the refresh token spent at Imgur; process-1
    takes the claim over and spends the same (now dead) refresh token. Imgur cannot be fenced:
    both calls reach it. What counts is that the rotated tokens Imgur gave process-0 are not
    lost, and that process-1's refusal does not leave the member's link broken."""
    imgur = imgur_client(http_session, fake_imgur, timeout=5.0, retry_backoff=0.01)
    await linked_member(
        stores[0], fake_imgur, "m", user_id=1, now=clock(), expires_in=timedelta(minutes=5)
    )
    one = TokenManager(stores[0], imgur, clock=clock, owner="process-0", lease=LEASE)
    two = TokenManager(stores[1], imgur, clock=clock, owner="process-1", lease=LEASE)
    hold = fake_imgur.hold("token")
    first = asyncio.create_task(one.access_token_for(1))
    await hold.reached()
    clock.advance(seconds=LEASE.total_seconds() + 1)
    second = asyncio.create_task(two.access_token_for(1))
    await eventually(lambda: fake_imgur.count("token") >= 2 or second.done(), 3.0, "process-1")
    hold.release()
    await asyncio.gather(first, second, return_exceptions=True)

    async def usable() -> bool:
        link = await stores[2].get(1)
        return link is not None and link.status is LinkStatus.OK and not one.unsaved

    await eventually(usable, 5.0, "the member's link written back as usable")
    # The member's next refresh (any process) spends the stored refresh token: Imgur takes it.
    three = TokenManager(stores[2], imgur, clock=clock, owner="process-2", lease=LEASE)
    stored = await stores[2].get(1)
    assert stored is not None
    renewed = await three.refresh(1, rejected_access_token=stored.access_token)
    assert (renewed.status, renewed.access_token != stored.access_token) == (LinkStatus.OK, True)
    await one.aclose(1.0)


async def test_a_stale_owners_write_does_not_end_the_lease_another_owner_holds(
    stores,
    clock,
    fake_imgur: FakeImgur,
):
    await linked_member(
        stores[0], fake_imgur, "m", user_id=1, now=clock(), expires_in=timedelta(minutes=5)
    )
    link = await stores[0].get(1)
    assert link is not None
    assert await stores[0].claim(1, owner="a", now=clock(), lease=LEASE)
    later = clock() + LEASE
    assert await stores[1].claim(1, owner="b", now=later, lease=LEASE)  # a's lease ran out
    # a, late, records its Imgur failure: that must not hand b's running lease to c.
    with pytest.raises(LeaseLostError):
        await stores[0].record_error(
            1, "ImgurUnavailable: late", linked_at=link.linked_at, owner="a"
        )
    assert not await stores[2].claim(1, owner="c", now=later, lease=LEASE)


async def test_refreshed_tokens_cancelled_mid_write_keep_their_claim(
    stores, http_session: aiohttp.ClientSession, fake_imgur: FakeImgur, clock, monkeypatch
):
    """Shutdown (aclose past its grace) cancels a refresh whose write is under way: the new
    tokens are kept in memory, the stored refresh token is spent, so the claim must stay."""
    imgur = imgur_client(http_session, fake_imgur, timeout=5.0, retry_backoff=0.01)
    await linked_member(
        stores[0], fake_imgur, "m", user_id=1, now=clock(), expires_in=timedelta(minutes=5)
    )
    one = TokenManager(
        stores[0], imgur, clock=clock, owner="process-0", lease=LEASE, write_retry=(60.0, 60.0)
    )
    writing = asyncio.Event()

    async def stuck_write(*_args: object, **_kwargs: object) -> None:
        writing.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(stores[0], "update_tokens", stuck_write)
    refresh = asyncio.create_task(one.refresh(1))
    await asyncio.wait_for(writing.wait(), 5.0)
    one._inflight[1].cancel()
    await asyncio.gather(refresh, return_exceptions=True)
    assert one.unsaved == 1  # the only copy of the rotated refresh token
    # Another process must not be able to take the link and spend the dead refresh token.
    assert not await stores[1].claim(1, owner="process-1", now=clock(), lease=LEASE)


async def test_a_database_blip_on_the_claim_still_serves_the_valid_access_token(
    stores, http_session: aiohttp.ClientSession, fake_imgur: FakeImgur, clock, monkeypatch
):
    """An early refresh (token still valid) whose claim cannot be written: the member's command
    uses the old token, as it does when Imgur fails (a temporary failure breaks nothing)."""
    imgur = imgur_client(http_session, fake_imgur, timeout=5.0, retry_backoff=0.01)
    await linked_member(
        stores[0], fake_imgur, "m", user_id=1, now=clock(), expires_in=timedelta(hours=1)
    )
    old = await stores[0].get(1)
    assert old is not None
    one = TokenManager(stores[0], imgur, clock=clock, owner="process-0", lease=LEASE)

    async def claim_fails(*_args: object, **_kwargs: object) -> bool:
        raise ConnectionResetError("connection to the database lost")

    monkeypatch.setattr(stores[0], "claim", claim_fails)
    token = await one.access_token_for(1)
    stored = await stores[1].get(1)
    assert stored is not None
    assert token in (old.access_token, stored.access_token)  # SQLite refreshes unclaimed


async def test_a_refresh_token_refused_after_another_process_refreshed_leaves_the_link_working(
    stores, http_session: aiohttp.ClientSession, fake_imgur: FakeImgur, clock, monkeypatch
):
    """process-0 read the link under its claim, then stalled before it reached Imgur, past its
    lease; process-1 took over and refreshed. process-0's refresh token is refused now: that
    says nothing about the link, which process-1's newer tokens keep working."""
    late = imgur_client(http_session, fake_imgur, timeout=5.0, retry_backoff=0.01)
    imgur = imgur_client(http_session, fake_imgur, timeout=5.0, retry_backoff=0.01)
    await linked_member(
        stores[0], fake_imgur, "m", user_id=1, now=clock(), expires_in=timedelta(minutes=5)
    )
    stalled, resume = asyncio.Event(), asyncio.Event()
    spend = late.refresh

    async def stalled_refresh(refresh_token: str) -> object:
        stalled.set()
        await resume.wait()
        return await spend(refresh_token)

    monkeypatch.setattr(late, "refresh", stalled_refresh)
    one = TokenManager(stores[0], late, clock=clock, owner="process-0", lease=LEASE)
    two = TokenManager(stores[1], imgur, clock=clock, owner="process-1", lease=LEASE)
    first = asyncio.create_task(one.access_token_for(1))
    await asyncio.wait_for(stalled.wait(), 5.0)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    token = await two.access_token_for(1)  # process-1 takes the claim over and refreshes
    resume.set()
    assert await first == token  # process-0's command gets the newer token, not an error
    link = await stores[2].get(1)
    assert link is not None
    assert (link.status, link.access_token) == (LinkStatus.OK, token)
