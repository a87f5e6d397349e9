"""The refresh sweep's query: links due by the half-life rule, ids and times only, paged."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import DueLink, LinkStatus, LinkStore, TokenCipher, generate_key
from bot.storage.sqlite import CLAIM_DUE_SQL, DUE_FOR_REFRESH_SQL

from .factories import NOW, make_link


@pytest.fixture
def store(any_store: LinkStore) -> LinkStore:
    """Every test here is part of the contract: it runs on SQLite and on PostgreSQL."""
    return any_store


LEAD = timedelta(days=1)
BEFORE = NOW + LEAD


async def save(
    store: LinkStore,
    user_id: int,
    *,
    expires_in: timedelta,
    issued_ago: timedelta,
    refreshed: bool = True,
    **changes: object,
) -> None:
    """A link whose token was issued ``issued_ago`` (a refresh, or with ``refreshed=False`` the
    linking itself) and expires ``expires_in`` from NOW."""
    issued = NOW - issued_ago
    await store.save_link(
        make_link(
            user_id,
            expires_at=NOW + expires_in,
            linked_at=issued - timedelta(days=60) if refreshed else issued,
            refreshed_at=issued if refreshed else None,
            **changes,
        )
    )


async def all_due(store: LinkStore, limit: int, now: datetime = NOW) -> list[DueLink]:
    seen: list[DueLink] = []
    after: DueLink | None = None
    while page := await store.due_for_refresh(BEFORE, limit, now=now, after=after):
        assert len(page) <= limit
        seen += page
        after = page[-1]
    return seen


def ids(links: list[DueLink]) -> list[int]:
    return [link.discord_user_id for link in links]


async def test_short_lived_tokens_not_past_half_their_life_are_not_returned(
    store: LinkStore,
) -> None:
    # One-hour tokens all expire within the one-day lead; only those past half-life are due.
    await save(store, 1, expires_in=timedelta(minutes=50), issued_ago=timedelta(minutes=10))
    await save(store, 2, expires_in=timedelta(minutes=20), issued_ago=timedelta(minutes=40))
    await save(
        store,
        3,
        expires_in=timedelta(minutes=40),
        issued_ago=timedelta(minutes=20),
        refreshed=False,
    )
    await save(
        store,
        4,
        expires_in=timedelta(minutes=10),
        issued_ago=timedelta(minutes=50),
        refreshed=False,
    )
    assert ids(await store.due_for_refresh(BEFORE, 10, now=NOW)) == [4, 2]


async def test_half_life_boundary_is_inclusive(store: LinkStore) -> None:
    await save(store, 1, expires_in=timedelta(minutes=30), issued_ago=timedelta(minutes=30))
    await save(
        store, 2, expires_in=timedelta(minutes=30, seconds=1), issued_ago=timedelta(minutes=30)
    )
    assert ids(await store.due_for_refresh(BEFORE, 10, now=NOW)) == [1]


async def test_long_lived_tokens_past_half_their_life_wait_for_the_lead(store: LinkStore) -> None:
    await save(store, 1, expires_in=timedelta(days=10), issued_ago=timedelta(days=18))
    await save(store, 2, expires_in=timedelta(hours=20), issued_ago=timedelta(days=27))
    await save(store, 3, expires_in=LEAD, issued_ago=timedelta(days=27))
    await save(store, 4, expires_in=timedelta(days=20), issued_ago=timedelta(days=8))
    assert ids(await store.due_for_refresh(BEFORE, 10, now=NOW)) == [2, 3]


async def test_expired_and_broken_links(store: LinkStore) -> None:
    await save(store, 1, expires_in=-timedelta(hours=1), issued_ago=timedelta(days=30))
    await save(
        store,
        2,
        expires_in=-timedelta(hours=1),
        issued_ago=timedelta(days=30),
        status=LinkStatus.BROKEN,
    )
    assert ids(await store.due_for_refresh(BEFORE, 10, now=NOW)) == [1]


async def test_due_links_carry_ids_and_times_and_are_not_decrypted(
    database: str, cipher: TokenCipher
) -> None:
    async with await LinkStore.open(database, cipher) as store:
        await save(store, 1, expires_in=timedelta(minutes=5), issued_ago=timedelta(hours=1))
        await save(
            store,
            2,
            expires_in=timedelta(minutes=5),
            issued_ago=timedelta(hours=1),
            refreshed=False,
        )
    # A store with the wrong key still answers: no token is decrypted.
    async with await LinkStore.open(database, TokenCipher([generate_key()])) as store:
        due = await store.due_for_refresh(BEFORE, 10, now=NOW)
    assert due == [
        DueLink(
            discord_user_id=1,
            expires_at=NOW + timedelta(minutes=5),
            linked_at=NOW - timedelta(hours=1, days=60),
            refreshed_at=NOW - timedelta(hours=1),
        ),
        DueLink(
            discord_user_id=2,
            expires_at=NOW + timedelta(minutes=5),
            linked_at=NOW - timedelta(hours=1),
        ),
    ]


async def test_links_come_in_the_order_they_became_due(store: LinkStore) -> None:
    # Key: expires_at + issued, then expires_at, then member id.
    await save(store, 1, expires_in=timedelta(minutes=30), issued_ago=timedelta(minutes=40))
    await save(store, 2, expires_in=timedelta(minutes=10), issued_ago=timedelta(minutes=60))
    await save(store, 3, expires_in=timedelta(minutes=20), issued_ago=timedelta(minutes=50))
    await save(store, 4, expires_in=timedelta(minutes=10), issued_ago=timedelta(minutes=60))
    await save(store, 5, expires_in=timedelta(minutes=5), issued_ago=timedelta(minutes=60))
    assert ids(await store.due_for_refresh(BEFORE, 10, now=NOW)) == [5, 2, 4, 3, 1]


async def test_paging_with_many_identical_expiry_times_loses_and_repeats_none(
    store: LinkStore,
) -> None:
    # 1,200 links share one expiry time and one issue time (identical keys but the member id);
    # around them, links sharing the half-life sum with different expiry times, and others.
    for user_id in range(1000, 2200):
        await save(store, user_id, expires_in=timedelta(minutes=10), issued_ago=timedelta(hours=1))
    for n in range(1, 20):
        shift = timedelta(seconds=n)
        await save(
            store,
            n,
            expires_in=timedelta(minutes=10) + shift,
            issued_ago=timedelta(hours=1) + shift,
        )
        await save(store, 5000 + n, expires_in=timedelta(minutes=n), issued_ago=timedelta(hours=2))
    await save(store, 9999, expires_in=timedelta(minutes=50), issued_ago=timedelta(minutes=10))
    every = await store.due_for_refresh(BEFORE, 5000, now=NOW)
    assert len(every) == 1200 + 19 + 19
    for limit in (7, 500):
        assert ids(await all_due(store, limit)) == ids(every)
    assert ids(every) == [
        *range(5001, 5020),  # smaller sums first
        *range(1000, 2200),  # the tie, by member id
        *range(1, 20),  # the tie's sum, later expiry times
    ]


async def test_a_page_starting_inside_a_tie_seeks_to_it(store: LinkStore) -> None:
    for user_id in range(1, 11):
        await save(store, user_id, expires_in=timedelta(minutes=10), issued_ago=timedelta(hours=1))
    first = await store.due_for_refresh(BEFORE, 4, now=NOW)
    second = await store.due_for_refresh(BEFORE, 4, now=NOW, after=first[-1])
    assert (ids(first), ids(second)) == ([1, 2, 3, 4], [5, 6, 7, 8])


async def test_due_for_refresh_rejects_a_limit_below_one(store: LinkStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.due_for_refresh(BEFORE, 0, now=NOW)


async def test_due_for_refresh_query_seeks_in_the_refresh_time_index(
    sqlite_store: LinkStore, db_path: Path
) -> None:
    params = {
        "now": 0,
        "before": 0,
        "after_refresh": 0,
        "after_expires": 0,
        "after_id": 0,
        "limit": 10,
        "owner": "x",
        "until": 0,
    }
    with sqlite3.connect(db_path) as raw:
        for sql in (DUE_FOR_REFRESH_SQL, CLAIM_DUE_SQL):
            plan = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, params)]
            searches = [step for step in plan if step.startswith(("SEARCH", "SCAN links"))]
            # One seek in the index from the page's key up to now: O(due), not O(links).
            assert searches[-1] == (
                "SEARCH links USING INDEX links_refresh_after"
                " ((refresh_after,expires_at)>(?,?) AND refresh_after<?)"
            )
            assert not any("SCAN" in step for step in searches)
            # Rows come in index order: no sorting.
            assert not any("TEMP B-TREE" in step for step in plan)
