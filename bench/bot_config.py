"""The raw configuration of a bot pointed at the fakes, for ``bench.bot_process``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.identities import CLIENT_ID, CLIENT_SECRET

if TYPE_CHECKING:
    from tests.fakes.discord import FakeDiscord


def bot_config(
    tmp: Path,
    discord: FakeDiscord,
    /,
    *,
    imgur_base: str,
    key: str | None,
    **sections: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """``tests.e2e.conftest.raw_config`` with the benchmarks' Imgur application and, when
    given, the encryption ``key``; ``sections`` are merged over it, a key at a time."""
    from tests.e2e.conftest import raw_config

    raw = raw_config(
        tmp, discord, imgur_base=imgur_base, client_id=CLIENT_ID, client_secret=CLIENT_SECRET
    )
    if key is not None:  # else the bot generates one, into a file beside the database
        raw["storage"]["encryption_key"] = key
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return raw
