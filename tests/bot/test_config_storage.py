"""``[storage]``: a SQLite path or a PostgreSQL URL, the pool size, the data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, parse_config


def storage(raw: dict[str, object] | None = None, env: dict[str, str] | None = None):
    return parse_config({"storage": raw or {}}, env or {}).storage


def test_side_files_sit_beside_a_sqlite_database_by_default() -> None:
    config = storage({"database": "/data/bot.db"})
    assert not config.is_postgres
    assert config.side_file(".key") == Path("/data/bot.db.key")
    assert config.side_file(".heartbeat") == Path("/data/bot.db.heartbeat")


def test_data_dir_moves_the_side_files() -> None:
    config = storage({"database": "/db/bot.db"}, {"BOT_DATA_DIR": "/state"})
    assert config.side_file(".lock") == Path("/state/bot.db.lock")


def test_a_postgres_url_keeps_its_side_files_in_data_dir() -> None:
    config = storage({"database": "postgresql://bot:pw@db:5432/bot", "data_dir": "/state"})
    assert config.is_postgres
    assert config.side_file(".heartbeat") == Path("/state/bot.heartbeat")
    assert storage({"database": "postgresql://db/bot"}).side_file(".x") == Path("data/bot.x")


def test_the_database_comes_from_bot_database_and_never_shows_in_repr() -> None:
    config = storage(env={"BOT_DATABASE": "postgresql://bot:s3cret@db/bot"})
    assert config.database == "postgresql://bot:s3cret@db/bot"
    assert "s3cret" not in repr(config)


def test_pool_size_has_bounds() -> None:
    assert storage().pool_size == 10
    assert storage(env={"BOT_DB_POOL_SIZE": "3"}).pool_size == 3
    with pytest.raises(ConfigError, match=r"storage\.pool_size: must be between 1 and 1000"):
        storage({"pool_size": 0})


def test_a_postgres_url_without_a_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="must name a host"):
        storage({"database": "postgresql:///bot"})
