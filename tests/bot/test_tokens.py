import asyncio
from datetime import timedelta

import pytest

from bot.errors import LinkBroken, NotLinked
from bot.imgur import ImgurUnavailable, Sort
from bot.storage import Link, LinkStatus
from bot.tokens import SweepResult, TokenManager
from tests.bot.helpers import linked_member
from tests.fakes.imgur import Failure
from tests.waiting import eventually


@pytest.fixture
def manager(link_store, imgur, clock):
    return TokenManager(link_store, imgur, lead=timedelta(days=1), concurrency=4, clock=clock)


async def test_fresh_token_is_used_without_calling_imgur(manager, link_store, fake_imgur, clock):
    link = await linked_member(link_store, fake_imgur, "alice", user_id=1, now=clock())
    assert await manager.access_token_for(1) == link.access_token
    assert fake_imgur.count("token") == 0


async def test_token_expiring_within_the_lead_is_refreshed_first(
    manager, link_store, fake_imgur, clock
):
    old = await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(hours=1)
    )
    token = await manager.access_token_for(1)
    stored = await link_store.get(1)
    assert token != old.access_token
    assert stored.access_token == token
    assert stored.refresh_token != old.refresh_token  # the rotated refresh token is kept
    assert stored.expires_at == clock() + timedelta(seconds=fake_imgur.expires_in)
    assert fake_imgur.count("token") == 1


async def test_refresh_keeps_the_old_refresh_token_when_imgur_sends_none_new(
    manager, link_store, fake_imgur, clock
):
    fake_imgur.rotate_refresh_tokens = False
    old = await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(0)
    )
    await manager.refresh(1)
    assert (await link_store.get(1)).refresh_token == old.refresh_token


async def test_twenty_callers_at_once_cause_exactly_one_refresh(
    manager, link_store, fake_imgur, clock
):
    fake_imgur.latency = 0.05
    await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(0)
    )
    tokens = await asyncio.gather(*(manager.access_token_for(1) for _ in range(20)))
    assert len(set(tokens)) == 1
    assert fake_imgur.count("token") == 1


async def test_dead_refresh_token_marks_the_link_broken(manager, link_store, fake_imgur, clock):
    await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(0)
    )
    fake_imgur.revoke("alice")
    with pytest.raises(LinkBroken):
        await manager.access_token_for(1)
    assert (await link_store.get(1)).status is LinkStatus.BROKEN
    with pytest.raises(LinkBroken):
        await manager.access_token_for(1)
    assert fake_imgur.count("token") == 1


@pytest.mark.parametrize(
    "failure", [Failure.SERVER_ERROR, Failure.RATE_LIMITED, Failure.OVER_CAPACITY, Failure.HANG]
)
async def test_passing_failure_leaves_the_link_untouched_and_uses_the_old_token(
    manager, link_store, fake_imgur, clock, failure
):
    old = await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(hours=1)
    )
    fake_imgur.fail("token", failure)
    assert await manager.access_token_for(1) == old.access_token
    stored = await link_store.get(1)
    assert stored.status is LinkStatus.OK
    assert stored.refresh_token == old.refresh_token
    assert stored.last_error


async def test_passing_failure_with_an_expired_token_raises_but_keeps_the_link(
    manager, link_store, fake_imgur, clock
):
    await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(0)
    )
    fake_imgur.fail("token", Failure.SERVER_ERROR)
    with pytest.raises(ImgurUnavailable):
        await manager.access_token_for(1)
    assert (await link_store.get(1)).status is LinkStatus.OK
    assert await manager.access_token_for(1)  # and the next attempt works


async def test_rejected_access_token_is_refreshed_once_and_retried_once(
    manager, link_store, fake_imgur, imgur, clock
):
    await linked_member(link_store, fake_imgur, "alice", user_id=1, now=clock(), favorites=3)
    fake_imgur.fail("favorites", Failure.INVALID_ACCESS_TOKEN)
    items = await manager.call(1, lambda token: imgur.favorites(token, 0, Sort.NEWEST))
    assert len(items) == 3
    assert fake_imgur.count("token") == 1
    assert fake_imgur.count("favorites") == 2


async def test_unknown_member_is_not_linked(manager):
    with pytest.raises(NotLinked):
        await manager.access_token_for(404)


async def test_sweep_refreshes_every_due_link_and_only_those(
    manager, link_store, fake_imgur, clock
):
    fake_imgur.expires_in = 28 * 86400
    for n in range(5):
        await linked_member(
            link_store, fake_imgur, f"due{n}", user_id=n, now=clock(), expires_in=timedelta(hours=1)
        )
    await linked_member(link_store, fake_imgur, "fresh", user_id=99, now=clock())
    result = await manager.sweep()
    assert result.refreshed == 5
    assert result.broken == []
    assert fake_imgur.count("token") == 5
    assert await link_store.due_for_refresh(clock() + timedelta(days=1), 100, now=clock()) == []


async def test_sweep_reports_broken_links_and_goes_on_with_the_rest(
    manager, link_store, fake_imgur, clock
):
    for n in range(3):
        await linked_member(
            link_store, fake_imgur, f"m{n}", user_id=n, now=clock(), expires_in=timedelta(0)
        )
    fake_imgur.revoke("m1")
    result = await manager.sweep()
    assert result.broken == [1]
    assert result.refreshed == 2
    assert (await link_store.get(1)).status is LinkStatus.BROKEN
    assert (await link_store.get(2)).status is LinkStatus.OK


async def test_sweep_stops_when_imgur_rate_limits_and_changes_nothing(
    manager, link_store, fake_imgur, clock
):
    for n in range(30):
        await linked_member(
            link_store, fake_imgur, f"m{n}", user_id=n, now=clock(), expires_in=timedelta(0)
        )
    fake_imgur.fail("token", Failure.RATE_LIMITED, times=100)
    result = await manager.sweep()
    assert result.stopped_early
    assert result.refreshed == 0
    assert fake_imgur.count("token") < 30
    for n in range(30):
        assert (await link_store.get(n)).status is LinkStatus.OK


async def test_short_lived_token_is_not_refreshed_before_half_its_life(
    manager, link_store, fake_imgur, clock
):
    # Imgur has handed out one-hour tokens: with a one-day lead every use would refresh.
    link = await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(hours=2)
    )
    assert await manager.access_token_for(1) == link.access_token
    assert (await manager.sweep()).refreshed == 0
    assert fake_imgur.count("token") == 0
    clock.advance(minutes=61)  # past half of its three hours
    assert await manager.access_token_for(1) != link.access_token


async def test_the_sweep_query_applies_exactly_the_rule_of_due(manager, link_store, clock):
    # LinkStore.due_for_refresh states TokenManager.due in SQL; both must pick the same
    # links, edges included (issued at or before now, as stored links are).
    now = clock()
    minute, hour, day = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
    expiries = [-day, -minute, 0 * minute, minute, 30 * minute, hour, 2 * hour, 23 * hour]
    expiries += [day - timedelta(seconds=1), day, day + timedelta(seconds=1), 2 * day, 20 * day]
    issues = [-30 * day, -2 * day, -day, -2 * hour, -hour, -30 * minute, -minute, 0 * minute]
    links, user_id = [], 0
    for expires_in in expiries:
        for issued_in in issues:
            for refreshed in (False, True):
                user_id += 1
                link = Link(
                    discord_user_id=user_id,
                    imgur_account_id=user_id,
                    imgur_username=f"m{user_id}",
                    access_token="a",
                    refresh_token="r",
                    expires_at=now + expires_in,
                    linked_at=now + issued_in - (40 * day if refreshed else 0 * day),
                    refreshed_at=now + issued_in if refreshed else None,
                )
                await link_store.save_link(link)
                links.append(link)
    picked: set[int] = set()
    after = None
    while page := await link_store.due_for_refresh(now + day, 7, now=now, after=after):
        picked.update(link.discord_user_id for link in page)
        after = page[-1]
    expected = {link.discord_user_id for link in links if manager.due(link, now)}
    assert picked == expected
    assert 0 < len(expected) < len(links)


async def test_sweep_with_short_lived_tokens_reads_only_the_due_links(
    manager, link_store, fake_imgur, clock, monkeypatch
):
    # One-hour tokens are all within the one-day lead; those not half-way through their life
    # are neither refreshed nor even read.
    for n in range(13):  # all issued an hour ago
        fresh = n < 10  # expiring in 90 minutes; the last three in 30
        await linked_member(
            link_store,
            fake_imgur,
            f"fresh{n}" if fresh else f"due{n}",
            user_id=n,
            now=clock(),
            expires_in=timedelta(minutes=90 if fresh else 30),
        )
    read: list[int] = []
    get = link_store.get

    async def spy(user_id):
        read.append(user_id)
        return await get(user_id)

    monkeypatch.setattr(link_store, "get", spy)
    result = await manager.sweep()
    assert result.refreshed == 3
    assert sorted(read) == [10, 11, 12]
    assert fake_imgur.count("token") == 3


async def test_sweep_pages_through_many_identical_expiry_times(
    link_store, imgur, fake_imgur, clock, monkeypatch
):
    monkeypatch.setattr("bot.tokens.SWEEP_BATCH", 3)
    manager = TokenManager(link_store, imgur, concurrency=2, clock=clock)
    for n in range(20):
        await linked_member(
            link_store, fake_imgur, f"m{n}", user_id=n, now=clock(), expires_in=timedelta(0)
        )
    result = await manager.sweep()
    assert result.refreshed == 20
    assert fake_imgur.count("token") == 20
    assert await manager.sweep() == SweepResult()  # all refreshed, none due any more


async def test_sweep_keeps_at_most_the_configured_refreshes_in_flight(
    link_store, imgur, fake_imgur, clock, monkeypatch
):
    fake_imgur.latency = 0.02
    for n in range(20):
        await linked_member(
            link_store, fake_imgur, f"m{n}", user_id=n, now=clock(), expires_in=timedelta(0)
        )
    in_flight, peak = 0, 0
    real_refresh = imgur.refresh

    async def counting_refresh(refresh_token):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            return await real_refresh(refresh_token)
        finally:
            in_flight -= 1

    monkeypatch.setattr(imgur, "refresh", counting_refresh)
    manager = TokenManager(link_store, imgur, concurrency=3, clock=clock)
    assert (await manager.sweep()).refreshed == 20
    assert peak == 3


async def test_a_refresh_that_began_before_a_relink_does_not_touch_the_new_link(
    manager, link_store, fake_imgur, imgur, clock, monkeypatch
):
    old = await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(0)
    )
    new_links = []
    real_refresh = imgur.refresh

    async def refresh_while_the_member_relinks(refresh_token):
        tokens = await real_refresh(refresh_token)
        clock.advance(seconds=5)
        new_links.append(await linked_member(link_store, fake_imgur, "bob", user_id=1, now=clock()))
        return tokens

    monkeypatch.setattr(imgur, "refresh", refresh_while_the_member_relinks)
    link = await manager.refresh(1)
    (bob,) = new_links
    stored = await link_store.get(1)
    assert stored.imgur_username == "bob"
    assert stored.access_token == bob.access_token != old.access_token
    assert stored.refresh_token == bob.refresh_token
    assert link.imgur_username == "bob"
    assert stored.status is LinkStatus.OK


async def test_a_dead_grant_of_the_old_link_does_not_break_the_new_one(
    manager, link_store, fake_imgur, imgur, clock, monkeypatch
):
    await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(0)
    )
    fake_imgur.revoke("alice")
    real_refresh = imgur.refresh

    async def refresh_while_the_member_relinks(refresh_token):
        clock.advance(seconds=5)
        await linked_member(link_store, fake_imgur, "bob", user_id=1, now=clock())
        return await real_refresh(refresh_token)

    monkeypatch.setattr(imgur, "refresh", refresh_while_the_member_relinks)
    await manager.refresh(1)
    stored = await link_store.get(1)
    assert stored.imgur_username == "bob"
    assert stored.status is LinkStatus.OK


async def test_closing_lets_a_refresh_under_way_reach_the_database(
    manager, link_store, fake_imgur, clock
):
    fake_imgur.latency = 0.2
    old = await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(0)
    )
    sweep = asyncio.create_task(manager.sweep())
    await eventually(lambda: fake_imgur.count("token") == 1, 5, "the refresh to reach Imgur")
    sweep.cancel()  # the refresh loop is cancelled first at shutdown
    await asyncio.gather(sweep, return_exceptions=True)
    await manager.aclose(grace=5)
    stored = await link_store.get(1)
    assert stored.access_token != old.access_token
    assert stored.refresh_token != old.refresh_token


async def test_a_sweep_never_spends_a_link_whose_lease_ran_out_and_was_taken_over(
    manager, link_store, fake_imgur, clock, monkeypatch
):
    """A link the sweep claimed but reached only after its lease ran out, and another process
    claimed meanwhile, is left to that process: one refresh token is never spent twice."""
    for n in range(3):
        await linked_member(
            link_store, fake_imgur, f"due{n}", user_id=n, now=clock(), expires_in=timedelta(hours=1)
        )
    claim_due = link_store.claim_due

    async def claimed_then_taken_over(*args, **kwargs):
        batch = await claim_due(*args, **kwargs)
        clock.advance(seconds=kwargs["lease"].total_seconds() + 1)  # the batch waited too long
        for link in batch:
            assert await link_store.claim(
                link.discord_user_id, owner="other-process", now=clock(), lease=kwargs["lease"]
            )
        return batch

    monkeypatch.setattr(link_store, "claim_due", claimed_then_taken_over)
    await manager.sweep()
    assert fake_imgur.count("token") == 0
    for n in range(3):  # the other process's leases stand
        assert not await link_store.claim(n, owner=manager.owner, now=clock(), lease=timedelta(1))


async def test_a_refresh_written_by_another_process_just_before_the_claim_is_not_repeated(
    manager, link_store, imgur, fake_imgur, clock, monkeypatch
):
    """Another process writes its refresh (ending its lease) between this process's read of
    the link and its claim: the claim succeeds, and the refresh token read before is spent.
    It must not be spent again (Imgur would refuse it and the link would break)."""
    await linked_member(
        link_store, fake_imgur, "alice", user_id=1, now=clock(), expires_in=timedelta(hours=1)
    )
    other = TokenManager(link_store, imgur, clock=clock, owner="other-process")
    claim = link_store.claim

    async def the_other_refreshes_first(discord_user_id, **kwargs):
        if kwargs["owner"] == manager.owner and fake_imgur.count("token") == 0:
            await other.refresh(discord_user_id)
        return await claim(discord_user_id, **kwargs)

    monkeypatch.setattr(link_store, "claim", the_other_refreshes_first)
    token = await manager.access_token_for(1)
    stored = await link_store.get(1)
    assert token == stored.access_token  # the other process's fresh token
    assert stored.status is LinkStatus.OK
    assert fake_imgur.count("token") == 1
    assert await claim(1, owner="third-process", now=clock(), lease=timedelta(minutes=2))


async def test_a_sweep_longer_than_a_lease_leases_each_batch_from_when_it_is_claimed(
    manager, link_store, fake_imgur, clock, monkeypatch
):
    """Claims made late in a long sweep hold for a lease from then: another process does not
    take them over while they wait in this sweep's queue."""
    for n in range(12):  # more than one batch (twice the concurrency)
        await linked_member(
            link_store, fake_imgur, f"due{n}", user_id=n, now=clock(), expires_in=timedelta(hours=1)
        )
    claim_due = link_store.claim_due
    taken_over: list[bool] = []

    async def a_lease_passes_between_batches(*args, **kwargs):
        batch = await claim_due(*args, **kwargs)
        if not taken_over and batch:
            taken_over.append(False)  # the first batch
        elif batch:
            for link in batch:
                taken_over.append(
                    await link_store.claim(
                        link.discord_user_id, owner="other", now=clock(), lease=kwargs["lease"]
                    )
                )
        clock.advance(seconds=kwargs["lease"].total_seconds() + 1)
        return batch

    monkeypatch.setattr(link_store, "claim_due", a_lease_passes_between_batches)
    result = await manager.sweep()
    assert len(taken_over) > 1
    assert not any(taken_over)
    assert result.refreshed == 12
    assert fake_imgur.count("token") == 12
