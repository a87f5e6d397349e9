from bot.favorites import FavoritesPage, FavoritesWindow, PageCache
from bot.imgur.models import FavoriteImage, Sort


class Clock:
    """A monotonic clock the test sets by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def page(n: int) -> FavoritesPage:
    return FavoritesPage(page=n, sort=Sort.NEWEST, items=())


AN_IMAGE = FavoriteImage(
    id="abc1234", title=None, description=None, link="https://i.imgur.com/a.jpg"
)


def test_page_is_served_until_its_time_is_up():
    clock = Clock()
    cache = PageCache(ttl=60, max_entries=10, monotonic=clock)
    cache.put((1, Sort.NEWEST, 0), page(0))
    clock.now = 59
    assert cache.get((1, Sort.NEWEST, 0)) == page(0)
    clock.now = 60
    assert cache.get((1, Sort.NEWEST, 0)) is None
    assert len(cache) == 0


def test_least_recently_used_page_goes_first_when_full():
    cache = PageCache(ttl=60, max_entries=2, monotonic=Clock())
    cache.put((1, Sort.NEWEST, 0), page(0))
    cache.put((1, Sort.NEWEST, 1), page(1))
    cache.get((1, Sort.NEWEST, 0))
    cache.put((1, Sort.NEWEST, 2), page(2))
    assert cache.get((1, Sort.NEWEST, 1)) is None
    assert cache.get((1, Sort.NEWEST, 0)) == page(0)
    assert len(cache) == 2


def test_forgetting_a_member_drops_only_their_pages():
    cache = PageCache(ttl=60, max_entries=10, monotonic=Clock())
    cache.put((1, Sort.NEWEST, 0), page(0))
    cache.put((1, Sort.OLDEST, 0), page(0))
    cache.put((2, Sort.NEWEST, 0), page(0))
    cache.forget_member(1)
    assert cache.get((1, Sort.NEWEST, 0)) is None
    assert cache.get((1, Sort.OLDEST, 0)) is None
    assert cache.get((2, Sort.NEWEST, 0)) == page(0)


def test_zero_ttl_disables_the_cache():
    cache = PageCache(ttl=0, max_entries=10, monotonic=Clock())
    cache.put((1, Sort.NEWEST, 0), page(0))
    assert len(cache) == 0


def test_a_later_window_has_previous_and_next():
    window = FavoritesWindow(
        sort=Sort.OLDEST, page=1, offset=5, items=(AN_IMAGE,) * 5, page_size=60
    )
    assert window.has_previous
    assert window.has_next


def test_first_window_has_no_previous_and_empty_page_no_next():
    window = FavoritesWindow(sort=Sort.NEWEST, page=0, offset=0, items=(), page_size=0)
    assert not window.has_previous
    assert not window.has_next


def test_forgetting_a_member_changes_their_generation_only():
    cache = PageCache(ttl=60, max_entries=10, monotonic=Clock())
    before = (cache.generation(1), cache.generation(2))
    cache.forget_member(1)
    assert cache.generation(1) != before[0]
    assert cache.generation(2) == before[1]
