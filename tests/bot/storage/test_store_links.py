"""Links: save, read, update, break, delete, and the refresh sweep's query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import LinkNotFoundError, LinkStatus, LinkStore

from .factories import NOW, make_link, token, tokens_of


@pytest.fixture
def store(any_store: LinkStore) -> LinkStore:
    """Every test here is part of the contract: it runs on SQLite and on PostgreSQL."""
    return any_store


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
    assert link.expires_at is not None
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


async def test_stats_counts_links_broken_links_and_unexpired_states(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    await store.save_link(make_link(2, status=LinkStatus.BROKEN))
    await store.create_state(1, "pin", now=NOW)
    await store.create_state(3, "pin", now=NOW - timedelta(hours=1))
    stats = await store.stats(now=NOW)
    assert (stats.links, stats.broken_links, stats.pending_states) == (2, 1, 1)


def test_link_repr_shows_no_tokens() -> None:
    link = make_link(1)
    for secret in tokens_of(link):
        assert secret not in repr(link)
