"""An interaction Discord dropped (answered too late) is a warning, not an unexpected error."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.conftest import Harness, poll

UNKNOWN_INTERACTION = {"message": "Unknown interaction", "code": 10062}


async def test_an_interaction_discord_no_longer_knows_is_only_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = harness.member("alice")
    # Every answer to the interaction gets what Discord says after its 3 seconds.
    harness.discord.inject_error("POST", "/interactions/*", 404, UNKNOWN_INTERACTION, times=2)
    with caplog.at_level(logging.INFO):
        interaction = await harness.command(alice, "status")
        interaction.expect_unacknowledged = True

        async def warned() -> bool:
            return any("expired before the bot answered" in r.getMessage() for r in caplog.records)

        await poll(warned, within=5)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
