"""Several bot processes on one database: each due link is refreshed by exactly one of them.

Two (or three) TokenManagers with their own owner names stand for processes; they share the
database (each backend in turn) and the fake Imgur, which counts the refresh-token calls.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.imgur import ImgurClient
from bot.storage import LinkStore
from bot.tokens import TokenManager
from tests.bot.helpers import linked_member
from tests.fakes.imgur import FakeImgur

LEASE = timedelta(minutes=2)


def managers(stores: list[LinkStore], imgur: ImgurClient, clock, **options) -> list[TokenManager]:
    return [
        TokenManager(store, imgur, concurrency=4, clock=clock, owner=f"process-{n}", **options)
        for n, store in enumerate(stores)
    ]


async def due_members(store: LinkStore, fake: FakeImgur, clock, count: int) -> None:
    for n in range(count):
        await linked_member(
            store, fake, f"m{n}", user_id=n + 1, now=clock(), expires_in=timedelta(minutes=5)
        )


async def test_concurrent_sweeps_refresh_each_due_link_exactly_once(
    stores, imgur, fake_imgur, clock
):
    fake_imgur.latency = 0.005
    await due_members(stores[0], fake_imgur, clock, 60)
    results = await asyncio.gather(*(m.sweep() for m in managers(stores, imgur, clock)))
    assert sum(result.refreshed for result in results) == 60
    assert fake_imgur.count("token") == 60  # no refresh token spent twice
    for n in range(1, 61):
        link = await stores[0].get(n)
        assert link is not None
        assert link.refreshed_at == clock()


async def test_two_processes_needing_one_members_token_spend_the_refresh_token_once(
    stores, imgur, fake_imgur, clock
):
    fake_imgur.latency = 0.05
    await due_members(stores[0], fake_imgur, clock, 1)
    one, two, _ = managers(stores, imgur, clock)
    first, second = await asyncio.gather(one.access_token_for(1), two.access_token_for(1))
    assert fake_imgur.count("token") == 1
    assert first == second  # the waiting process took the other's fresh token
    assert first == (await stores[0].get(1)).access_token


async def test_a_dead_processes_claims_are_taken_over_after_the_lease(
    stores, imgur, fake_imgur, clock
):
    await due_members(stores[0], fake_imgur, clock, 10)
    # process-0 claims every due link and dies before refreshing any.
    claimed = await stores[0].claim_due(
        clock() + timedelta(days=1), 100, now=clock(), owner="process-0", lease=LEASE
    )
    assert len(claimed) == 10
    survivor = managers(stores, imgur, clock, lease=LEASE)[1]
    assert (await survivor.sweep()).refreshed == 0  # the leases still run
    assert fake_imgur.count("token") == 0
    clock.advance(seconds=LEASE.total_seconds())
    assert (await survivor.sweep()).refreshed == 10
    assert fake_imgur.count("token") == 10


async def test_a_command_waits_for_the_process_that_holds_the_claim(
    stores, imgur, fake_imgur, clock
):
    await due_members(stores[0], fake_imgur, clock, 1)
    old = await stores[0].get(1)
    assert await stores[0].claim(1, owner="elsewhere", now=clock(), lease=LEASE)
    waiter = managers(stores, imgur, clock, claim_wait=0.3)[1]
    # The claim holder never finishes: the command gives up waiting and, the old token being
    # still valid, uses it. No second refresh token call.
    assert await waiter.access_token_for(1) == old.access_token
    assert fake_imgur.count("token") == 0
