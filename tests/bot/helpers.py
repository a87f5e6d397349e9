"""For service tests: links made the way Imgur would hand them out, and the link service."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from bot.clock import Clock
from bot.imgur import ImgurClient, ResponseType
from bot.linking import LinkService
from bot.storage import Link, LinkStatus, LinkStore
from tests.fakes.imgur import FakeImgur


def link_service(
    store: LinkStore,
    imgur: ImgurClient,
    clock: Clock,
    response_type: ResponseType = ResponseType.PIN,
    changes: list[int] | None = None,
) -> LinkService:
    """The service under test; each member whose link changed is appended to ``changes``."""
    return LinkService(
        store,
        imgur,
        response_type=response_type,
        clock=clock,
        on_change=(changes.append if changes is not None else None),
    )


def state_of(url: str) -> str:
    """The OAuth state in an authorize (or confirmation) URL."""
    return parse_qs(urlsplit(url).query)["state"][0]


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
