"""Secrets given as files (``DISCORD_TOKEN_FILE``), as Docker and compose secrets are."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.secrets_env import expand_secret_files, parse_key_list
from bot.storage import generate_key


def test_a_secret_file_becomes_the_variable(tmp_path: Path) -> None:
    secret = tmp_path / "discord_token"
    secret.write_text("the-token\n", encoding="utf-8")
    env = expand_secret_files({"DISCORD_TOKEN_FILE": str(secret), "OTHER": "x"})
    assert env["DISCORD_TOKEN"] == "the-token"
    assert env["OTHER"] == "x"


def test_a_value_and_a_file_for_the_same_secret_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("from-file", encoding="utf-8")
    with pytest.raises(ConfigError, match="both set"):
        expand_secret_files({"BOT_ENCRYPTION_KEY": "x", "BOT_ENCRYPTION_KEY_FILE": str(secret)})


def test_an_empty_value_does_not_count_as_set(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret", encoding="utf-8")
    env = {"IMGUR_CLIENT_SECRET": "", "IMGUR_CLIENT_SECRET_FILE": str(secret)}
    assert expand_secret_files(env)["IMGUR_CLIENT_SECRET"] == "s3cret"


def test_an_unreadable_file_is_named_without_content(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="IMGUR_CLIENT_ID_FILE: cannot read"):
        expand_secret_files({"IMGUR_CLIENT_ID_FILE": str(tmp_path / "missing")})
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is empty"):
        expand_secret_files({"DISCORD_TOKEN_FILE": str(empty)})


def test_key_lists_put_the_encrypting_key_first() -> None:
    new, old = generate_key(), generate_key()
    assert parse_key_list(f" {new} , {old},") == [new, old]
    assert parse_key_list(new) == [new]
