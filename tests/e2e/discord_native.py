"""Helpers for the user-install, private-browsing, paging and language tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import Harness
from tests.fakes.discord import FakeInteraction, FakeMessage, FakeUser, RestCall
from tests.fakes.imgur_data import make_favorites


def components(message: FakeMessage) -> list[dict[str, Any]]:
    return [c for row in message.components for c in row.get("components", [])]


def _label(component: dict[str, Any]) -> str:
    return str(component.get("label"))


def buttons(message: FakeMessage) -> dict[str, dict[str, Any]]:
    return {_label(c): c for c in components(message) if c.get("type") == 2}


def button_id(message: FakeMessage, label: str) -> str:
    """The custom id of the button labelled `label` (failing when there is none)."""
    found = buttons(message).get(label)
    assert found is not None, f"no {label!r} button on {message!r}"
    return str(found["custom_id"])


def find_share_select(message: FakeMessage) -> dict[str, Any] | None:
    return next((c for c in components(message) if c.get("type") == 3), None)


def share_select(message: FakeMessage) -> dict[str, Any]:
    """The message's select menu (failing when it has none)."""
    select = find_share_select(message)
    assert select is not None, f"no select menu on {message!r}"
    return select


def footer(message: FakeMessage) -> str:
    return str(message.embeds[-1]["footer"]["text"]) if message.embeds else ""


def footer_has(text: str) -> Callable[[FakeMessage], bool]:
    """A `wait_for_message` predicate: the last embed's footer contains `text`."""
    return lambda message: text in footer(message)


def where_options(harness: Harness, where: str) -> dict[str, Any]:
    """The command options that run it in the guild's "text" or "nsfw" channel, or a "dm"."""
    places: dict[str, dict[str, Any]] = {
        "text": {},
        "nsfw": {"channel_id": harness.discord.nsfw_channel_id},
        "dm": {"dm": True},
    }
    return places[where]


def nsfw_first(count: int = 8) -> list[dict[str, Any]]:
    """Favorites whose first item is NSFW and the others are not."""
    items = make_favorites(count, "nsfw")
    nsfw = [item for item in items if item.get("nsfw") is True]
    assert nsfw, "the fake's generator has an NSFW kind"
    return nsfw[:1] + [item for item in items if item.get("nsfw") is False]


async def favorites(
    harness: Harness, user: FakeUser, options: dict[str, Any] | None = None, **kw: Any
) -> tuple[FakeInteraction, FakeMessage]:
    """Run ``/imgur favorites`` as `user`; the interaction and its first finished message."""
    interaction = await harness.command(user, "favorites", options or {}, **kw)
    return interaction, await interaction.wait_for_message()


def rest_calls_during(harness: Harness, before: int) -> list[RestCall]:
    return harness.discord.rest_calls[before:]
