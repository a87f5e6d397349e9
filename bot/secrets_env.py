"""Secrets given as files (``DISCORD_TOKEN_FILE=/run/secrets/discord_token``), and key lists.

Docker and compose ``secrets:`` mount each secret as a file; the ``*_FILE`` variable names it.
Errors name the variable and the path, never the content.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.config import ConfigError

# The variables that may instead be given as ``NAME_FILE``.
FILE_SECRETS = (
    "DISCORD_TOKEN",
    "IMGUR_CLIENT_ID",
    "IMGUR_CLIENT_SECRET",
    "BOT_ENCRYPTION_KEY",
    "BOT_NEW_ENCRYPTION_KEY",
)


def expand_secret_files(env: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``env`` in which each ``NAME_FILE`` was read into ``NAME``."""
    result = dict(env)
    for name in FILE_SECRETS:
        file_var = f"{name}_FILE"
        location = env.get(file_var, "").strip()
        if not location:
            continue
        if env.get(name):
            raise ConfigError(f"{name} and {file_var} are both set: keep one of them")
        try:
            value = Path(location).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{file_var}: cannot read {location} ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{file_var}: {location} is not UTF-8 text") from None
        if not value:
            raise ConfigError(f"{file_var}: {location} is empty")
        result[name] = value
    return result


def parse_key_list(value: str) -> list[str]:
    """The keys in a comma-separated ``encryption_key`` value, first (encrypting) key first.

    ``NEW,OLD`` lets the bot read tokens written under either key while a rotation runs.
    """
    return [part.strip() for part in value.split(",") if part.strip()]
