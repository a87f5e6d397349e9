"""Favorites -> Discord embed payloads (plain dicts), NSFW gating and Discord's text limits.

Pure functions: no I/O, no discord.py. The cog turns each dict into ``discord.Embed.from_dict``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from bot.i18n import ENGLISH_TEXTS, Texts
from bot.imgur import Favorite, FavoriteAlbum, FavoriteImage

ITEMS_PER_MESSAGE = 5
IMGUR_GREEN = 0x1BB76E
NSFW_GREY = 0x4F545C

# Discord's limits (DISCORD_NOTES.md); the per-item budget keeps five embeds under 6000.
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 600
FOOTER_LIMIT = 2048
MESSAGE_TOTAL_LIMIT = 6000


class EmbedDict(TypedDict, total=False):
    """The subset of Discord's embed object this bot sends."""

    title: str
    url: str
    description: str
    color: int
    image: dict[str, str]
    footer: dict[str, str]


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, ending with an ellipsis when it was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


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
    """Whether ``item`` may not be shown here (NSFW outside DMs and NSFW channels)."""
    return bool(item.nsfw) and not allow_nsfw


def render_item(item: Favorite, *, allow_nsfw: bool, texts: Texts = ENGLISH_TEXTS) -> EmbedDict:
    """One favorite as an embed; an NSFW item outside NSFW places becomes a placeholder."""
    if is_hidden(item, allow_nsfw=allow_nsfw):
        return {
            "title": texts("Hidden: marked NSFW on Imgur"),
            "description": texts(
                "Use /imgur favorites in a DM with the bot or in an age-restricted "
                "channel to see it."
            ),
            "color": NSFW_GREY,
        }
    lines: list[str] = []
    if item.description:
        lines.append(truncate(item.description, DESCRIPTION_LIMIT - 200))
    if isinstance(item, FavoriteImage) and (item.animated or item.mp4):
        play = texts("Play the animation")
        lines.append(f"▶ [{play}]({item.mp4 or item.gifv or item.link})")
    counts = counts_line(item, texts)
    if counts:
        lines.append(counts)
    embed: EmbedDict = {
        "title": truncate(item.title or texts("Untitled"), TITLE_LIMIT),
        "url": item.page_url,
        "color": IMGUR_GREEN,
    }
    description = truncate("\n".join(lines), DESCRIPTION_LIMIT)
    if description:
        embed["description"] = description
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
    if embeds and footer:
        embeds[-1]["footer"] = {"text": truncate(footer, FOOTER_LIMIT)}
    return embeds


def embed_length(embed: Mapping[str, Any]) -> int:
    """Characters Discord counts towards the 6000 per message."""
    total = len(embed.get("title", "")) + len(embed.get("description", ""))
    total += len(embed.get("footer", {}).get("text", ""))
    for embed_field in embed.get("fields", []):
        total += len(embed_field.get("name", "")) + len(embed_field.get("value", ""))
    return total + len(embed.get("author", {}).get("name", ""))
