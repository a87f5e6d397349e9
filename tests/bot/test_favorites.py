from bot.favorites import FavoritesService, PageCache
from bot.imgur import Sort
from bot.tokens import TokenManager
from tests.bot.helpers import linked_member


async def test_a_page_fetched_across_an_unlink_is_not_cached(
    link_store, imgur, fake_imgur, clock, monkeypatch
):
    await linked_member(link_store, fake_imgur, "alice", user_id=1, now=clock(), favorites=3)
    service = FavoritesService(
        imgur, TokenManager(link_store, imgur, clock=clock), PageCache(60, 10)
    )
    real_favorites = imgur.favorites

    async def favorites_while_the_member_unlinks(*args, **kwargs):
        items = await real_favorites(*args, **kwargs)
        service.forget(1)  # /imgur unlink (or a relink) lands while Imgur answers
        return items

    monkeypatch.setattr(imgur, "favorites", favorites_while_the_member_unlinks)
    page = await service.page(1, Sort.NEWEST, 0)
    assert len(page.items) == 3
    assert len(service.cache) == 0
