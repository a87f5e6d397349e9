from typing import Any

from bot.favorites import ITEMS_PER_MESSAGE
from bot.imgur.models import FavoriteAlbum, FavoriteImage
from bot.render import (
    DESCRIPTION_LIMIT,
    MESSAGE_TOTAL_LIMIT,
    embed_length,
    render_favorites,
    render_item,
    truncate,
)


def image(**overrides: Any) -> FavoriteImage:
    values: dict[str, Any] = {
        "id": "abc1234",
        "title": "A cat",
        "description": None,
        "link": "https://i.imgur.com/abc1234.jpg",
        "views": 1234,
        "points": 56,
        "nsfw": False,
    }
    values.update(overrides)
    return FavoriteImage(**values)


def album(**overrides: Any) -> FavoriteAlbum:
    values: dict[str, Any] = {
        "id": "Alb1",
        "title": "Trip",
        "description": "Photos",
        "link": "https://imgur.com/a/Alb1",
        "cover": "Cov9",
        "images_count": 12,
        "nsfw": False,
    }
    values.update(overrides)
    return FavoriteAlbum(**values)


def test_truncate_cuts_with_an_ellipsis():
    assert truncate("x" * 300, 256) == "x" * 255 + "…"
    assert truncate("short", 256) == "short"


def test_still_image_shows_title_link_picture_and_counts():
    embed = render_item(image(), allow_nsfw=False)
    assert embed["title"] == "A cat"
    assert embed["url"] == "https://imgur.com/abc1234"
    assert embed["image"] == {"url": "https://i.imgur.com/abc1234.jpg"}
    assert "1,234" in embed["description"]
    assert "56 points" in embed["description"]


def test_album_shows_its_cover_and_image_count():
    embed = render_item(album(), allow_nsfw=False)
    assert embed["image"] == {"url": "https://i.imgur.com/Cov9l.jpg"}
    assert embed["url"] == "https://imgur.com/a/Alb1"
    assert "12 images" in embed["description"]


def test_album_without_cover_has_no_picture():
    assert "image" not in render_item(album(cover=None), allow_nsfw=False)


def test_animation_shows_a_still_and_links_the_video():
    embed = render_item(
        image(animated=True, mime_type="video/mp4", mp4="https://i.imgur.com/abc1234.mp4"),
        allow_nsfw=False,
    )
    assert embed["image"] == {"url": "https://i.imgur.com/abc1234l.jpg"}
    assert "(https://i.imgur.com/abc1234.mp4)" in embed["description"]


def test_untitled_item_gets_a_title():
    assert render_item(image(title=None), allow_nsfw=False)["title"] == "Untitled"


def test_nsfw_item_is_a_placeholder_outside_nsfw_places():
    embed = render_item(image(nsfw=True, title="spicy"), allow_nsfw=False)
    assert "spicy" not in str(embed)
    assert "image" not in embed
    assert "url" not in embed
    assert "NSFW" in embed["title"]


def test_nsfw_item_is_shown_where_allowed():
    embed = render_item(image(nsfw=True, title="spicy"), allow_nsfw=True)
    assert embed["title"] == "spicy"


def test_unknown_nsfw_flag_is_hidden_outside_nsfw_places():
    for item in (image(nsfw=None, title="maybe"), album(nsfw=None, title="maybe")):
        embed = render_item(item, allow_nsfw=False)
        assert "maybe" not in str(embed)
        assert "image" not in embed
        assert "url" not in embed
        assert embed["title"].startswith("Hidden")


def test_unknown_nsfw_flag_is_shown_in_dms_and_nsfw_channels():
    assert render_item(image(nsfw=None), allow_nsfw=True)["title"] == "A cat"


def test_huge_texts_stay_within_every_discord_limit():
    items = [image(id=f"i{n}", title="T" * 5000, description="D" * 10000) for n in range(8)]
    embeds = render_favorites(items, allow_nsfw=True, footer="F" * 3000)
    assert len(embeds) == ITEMS_PER_MESSAGE
    assert all(len(e["title"]) <= 256 for e in embeds)
    assert all(len(e["description"]) <= DESCRIPTION_LIMIT for e in embeds)
    assert len(embeds[-1]["footer"]["text"]) <= 2048
    assert sum(embed_length(e) for e in embeds) <= MESSAGE_TOTAL_LIMIT


def test_footer_goes_on_the_last_embed_only():
    embeds = render_favorites([image(id="a"), image(id="b")], allow_nsfw=False, footer="page 1")
    assert "footer" not in embeds[0]
    assert embeds[1]["footer"] == {"text": "page 1"}
