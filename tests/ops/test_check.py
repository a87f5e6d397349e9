"""Starting without credentials, and ``python -m bot --check``, run as an operator would."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bot.storage import generate_key
from bot.storage.migrate import load_migrations
from tests.ops.conftest import clean_env, run_cli

CREDENTIALS = ("DISCORD_TOKEN", "IMGUR_CLIENT_ID")  # the secret only for oauth alone
LATEST_SCHEMA = max(migration.version for migration in load_migrations())


def credentials() -> dict[str, str]:
    return {
        "DISCORD_TOKEN": "discord-token",
        "IMGUR_CLIENT_ID": "imgur-client-id",
        "IMGUR_CLIENT_SECRET": "imgur-client-secret",
    }


def user_version(database: Path) -> int:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def test_starting_without_credentials_says_so_in_one_line(tmp_path: Path) -> None:
    env = clean_env(BOT_DATABASE=str(tmp_path / "bot.db"), BOT_ENCRYPTION_KEY=generate_key())

    result = run_cli(env=env, cwd=tmp_path)

    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for name in CREDENTIALS:
        assert name in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_check_with_a_good_configuration_creates_and_migrates_the_database(
    tmp_path: Path,
) -> None:
    database = tmp_path / "bot.db"
    env = clean_env(BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=generate_key(), **credentials())

    result = run_cli("--check", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout
    assert database.exists()
    assert user_version(database) == LATEST_SCHEMA


def test_check_without_credentials_fails_naming_what_to_set(tmp_path: Path) -> None:
    env = clean_env(BOT_DATABASE=str(tmp_path / "bot.db"), BOT_ENCRYPTION_KEY=generate_key())

    result = run_cli("--check", env=env, cwd=tmp_path)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for name in CREDENTIALS:
        assert name in errors[0]
    assert "Traceback" not in result.stderr


def test_check_lists_the_link_methods_in_force(tmp_path: Path) -> None:
    env = clean_env(
        BOT_DATABASE=str(tmp_path / "bot.db"), BOT_ENCRYPTION_KEY=generate_key(), **credentials()
    )

    result = run_cli("--check", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("link methods:")]
    assert "oauth (Imgur's authorize page, pin flow)" in line
    assert "bio (a code in the Imgur profile's About text" in line
    assert "only the bio" not in result.stdout


def test_check_without_a_client_secret_says_only_bio_is_possible(tmp_path: Path) -> None:
    env = credentials()
    del env["IMGUR_CLIENT_SECRET"]
    env = clean_env(BOT_DATABASE=str(tmp_path / "bot.db"), BOT_ENCRYPTION_KEY=generate_key(), **env)

    result = run_cli("--check", env=env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stdout.splitlines() if "IMGUR_CLIENT_SECRET" in line]
    assert notes == [
        "note: IMGUR_CLIENT_SECRET (imgur.client_secret) is not set: only the bio link "
        "method is possible"
    ]
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("link methods:")]
    assert line == "link methods: bio (a code in the Imgur profile's About text; client id only)"
    assert "error" not in result.stderr.lower()


def test_check_with_oauth_alone_and_no_secret_fails_naming_the_secret(tmp_path: Path) -> None:
    env = credentials()
    del env["IMGUR_CLIENT_SECRET"]
    env = clean_env(
        BOT_DATABASE=str(tmp_path / "bot.db"),
        BOT_ENCRYPTION_KEY=generate_key(),
        IMGUR_LINK_METHODS="oauth",
        **env,
    )

    result = run_cli("--check", env=env, cwd=tmp_path)

    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "IMGUR_CLIENT_SECRET" in errors[0]
    assert "link methods: none" in result.stdout


def test_check_refuses_a_database_newer_than_the_code_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.execute(f"PRAGMA user_version = {LATEST_SCHEMA + 1:d}")
    database.chmod(0o600)  # as a newer bot leaves it (else the bot warns it fixed the mode)
    env = clean_env(BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=generate_key(), **credentials())

    result = run_cli("--check", env=env, cwd=tmp_path)

    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "newer" in lines[0]
    assert str(LATEST_SCHEMA + 1) in lines[0]
    assert "Traceback" not in result.stderr
    assert user_version(database) == LATEST_SCHEMA + 1  # left as it was
