"""``python -m bot db backup | stats | copy``: back up the database, count what it holds, copy
it from SQLite into PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sqlite3
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.cli.handlers import CommandError, Subparsers, add_command, operator_command
from bot.cli.stores import key_file, open_existing_store, sqlite_file, utc_stamp
from bot.config import Config
from bot.storage import is_postgres_url
from bot.storage.crypto import fsync_directory
from bot.storage.sqlite import is_damaged, not_a_database


def add_commands(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add ``db`` and its subcommands; ``common`` holds the options every command takes."""
    db = subparsers.add_parser(
        "db",
        parents=[common],
        help="back up the database or show its counts",
        description="Back up the database, or show its counts.",
    )
    db_commands = db.add_subparsers(dest="db_command", metavar="{backup,stats,copy}", required=True)
    backup_parser = add_command(
        db_commands,
        "backup",
        backup_handler,
        common,
        help="copy the database to PATH (safe while the bot runs)",
        description=(
            "Copy the database to PATH with SQLite's online backup, consistent even while the "
            "bot runs. The copy is readable by its owner only (mode 0600). When PATH is a "
            "directory, the copy is named bot-<UTC time>.db in it. The encryption key is not "
            "part of the copy: keep it apart from the backups."
        ),
    )
    backup_parser.add_argument("path", metavar="PATH", type=Path, help="file or directory to write")
    backup_parser.add_argument("--force", action="store_true", help="replace PATH if it exists")

    stats = add_command(
        db_commands,
        "stats",
        stats_handler,
        common,
        help="count links, broken links and pending link attempts",
        description="Count links, broken links and pending link attempts. Shows no secrets.",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object")

    copy = add_command(
        db_commands,
        "copy",
        copy_handler,
        common,
        help="copy the SQLite database into PostgreSQL (--to URL)",
        description=(
            "Copy every link, pending link attempt, profile code and shared setting of the "
            "configured SQLite database into the PostgreSQL database at URL, tokens encrypted "
            "as they are. Rows already there are kept, so it is safe to run twice; every link "
            "is checked to have arrived. Stop the bot first. Then point BOT_DATABASE at URL and "
            "give every bot process the same BOT_ENCRYPTION_KEY."
        ),
    )
    copy.add_argument(
        "--to", metavar="URL", required=True, help="postgresql://user:password@host:5432/db"
    )


# -- db backup ---------------------------------------------------------------------------------


@operator_command
def backup_handler(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
    written = backup(config, args.path, force=args.force)
    print(f"backed up {config.storage.database} to {written}")
    print(
        "The encryption key is not in the backup: keep BOT_ENCRYPTION_KEY (or "
        f"{key_file(config)}) safe, apart from the backups.",
        file=sys.stderr,
    )
    return 0


def backup(config: Config, destination: Path, *, force: bool = False) -> Path:
    """Copy the database to ``destination`` (mode 0600) with SQLite's online backup."""
    source = sqlite_file(config)
    if source is None:
        raise CommandError(
            "db backup copies SQLite databases; for PostgreSQL use its own tool, which takes a "
            "consistent snapshot while the bots run: pg_dump --format=custom --file=PATH "
            "'<storage.database URL>' (restore with pg_restore). Keep the encryption key apart "
            "from the dumps."
        )
    if destination.is_dir():
        destination = destination / f"{source.stem}-{utc_stamp()}.db"
    if destination.parent.exists() and not destination.parent.is_dir():
        raise CommandError(f"{destination.parent} is not a directory")
    if not destination.parent.is_dir():
        raise CommandError(f"directory {destination.parent} does not exist")
    if destination.exists():
        if destination.resolve() == source.resolve():
            raise CommandError("the backup must not overwrite the database itself")
        if not force:
            raise CommandError(f"{destination} exists; pass --force to replace it")
    tmp = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        try:
            _copy_sqlite_file(source, tmp)
        except sqlite3.DatabaseError as exc:
            if is_damaged(exc):
                raise not_a_database(source) from None
            raise
        os.replace(tmp, destination)
        fsync_directory(destination.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return destination


def _copy_sqlite_file(source: Path, target: Path) -> None:
    # mode=rw: never create a database where none is; the bot may be writing meanwhile, and
    # SQLite's backup copies one consistent snapshot (WAL lets the bot go on writing).
    uri = f"{source.resolve().as_uri()}?mode=rw"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as src:
        src.execute("PRAGMA busy_timeout = 5000")
        with contextlib.closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
            # One self-contained file (the bot switches it back to WAL when it opens it).
            dst.execute("PRAGMA journal_mode = DELETE")
            row = dst.execute("PRAGMA integrity_check").fetchone()
            if row is None or row[0] != "ok":
                raise CommandError(
                    "the copy failed its integrity check; the database is kept as is"
                )
    with open(target, "rb") as file:
        os.fsync(file.fileno())


# -- db stats ----------------------------------------------------------------------------------


@operator_command
def stats_handler(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
    asyncio.run(db_stats(config, as_json=args.json))
    return 0


async def db_stats(config: Config, *, as_json: bool = False) -> None:
    """Print the counts of links, broken links, pending link attempts, bio links and codes."""
    store = await open_existing_store(config)
    try:
        stats = await store.stats()
        location = store.backend.location
    finally:
        await store.close()
    counts = {
        "links": stats.links,
        "ok_links": stats.links - stats.broken_links,
        "broken_links": stats.broken_links,
        "pending_states": stats.pending_states,
        "bio_links": stats.bio_links,
        "pending_bio_codes": stats.pending_bio_codes,
    }
    if as_json:
        print(json.dumps(counts))
        return
    print(f"database: {location}")
    print(f"links: {stats.links} ({counts['ok_links']} ok, {stats.broken_links} broken)")
    print(f"pending link attempts: {stats.pending_states}")
    print(
        f"links verified by profile: {stats.bio_links}; pending profile codes: "
        f"{stats.pending_bio_codes}"
    )


# -- db copy -----------------------------------------------------------------------------------


@operator_command
def copy_handler(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
    asyncio.run(db_copy(config, args.to))
    return 0


async def db_copy(config: Config, url: str) -> None:
    """Copy the configured SQLite database into the PostgreSQL database at ``url``."""
    from bot.storage.copy import copy_database
    from bot.storage.postgres import PostgresBackend, redact_url
    from bot.storage.sqlite import SqliteBackend

    source_path = sqlite_file(config)
    if source_path is None:
        raise CommandError(
            "db copy copies a SQLite database: storage.database is PostgreSQL already"
        )
    if not is_postgres_url(url):
        raise CommandError("--to must be a postgresql:// URL")
    source = await SqliteBackend.open(source_path)
    try:
        if not await source.hold_instance_lock(exclusive=True):
            raise CommandError("a bot is running on the SQLite database: stop it first")
        target = await PostgresBackend.open(url, pool_size=2)
        try:
            if not await target.hold_instance_lock(exclusive=True):
                raise CommandError("a bot is running on the PostgreSQL database: stop it first")
            result = await copy_database(source, target)
        finally:
            await target.close()
    finally:
        await source.close()
    print(
        f"copied {result.copied} links to {redact_url(url)} ({result.already_there} were there "
        f"already); {result.links} of {result.links} verified, plus {result.states} pending "
        f"link attempts and {result.bio_codes} profile codes"
    )
    key_hint = (
        "the value you set in BOT_ENCRYPTION_KEY"
        if config.storage.encryption_key
        else f"the key in {key_file(config)}"
    )
    print(
        f"Now set BOT_DATABASE to that URL and BOT_ENCRYPTION_KEY to {key_hint} on every bot "
        "process; the tokens are encrypted under it."
    )
