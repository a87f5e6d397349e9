from __future__ import annotations

import logging
import re
from typing import NoReturn

import pytest

from tests.e2e.conftest import Harness


@pytest.mark.errors_expected
async def test_unexpected_error_shows_a_reference_and_no_details(
    harness: Harness, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "d152b7894fd0e4817b2892fefebca4274639effe"

    async def explode(user_id: int) -> NoReturn:
        raise RuntimeError(f"database exploded with {secret}")

    monkeypatch.setattr(harness.bot.links, "start", explode)
    alice = harness.member("alice")
    reply = await (await harness.command(alice, "link")).wait_for_message()
    assert reply.is_ephemeral
    match = re.search(r"reference `([0-9a-f]{8})`", reply.text)
    assert match, reply.text
    assert "exploded" not in reply.text
    assert secret not in reply.text
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.name == "cogs.replies"]
    assert match.group(1) in logged[0].getMessage()


async def test_imgur_refusing_the_app_credentials_is_a_clear_message(harness: Harness) -> None:
    alice = harness.member("alice")
    harness.imgur.add_account("a")
    harness.imgur.client_secret = "rotated-on-imgur"  # the bot's secret no longer matches
    await (await harness.command(alice, "link")).wait_for_message()
    reply = await (
        await harness.command(alice, "pin", {"code": harness.imgur.issue_pin("a")})
    ).wait_for_message()
    assert reply.is_ephemeral
    assert "Imgur refused the request" in reply.text
    assert await harness.bot.store.get(alice.id) is None
