"""Realistic Imgur payloads for ``FakeImgur``: favorites items, accounts and error envelopes.

Favorites are generated deterministically from a seed and cycle through the shapes the real
API produces: still images, animated images (gif with gifv/mp4, mp4 video), albums without an
image list, items full of nulls, NSFW true/false/null, unknown newer fields and http:// links.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_ID_ALPHABET = string.ascii_letters + string.digits
_NOW = 1_717_000_000  # a fixed "now" keeps generated payloads reproducible

Item = dict[str, Any]


@dataclass
class FakeAccount:
    """An Imgur account held by the fake; ``favorites`` is newest first and may be edited.

    ``bio`` is the profile's About text (``None`` when empty, as Imgur sends it). Favorites
    whose ``in_gallery`` is false are left out of ``gallery_favorites``.
    """

    username: str
    id: int
    favorites: list[Any] = field(default_factory=list)
    created: int = _NOW - 86_400 * 900
    reputation: int = 42
    bio: str | None = None

    def payload(self) -> Item:
        """``data`` of ``/3/account/me`` and ``/3/account/{username}`` for this account."""
        return {
            "id": self.id,
            "url": self.username,
            "bio": self.bio or None,
            "avatar": f"https://imgur.com/user/{self.username}/avatar?maxwidth=290",
            "avatar_name": "default/A",
            "cover": f"https://imgur.com/user/{self.username}/cover?maxwidth=2560",
            "cover_name": "default/1-space",
            "reputation": self.reputation,
            "reputation_name": "Neutral",
            "created": self.created,
            "pro_expiration": False,
            "user_follow": {"status": False},
            "is_blocked": False,
        }


def _id(rng: random.Random, length: int = 7) -> str:
    return "".join(rng.choice(_ID_ALPHABET) for _ in range(length))


def _common(rng: random.Random, when: int, owner: str) -> Item:
    ups = rng.randint(0, 5000)
    downs = rng.randint(0, 200)
    return {
        "title": rng.choice(["My cat", "Found this on a walk", "OC: sunset", "Before / after"]),
        "description": None,
        "datetime": when,
        "views": rng.randint(100, 900_000),
        "vote": None,
        "favorite": True,
        "nsfw": False,
        "section": "",
        "account_url": owner,
        "account_id": rng.randint(1, 99_999_999),
        "is_ad": False,
        "in_most_viral": rng.random() < 0.3,
        "tags": [],
        "ad_type": 0,
        "ad_url": "",
        "in_gallery": True,
        "topic": None,
        "topic_id": 0,
        "comment_count": rng.randint(0, 400),
        "favorite_count": rng.randint(0, 3000),
        "ups": ups,
        "downs": downs,
        "points": ups - downs,
        "score": ups * 2,
    }


def still_image(rng: random.Random, when: int, owner: str) -> Item:
    """A still JPEG or PNG gallery image."""
    image_id = _id(rng)
    mime, ext = rng.choice([("image/jpeg", "jpg"), ("image/png", "png")])
    return {
        "id": image_id,
        **_common(rng, when, owner),
        "type": mime,
        "animated": False,
        "width": rng.randint(300, 4000),
        "height": rng.randint(300, 4000),
        "size": rng.randint(10_000, 5_000_000),
        "bandwidth": rng.randint(10_000, 10**10),
        "has_sound": False,
        "edited": "0",
        "link": f"https://i.imgur.com/{image_id}.{ext}",
        "is_album": False,
    }


def animated_image(rng: random.Random, when: int, owner: str) -> Item:
    """An animated GIF served with gifv and mp4 variants."""
    item = still_image(rng, when, owner)
    image_id = item["id"]
    item.update(
        type="image/gif",
        animated=True,
        link=f"https://i.imgur.com/{image_id}.gif",
        gifv=f"https://i.imgur.com/{image_id}.gifv",
        mp4=f"https://i.imgur.com/{image_id}.mp4",
        mp4_size=rng.randint(100_000, 9_000_000),
        looping=True,
        processing={"status": "completed"},
    )
    return item


def video(rng: random.Random, when: int, owner: str) -> Item:
    """An mp4 upload with sound (``type`` video/mp4, hls stream)."""
    item = animated_image(rng, when, owner)
    image_id = item["id"]
    item.update(
        type="video/mp4",
        link=f"https://i.imgur.com/{image_id}.mp4",
        has_sound=True,
        hls=f"https://i.imgur.com/{image_id}.m3u8",
    )
    return item


def album(rng: random.Random, when: int, owner: str) -> Item:
    """A gallery album as favorites show it: a cover and a count, never an image list."""
    album_id = _id(rng)
    return {
        "id": album_id,
        **_common(rng, when, owner),
        "cover": _id(rng),
        "cover_width": rng.randint(300, 3000),
        "cover_height": rng.randint(300, 3000),
        "privacy": "hidden",
        "layout": "blog",
        "link": f"https://imgur.com/a/{album_id}",
        "images_count": rng.randint(2, 60),
        "include_album_ads": False,
        "is_album": True,
    }


def nulls_image(rng: random.Random, when: int, owner: str) -> Item:
    """A still image whose optional fields are null (title, nsfw, score, section...)."""
    item = still_image(rng, when, owner)
    item.update(title=None, nsfw=None, score=None, section=None, topic=None, views=None)
    return item


def nulls_album(rng: random.Random, when: int, owner: str) -> Item:
    """An album with a null title, nsfw and cover size."""
    item = album(rng, when, owner)
    item.update(title=None, nsfw=None, cover_width=None, cover_height=None, score=None)
    return item


def nsfw_image_with_extras(rng: random.Random, when: int, owner: str) -> Item:
    """An NSFW image carrying fields this project has never heard of."""
    item = still_image(rng, when, owner)
    item.update(
        nsfw=True,
        ad_config={"safeFlags": ["not_in_gallery"], "highRiskFlags": [], "showsAds": False},
        tags=[{"name": "funny", "display_name": "funny", "followers": 1}],
        is_most_viral=False,
        some_future_field={"nested": [1, 2, 3]},
    )
    return item


def http_image(rng: random.Random, when: int, owner: str) -> Item:
    """An animated image whose links are plain http:// (old posts)."""
    item = animated_image(rng, when, owner)
    for key in ("link", "gifv", "mp4"):
        item[key] = item[key].replace("https://", "http://", 1)
    return item


KINDS: tuple[Callable[[random.Random, int, str], Item], ...] = (
    still_image,
    animated_image,
    album,
    nulls_image,
    video,
    nulls_album,
    nsfw_image_with_extras,
    http_image,
)


def make_favorites(count: int, seed: str) -> list[Item]:
    """``count`` favorites, newest first, cycling through every shape in ``KINDS``."""
    rng = random.Random(seed)
    owners = ["cheese_lover", "ImgurianOne", "night_owl", "catspotter"]
    return [
        KINDS[index % len(KINDS)](rng, _NOW - index * 3_600, rng.choice(owners))
        for index in range(count)
    ]


def error_envelope(
    status: int, error: object, request: str | None = None, method: str | None = None
) -> Item:
    """Imgur's usual error envelope; ``request``/``method`` are left out when ``None``."""
    data: Item = {"error": error}
    if request is not None:
        data["request"] = request
    if method is not None:
        data["method"] = method
    return {"data": data, "success": False, "status": status}


def errors_envelope_429() -> Item:
    """The second envelope seen on 429."""
    return {
        "errors": [
            {
                "id": "legacy-api-5c8b7f6d9-abcde",
                "code": "429",
                "status": "Too Many Requests",
                "detail": "Too Many Requests",
            }
        ]
    }


ERROR_OBJECT: Item = {
    "code": 1001,
    "message": "Unable to process the request",
    "type": "ImgurException",
    "exception": [],
}

BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)

HOME_PAGE_HTML = (
    "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
    "<title>Imgur: The magic of the Internet</title></head>"
    "<body><div id=root>Something went wrong. Please try again.</div></body></html>"
)


# What Imgur's authorize page has shown every app since mid-2025
# (docs/imgur-api.md#the-state-of-the-service-late-2026).
ERROR_1024_HTML = (
    "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>Imgur</title></head>"
    "<body><h1>Error (1024)</h1>"
    "<p>Sorry! There was an error (code: 1024) retrieving the page.</p></body></html>"
)


def pin_page(pin: str) -> str:
    """The page Imgur shows for ``response_type=pin``."""
    return (
        "<!DOCTYPE html><html><head><title>Imgur - Authorize</title></head><body>"
        "<h1>Your PIN</h1><p>Enter this PIN in the application to finish:</p>"
        f'<input id="pin" type="text" readonly value="{pin}"></body></html>'
    )
