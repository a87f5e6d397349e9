"""Bio links and profile codes: the store's contract (any backend), then SQLite specifics.

The tests above the "SQLite only" line use nothing but the store's methods, so they can run
against any backend that implements them.
"""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest

from bot.storage import (
    BIO_CODE_TTL,
    MAX_PENDING_BIO_CODES_PER_MEMBER,
    BioCode,
    Link,
    LinkKind,
    LinkNotFoundError,
    LinkStatus,
    LinkStore,
    TokenCipher,
    apply_migrations,
    bio_code_digest,
    generate_key,
    load_migrations,
)

from .factories import NOW, make_link


@pytest.fixture
def store(any_store: LinkStore) -> LinkStore:
    """Bio links and codes are part of the contract: these run on SQLite and on PostgreSQL."""
    return any_store


CODE = "imgur-link-7KQ2-M9XD"
OTHER_CODE = "imgur-link-AB34-CD56"
LATER = NOW + timedelta(minutes=5)
EXPIRED = NOW + BIO_CODE_TTL


def bio_link(discord_user_id: int = 111, **changes: object) -> Link:
    values: dict[str, object] = {
        "discord_user_id": discord_user_id,
        "imgur_account_id": 7770000 + discord_user_id,
        "imgur_username": f"Bio{discord_user_id}",
        "access_token": None,
        "refresh_token": None,
        "expires_at": None,
        "linked_at": NOW,
        "kind": LinkKind.BIO,
    }
    values.update(changes)
    return Link(**values)  # type: ignore[arg-type]


async def use(
    store: LinkStore,
    member: int,
    attempt: str,
    *,
    candidates: list[str],
    now: datetime,
    username: str = "Alice",
) -> BioCode | None:
    """complete_bio_link with a bio link of ``member`` to the account ``username``."""
    link = bio_link(member, imgur_username=username, linked_at=now)
    return await store.complete_bio_link(link, attempt, candidates, now=now)


# -- profile codes ---------------------------------------------------------------------------


async def test_a_new_code_is_bound_to_member_and_lowercased_username_for_15_minutes(
    store: LinkStore,
) -> None:
    created = await store.create_bio_code(1, "Alice_Imgur", CODE, now=NOW)
    assert (created.discord_user_id, created.imgur_username) == (1, "alice_imgur")
    assert (created.created_at, created.expires_at) == (NOW, NOW + timedelta(minutes=15))
    assert created.code == CODE
    assert CODE not in repr(created)
    assert len(created.attempt) >= 12
    fetched = await store.get_bio_code(1, created.attempt, now=LATER)
    assert fetched is not None
    assert fetched.code == ""  # the store cannot give the code back: it keeps only a digest
    assert (fetched.imgur_username, fetched.expires_at) == ("alice_imgur", created.expires_at)


async def test_attempt_references_are_random(store: LinkStore) -> None:
    first = await store.create_bio_code(1, "a", CODE, now=NOW)
    second = await store.create_bio_code(1, "a", CODE, now=NOW)
    assert first.attempt != second.attempt


async def test_another_members_attempt_is_invisible_and_unusable(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    assert await store.get_bio_code(2, created.attempt, now=LATER) is None
    assert await use(store, 2, created.attempt, candidates=[CODE], now=LATER) is None
    assert await store.get_bio_code(1, created.attempt, now=LATER) is not None


async def test_the_code_is_consumed_once(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    taken = await use(store, 1, created.attempt, candidates=["hello", CODE], now=LATER)
    assert taken is not None
    assert (taken.discord_user_id, taken.imgur_username, taken.attempt) == (
        1,
        "alice",
        created.attempt,
    )
    assert await use(store, 1, created.attempt, candidates=[CODE], now=LATER) is None
    assert await store.get_bio_code(1, created.attempt, now=LATER) is None


async def test_completing_stores_the_bio_link_in_place_of_the_old(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    assert await use(store, 1, created.attempt, candidates=[OTHER_CODE], now=LATER) is None
    old = await store.get(1)
    assert old is not None
    assert old.kind is LinkKind.OAUTH  # a failed check changes nothing
    assert await use(store, 1, created.attempt, candidates=[CODE], now=LATER)
    new = await store.get(1)
    assert new == bio_link(1, imgur_username="Alice", linked_at=LATER)


async def test_completing_with_an_account_of_another_name_links_nothing(
    store: LinkStore,
) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    taken = await use(store, 1, created.attempt, candidates=[CODE], now=LATER, username="mallory")
    assert taken is None
    assert await store.get(1) is None
    assert await store.get_bio_code(1, created.attempt, now=LATER) is not None


async def test_an_unlink_before_completion_wins(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    await store.delete_member(1)
    assert await use(store, 1, created.attempt, candidates=[CODE], now=LATER) is None
    assert await store.get(1) is None


async def test_complete_bio_link_takes_bio_links_only(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    with pytest.raises(ValueError, match="bio links only"):
        await store.complete_bio_link(make_link(1), created.attempt, [CODE], now=LATER)


async def test_the_code_is_matched_case_insensitively(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    assert await use(store, 1, created.attempt, candidates=[CODE.lower()], now=LATER)


async def test_wrong_candidates_keep_the_attempt(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    assert await use(store, 1, created.attempt, candidates=[OTHER_CODE], now=LATER) is None
    assert await use(store, 1, created.attempt, candidates=[], now=LATER) is None
    assert await use(store, 1, created.attempt, candidates=[CODE], now=LATER) is not None


async def test_a_code_made_for_another_username_does_not_match(store: LinkStore) -> None:
    for_alice = await store.create_bio_code(1, "alice", CODE, now=NOW)
    for_bob = await store.create_bio_code(1, "bob", OTHER_CODE, now=NOW)
    # alice's code pasted into bob's profile, checked as bob's attempt:
    assert (
        await use(store, 1, for_bob.attempt, username="Bob", candidates=[CODE], now=LATER) is None
    )
    assert await use(store, 1, for_alice.attempt, candidates=[OTHER_CODE], now=LATER) is None
    assert await use(store, 1, for_bob.attempt, username="Bob", candidates=[OTHER_CODE], now=LATER)


async def test_an_expired_code_is_not_consumed(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    assert await store.get_bio_code(1, created.attempt, now=EXPIRED) is None
    assert await use(store, 1, created.attempt, candidates=[CODE], now=EXPIRED) is None


async def test_concurrent_consumers_get_the_code_once(store: LinkStore) -> None:
    created = await store.create_bio_code(1, "alice", CODE, now=NOW)
    results = await asyncio.gather(
        *(use(store, 1, created.attempt, candidates=[CODE], now=LATER) for _ in range(10))
    )
    assert sum(result is not None for result in results) == 1


async def test_a_member_keeps_only_the_newest_codes(store: LinkStore) -> None:
    attempts = [
        (await store.create_bio_code(1, f"user{n}", CODE, now=NOW + timedelta(seconds=n))).attempt
        for n in range(MAX_PENDING_BIO_CODES_PER_MEMBER + 2)
    ]
    kept = [a for a in attempts if await store.get_bio_code(1, a, now=LATER) is not None]
    assert kept == attempts[-MAX_PENDING_BIO_CODES_PER_MEMBER:]
    other = await store.create_bio_code(2, "x", CODE, now=NOW)
    assert await store.get_bio_code(2, other.attempt, now=LATER) is not None


async def test_expired_codes_are_purged_and_counted_until_then(store: LinkStore) -> None:
    await store.create_bio_code(1, "alice", CODE, now=NOW)
    await store.create_bio_code(2, "bob", CODE, now=LATER)
    assert (await store.stats(now=LATER)).pending_bio_codes == 2
    assert await store.purge_expired_bio_codes(EXPIRED) == 1
    assert (await store.stats(now=LATER)).pending_bio_codes == 1


async def test_create_bio_code_refuses_empty_values_and_a_non_positive_ttl(
    store: LinkStore,
) -> None:
    with pytest.raises(ValueError, match="ttl"):
        await store.create_bio_code(1, "alice", CODE, ttl=timedelta(0), now=NOW)
    with pytest.raises(ValueError, match="needs a code and a username"):
        await store.create_bio_code(1, "", CODE, now=NOW)
    with pytest.raises(ValueError, match="needs a code and a username"):
        await store.create_bio_code(1, "alice", "", now=NOW)


async def test_unlinking_deletes_the_members_codes(store: LinkStore) -> None:
    mine = await store.create_bio_code(1, "alice", CODE, now=NOW)
    theirs = await store.create_bio_code(2, "bob", CODE, now=NOW)
    assert await store.delete_member(1) is True  # a pending code alone counts as something
    assert await store.get_bio_code(1, mine.attempt, now=LATER) is None
    assert await store.get_bio_code(2, theirs.attempt, now=LATER) is not None


# -- bio links -------------------------------------------------------------------------------


async def test_a_bio_link_round_trips_without_tokens(store: LinkStore) -> None:
    await store.save_link(bio_link(1))
    link = await store.get(1)
    assert link is not None
    assert link.kind is LinkKind.BIO
    assert (link.access_token, link.refresh_token, link.expires_at) == (None, None, None)
    assert (link.imgur_account_id, link.imgur_username, link.status) == (
        7770001,
        "Bio1",
        LinkStatus.OK,
    )
    assert link.linked_at == NOW


async def test_existing_style_links_are_oauth(store: LinkStore) -> None:
    await store.save_link(make_link(1))
    link = await store.get(1)
    assert link is not None
    assert link.kind is LinkKind.OAUTH


@pytest.mark.parametrize(
    "link",
    [
        bio_link(1, access_token="t"),
        bio_link(1, expires_at=NOW),
        bio_link(1, imgur_account_id=None),
        make_link(1, refresh_token=None),
        make_link(1, expires_at=None),
    ],
    ids=["bio-with-token", "bio-with-expiry", "bio-without-id", "oauth-no-refresh", "oauth-no-exp"],
)
async def test_links_of_the_wrong_shape_are_refused(store: LinkStore, link: Link) -> None:
    with pytest.raises(ValueError, match="link"):
        await store.save_link(link)
    assert await store.get(1) is None


@pytest.mark.parametrize(("first", "second"), [("oauth", "bio"), ("bio", "oauth")])
async def test_saving_a_link_of_the_other_kind_replaces_the_old(
    store: LinkStore, first: str, second: str
) -> None:
    make = {"oauth": make_link, "bio": bio_link}
    await store.save_link(make[first](1))
    await store.save_link(make[second](1, linked_at=LATER))
    link = await store.get(1)
    assert link is not None
    assert link.kind is LinkKind(second)
    assert link.linked_at == LATER
    assert (await store.stats()).links == 1


async def test_rename_account_follows_a_rename_of_that_link_only(store: LinkStore) -> None:
    await store.save_link(bio_link(1))
    await store.rename_account(1, "NewName", linked_at=NOW)
    link = await store.get(1)
    assert link is not None
    assert (link.imgur_username, link.imgur_account_id) == ("NewName", 7770001)
    with pytest.raises(LinkNotFoundError):
        await store.rename_account(1, "Other", linked_at=LATER)  # a newer link is not touched
    with pytest.raises(LinkNotFoundError):
        await store.rename_account(2, "Other")


async def test_a_bio_link_can_break_and_is_counted(store: LinkStore) -> None:
    await store.save_link(bio_link(1))
    await store.save_link(make_link(2))
    await store.mark_broken(1, "the Imgur account no longer exists", linked_at=NOW)
    link = await store.get(1)
    assert link is not None
    assert link.status is LinkStatus.BROKEN
    stats = await store.stats()
    assert (stats.links, stats.broken_links, stats.bio_links) == (2, 1, 1)


async def test_bio_links_are_never_due_for_refresh(store: LinkStore) -> None:
    far = NOW + timedelta(days=10_000)
    await store.save_link(bio_link(1, linked_at=NOW - timedelta(days=400)))
    await store.save_link(make_link(2, expires_at=NOW, linked_at=NOW - timedelta(days=28)))
    due = await store.due_for_refresh(far, 10, now=far)
    assert [link.discord_user_id for link in due] == [2]


async def test_reencrypting_passes_over_bio_links(store: LinkStore, key: str) -> None:
    await store.save_link(bio_link(1))
    oauth = make_link(2)
    await store.save_link(oauth)
    assert await store.reencrypt_all(TokenCipher([generate_key(), key])) == 1
    assert await store.get(1) == bio_link(1)
    assert await store.get(2) == oauth


# -- SQLite only -----------------------------------------------------------------------------


async def test_sqlite_keeps_only_the_bound_digest_of_a_code(
    sqlite_store: LinkStore, db_path: Path
) -> None:
    created = await sqlite_store.create_bio_code(1, "Alice", CODE, now=NOW)
    with sqlite3.connect(db_path) as raw:
        rows = raw.execute("SELECT * FROM bio_codes").fetchall()
        dump = "\n".join(raw.iterdump())
    times = (int(NOW.timestamp()), int(EXPIRED.timestamp()))
    assert rows == [(created.attempt, bio_code_digest(1, "alice", CODE), 1, "alice", *times)]
    assert CODE not in dump
    assert CODE.lower() not in dump


async def test_sqlite_refuses_a_bio_link_with_tokens_at_the_schema(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    async with aiosqlite.connect(db_path, isolation_level=None) as raw:
        await apply_migrations(raw)
        with pytest.raises(sqlite3.IntegrityError):
            await raw.execute(
                "INSERT INTO links (discord_user_id, kind, imgur_account_id, imgur_username,"
                " access_token, status, linked_at) VALUES (1, 'bio', 5, 'u', x'00', 'ok', 0)"
            )
        with pytest.raises(sqlite3.IntegrityError):
            await raw.execute(
                "INSERT INTO links (discord_user_id, kind, imgur_username, status, linked_at)"
                " VALUES (2, 'oauth', 'u', 'ok', 0)"
            )


async def test_migration_4_keeps_existing_links_as_oauth(
    db_path: Path, cipher: TokenCipher
) -> None:
    db_path.parent.mkdir(parents=True)
    async with aiosqlite.connect(db_path, isolation_level=None) as raw:
        assert await apply_migrations(raw, load_migrations()[:3]) == [1, 2, 3]
        await raw.execute(
            "INSERT INTO links (discord_user_id, imgur_account_id, imgur_username, access_token,"
            " refresh_token, expires_at, status, linked_at, refreshed_at, last_error)"
            " VALUES (1, 9, 'old', ?, ?, 2000, 'broken', 1000, 1500, 'dead')",
            (cipher.encrypt("access"), cipher.encrypt("refresh")),
        )
    async with await LinkStore.open(db_path, cipher) as store:
        link = await store.get(1)
    assert link is not None
    assert (link.kind, link.access_token, link.refresh_token) == (
        LinkKind.OAUTH,
        "access",
        "refresh",
    )
    assert (link.status, link.last_error, link.imgur_account_id) == (LinkStatus.BROKEN, "dead", 9)
    with sqlite3.connect(db_path) as raw_sync:
        names = {row[0] for row in raw_sync.execute("SELECT name FROM sqlite_master")}
    assert {"links", "links_refresh_after", "bio_codes", "bio_codes_by_member"} <= names
    assert "links_0004" not in names
