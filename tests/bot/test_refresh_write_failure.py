"""Finding 6: a refresh Imgur answered reaches the database, or is retried; it is never dropped.

The fake Imgur rotates refresh tokens (the old one dies on use), so a lost answer would break
the member's link at the next refresh.
"""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import timedelta
from typing import Any

import pytest

from bot.clock import Clock
from bot.errors import NotLinked
from bot.storage import Link, LinkStatus, LinkStore, StorageError
from bot.tokens import TokenManager
from tests.bot.helpers import linked_member
from tests.fakes.imgur import FakeImgur
from tests.waiting import eventually


@pytest.fixture
def manager(link_store, imgur, clock):
    return TokenManager(
        link_store, imgur, lead=timedelta(days=1), clock=clock, write_retry=(0.01, 0.05)
    )


class FailingWrites:
    """A fault seam on ``LinkStore.update_tokens``: the next ``times`` writes fail."""

    def __init__(self, store: LinkStore, monkeypatch: pytest.MonkeyPatch, times: int) -> None:
        self.times = times
        self.failed = 0
        self._update = store.update_tokens
        monkeypatch.setattr(store, "update_tokens", self)

    async def __call__(self, *args: Any, **kwargs: Any) -> None:
        if self.failed < self.times:
            self.failed += 1
            raise StorageError("database is locked")
        return await self._update(*args, **kwargs)


async def due_link(
    link_store: LinkStore, fake_imgur: FakeImgur, clock: Clock, user_id: int = 1
) -> Link:
    return await linked_member(
        link_store, fake_imgur, f"m{user_id}", user_id=user_id, now=clock(), expires_in=timedelta(0)
    )


async def test_a_failed_write_is_retried_until_the_new_tokens_are_stored(
    manager, link_store, fake_imgur, clock, monkeypatch
):
    old = await due_link(link_store, fake_imgur, clock)
    writes = FailingWrites(link_store, monkeypatch, times=3)
    refreshed = await manager.refresh(1)  # the member's command goes on with the new token
    assert refreshed.refresh_token != old.refresh_token
    assert (await link_store.get(1)).refresh_token == old.refresh_token
    assert manager.unsaved == 1

    async def written():
        return (await link_store.get(1)).refresh_token == refreshed.refresh_token

    await eventually(written, 5, "the refreshed tokens in the database")
    assert writes.failed == 3
    assert manager.unsaved == 0
    stored = await link_store.get(1)
    assert stored.access_token == refreshed.access_token
    assert stored.status is LinkStatus.OK


async def test_the_next_refresh_uses_the_unwritten_refresh_token(
    manager, link_store, fake_imgur, clock, monkeypatch
):
    await due_link(link_store, fake_imgur, clock)
    writes = FailingWrites(link_store, monkeypatch, times=10**6)  # the database stays locked
    first = await manager.refresh(1)
    assert await manager.access_token_for(1) == first.access_token  # no second call to Imgur
    clock.advance(seconds=fake_imgur.expires_in)  # due again
    second = await manager.refresh(1)
    assert second.refresh_token != first.refresh_token
    assert fake_imgur.count("token") == 2  # Imgur accepted the unwritten refresh token
    writes.times = 0  # the lock is gone
    await eventually(
        lambda: _stored_refresh_token_is(link_store, second.refresh_token),
        5,
        "the second refresh token in the database",
    )
    clock.advance(seconds=fake_imgur.expires_in)
    third = await manager.refresh(1)
    assert (await link_store.get(1)).refresh_token == third.refresh_token
    assert (await link_store.get(1)).status is LinkStatus.OK


async def test_a_real_database_lock_held_by_another_connection(
    manager, link_store, fake_imgur, clock, tmp_path
):
    old = await due_link(link_store, fake_imgur, clock)
    await link_store.backend._db.execute(
        "PRAGMA busy_timeout = 50"
    )  # fail fast instead of after 5 s
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    with contextlib.closing(other):
        other.execute("BEGIN EXCLUSIVE")
        refreshed = await manager.refresh(1)
        assert manager.unsaved == 1
        assert (await link_store.get(1)).refresh_token == old.refresh_token
        other.execute("ROLLBACK")
    await eventually(
        lambda: _stored_refresh_token_is(link_store, refreshed.refresh_token),
        5,
        "the refreshed token in the database",
    )
    clock.advance(seconds=fake_imgur.expires_in)
    await manager.refresh(1)  # with the written token: Imgur accepts it
    assert (await link_store.get(1)).status is LinkStatus.OK


async def test_a_sweep_whose_writes_fail_loses_no_link(
    manager, link_store, fake_imgur, clock, monkeypatch
):
    for n in range(6):
        await due_link(link_store, fake_imgur, clock, user_id=n)
    FailingWrites(link_store, monkeypatch, times=4)
    result = await manager.sweep()
    assert result.refreshed == 6
    assert result.broken == []
    await eventually(lambda: manager.unsaved == 0, 5, "no unsaved tokens")
    clock.advance(seconds=fake_imgur.expires_in)
    result = await manager.sweep()  # every stored refresh token is the live one
    assert result.refreshed == 6
    assert result.broken == []


async def test_unlink_drops_tokens_waiting_to_be_written(
    manager, link_store, fake_imgur, clock, monkeypatch
):
    await due_link(link_store, fake_imgur, clock)
    writes = FailingWrites(link_store, monkeypatch, times=10**6)
    await manager.refresh(1)
    assert await link_store.delete_member(1)
    with pytest.raises(NotLinked):
        await manager.access_token_for(1)
    writes.times = 0
    await eventually(lambda: manager.unsaved == 0, 5, "no unsaved tokens")
    assert await link_store.get(1) is None  # nothing written back


async def test_closing_writes_what_is_still_waiting(
    link_store, imgur, fake_imgur, clock, monkeypatch
):
    manager = TokenManager(link_store, imgur, clock=clock, write_retry=(60.0, 60.0))
    await due_link(link_store, fake_imgur, clock)
    writes = FailingWrites(link_store, monkeypatch, times=1)
    refreshed = await manager.refresh(1)
    assert writes.failed == 1
    await manager.aclose(grace=1)  # no retry was due yet: the last try is at close
    assert (await link_store.get(1)).refresh_token == refreshed.refresh_token


async def _stored_refresh_token_is(link_store: LinkStore, token: str) -> bool:
    link = await link_store.get(1)
    return link is not None and link.refresh_token == token


async def test_a_write_that_fails_twice_then_the_bot_stops_still_reaches_the_database(
    link_store, imgur, fake_imgur, clock, monkeypatch
):
    # The refresh's own write fails, and so does the first try at close (the lock is still
    # held for a moment): stopping must keep trying within its grace, not drop the only copy
    # of the rotated refresh token.
    manager = TokenManager(link_store, imgur, clock=clock, write_retry=(60.0, 60.0))
    await due_link(link_store, fake_imgur, clock)
    writes = FailingWrites(link_store, monkeypatch, times=2)
    refreshed = await manager.refresh(1)
    await manager.aclose(grace=2)
    assert writes.failed == 2
    assert (await link_store.get(1)).refresh_token == refreshed.refresh_token
    assert manager.unsaved == 0


async def test_tokens_waiting_to_be_written_keep_their_claim_past_the_lease(
    link_store, imgur, fake_imgur, clock, monkeypatch
):
    """While the refreshed tokens wait, the stored refresh token is spent: no other process
    may claim the link and spend it again, however long the database refuses the write."""
    lease = timedelta(seconds=30)
    manager = TokenManager(link_store, imgur, clock=clock, lease=lease, write_retry=(0.01, 0.05))
    await due_link(link_store, fake_imgur, clock)
    writes = FailingWrites(link_store, monkeypatch, times=10**6)
    await manager.refresh(1)
    for _ in range(3):  # three leases go by, each with a retried write in it
        clock.advance(seconds=lease.total_seconds())
        failed = writes.failed

        async def retried(failed=failed):
            return writes.failed > failed + 1  # a renewal and a write after the advance

        await eventually(retried, 5, "a renewal and a retried write after a lease went by")
        assert not await link_store.claim(1, owner="other-process", now=clock(), lease=lease)
    assert fake_imgur.count("token") == 1
    writes.times = 0
    await manager.aclose(grace=5)
    assert manager.unsaved == 0
