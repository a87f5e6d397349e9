"""``python -m bot db backup|stats``, ``rotate-key`` and ``--help``, run as an operator would."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import main
from bot.storage import Link, TokenDecryptError, generate_key
from tests.ops.conftest import clean_env, read_links, run_cli, seed_links

SUBCOMMANDS = [
    [],
    ["db"],
    ["db", "backup"],
    ["db", "stats"],
    ["db", "copy"],
    ["rotate-key"],
    ["healthcheck"],
]


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=lambda c: " ".join(c) or "(bot)")
def test_every_command_has_help(
    command: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"], env={})
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m bot")
    assert "--config PATH" in out


def test_help_runs_as_a_module(tmp_path: Path) -> None:
    result = run_cli("db", "backup", "--help", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0
    assert "online backup" in result.stdout


def test_check_cannot_take_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--check", "db", "stats"], env={})
    assert exited.value.code == 2


def env_for(database: Path, **values: str) -> dict[str, str]:
    return {"BOT_DATABASE": str(database), **values}


# -- db stats -------------------------------------------------------------------------------


def test_stats_counts_links_broken_links_and_pending_states(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    links = asyncio.run(seed_links(database, [key], count=3))

    async def break_one_and_start_two() -> None:
        from bot.storage import LinkStore, TokenCipher

        async with await LinkStore.open(database, TokenCipher([key])) as store:
            await store.mark_broken(links[0].discord_user_id, "Invalid refresh token")
            await store.create_state(links[1].discord_user_id, "pin")
            await store.create_state(links[2].discord_user_id, "pin")
            await store.create_bio_code(links[2].discord_user_id, "someone", "imgur-link-AAAA-BBBB")

    asyncio.run(break_one_and_start_two())
    assert main(["db", "stats", "--json"], env=env_for(database, BOT_ENCRYPTION_KEY=key)) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts == {
        "links": 3,
        "ok_links": 2,
        "broken_links": 1,
        "pending_states": 2,
        "bio_links": 0,
        "pending_bio_codes": 1,
    }

    assert main(["db", "stats"], env=env_for(database, BOT_ENCRYPTION_KEY=key)) == 0
    out = capsys.readouterr().out
    assert "links: 3 (2 ok, 1 broken)" in out
    assert "pending link attempts: 2" in out
    assert "links verified by profile: 0; pending profile codes: 1" in out
    for link in links:  # nothing secret, not even the usernames
        assert link.access_token is not None
        assert link.access_token not in out
        assert link.imgur_username not in out
    assert key not in out


def test_stats_refuses_a_database_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "typo.db"
    assert main(["db", "stats"], env=env_for(database, BOT_ENCRYPTION_KEY=generate_key())) == 1
    assert "no database at" in capsys.readouterr().err
    assert not database.exists()


def test_config_given_after_the_command_is_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, key = tmp_path / "elsewhere.db", generate_key()
    asyncio.run(seed_links(database, [key], count=2))
    config = tmp_path / "bot.toml"
    config.write_text(f'[storage]\ndatabase = "{database}"\n', encoding="utf-8")
    env = {"BOT_ENCRYPTION_KEY": key}
    assert main(["db", "stats", "--json", "--config", str(config)], env=env) == 0
    assert json.loads(capsys.readouterr().out)["links"] == 2
    assert main(["--config", str(config), "db", "stats", "--json"], env=env) == 0
    assert json.loads(capsys.readouterr().out)["links"] == 2


# -- db backup ------------------------------------------------------------------------------


def test_backup_is_a_private_complete_copy(tmp_path: Path) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    links = asyncio.run(seed_links(database, [key], count=3))
    target = tmp_path / "backups" / "bot-backup.db"
    target.parent.mkdir()
    result = run_cli(
        "db", "backup", str(target), env=clean_env(BOT_DATABASE=str(database)), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["bot-backup.db"]
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    restored = asyncio.run(read_links(target, [key], [link.discord_user_id for link in links]))
    assert restored == links


def test_backup_while_the_bot_writes_copies_what_was_committed(tmp_path: Path) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    links = asyncio.run(seed_links(database, [key], count=2))
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # the bot in the middle of a write
        writer.execute("DELETE FROM links")
        target = tmp_path / "during.db"
        assert main(["db", "backup", str(target)], env=env_for(database)) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    restored = asyncio.run(read_links(target, [key], [link.discord_user_id for link in links]))
    assert restored == links


def test_backup_into_a_directory_names_the_file_by_time(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    asyncio.run(seed_links(database, [generate_key()], count=1))
    backups = tmp_path / "backups"
    backups.mkdir()
    assert main(["db", "backup", str(backups)], env=env_for(database)) == 0
    (written,) = backups.iterdir()
    assert written.name.startswith("bot-")
    assert written.suffix == ".db"


def test_backup_does_not_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "bot.db"
    asyncio.run(seed_links(database, [generate_key()], count=1))
    target = tmp_path / "old.db"
    target.write_bytes(b"an older backup")
    assert main(["db", "backup", str(target)], env=env_for(database)) == 1
    assert "--force" in capsys.readouterr().err
    assert target.read_bytes() == b"an older backup"
    assert main(["db", "backup", str(target), "--force"], env=env_for(database)) == 0
    assert target.read_bytes().startswith(b"SQLite format 3")


def test_backup_never_overwrites_the_database_itself(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    asyncio.run(seed_links(database, [generate_key()], count=1))
    before = database.read_bytes()
    assert main(["db", "backup", str(database), "--force"], env=env_for(database)) == 1
    assert database.read_bytes() == before


# -- rotate-key -----------------------------------------------------------------------------


def user_ids(links: list[Link]) -> list[int]:
    return [link.discord_user_id for link in links]


def test_rotate_key_from_the_environment(tmp_path: Path) -> None:
    database, old, new = tmp_path / "bot.db", generate_key(), generate_key()
    links = asyncio.run(seed_links(database, [old], count=3))
    result = run_cli(
        "rotate-key",
        env=clean_env(
            BOT_DATABASE=str(database), BOT_ENCRYPTION_KEY=old, BOT_NEW_ENCRYPTION_KEY=new
        ),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "re-encrypted the tokens of 3 links" in result.stdout
    assert "set BOT_ENCRYPTION_KEY to the new key" in result.stdout
    for secret in (old, new):
        assert secret not in result.stdout + result.stderr
    assert asyncio.run(read_links(database, [new], user_ids(links))) == links
    with pytest.raises(TokenDecryptError):
        asyncio.run(read_links(database, [old], user_ids(links)))


def test_an_interrupted_rotation_finishes_when_run_again(tmp_path: Path) -> None:
    database, old, new = tmp_path / "bot.db", generate_key(), generate_key()
    links = asyncio.run(seed_links(database, [old], count=4))
    # As if interrupted: the first two links are under the new key, the rest still old.
    asyncio.run(seed_links(database, [new], count=2))
    env = env_for(database, BOT_ENCRYPTION_KEY=old, BOT_NEW_ENCRYPTION_KEY=new)
    assert main(["rotate-key"], env=env) == 0
    stored = asyncio.run(read_links(database, [new], user_ids(links)))
    assert [link.discord_user_id for link in stored if link] == user_ids(links)
    assert stored[2:] == links[2:]


def test_the_bot_reads_both_keys_while_a_rotation_is_half_done(tmp_path: Path) -> None:
    database, old, new = tmp_path / "bot.db", generate_key(), generate_key()
    links = asyncio.run(seed_links(database, [old], count=2))
    asyncio.run(seed_links(database, [new], count=1))
    env = env_for(database, BOT_ENCRYPTION_KEY=f"{new},{old}")
    assert main(["rotate-key"], env=env) == 0  # no new key: re-encrypt under the first
    stored = asyncio.run(read_links(database, [new], user_ids(links)))
    assert stored[1] == links[1]


def test_rotate_key_with_the_generated_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "bot.db"
    key_file = tmp_path / "bot.db.key"
    old = generate_key()
    key_file.write_text(old + "\n", encoding="ascii")
    key_file.chmod(0o600)
    links = asyncio.run(seed_links(database, [old], count=2))
    assert main(["rotate-key"], env=env_for(database)) == 0
    out = capsys.readouterr().out
    new = key_file.read_text(encoding="ascii").strip()
    assert new != old
    assert new not in out
    assert old not in out
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    (kept,) = tmp_path.glob("bot.db.key.old-*")
    assert kept.read_text(encoding="ascii").strip() == old
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert not (tmp_path / "bot.db.key.new").exists()
    assert asyncio.run(read_links(database, [new], user_ids(links))) == links


def test_an_interrupted_key_file_rotation_resumes_with_the_same_new_key(tmp_path: Path) -> None:
    database, old, new = tmp_path / "bot.db", generate_key(), generate_key()
    (tmp_path / "bot.db.key").write_text(old + "\n", encoding="ascii")
    links = asyncio.run(seed_links(database, [old], count=3))
    # Interrupted after saving the new key and re-encrypting one link:
    (tmp_path / "bot.db.key.new").write_text(new + "\n", encoding="ascii")
    asyncio.run(seed_links(database, [new], count=1))
    assert main(["rotate-key"], env=env_for(database)) == 0
    assert (tmp_path / "bot.db.key").read_text(encoding="ascii").strip() == new
    stored = asyncio.run(read_links(database, [new], user_ids(links)))
    assert stored[1:] == links[1:]


def test_a_wrong_old_key_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, real, wrong = tmp_path / "bot.db", generate_key(), generate_key()
    links = asyncio.run(seed_links(database, [real], count=2))
    env = env_for(database, BOT_ENCRYPTION_KEY=wrong, BOT_NEW_ENCRYPTION_KEY=generate_key())
    assert main(["rotate-key"], env=env) == 1
    assert "could not be decrypted" in capsys.readouterr().err
    assert asyncio.run(read_links(database, [real], user_ids(links))) == links


def test_rotate_key_without_a_new_key_says_how_to_give_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    asyncio.run(seed_links(database, [key], count=1))
    assert main(["rotate-key"], env=env_for(database, BOT_ENCRYPTION_KEY=key)) == 1
    err = capsys.readouterr().err
    assert "BOT_NEW_ENCRYPTION_KEY" in err
    assert "--generate" in err


def test_rotate_key_rejects_a_malformed_new_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, key = tmp_path / "bot.db", generate_key()
    asyncio.run(seed_links(database, [key], count=1))
    env = env_for(database, BOT_ENCRYPTION_KEY=key, BOT_NEW_ENCRYPTION_KEY="not-a-key")
    assert main(["rotate-key"], env=env) == 1
    err = capsys.readouterr().err
    assert "BOT_NEW_ENCRYPTION_KEY is not a valid Fernet key" in err
    assert "not-a-key" not in err


def test_rotate_key_reads_the_new_key_from_a_file(tmp_path: Path) -> None:
    database, old, new = tmp_path / "bot.db", generate_key(), generate_key()
    links = asyncio.run(seed_links(database, [old], count=1))
    new_file = tmp_path / "new.key"
    new_file.write_text(new + "\n", encoding="ascii")
    env = env_for(database, BOT_ENCRYPTION_KEY=old)
    assert main(["rotate-key", "--new-key-file", str(new_file)], env=env) == 0
    assert asyncio.run(read_links(database, [new], user_ids(links))) == links


def test_rotate_key_refuses_while_the_bot_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, old, new = tmp_path / "bot.db", generate_key(), generate_key()
    links = asyncio.run(seed_links(database, [old], count=1))
    (tmp_path / "bot.db.heartbeat").touch()
    env = env_for(database, BOT_ENCRYPTION_KEY=old, BOT_NEW_ENCRYPTION_KEY=new)
    assert main(["rotate-key"], env=env) == 1
    assert "stop it first" in capsys.readouterr().err
    assert asyncio.run(read_links(database, [old], user_ids(links))) == links
    assert main(["rotate-key", "--force"], env=env) == 0


def test_generate_prints_one_fresh_key_and_changes_nothing(tmp_path: Path) -> None:
    result = run_cli("rotate-key", "--generate", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    Fernet(key)  # a valid key
    assert os.listdir(tmp_path) == []
