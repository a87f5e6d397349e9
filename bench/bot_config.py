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
    """The raw configuration (as ``parse_config`` takes it) of a bot pointed at ``discord`` and
    the fake Imgur at ``imgur_base``, its database in ``tmp``;
    ``sections`` are merged over it, a key at a time."""
    raw: dict[str, dict[str, Any]] = {
        "discord": {
            "token": discord.token,
            "api_base": discord.rest_base,
            "gateway_url": discord.gateway_url,
            "sync_commands": "global",
        },
        "imgur": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_base": imgur_base,
        },
        "storage": {"database": str(tmp / "bot.db")},
    }
    if key is not None:  # else the bot generates one, into a file beside the database
        raw["storage"]["encryption_key"] = key
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return raw
