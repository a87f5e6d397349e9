"""Links made the way Imgur would hand them out, for service tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage import Link, LinkStatus, LinkStore
from tests.fakes.imgur import FakeImgur


async def linked_member(
    store: LinkStore,
    fake: FakeImgur,
    username: str,
    *,
    user_id: int,
    now: datetime,
    expires_in: timedelta = timedelta(days=20),
    favorites: int = 0,
) -> Link:
    """Add ``username`` to the fake, issue tokens as Imgur would, and store the member's link."""
    try:
        fake.account(username)
    except KeyError:
        fake.add_account(username, favorites=favorites)
    tokens = fake.issue_tokens(username)
    link = Link(
        discord_user_id=user_id,
        imgur_account_id=tokens["account_id"],
        imgur_username=username,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=now + expires_in,
        status=LinkStatus.OK,
        linked_at=now - timedelta(hours=1),
        refreshed_at=now - timedelta(hours=1),
    )
    await store.save_link(link)
    return link
