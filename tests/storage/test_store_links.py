"""Links: save, read, update, break, delete, and the refresh sweep's query."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage import Link, LinkNotFoundError, LinkStatus, LinkStore
from bot.storage.sqlite import DUE_FOR_REFRESH_SQL

from .factories import NOW, make_link, token


async def test_get_of_an_unlinked_member_is_none(store: LinkStore) -> None:
    assert await store.get(404) is None


async def test_saved_link_reads_back_equal(store: LinkStore) -> None:
    link = make_link(refreshed_at=NOW + timedelta(hours=1), last_error="timeout")
    await store.save_link(link)
    assert await store.get(link.discord_user_id) == link


async def test_read_times_are_timezone_aware_utc(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    link = await store.get(1)
    assert link is not None
    assert link.expires_at.tzinfo is UTC
    assert link.linked_at is not None
    assert link.linked_at.tzinfo is UTC


async def test_save_link_replaces_the_members_previous_link(store: LinkStore) -> None:
    await store.save_link(make_link(1, imgur_username="old", status=LinkStatus.BROKEN))
    new = make_link(1, imgur_username="new")
    await store.save_link(new)
    assert await store.get(1) == new
    assert (await store.stats()).links == 1


async def test_save_link_without_linked_at_records_now(store: LinkStore) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    await store.save_link(make_link(1, linked_at=None))
    link = await store.get(1)
    assert link is not None
    assert link.linked_at is not None
    assert before <= link.linked_at <= datetime.now(UTC)


async def test_naive_datetimes_are_refused(store: LinkStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        await store.save_link(make_link(1, expires_at=datetime(2030, 1, 1)))


async def test_update_tokens_replaces_tokens_expiry_and_refresh_time(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    access, refresh = token(), token()
    expires, refreshed = NOW + timedelta(days=30), NOW + timedelta(days=2)
    await store.update_tokens(
        1, access_token=access, refresh_token=refresh, expires_at=expires, refreshed_at=refreshed
    )
    link = await store.get(1)
    assert link is not None
    assert (link.access_token, link.refresh_token) == (access, refresh)
    assert (link.expires_at, link.refreshed_at) == (expires, refreshed)


async def test_update_tokens_makes_a_broken_link_ok_and_clears_the_error(
    store: LinkStore,
) -> None:
    await store.save_link(make_link(1))
    await store.mark_broken(1, "Invalid refresh token")
    await store.update_tokens(
        1, access_token=token(), refresh_token=token(), expires_at=NOW, refreshed_at=NOW
    )
    link = await store.get(1)
    assert link is not None
    assert (link.status, link.last_error) == (LinkStatus.OK, None)


async def test_update_tokens_of_an_unlinked_member_raises_and_creates_nothing(
    store: LinkStore,
) -> None:
    with pytest.raises(LinkNotFoundError):
        await store.update_tokens(
            9, access_token=token(), refresh_token=token(), expires_at=NOW, refreshed_at=NOW
        )
    assert await store.get(9) is None


async def test_mark_broken_sets_status_and_error(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    await store.mark_broken(1, "Invalid refresh token")
    link = await store.get(1)
    assert link is not None
    assert (link.status, link.last_error) == (LinkStatus.BROKEN, "Invalid refresh token")


async def test_mark_broken_of_an_unlinked_member_raises(store: LinkStore) -> None:
    with pytest.raises(LinkNotFoundError):
        await store.mark_broken(9, "Invalid refresh token")


async def test_record_error_keeps_the_link_ok(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    await store.record_error(1, "Imgur is over capacity")
    link = await store.get(1)
    assert link is not None
    assert (link.status, link.last_error) == (LinkStatus.OK, "Imgur is over capacity")


async def test_record_error_of_an_unlinked_member_raises(store: LinkStore) -> None:
    with pytest.raises(LinkNotFoundError):
        await store.record_error(9, "timeout")


async def test_long_errors_are_clipped(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    await store.record_error(1, "x" * 10_000)
    link = await store.get(1)
    assert link is not None
    assert link.last_error is not None
    assert len(link.last_error) == 500


async def test_delete_member_removes_link_and_states(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    state = await store.create_state(1, "pin")
    assert await store.delete_member(1)
    assert await store.get(1) is None
    assert await store.consume_state(1, state.state) is None
    assert await store.consume_state(1, None) is None


async def test_delete_member_with_only_states_returns_true(store: LinkStore) -> None:
    await store.create_state(1, "pin")
    assert await store.delete_member(1)


async def test_delete_member_with_nothing_stored_returns_false(store: LinkStore) -> None:
    assert not await store.delete_member(1)


async def test_delete_member_leaves_other_members_alone(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    await store.save_link(make_link(2))
    state = await store.create_state(2, "pin")
    await store.delete_member(1)
    assert await store.get(2) is not None
    assert await store.consume_state(2, state.state) is not None


async def save_expiring(store: LinkStore, user_id: int, hours: int, **changes: object) -> Link:
    link = make_link(user_id, expires_at=NOW + timedelta(hours=hours), **changes)
    await store.save_link(link)
    return link


async def test_due_for_refresh_returns_soonest_expiring_first(store: LinkStore) -> None:
    for user_id, hours in [(1, 5), (2, 1), (3, 3)]:
        await save_expiring(store, user_id, hours)
    due = await store.due_for_refresh(NOW + timedelta(hours=10), limit=10)
    assert [link.discord_user_id for link in due] == [2, 3, 1]


async def test_due_for_refresh_respects_the_limit(store: LinkStore) -> None:
    for user_id in range(1, 6):
        await save_expiring(store, user_id, user_id)
    due = await store.due_for_refresh(NOW + timedelta(hours=10), limit=2)
    assert [link.discord_user_id for link in due] == [1, 2]


async def test_due_for_refresh_skips_links_not_yet_due(store: LinkStore) -> None:
    await save_expiring(store, 1, 1)
    await save_expiring(store, 2, 48)
    due = await store.due_for_refresh(NOW + timedelta(hours=24), limit=10)
    assert [link.discord_user_id for link in due] == [1]


async def test_due_for_refresh_includes_links_expiring_exactly_at_before(
    store: LinkStore,
) -> None:
    await save_expiring(store, 1, 2)
    due = await store.due_for_refresh(NOW + timedelta(hours=2), limit=10)
    assert [link.discord_user_id for link in due] == [1]


async def test_due_for_refresh_skips_broken_links(store: LinkStore) -> None:
    await save_expiring(store, 1, 1, status=LinkStatus.BROKEN)
    await save_expiring(store, 2, 2)
    due = await store.due_for_refresh(NOW + timedelta(hours=10), limit=10)
    assert [link.discord_user_id for link in due] == [2]


async def test_due_for_refresh_returns_decrypted_tokens(store: LinkStore) -> None:
    link = await save_expiring(store, 1, 1)
    assert await store.due_for_refresh(NOW + timedelta(hours=10), limit=1) == [link]


async def test_due_for_refresh_pages_after_the_last_link_seen(store: LinkStore) -> None:
    # Equal expiry times are ordered by member id, so a page boundary between them loses none.
    for user_id, hours in [(1, 2), (2, 1), (3, 2), (4, 2), (5, 3)]:
        await save_expiring(store, user_id, hours)
    before, seen = NOW + timedelta(hours=10), []
    after: tuple[datetime, int] | None = None
    while page := await store.due_for_refresh(before, limit=2, after=after):
        seen += [link.discord_user_id for link in page]
        after = (page[-1].expires_at, page[-1].discord_user_id)
    assert seen == [2, 1, 3, 4, 5]


async def test_due_for_refresh_rejects_a_limit_below_one(store: LinkStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.due_for_refresh(NOW, limit=0)


async def test_due_for_refresh_query_uses_the_partial_index(
    store: LinkStore, db_path: Path
) -> None:
    with sqlite3.connect(db_path) as raw:
        plan = " | ".join(
            row[3]
            for row in raw.execute("EXPLAIN QUERY PLAN " + DUE_FOR_REFRESH_SQL, (0, 0, 0, 10))
        )
    assert "USING INDEX links_due_for_refresh" in plan
    assert "TEMP B-TREE" not in plan  # the index also gives the order


async def test_stats_counts_links_broken_links_and_unexpired_states(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    await store.save_link(make_link(2, status=LinkStatus.BROKEN))
    await store.create_state(1, "pin", now=NOW)
    await store.create_state(3, "pin", now=NOW - timedelta(hours=1))
    stats = await store.stats(now=NOW)
    assert (stats.links, stats.broken_links, stats.pending_states) == (2, 1, 1)


def test_link_repr_shows_no_tokens() -> None:
    link = make_link(1)
    assert link.access_token not in repr(link)
    assert link.refresh_token not in repr(link)
