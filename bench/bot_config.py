"""The raw configuration of a bot pointed at the fakes, for ``bench.bot_process``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.identities import CLIENT_ID, CLIENT_SECRET


def bot_config(
    tmp: Path,
    *,
    discord_rest: str,
    discord_gateway: str,
    discord_token: str,
    imgur_base: str,
    key: str,
    **sections: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """The raw configuration (as ``parse_config`` takes it) of a bot pointed at the fakes;
    ``sections`` are merged over it, a key at a time."""
    raw: dict[str, dict[str, Any]] = {
        "discord": {
            "token": discord_token,
            "api_base": discord_rest,
            "gateway_url": discord_gateway,
            "sync_commands": "global",
        },
        "imgur": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "api_base": imgur_base,
        },
        "storage": {"database": str(tmp / "bot.db"), "encryption_key": key},
    }
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    return raw
