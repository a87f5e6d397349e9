"""The per-member favorites limit comes from the config (limits.favorites_per_minute)."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Harness
from tests.e2e.discord_native import favorites


@pytest.mark.parametrize("bot_settings", [{"limits": {"favorites_per_minute": 2}}])
async def test_the_configured_limit_holds_and_says_when_privately(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    for _ in range(2):
        _, message = await favorites(harness, alice)
        assert not message.is_ephemeral
    _, refused = await favorites(harness, alice)
    assert refused.is_ephemeral
    assert "going a little fast" in refused.text
    assert re.search(r"<t:\d+:R>", refused.text)  # discord.utils.format_dt, relative


@pytest.mark.parametrize("bot_settings", [{"limits": {"favorites_per_minute": 0}}])
async def test_zero_turns_the_limit_off(harness: Harness) -> None:
    alice = harness.member("alice")
    await harness.link(alice, "alice_imgur", favorites=3)
    for _ in range(8):
        _, message = await favorites(harness, alice)
        assert not message.is_ephemeral
