"""Typed configuration from one TOML file plus environment variables (which win).

Every problem is reported as one :class:`ConfigError` line naming the key, never its value
when the key holds a secret.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from bot.imgur.models import ResponseType

T = TypeVar("T")

DEFAULT_CONFIG_PATH = "config.toml"

OAUTH = "oauth"  # link through Imgur's authorize page (needs the client secret)
BIO = "bio"  # link by a code in the Imgur profile's About text (a client id is enough)
LINK_METHODS = (OAUTH, BIO)


class ConfigError(Exception):
    """A missing or malformed configuration value; the message names the key."""


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str = field(default="", repr=False)
    api_base: str = "https://discord.com/api/v10"
    gateway_url: str = ""
    sync_commands: str = "global"  # "global", "guild:<id>" or "off"
    shard_count: int | Literal["auto"] = 0  # 0: one gateway connection, no sharding
    shard_ids: tuple[int, ...] = ()  # the shards this process runs; empty: all of them

    @property
    def sharded(self) -> bool:
        """Whether the bot connects through discord.py's ``AutoShardedBot``."""
        return self.shard_count != 0

    @property
    def runs_shard_zero(self) -> bool:
        """Whether this process runs shard 0: the one that gets DMs and syncs the commands."""
        return not self.shard_ids or 0 in self.shard_ids

    @property
    def sync_guild_id(self) -> int | None:
        """The guild to sync commands to, when ``sync_commands`` is ``guild:<id>``."""
        if self.sync_commands.startswith("guild:"):
            return int(self.sync_commands.removeprefix("guild:"))
        return None


@dataclass(frozen=True, slots=True)
class ImgurConfig:
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    api_base: str = "https://api.imgur.com"
    response_type: ResponseType = ResponseType.PIN
    request_timeout_seconds: float = 10.0
    link_methods: tuple[str, ...] = LINK_METHODS
    bio_checks_per_hour: int = 10

    @property
    def methods_in_force(self) -> tuple[str, ...]:
        """The link methods the bot offers: ``oauth`` only when a client secret is set."""
        return tuple(m for m in self.link_methods if m != OAUTH or self.client_secret)


@dataclass(frozen=True, slots=True)
class StorageConfig:
    database: str = field(default="data/bot.db", repr=False)  # a URL may carry a password
    encryption_key: str = field(default="", repr=False)
    # During a rotation only: the key rotate-key re-encrypts to; a bot restarted after an
    # interrupted rotation finishes it with this key (BOT_NEW_ENCRYPTION_KEY).
    new_encryption_key: str = field(default="", repr=False)
    pool_size: int = 10  # PostgreSQL: connections per process at most
    data_dir: str = ""  # files that are not the database; empty: beside a SQLite file, or data/

    @property
    def is_postgres(self) -> bool:
        """Whether ``database`` is a PostgreSQL URL rather than a SQLite file."""
        return self.database.startswith(("postgresql://", "postgres://"))

    def side_file(self, suffix: str) -> Path:
        """Where a file that is not the database goes (``.key``, ``.heartbeat``, ``.lock``).

        For SQLite it is named after the database file (``bot.db.key``) and sits beside it
        unless ``data_dir`` says otherwise; for PostgreSQL it is ``<data_dir>/bot<suffix>``.
        """
        if self.is_postgres:
            return Path(self.data_dir or "data") / f"bot{suffix}"
        database = Path(self.database)
        folder = Path(self.data_dir) if self.data_dir else database.parent
        return folder / f"{database.name}{suffix}"


@dataclass(frozen=True, slots=True)
class RefreshConfig:
    interval_seconds: float = 300.0
    lead_seconds: int = 86400
    concurrency: int = 8
    lease_seconds: float = 120.0  # a process's claim on a link it refreshes lasts this long


@dataclass(frozen=True, slots=True)
class CacheConfig:
    favorites_ttl_seconds: float = 120.0
    max_entries: int = 100  # pages of up to 60 favorites, about 50 KB each


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    favorites_per_minute: int = 6  # /imgur favorites per member (0: no limit)


@dataclass(frozen=True, slots=True)
class WebConfig:
    enabled: bool = False
    host: str = "0.0.0.0"  # noqa: S104 - the callback server is meant to be reachable
    port: int = 8080
    public_url: str = ""
    # Slow or idle clients: see bot/web/guard.py.
    max_connections: int = 256
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 10.0
    keepalive_timeout_seconds: float = 15.0
    log_client_ips: bool = False


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = "INFO"
    format: str = "text"  # "text" or "json"


@dataclass(frozen=True, slots=True)
class Config:
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    imgur: ImgurConfig = field(default_factory=ImgurConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    refresh: RefreshConfig = field(default_factory=RefreshConfig)
    cache: CacheConfig = field(default_factory=CacheConfig)
    web: WebConfig = field(default_factory=WebConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)

    def require_credentials(self) -> None:
        """Raise naming every credential that is still missing (needed to connect).

        The client secret is needed only when ``oauth`` is the only link method.
        """
        missing = [
            name
            for name, value in (
                ("DISCORD_TOKEN (discord.token)", self.discord.token),
                ("IMGUR_CLIENT_ID (imgur.client_id)", self.imgur.client_id),
                (
                    "IMGUR_CLIENT_SECRET (imgur.client_secret; or add bio to imgur.link_methods)",
                    self.imgur.methods_in_force,
                ),
            )
            if not value
        ]
        if missing:
            raise ConfigError("missing credentials: set " + ", ".join(missing))


# Environment variables that override keys; secrets are read from here first.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "DISCORD_TOKEN": ("discord", "token"),
    "DISCORD_API_BASE": ("discord", "api_base"),
    "DISCORD_GATEWAY_URL": ("discord", "gateway_url"),
    "DISCORD_SYNC_COMMANDS": ("discord", "sync_commands"),
    "DISCORD_SHARD_COUNT": ("discord", "shard_count"),
    "DISCORD_SHARD_IDS": ("discord", "shard_ids"),
    "IMGUR_CLIENT_ID": ("imgur", "client_id"),
    "IMGUR_CLIENT_SECRET": ("imgur", "client_secret"),
    "IMGUR_API_BASE": ("imgur", "api_base"),
    "IMGUR_RESPONSE_TYPE": ("imgur", "response_type"),
    "IMGUR_LINK_METHODS": ("imgur", "link_methods"),
    "BOT_DATABASE": ("storage", "database"),
    "BOT_ENCRYPTION_KEY": ("storage", "encryption_key"),
    "BOT_NEW_ENCRYPTION_KEY": ("storage", "new_encryption_key"),
    "BOT_DATA_DIR": ("storage", "data_dir"),
    "BOT_DB_POOL_SIZE": ("storage", "pool_size"),
    "BOT_WEB_ENABLED": ("web", "enabled"),
    "BOT_WEB_PORT": ("web", "port"),
    "BOT_PUBLIC_URL": ("web", "public_url"),
    "BOT_LOG_LEVEL": ("logging", "level"),
    "BOT_LOG_FORMAT": ("logging", "format"),
}

SECRET_KEYS = {
    ("discord", "token"),
    ("imgur", "client_id"),
    ("imgur", "client_secret"),
    ("storage", "encryption_key"),
    ("storage", "new_encryption_key"),
    ("storage", "database"),  # a PostgreSQL URL may hold a password
}


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (optional when it is the default path) and apply the environment."""
    env = os.environ if env is None else env
    explicit = path is not None or "BOT_CONFIG" in env
    file_path = Path(path if path is not None else env.get("BOT_CONFIG", DEFAULT_CONFIG_PATH))
    raw: dict[str, Any] = {}
    if file_path.exists():
        try:
            raw = tomllib.loads(file_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file_path}: not valid TOML ({exc})") from None
        except OSError as exc:
            raise ConfigError(f"{file_path}: cannot read ({exc.strerror})") from None
    elif explicit:
        raise ConfigError(f"config file {file_path} does not exist")
    return parse_config(raw, env)


def parse_config(raw: Mapping[str, Any], env: Mapping[str, str]) -> Config:
    """Build a validated :class:`Config` from parsed TOML and environment variables."""
    sections: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        if name not in _SECTIONS:
            raise ConfigError(f"[{name}]: unknown section")
        if not isinstance(value, dict):
            raise ConfigError(f"{name}: must be a table ([{name}])")
        sections[name] = dict(value)
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            sections.setdefault(section, {})[key] = env[var]

    reader = _Reader(sections)
    discord = DiscordConfig(
        token=reader.text("discord", "token", ""),
        api_base=reader.url("discord", "api_base", "https://discord.com/api/v10"),
        gateway_url=reader.url("discord", "gateway_url", "", schemes=("ws", "wss"), empty=True),
        sync_commands=reader.check(
            "discord", "sync_commands", "global", _valid_sync, "global, guild:<id> or off"
        ),
        **_shards(reader),
    )
    if discord.shard_count == "auto" and discord.gateway_url:
        raise ConfigError(
            'discord.shard_count: "auto" connects to the gateway Discord names; with '
            "discord.gateway_url set, give the number of shards"
        )
    imgur = ImgurConfig(
        client_id=reader.text("imgur", "client_id", ""),
        client_secret=reader.text("imgur", "client_secret", ""),
        api_base=reader.url("imgur", "api_base", "https://api.imgur.com"),
        response_type=ResponseType(
            reader.check(
                "imgur",
                "response_type",
                "pin",
                lambda v: v in {r.value for r in ResponseType},
                "pin, code or token",
            )
        ),
        request_timeout_seconds=reader.number("imgur", "request_timeout_seconds", 10.0, 0.1, 120),
        link_methods=reader.choices("imgur", "link_methods", LINK_METHODS),
        bio_checks_per_hour=int(reader.number("imgur", "bio_checks_per_hour", 10, 1, 1000)),
    )
    storage = StorageConfig(
        database=reader.text("storage", "database", "data/bot.db", empty=False),
        encryption_key=reader.text("storage", "encryption_key", ""),
        new_encryption_key=reader.text("storage", "new_encryption_key", ""),
        pool_size=int(reader.number("storage", "pool_size", 10, 1, 1000)),
        data_dir=reader.text("storage", "data_dir", ""),
    )
    if storage.is_postgres:
        _check_postgres_url(storage.database)
    refresh = RefreshConfig(
        interval_seconds=reader.number("refresh", "interval_seconds", 300.0, 1, 86400),
        lead_seconds=int(reader.number("refresh", "lead_seconds", 86400, 0, 31536000)),
        concurrency=int(reader.number("refresh", "concurrency", 8, 1, 256)),
        lease_seconds=reader.number("refresh", "lease_seconds", 120.0, 5, 3600),
    )
    if refresh.lease_seconds < 2 * imgur.request_timeout_seconds:
        # A claim must outlast the call to Imgur it covers (with room for clock differences
        # between machines), or another process could spend the same refresh token meanwhile.
        raise ConfigError(
            f"refresh.lease_seconds: must be at least twice imgur.request_timeout_seconds "
            f"({imgur.request_timeout_seconds:g} s), not {refresh.lease_seconds:g}"
        )
    cache = CacheConfig(
        favorites_ttl_seconds=reader.number("cache", "favorites_ttl_seconds", 120.0, 0, 86400),
        max_entries=int(reader.number("cache", "max_entries", 100, 0, 1_000_000)),
    )
    web = WebConfig(
        enabled=reader.boolean("web", "enabled", False),
        host=reader.text("web", "host", "0.0.0.0", empty=False),  # noqa: S104
        port=int(reader.number("web", "port", 8080, 1, 65535)),
        public_url=reader.url("web", "public_url", "", empty=True),
        max_connections=int(reader.number("web", "max_connections", 256, 8, 100_000)),
        header_timeout_seconds=reader.number("web", "header_timeout_seconds", 10.0, 0.1, 300),
        body_timeout_seconds=reader.number("web", "body_timeout_seconds", 10.0, 0.1, 300),
        keepalive_timeout_seconds=reader.number(
            "web", "keepalive_timeout_seconds", 15.0, 0.1, 3600
        ),
        log_client_ips=reader.boolean("web", "log_client_ips", False),
    )
    if web.enabled and not web.public_url:
        raise ConfigError("web.public_url: required when web.enabled is true")
    logging_config = LoggingConfig(
        level=reader.check(
            "logging",
            "level",
            "INFO",
            lambda v: v.upper() in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"},
            "DEBUG, INFO, WARNING, ERROR or CRITICAL",
        ).upper(),
        format=reader.check(
            "logging", "format", "text", lambda v: v in {"text", "json"}, "text or json"
        ),
    )
    limits = LimitsConfig(
        favorites_per_minute=int(reader.number("limits", "favorites_per_minute", 6, 0, 600)),
    )
    reader.reject_unknown()
    return Config(discord, imgur, storage, refresh, cache, web, logging_config, limits)


_SECTIONS = {"discord", "imgur", "storage", "refresh", "cache", "web", "logging", "limits"}


MAX_SHARDS = 65536


def _shards(reader: _Reader) -> dict[str, Any]:
    """``shard_count`` (0, a number or "auto") and ``shard_ids`` (all shards when empty)."""
    raw_count = reader.raw("discord", "shard_count", 0)
    count: int | Literal["auto"]
    if isinstance(raw_count, str) and raw_count.strip().lower() == "auto":
        count = "auto"
    else:
        count = reader.integer("discord", "shard_count", raw_count, 0, MAX_SHARDS)
    ids = reader.integers("discord", "shard_ids", reader.raw("discord", "shard_ids", ()))
    if not ids:
        return {"shard_count": count, "shard_ids": ()}
    if not isinstance(count, int) or count == 0:
        raise ConfigError(
            "discord.shard_ids: needs discord.shard_count, the number of shards of the whole bot"
        )
    for shard in ids:
        if not 0 <= shard < count:
            raise ConfigError(
                f"discord.shard_ids: shard {shard} is out of range: shards are numbered "
                f"0 to {count - 1} (discord.shard_count = {count})"
            )
        if ids.count(shard) > 1:
            raise ConfigError(f"discord.shard_ids: shard {shard} is listed twice")
    return {"shard_count": count, "shard_ids": tuple(sorted(ids))}


def _ascii_digits(text: str) -> bool:
    """At most 20 digits (a snowflake's) ``int()`` reads as written: ``str.isdigit`` also says
    yes to "²" and "١", and ``int()`` refuses over 4300 digits."""
    return text.isascii() and text.isdigit() and len(text) <= 20


def _valid_sync(value: str) -> bool:
    if value in {"global", "off"}:
        return True
    guild = value.removeprefix("guild:")
    return value.startswith("guild:") and _ascii_digits(guild) and int(guild) > 0


class _Reader:
    """Reads typed values out of the merged sections, remembering which keys were used."""

    def __init__(self, sections: dict[str, dict[str, Any]]) -> None:
        self._sections = sections
        self._used: set[tuple[str, str]] = set()

    def _get(self, section: str, key: str, default: T) -> Any | T:
        self._used.add((section, key))
        return self._sections.get(section, {}).get(key, default)

    def _describe(self, section: str, key: str, value: object) -> str:
        if (section, key) in SECRET_KEYS:
            return "the value given"
        return repr(value)

    def text(self, section: str, key: str, default: str, *, empty: bool = True) -> str:
        value = self._get(section, key, default)
        if not isinstance(value, str):
            raise ConfigError(f"{section}.{key}: must be a string")
        value = value.strip()
        if not empty and not value:
            raise ConfigError(f"{section}.{key}: must not be empty")
        return value

    def check(
        self, section: str, key: str, default: str, valid: Callable[[str], bool], expected: str
    ) -> str:
        value = self.text(section, key, default)
        if not valid(value):
            raise ConfigError(
                f"{section}.{key}: must be {expected}, not {self._describe(section, key, value)}"
            )
        return value

    def choices(self, section: str, key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        """A non-empty list of ``allowed`` words: a TOML list, or comma-separated text."""
        value = self._get(section, key, list(allowed))
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        expected = ", ".join(f'"{word}"' for word in allowed)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{section}.{key}: must be a list of {expected}")
        words = tuple(dict.fromkeys(v.strip().lower() for v in value))
        unknown = [word for word in words if word not in allowed]
        if unknown:
            raise ConfigError(f"{section}.{key}: {unknown[0]!r} is not one of {expected}")
        if not words:
            raise ConfigError(f"{section}.{key}: must name at least one of {expected}")
        return words

    def url(
        self,
        section: str,
        key: str,
        default: str,
        *,
        schemes: tuple[str, ...] = ("http", "https"),
        empty: bool = False,
    ) -> str:
        value = self.text(section, key, default, empty=empty)
        if not value:
            return value
        try:
            parts = urlsplit(value)
        except ValueError:  # "http://[" and other broken hosts
            parts = urlsplit("")
        if parts.scheme not in schemes or not parts.netloc:
            raise ConfigError(
                f"{section}.{key}: must be a {' or '.join(schemes)} URL, not {value!r}"
            )
        return value.rstrip("/")

    def number(self, section: str, key: str, default: float, low: float, high: float) -> float:
        value = self._get(section, key, default)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"{section}.{key}: must be a number, not {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{section}.{key}: must be a number")
        if not low <= value <= high:
            raise ConfigError(
                f"{section}.{key}: must be between {low:g} and {high:g}, not {value:g}"
            )
        return float(value)

    def raw(self, section: str, key: str, default: object) -> Any:
        """The value as given (TOML type, or a string from the environment)."""
        return self._get(section, key, default)

    def integer(self, section: str, key: str, value: object, low: int, high: int) -> int:
        """A whole number from TOML or an environment string, within ``low``..``high``."""
        if isinstance(value, str) and _ascii_digits(value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{section}.{key}: must be a whole number, not {value!r}")
        if not low <= value <= high:
            raise ConfigError(f"{section}.{key}: must be between {low} and {high}, not {value}")
        return value

    def integers(self, section: str, key: str, value: object) -> list[int]:
        """A list of whole numbers: a TOML array, or a comma-separated string ("0,2")."""
        if isinstance(value, str):
            items: list[object] = [part.strip() for part in value.split(",") if part.strip()]
        elif isinstance(value, list | tuple):
            items = list(value)
        else:
            raise ConfigError(f'{section}.{key}: must be a list of numbers, like [0, 1] or "0,1"')
        numbers = []
        for item in items:
            if isinstance(item, str) and _ascii_digits(item):
                item = int(item)
            if isinstance(item, bool) or not isinstance(item, int):
                raise ConfigError(f"{section}.{key}: {item!r} is not a whole number")
            numbers.append(item)
        return numbers

    def boolean(self, section: str, key: str, default: bool) -> bool:
        value = self._get(section, key, default)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
        if not isinstance(value, bool):
            raise ConfigError(f"{section}.{key}: must be true or false")
        return value

    def reject_unknown(self) -> None:
        for section, values in self._sections.items():
            for key in values:
                if (section, key) not in self._used:
                    raise ConfigError(f"{section}.{key}: unknown key")


def _check_postgres_url(url: str) -> None:
    """ConfigError unless ``url`` reads as a PostgreSQL URL naming a host (and a valid port);
    the message never repeats the URL, which may hold a password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise ConfigError(
            "storage.database: not a valid postgresql:// URL (an unclosed [ or a port outside "
            "0-65535?): postgresql://user:password@host:5432/database"
        ) from None
    if not host:
        raise ConfigError("storage.database: a postgresql:// URL must name a host")
