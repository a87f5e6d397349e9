"""Favorites -> Discord embed payloads (plain dicts), NSFW gating and Discord's text limits.

Pure functions, no I/O. The cog turns each dict into ``discord.Embed.from_dict``. Every piece
of Imgur's text goes through :mod:`bot.discord_text` (escaped, cut); every URL is one the parser
made ``https`` (and the video link points at Imgur only), so Discord never refuses a message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from bot import discord_text
from bot.i18n import ENGLISH_TEXTS, Texts
from bot.imgur import Favorite, FavoriteAlbum, FavoriteImage
from bot.imgur.parse import is_imgur_url

ITEMS_PER_MESSAGE = 5
IMGUR_GREEN = 0x1BB76E
NSFW_GREY = 0x4F545C

# Discord's limits (docs/discord-notes.md#messages-embeds-and-components-limits); the per-item
# budget keeps five embeds under 6000.
TITLE_LIMIT = discord_text.TITLE_LIMIT
DESCRIPTION_LIMIT = 600
FOOTER_LIMIT = discord_text.FOOTER_LIMIT
MESSAGE_TOTAL_LIMIT = discord_text.MESSAGE_EMBEDS_LIMIT


class EmbedDict(TypedDict, total=False):
    """The subset of Discord's embed object this bot sends."""

    title: str
    url: str
    description: str
    color: int
    image: dict[str, str]
    footer: dict[str, str]


truncate = discord_text.cut


def picture_url(item: Favorite) -> str | None:
    """A still picture Discord can show for the item."""
    if isinstance(item, FavoriteAlbum):
        return item.cover_url("l")
    if item.animated or (item.mime_type or "").startswith("video/"):
        return f"https://i.imgur.com/{item.id}l.jpg"  # a still thumbnail of the animation
    return item.link


def counts_line(item: Favorite, texts: Texts = ENGLISH_TEXTS) -> str:
    """Views, points and (for albums) image count, as one short line."""
    parts: list[str] = []
    if item.views is not None:
        parts.append(f"👁 {texts.number(item.views)}")
    if item.points is not None:
        parts.append("★ " + texts.plural("{n} point", "{n} points", item.points))
    elif item.ups is not None:
        parts.append(f"▲ {texts.number(item.ups)}")
    if isinstance(item, FavoriteAlbum):
        count = item.images_count
        if count is not None:
            parts.append("🖼 " + texts.plural("{n} image", "{n} images", count))
        else:
            parts.append("🖼 " + texts("album"))
    return " · ".join(parts)


def is_hidden(item: Favorite, *, allow_nsfw: bool) -> bool:
    """Whether ``item`` may not be shown here: NSFW, or perhaps NSFW (Imgur sent no usable
    flag), outside DMs and NSFW channels."""
    return item.nsfw is not False and not allow_nsfw


def video_url(item: FavoriteImage) -> str:
    """Where "Play the animation" leads: Imgur's video, never a host Imgur's data named."""
    for candidate in (item.mp4, item.gifv, item.link):
        if candidate and is_imgur_url(candidate):
            return candidate
    return item.page_url


def render_item(item: Favorite, *, allow_nsfw: bool, texts: Texts = ENGLISH_TEXTS) -> EmbedDict:
    """One favorite as an embed; an item that is or may be NSFW becomes a placeholder outside
    NSFW places."""
    if is_hidden(item, allow_nsfw=allow_nsfw):
        return {
            "title": texts("Hidden: marked NSFW on Imgur")
            if item.nsfw
            else texts("Hidden: Imgur does not say whether it is safe for work"),
            "description": texts(
                "Use /imgur favorites in a DM with the bot or in an age-restricted "
                "channel to see it."
            ),
            "color": NSFW_GREY,
        }
    # Our own lines first, so Imgur's description is cut to what is left, never our link.
    own: list[str] = []
    if isinstance(item, FavoriteImage) and (item.animated or item.mp4):
        play = texts("Play the animation")
        own.append(f"▶ [{play}]({video_url(item)})")
    counts = counts_line(item, texts)
    if counts:
        own.append(counts)
    room = DESCRIPTION_LIMIT - sum(len(line) + 1 for line in own)
    description = discord_text.block(item.description, min(room, DESCRIPTION_LIMIT - 200))
    lines = [description, *own] if description else own
    embed: EmbedDict = {
        "title": discord_text.inline(item.title, TITLE_LIMIT, fallback=texts("Untitled")),
        "url": item.page_url,
        "color": IMGUR_GREEN,
    }
    text = truncate("\n".join(lines), DESCRIPTION_LIMIT)
    if text:
        embed["description"] = text
    picture = picture_url(item)
    if picture:
        embed["image"] = {"url": picture}
    return embed


def render_favorites(
    items: Sequence[Favorite],
    *,
    allow_nsfw: bool,
    footer: str = "",
    texts: Texts = ENGLISH_TEXTS,
) -> list[EmbedDict]:
    """Embeds for at most :data:`ITEMS_PER_MESSAGE` items, within every Discord limit."""
    embeds = [
        render_item(item, allow_nsfw=allow_nsfw, texts=texts) for item in items[:ITEMS_PER_MESSAGE]
    ]
    room = MESSAGE_TOTAL_LIMIT - sum(embed_length(embed) for embed in embeds)
    text = discord_text.plain(footer, min(FOOTER_LIMIT, room))
    if embeds and text:
        embeds[-1]["footer"] = {"text": text}
    return embeds


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6000 per message."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    for embed_field in embed.get("fields", []):
        total += len(embed_field.get("name", "")) + len(embed_field.get("value", ""))
    return total + len(embed.get("author", {}).get("name", ""))
