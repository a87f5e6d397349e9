"""Authorization states: bound to a member, expiring, single use."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from bot.storage import (
    MAX_PENDING_STATES_PER_MEMBER,
    AttemptGoneError,
    AuthState,
    LinkStore,
    state_digest,
)

from .factories import NOW, make_link


@pytest.fixture
def store(any_store: LinkStore) -> LinkStore:
    """Every test here is part of the contract: it runs on SQLite and on PostgreSQL."""
    return any_store


LATER = NOW + timedelta(minutes=5)
EXPIRED = NOW + timedelta(minutes=10)


async def test_create_state_returns_a_long_random_state(store: LinkStore) -> None:
    first = await store.create_state(1, "pin", now=NOW)
    second = await store.create_state(1, "pin", now=NOW)
    assert len(first.state) >= 43
    assert first.state != second.state


async def test_create_state_expires_after_ten_minutes_by_default(store: LinkStore) -> None:
    created = await store.create_state(1, "code", now=NOW)
    assert (created.discord_user_id, created.response_type) == (1, "code")
    assert (created.created_at, created.expires_at) == (NOW, EXPIRED)


async def test_state_is_stored_only_as_its_digest(sqlite_store: LinkStore, db_path: Path) -> None:
    created = await sqlite_store.create_state(1, "pin", now=NOW)
    with sqlite3.connect(db_path) as raw:
        rows = raw.execute("SELECT * FROM auth_states").fetchall()
    times = (int(NOW.timestamp()), int(EXPIRED.timestamp()))
    assert rows == [(state_digest(created.state), 1, "pin", *times)]


async def test_create_state_refuses_a_non_positive_ttl(store: LinkStore) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await store.create_state(1, "pin", ttl=timedelta(0))


async def test_consume_state_returns_the_members_pending_state(store: LinkStore) -> None:
    created = await store.create_state(1, "code", now=NOW)
    consumed = await store.consume_state(1, created.state, now=LATER)
    assert consumed is not None
    assert (consumed.discord_user_id, consumed.response_type) == (1, "code")
    assert (consumed.created_at, consumed.expires_at) == (NOW, EXPIRED)


async def test_consumed_state_carries_no_clear_state(store: LinkStore) -> None:
    created = await store.create_state(1, "code", now=NOW)
    consumed = await store.consume_state(1, created.state, now=LATER)
    assert consumed is not None
    assert consumed.state == ""


async def test_state_can_be_consumed_only_once(store: LinkStore) -> None:
    created = await store.create_state(1, "code", now=NOW)
    assert await store.consume_state(1, created.state, now=LATER) is not None
    assert await store.consume_state(1, created.state, now=LATER) is None


async def test_concurrent_consumers_get_the_state_once(store: LinkStore) -> None:
    created = await store.create_state(1, "code", now=NOW)
    results = await asyncio.gather(
        *(store.consume_state(1, created.state, now=LATER) for _ in range(10))
    )
    assert sum(result is not None for result in results) == 1


async def test_expired_state_is_not_returned(store: LinkStore) -> None:
    created = await store.create_state(1, "code", now=NOW)
    assert await store.consume_state(1, created.state, now=EXPIRED) is None


async def test_unknown_state_is_not_returned(store: LinkStore) -> None:
    await store.create_state(1, "code", now=NOW)
    assert await store.consume_state(1, "made-up", now=LATER) is None


async def test_state_presented_by_another_member_is_refused(store: LinkStore) -> None:
    created = await store.create_state(1, "code", now=NOW)
    assert await store.consume_state(2, created.state, now=LATER) is None


async def test_state_presented_by_another_member_stays_usable_by_its_owner(
    store: LinkStore,
) -> None:
    created = await store.create_state(1, "code", now=NOW)
    await store.consume_state(2, created.state, now=LATER)
    assert await store.consume_state(1, created.state, now=LATER) is not None


async def test_consume_without_state_takes_the_newest_pending_one(store: LinkStore) -> None:
    await store.create_state(1, "pin", now=NOW)
    await store.create_state(1, "pin", now=NOW + timedelta(minutes=2))
    newest = await store.create_state(1, "pin", now=NOW + timedelta(minutes=3))
    await store.create_state(2, "pin", now=NOW + timedelta(minutes=4))
    consumed = await store.consume_state(1, None, now=LATER)
    assert consumed is not None
    assert (consumed.discord_user_id, consumed.created_at) == (1, newest.created_at)


async def test_consume_without_state_takes_one_at_a_time(store: LinkStore) -> None:
    newer = await store.create_state(1, "pin", now=NOW + timedelta(minutes=1))
    older = await store.create_state(1, "pin", now=NOW)
    first = await store.consume_state(1, None, now=LATER)
    second = await store.consume_state(1, None, now=LATER)
    assert first is not None
    assert second is not None
    assert (first.created_at, second.created_at) == (newer.created_at, older.created_at)
    assert await store.consume_state(1, None, now=LATER) is None


async def test_consume_without_state_ignores_expired_states(store: LinkStore) -> None:
    await store.create_state(1, "pin", now=NOW - timedelta(hours=1))
    assert await store.consume_state(1, None, now=NOW) is None


async def test_consume_without_state_never_takes_another_members_state(
    store: LinkStore,
) -> None:
    await store.create_state(2, "pin", now=NOW)
    assert await store.consume_state(1, None, now=LATER) is None


async def test_consume_any_member_returns_the_owner(store: LinkStore) -> None:
    created = await store.create_state(7, "code", now=NOW)
    consumed = await store.consume_state_any_member(created.state, now=LATER)
    assert consumed is not None
    assert (consumed.discord_user_id, consumed.response_type) == (7, "code")


async def test_consume_any_member_is_single_use(store: LinkStore) -> None:
    created = await store.create_state(7, "code", now=NOW)
    await store.consume_state_any_member(created.state, now=LATER)
    assert await store.consume_state_any_member(created.state, now=LATER) is None
    assert await store.consume_state(7, created.state, now=LATER) is None


async def test_consume_any_member_ignores_expired_states(store: LinkStore) -> None:
    created = await store.create_state(7, "code", now=NOW)
    assert await store.consume_state_any_member(created.state, now=EXPIRED) is None


async def test_purge_expired_states_deletes_only_expired_ones(store: LinkStore) -> None:
    await store.create_state(1, "pin", now=NOW - timedelta(hours=2))
    await store.create_state(2, "pin", now=NOW - timedelta(hours=1))
    live = await store.create_state(3, "pin", now=NOW)
    assert await store.purge_expired_states(now=LATER) == 2
    assert await store.consume_state(3, live.state, now=LATER) is not None


async def test_a_member_keeps_only_the_newest_pending_states(store: LinkStore) -> None:
    created = [
        await store.create_state(1, "pin", now=NOW + timedelta(seconds=n))
        for n in range(MAX_PENDING_STATES_PER_MEMBER + 2)
    ]
    assert (await store.stats(now=LATER)).pending_states == MAX_PENDING_STATES_PER_MEMBER
    assert await store.consume_state(1, created[0].state, now=LATER) is None
    assert await store.consume_state(1, created[-1].state, now=LATER) is not None


def test_auth_state_repr_shows_no_state() -> None:
    state = AuthState(1, "pin", NOW, EXPIRED, state="s3cr3t-state-value")
    assert "s3cr3t-state-value" not in repr(state)


async def test_restored_state_can_be_consumed_again(store):
    created = await store.create_state(7, "pin")
    taken = await store.consume_state(7, None)
    assert taken is not None
    await store.restore_state(taken)
    again = await store.consume_state(7, created.state)
    assert again is not None
    assert again.expires_at == created.expires_at
    assert await store.consume_state(7, created.state) is None


async def test_a_claimed_state_is_neither_pending_nor_consumable_again(store: LinkStore) -> None:
    created = await store.create_state(1, "pin", now=NOW)
    claimed = await store.consume_state(1, None, now=LATER)
    assert claimed is not None
    assert await store.consume_state(1, None, now=LATER) is None
    assert await store.consume_state(1, created.state, now=LATER) is None
    assert await store.consume_state_any_member(created.state, now=LATER) is None
    assert await store.restore_state(claimed)
    assert await store.consume_state(1, created.state, now=LATER) is not None


async def test_unlink_deletes_a_claimed_state_and_nothing_brings_it_back(
    store: LinkStore,
) -> None:
    created = await store.create_state(1, "pin", now=NOW)
    claimed = await store.consume_state(1, created.state, now=LATER)
    assert claimed is not None
    assert await store.delete_member(1)
    assert not await store.restore_state(claimed)
    with pytest.raises(AttemptGoneError):
        await store.save_link(make_link(1), attempt=claimed)
    assert await store.get(1) is None
    assert (await store.stats(now=LATER)).pending_states == 0


async def test_saving_the_link_of_an_attempt_uses_the_attempt_up(store: LinkStore) -> None:
    created = await store.create_state(1, "pin", now=NOW)
    claimed = await store.consume_state(1, created.state, now=LATER)
    assert claimed is not None
    await store.save_link(make_link(1), attempt=claimed)
    assert await store.get(1) is not None
    assert (await store.stats(now=LATER)).pending_states == 0
    assert not await store.restore_state(claimed)


async def test_a_claim_outlives_expiry_for_a_while_then_is_purged(store: LinkStore) -> None:
    created = await store.create_state(1, "pin", now=NOW)
    claimed = await store.consume_state(1, created.state, now=LATER)
    assert claimed is not None
    assert await store.purge_expired_states(now=claimed.expires_at) == 0
    await store.save_link(make_link(1), attempt=claimed)  # a slow exchange still lands
    fresh = await store.create_state(1, "pin", now=NOW)
    again = await store.consume_state(1, fresh.state, now=LATER)
    assert again is not None
    assert await store.purge_expired_states(now=again.expires_at + timedelta(hours=2)) == 1
