"""Claims (leases) of due links, shared settings, re-encryption: the contract of both backends."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.storage import DueLink, LinkStore, TokenCipher, generate_key

from .factories import NOW, make_link

LEASE = timedelta(minutes=2)
BEFORE = NOW + timedelta(days=1)


async def save_due(store: LinkStore, *user_ids: int) -> None:
    for user_id in user_ids:
        await store.save_link(
            make_link(
                user_id,
                expires_at=NOW + timedelta(minutes=5),
                linked_at=NOW - timedelta(hours=1),
            )
        )


def ids(links: Sequence[DueLink]) -> list[int]:
    return [link.discord_user_id for link in links]


async def test_claimed_links_are_not_claimed_again_until_the_lease_runs_out(
    any_store: LinkStore,
) -> None:
    await save_due(any_store, 1, 2, 3)
    first = await any_store.claim_due(BEFORE, 2, now=NOW, owner="a", lease=LEASE)
    second = await any_store.claim_due(BEFORE, 10, now=NOW, owner="b", lease=LEASE)
    assert (ids(first), ids(second)) == ([1, 2], [3])
    assert await any_store.claim_due(BEFORE, 10, now=NOW, owner="c", lease=LEASE) == []
    # The owners died: after the lease, their links are claimed by whoever sweeps next.
    later = NOW + LEASE
    assert ids(await any_store.claim_due(BEFORE, 10, now=later, owner="c", lease=LEASE)) == [
        1,
        2,
        3,
    ]


async def test_concurrent_claims_never_hand_out_one_link_twice(any_store: LinkStore) -> None:
    await save_due(any_store, *range(1, 201))
    owners = [f"process-{n}" for n in range(8)]

    async def claim_all(owner: str) -> list[int]:
        mine: list[int] = []
        while batch := await any_store.claim_due(BEFORE, 7, now=NOW, owner=owner, lease=LEASE):
            mine += ids(batch)
        return mine

    claimed = await asyncio.gather(*(claim_all(owner) for owner in owners))
    every = [user_id for mine in claimed for user_id in mine]
    assert sorted(every) == list(range(1, 201))  # each exactly once


async def test_a_written_refresh_ends_the_lease(any_store: LinkStore) -> None:
    await save_due(any_store, 1)
    assert await any_store.claim(1, owner="a", now=NOW, lease=LEASE)
    assert not await any_store.claim(1, owner="b", now=NOW, lease=LEASE)
    await any_store.update_tokens(
        1,
        access_token="new-access",
        refresh_token="new-refresh",
        expires_at=NOW + timedelta(minutes=1),
        refreshed_at=NOW,
    )
    assert await any_store.claim(1, owner="b", now=NOW, lease=LEASE)


@pytest.mark.parametrize("end", ["mark_broken", "record_error", "release"])
async def test_every_end_of_a_refresh_releases_the_claim(any_store: LinkStore, end: str) -> None:
    await save_due(any_store, 1)
    assert await any_store.claim(1, owner="a", now=NOW, lease=LEASE)
    if end == "release":
        await any_store.release(1, owner="b")  # not the owner: nothing changes
        assert not await any_store.claim(1, owner="b", now=NOW, lease=LEASE)
        await any_store.release(1, owner="a")
    else:
        await getattr(any_store, end)(1, "Imgur said no")
    assert await any_store.claim(1, owner="b", now=NOW, lease=LEASE)


async def test_the_owner_may_claim_its_own_link_again(any_store: LinkStore) -> None:
    await save_due(any_store, 1)
    assert await any_store.claim(1, owner="a", now=NOW, lease=LEASE)
    assert await any_store.claim(1, owner="a", now=NOW, lease=LEASE)


async def test_claim_of_an_unlinked_member_is_refused(any_store: LinkStore) -> None:
    assert not await any_store.claim(404, owner="a", now=NOW, lease=LEASE)


async def test_concurrent_single_claims_have_one_winner(any_store: LinkStore) -> None:
    await save_due(any_store, 1)
    won = await asyncio.gather(
        *(any_store.claim(1, owner=f"p{n}", now=NOW, lease=LEASE) for n in range(10))
    )
    assert won.count(True) == 1


async def test_settings_are_shared_through_the_database(database: str, cipher: TokenCipher) -> None:
    async with await LinkStore.open(database, cipher) as one:
        assert await one.get_setting("command_sync_hash") is None
        await one.set_setting("command_sync_hash", "abc")
        async with await LinkStore.open(database, cipher) as other:
            assert await other.get_setting("command_sync_hash") == "abc"
            await other.set_setting("command_sync_hash", "def")
        assert await one.get_setting("command_sync_hash") == "def"
        await one.set_setting("command_sync_hash", None)
        assert await one.get_setting("command_sync_hash") is None


async def test_reencrypt_all_is_the_same_on_both_backends(
    database: str, key: str, cipher: TokenCipher
) -> None:
    links = [make_link(n) for n in range(1, 6)]
    new_key = generate_key()
    async with await LinkStore.open(database, cipher) as store:
        for link in links:
            await store.save_link(link)
        assert await store.reencrypt_all(TokenCipher([new_key, key]), batch=2) == 5
        assert await store.pending_rotation() is None
    async with await LinkStore.open(database, TokenCipher([new_key])) as store:
        assert [await store.get(link.discord_user_id) for link in links] == links


async def test_a_changed_lead_recomputes_the_stored_refresh_times(
    database: str, cipher: TokenCipher
) -> None:
    from bot.storage import RefreshRule

    # A 48-day token issued 30 days ago: due at NOW + 17 days with a one-day lead.
    link = make_link(1, expires_at=NOW + timedelta(days=18), linked_at=NOW - timedelta(days=30))
    async with await LinkStore.open(database, cipher) as store:
        await store.save_link(link)
        assert await store.due_for_refresh(NOW + timedelta(days=20), 10, now=NOW) == []
    long_lead = RefreshRule(timedelta(days=20))
    async with await LinkStore.open(database, cipher, rule=long_lead) as store:
        # With a 20-day lead (less than half its life): due since 2 days ago.
        due = await store.due_for_refresh(NOW + timedelta(days=20), 10, now=NOW)
        assert ids(due) == [1]
