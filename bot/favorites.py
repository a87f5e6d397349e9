"""A member's favorites, page by page, through a small bounded cache."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import NoAccessToken
from bot.imgur import Favorite, ImgurClient, Sort
from bot.storage import LinkKind
from bot.tokens import TokenManager

if TYPE_CHECKING:
    from bot.bio import BioLinkService

ITEMS_PER_MESSAGE = 5  # a window's size: the favorites one Discord message shows
CacheKey = tuple[int, Sort, int]
_FORGOTTEN_KEPT = 10_000  # recent unlinks/relinks remembered; a fetch lasts seconds at most


@dataclass(frozen=True, slots=True)
class FavoritesPage:
    """One Imgur page of a member's favorites (``page`` counts from 0, as Imgur does)."""

    page: int
    sort: Sort
    items: tuple[Favorite, ...]
    public_only: bool = False  # a bio link's: only the favorites in the public gallery


@dataclass(frozen=True, slots=True)
class FavoritesWindow:
    """The items one message shows: ``items`` start at ``offset`` of Imgur page ``page``.

    Only the shown items are kept (a live pager holds one of these for minutes); moving within
    the page goes back through the page cache.
    """

    sort: Sort
    page: int
    offset: int
    items: tuple[Favorite, ...]
    page_size: int
    public_only: bool = False

    @property
    def has_previous(self) -> bool:
        return self.offset > 0 or self.page > 0

    @property
    def has_next(self) -> bool:
        # Past the last item of a page there may be another page: only Imgur knows.
        return self.page_size > 0


class PageCache:
    """Least-recently-used pages, each kept at most ``ttl`` seconds."""

    def __init__(
        self, ttl: float, max_entries: int, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._now = monotonic
        self._entries: OrderedDict[CacheKey, tuple[float, FavoritesPage]] = OrderedDict()
        self._forgotten: OrderedDict[int, int] = OrderedDict()  # member: times forgotten

    def get(self, key: CacheKey) -> FavoritesPage | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, page = entry
        if self._now() - stored_at >= self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return page

    def put(self, key: CacheKey, page: FavoritesPage) -> None:
        if self._ttl <= 0 or self._max <= 0:
            return
        self._entries[key] = (self._now(), page)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def forget_member(self, discord_user_id: int) -> None:
        for key in [k for k in self._entries if k[0] == discord_user_id]:
            del self._entries[key]
        # A fetch that started before this must not put the old account's page back.
        self._forgotten[discord_user_id] = self._forgotten.get(discord_user_id, 0) + 1
        self._forgotten.move_to_end(discord_user_id)
        while len(self._forgotten) > _FORGOTTEN_KEPT:
            self._forgotten.popitem(last=False)

    def generation(self, discord_user_id: int) -> int:
        """Changes whenever the member's pages are forgotten."""
        return self._forgotten.get(discord_user_id, 0)

    def __len__(self) -> int:
        return len(self._entries)


class FavoritesService:
    """Fetches favorites with the member's own token, or for a bio link the public gallery
    favorites with the client id (through ``public``); cached pages cost no Imgur credit."""

    def __init__(
        self,
        imgur: ImgurClient,
        tokens: TokenManager,
        cache: PageCache,
        *,
        public: BioLinkService | None = None,
    ) -> None:
        self._imgur = imgur
        self._tokens = tokens
        self.cache = cache
        self._public = public

    async def page(self, discord_user_id: int, sort: Sort, page: int) -> FavoritesPage:
        """Imgur page ``page`` (from 0) of the member's favorites."""
        if page < 0:
            raise ValueError("page counts from 0")
        key = (discord_user_id, sort, page)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        generation = self.cache.generation(discord_user_id)
        link = await self._tokens.linked(discord_user_id)
        public_only = link.kind is LinkKind.BIO
        if public_only:
            if self._public is None:
                raise NoAccessToken
            items = await self._public.gallery_favorites(link, page, sort)
        else:
            items = await self._tokens.call(
                discord_user_id,
                lambda token: self._imgur.favorites(token, page=page, sort=sort),
            )
        result = FavoritesPage(page=page, sort=sort, items=tuple(items), public_only=public_only)
        if self.cache.generation(discord_user_id) == generation:
            self.cache.put(key, result)  # not if the member unlinked or relinked meanwhile
        return result

    async def window(
        self, discord_user_id: int, sort: Sort, page: int, offset: int = 0
    ) -> FavoritesWindow:
        """The items of one message, starting at ``offset`` of Imgur page ``page``.

        An ``offset`` past the end gives the page's last window.
        """
        fetched = await self.page(discord_user_id, sort, page)
        size = len(fetched.items)
        last = max(0, (size - 1) // ITEMS_PER_MESSAGE * ITEMS_PER_MESSAGE)
        offset = max(0, min(offset, last))
        items = fetched.items[offset : offset + ITEMS_PER_MESSAGE]
        return FavoritesWindow(
            sort=sort,
            page=page,
            offset=offset,
            items=items,
            page_size=size,
            public_only=fetched.public_only,
        )

    def known_last(self, discord_user_id: int, window: FavoritesWindow) -> bool:
        """Nothing follows ``window``, as far as the cache knows (asks Imgur nothing)."""
        if window.offset + ITEMS_PER_MESSAGE < window.page_size:
            return False
        following = self.cache.get((discord_user_id, window.sort, window.page + 1))
        return following is not None and not following.items

    def forget(self, discord_user_id: int) -> None:
        """Drop the member's cached pages (after unlink or relink)."""
        self.cache.forget_member(discord_user_id)
