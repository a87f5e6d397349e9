"""Helpers for the user-install, private-browsing, paging and language tests."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord import FakeMessage
from tests.fakes.imgur_data import make_favorites


def components(message: FakeMessage) -> list[dict[str, Any]]:
    return [c for row in message.components for c in row.get("components", [])]


def buttons(message: FakeMessage) -> dict[str, dict[str, Any]]:
    return {c.get("label"): c for c in components(message) if c.get("type") == 2}


def button_id(message: FakeMessage, label: str) -> str:
    return buttons(message)[label]["custom_id"]


def share_select(message: FakeMessage) -> dict[str, Any] | None:
    return next((c for c in components(message) if c.get("type") == 3), None)


def footer(message: FakeMessage) -> str:
    return message.embeds[-1]["footer"]["text"] if message.embeds else ""


def nsfw_first(count: int = 8) -> list[dict[str, Any]]:
    """Favorites whose first item is NSFW and the others are not."""
    items = make_favorites(count, "nsfw")
    nsfw = [item for item in items if item.get("nsfw") is True]
    assert nsfw, "the fake's generator has an NSFW kind"
    return nsfw[:1] + [item for item in items if item.get("nsfw") is False]


async def favorites(harness, user, options=None, **kw):
    interaction = await harness.command(user, "favorites", options or {}, **kw)
    return interaction, await interaction.wait_for_message()


def rest_calls_during(harness, before: int) -> list[Any]:
    return harness.discord.rest_calls[before:]
