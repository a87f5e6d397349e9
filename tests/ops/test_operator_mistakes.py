"""Operator mistakes (a malformed database URL, a damaged SQLite file, the wrong key, a file
where a directory should be) each give one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage import generate_key
from tests.ops.conftest import Result, clean_env, run_cli, seed_links

PASSWORD = "s3cret-pw"  # a test value that must never be echoed
CREDENTIALS = {
    "DISCORD_TOKEN": "discord-token",
    "IMGUR_CLIENT_ID": "imgur-client-id",
    "IMGUR_CLIENT_SECRET": "imgur-client-secret",
}


def one_error_line(result: Result) -> str:
    """The only line on stderr, after checking the exit code and that no traceback came."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert PASSWORD not in result.stderr + result.stdout
    return lines[0]


def damaged_database(tmp_path: Path) -> Path:
    database = tmp_path / "bot.db"
    database.write_bytes(b"garbage" * 200)
    database.chmod(0o600)  # as the bot makes it: no warning about its mode
    return database


# -- a malformed PostgreSQL URL ------------------------------------------------------------


@pytest.mark.parametrize("command", [["db", "stats"], ["--check"]])
def test_a_malformed_database_url_is_a_config_error(tmp_path: Path, command: list[str]) -> None:
    env = clean_env(
        BOT_DATABASE=f"postgresql://bot:{PASSWORD}@[bad/links",
        BOT_ENCRYPTION_KEY=generate_key(),
        **CREDENTIALS,
    )
    line = one_error_line(run_cli(*command, env=env, cwd=tmp_path))
    assert "storage.database: not a valid postgresql:// URL" in line


@pytest.mark.parametrize("command", [["db", "stats"], ["--check"]])
def test_a_database_url_with_an_impossible_port_is_a_config_error(
    tmp_path: Path, command: list[str]
) -> None:
    env = clean_env(
        BOT_DATABASE=f"postgresql://bot:{PASSWORD}@127.0.0.1:99999/links",
        BOT_ENCRYPTION_KEY=generate_key(),
        **CREDENTIALS,
    )
    line = one_error_line(run_cli(*command, env=env, cwd=tmp_path))
    assert "storage.database: not a valid postgresql:// URL" in line


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (f"postgresql://bot:{PASSWORD}@[bad/links", "postgresql://(unreadable URL)"),
        (f"postgresql://bot:{PASSWORD}@127.0.0.1:99999/x", "postgresql://bot@127.0.0.1:99999/x"),
    ],
)
def test_copy_to_a_malformed_url_says_it_is_not_valid(
    tmp_path: Path, target: str, shown: str
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    asyncio.run(seed_links(database, [key], count=1))
    env = clean_env(BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=key)
    line = one_error_line(run_cli("db", "copy", "--to", target, env=env, cwd=tmp_path))
    assert line == (
        f"error: database: {shown} is not a valid PostgreSQL URL (check the host and the port, "
        "0-65535): postgresql://user:password@host:5432/database"
    )


# -- a damaged SQLite file -----------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["db", "stats"],
        ["--check"],
        ["db", "backup", "copy.db"],
        ["db", "copy", "--to", "postgresql://postgres@127.0.0.1:1/nowhere"],
    ],
)
def test_a_damaged_sqlite_file_is_named_as_such(tmp_path: Path, command: list[str]) -> None:
    database = damaged_database(tmp_path)
    env = clean_env(BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=generate_key(), **CREDENTIALS)
    line = one_error_line(run_cli(*command, env=env, cwd=tmp_path))
    assert line == f"error: database: {database} is not an SQLite database or is damaged"
    assert database.read_bytes() == b"garbage" * 200  # left as it was
    assert not (tmp_path / "copy.db").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".copy.db")] == []


# -- the wrong key -------------------------------------------------------------------------


def test_check_fails_when_the_key_cannot_decrypt_the_stored_tokens(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    asyncio.run(seed_links(database, [generate_key()], count=2))
    env = clean_env(BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=generate_key(), **CREDENTIALS)
    result = run_cli("--check", env=env, cwd=tmp_path)
    line = one_error_line(result)
    assert "the encryption key does not match the database" in line
    assert "configuration OK" not in result.stdout


def test_check_with_the_right_key_still_passes(tmp_path: Path) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    asyncio.run(seed_links(database, [key], count=2))
    env = clean_env(BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=key, **CREDENTIALS)
    result = run_cli("--check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


# -- a file where a directory should be ----------------------------------------------------


def test_backup_below_a_file_says_it_is_not_a_directory(tmp_path: Path) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    asyncio.run(seed_links(database, [key], count=1))
    (tmp_path / "afile").write_text("not a directory")
    env = clean_env(BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=key)
    line = one_error_line(run_cli("db", "backup", "afile/x.db", env=env, cwd=tmp_path))
    assert line == "error: afile is not a directory"
