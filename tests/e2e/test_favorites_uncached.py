from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import Harness
from tests.e2e.discord_native import button_id, favorites, footer_has


@pytest.fixture
def bot_settings() -> dict[str, Any]:
    return {"cache": {"favorites_ttl_seconds": 0}}


async def test_without_the_cache_every_message_costs_exactly_one_imgur_call(
    harness: Harness,
) -> None:
    harness.imgur.page_size = 10
    alice = harness.member("alice")
    await harness.link(alice, "pager", favorites=25)
    _, message = await favorites(harness, alice)
    steps = [
        ("Next", "Imgur page 1 · 6–10", 2),
        ("Next", "Imgur page 2 · 1–5", 3),
        ("Previous", "Imgur page 1 · 6–10", 4),  # back to page 1's last window: one call, not two
    ]
    for label, footer, calls in steps:
        press = await harness.discord.press_button(alice, message, button_id(message, label))
        message = await press.wait_for_message(footer_has(footer))
        assert harness.imgur.count("favorites") == calls, label
