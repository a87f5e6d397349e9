"""Operator commands behind ``python -m bot``: check, db backup, db stats, rotate-key, healthcheck.

Each prints its result on stdout and problems on stderr, and never prints a token or a key
(``rotate-key --generate`` prints the one key it was asked for).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sqlite3
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

from bot.config import BIO, OAUTH, Config, ConfigError
from bot.database import open_store, require_key
from bot.heartbeat import HEARTBEAT_MAX_AGE_SECONDS, heartbeat_age, heartbeat_path
from bot.secrets_env import parse_key_list
from bot.storage import InvalidKeyError, LinkStore, TokenCipher, generate_key, is_postgres_url
from bot.storage.crypto import complete_key_file_rotation, fsync_directory

NEW_KEY_VARIABLE = "BOT_NEW_ENCRYPTION_KEY"


class AdminError(Exception):
    """A command could not do its job; the message says why and what to do."""


# -- arguments ---------------------------------------------------------------------------------


def add_commands(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add the operator subcommands; ``common`` holds the options every command takes."""
    db = subparsers.add_parser(
        "db",
        parents=[common],
        help="back up the database or show its counts",
        description="Back up the database, or show its counts.",
    )
    db_commands = db.add_subparsers(dest="db_command", metavar="{backup,stats,copy}", required=True)
    backup = db_commands.add_parser(
        "backup",
        parents=[common],
        help="copy the database to PATH (safe while the bot runs)",
        description=(
            "Copy the database to PATH with SQLite's online backup, consistent even while the "
            "bot runs. The copy is readable by its owner only (mode 0600). When PATH is a "
            "directory, the copy is named bot-<UTC time>.db in it. The encryption key is not "
            "part of the copy: keep it apart from the backups."
        ),
    )
    backup.add_argument("path", metavar="PATH", type=Path, help="file or directory to write")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    stats = db_commands.add_parser(
        "stats",
        parents=[common],
        help="count links, broken links and pending link attempts",
        description="Count links, broken links and pending link attempts. Shows no secrets.",
    )
    stats.add_argument("--json", action="store_true", help="print one JSON object")

    copy = db_commands.add_parser(
        "copy",
        parents=[common],
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

    rotate = subparsers.add_parser(
        "rotate-key",
        parents=[common],
        help="re-encrypt every stored token under a new encryption key",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=ROTATE_KEY_HELP,
    )
    rotate.add_argument(
        "--new-key-file",
        metavar="PATH",
        type=Path,
        help=f"read the new key from PATH instead of ${NEW_KEY_VARIABLE}",
    )
    rotate.add_argument(
        "--generate",
        action="store_true",
        help="only print a new random key on stdout, changing nothing",
    )
    rotate.add_argument(
        "--force",
        action="store_true",
        help="run even though the bot seems to be running (its heartbeat is fresh)",
    )

    health = subparsers.add_parser(
        "healthcheck",
        parents=[common],
        help="exit 0 if the running bot is healthy, 1 if not (for Docker's HEALTHCHECK)",
        description=(
            "Exit 0 if the running bot is healthy, 1 if not, with one line saying why. With the "
            "web server enabled it asks /healthz; otherwise it checks that the heartbeat file "
            "(<database>.heartbeat), touched while the bot is connected to Discord, is fresh."
        ),
    )
    health.add_argument(
        "--max-age",
        metavar="SECONDS",
        type=float,
        default=HEARTBEAT_MAX_AGE_SECONDS,
        help="oldest heartbeat that still counts as healthy (default: %(default)g)",
    )
    health.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=5.0,
        help="how long to wait for /healthz (default: %(default)g)",
    )


ROTATE_KEY_HELP = f"""\
Re-encrypt every stored token under a new encryption key. Stop the bot first. Every token is
read with the old or the new key, so if this is interrupted nothing is lost: run it again with
the same settings to finish. Back up the database and keep the old key as long as you keep
backups made with it.

Where the keys come from:
  BOT_ENCRYPTION_KEY set:   the old key. Give the new one in ${NEW_KEY_VARIABLE} (or
                            {NEW_KEY_VARIABLE}_FILE, or --new-key-file); afterwards set
                            BOT_ENCRYPTION_KEY to the new key and start the bot.
                            BOT_ENCRYPTION_KEY=NEW,OLD with no new key re-encrypts everything
                            under NEW (the bot itself reads both keys meanwhile).
  BOT_ENCRYPTION_KEY unset: the old key is in the key file <database>.key. A new key is
                            generated (or taken from ${NEW_KEY_VARIABLE}), saved first to
                            <database>.key.new, and swapped into <database>.key at the end; the
                            old key is kept as <database>.key.old-<UTC time>.

Generate a key with --generate (it is printed on stdout, and nothing else happens)."""


# -- shared helpers ----------------------------------------------------------------------------


def _database(config: Config) -> Path | None:
    """The SQLite file, which must exist (None for PostgreSQL)."""
    if config.storage.is_postgres:
        require_key(config)
        return None
    path = Path(config.storage.database)
    if not path.is_file():
        raise AdminError(f"no database at {path} (check BOT_DATABASE / storage.database)")
    return path


def _key_file(config: Config) -> Path:
    return config.storage.side_file(".key")


def _current_keys(config: Config) -> list[str]:
    """The keys the bot would read tokens with."""
    if config.storage.encryption_key:
        return parse_key_list(config.storage.encryption_key)
    key_file = _key_file(config)
    try:
        key = key_file.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise AdminError(
            f"no encryption key: BOT_ENCRYPTION_KEY is not set and {key_file} does not exist"
        ) from None
    except (OSError, UnicodeDecodeError):
        raise AdminError(f"cannot read the key file {key_file}") from None
    return [key]


def _cipher(keys: list[str], what: str) -> TokenCipher:
    try:
        return TokenCipher(keys)
    except InvalidKeyError:
        raise AdminError(f"{what} is not a valid Fernet key (or list of keys)") from None


async def _open_existing_store(config: Config, keys: list[str] | None = None) -> LinkStore:
    """Open (and migrate) the database, which must exist: a typo must not create a new one."""
    _database(config)
    if keys is None:
        keys = _current_keys(config)
    _cipher(keys, "the configured encryption key")
    return await open_store(config, keys=keys, finish_rotation=False)


@contextlib.asynccontextmanager
async def _stopped_bot_store(config: Config, keys: list[str]) -> AsyncIterator[LinkStore]:
    """The store, with the database's instance lock held exclusively: no bot runs meanwhile
    (each running bot process holds it shared), and none can start."""
    store = await _open_existing_store(config, keys)
    try:
        if not await store.backend.hold_instance_lock(exclusive=True):
            raise AdminError(
                "a bot is running on this database (it holds the database lock): stop every "
                "bot process first (docker compose stop bot)"
            )
        yield store
    finally:
        await store.close()


def _utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _write_private_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 holding ``text``; FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    fsync_directory(path.parent)


def _ensure_bot_stopped(config: Config, force: bool) -> None:
    age = heartbeat_age(heartbeat_path(config.storage))
    if age is not None and age <= HEARTBEAT_MAX_AGE_SECONDS and not force:
        raise AdminError(
            f"the bot seems to be running (heartbeat {age:.0f} s ago): stop it first "
            "(docker compose stop bot), or pass --force if it is not"
        )


# -- check -------------------------------------------------------------------------------------


async def check(config: Config) -> int:
    """Open and migrate the database and report what is configured; connect nowhere."""
    store = await open_store(config, finish_rotation=False)
    try:
        stats = await store.stats()
        rotating = await store.pending_rotation() is not None
        location = store.backend.location
    finally:
        await store.close()
    missing = []
    try:
        config.require_credentials()
    except ConfigError as exc:
        missing.append(str(exc))
    if rotating:
        missing.append(
            "a key rotation was interrupted: run `python -m bot rotate-key` again to finish it "
            "(a starting bot finishes it too, given the new key)"
        )
    print(
        f"configuration OK; database {location}: {stats.links} links, "
        f"{stats.broken_links} broken, {stats.pending_states} pending link attempts"
    )
    print(link_methods_line(config))
    if OAUTH in config.imgur.link_methods and not config.imgur.client_secret:
        print(
            "note: IMGUR_CLIENT_SECRET (imgur.client_secret) is not set: only the bio link "
            "method is possible"
        )
    for line in missing:
        print(f"error: {line}", file=sys.stderr)
    return 1 if missing else 0


def link_methods_line(config: Config) -> str:
    """The link methods in force, as ``--check`` prints them."""
    described = {
        OAUTH: f"oauth (Imgur's authorize page, {config.imgur.response_type.value} flow)",
        BIO: "bio (a code in the Imgur profile's About text; client id only)",
    }
    methods = config.imgur.methods_in_force
    return "link methods: " + (", ".join(described[m] for m in methods) if methods else "none")


# -- db backup ---------------------------------------------------------------------------------


def backup(config: Config, destination: Path, *, force: bool = False) -> Path:
    """Copy the database to ``destination`` (mode 0600) with SQLite's online backup."""
    source = _database(config)
    if source is None:
        raise AdminError(
            "db backup copies SQLite databases; for PostgreSQL use its own tool, which takes a "
            "consistent snapshot while the bots run: pg_dump --format=custom --file=PATH "
            "'<storage.database URL>' (restore with pg_restore). Keep the encryption key apart "
            "from the dumps."
        )
    if destination.is_dir():
        destination = destination / f"{source.stem}-{_utc_stamp()}.db"
    if not destination.parent.is_dir():
        raise AdminError(f"directory {destination.parent} does not exist")
    if destination.exists():
        if destination.resolve() == source.resolve():
            raise AdminError("the backup must not overwrite the database itself")
        if not force:
            raise AdminError(f"{destination} exists; pass --force to replace it")
    tmp = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}.tmp")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        _copy_database(source, tmp)
        os.replace(tmp, destination)
        fsync_directory(destination.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return destination


def _copy_database(source: Path, target: Path) -> None:
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
                raise AdminError("the copy failed its integrity check; the database is kept as is")
    with open(target, "rb") as file:
        os.fsync(file.fileno())


# -- db stats ----------------------------------------------------------------------------------


async def db_stats(config: Config, *, as_json: bool = False) -> None:
    """Print the counts of links, broken links, pending link attempts, bio links and codes."""
    store = await _open_existing_store(config)
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


# -- db copy ----------------------------------------------------------------------------------


async def db_copy(config: Config, url: str) -> None:
    """Copy the configured SQLite database into the PostgreSQL database at ``url``."""
    from bot.storage.copy import copy_database
    from bot.storage.postgres import PostgresBackend, redact_url
    from bot.storage.sqlite import SqliteBackend

    source_path = _database(config)
    if source_path is None:
        raise AdminError("db copy copies a SQLite database: storage.database is PostgreSQL already")
    if not is_postgres_url(url):
        raise AdminError("--to must be a postgresql:// URL")
    source = await SqliteBackend.open(source_path)
    try:
        if not await source.hold_instance_lock(exclusive=True):
            raise AdminError("a bot is running on the SQLite database: stop it first")
        target = await PostgresBackend.open(url, pool_size=2)
        try:
            if not await target.hold_instance_lock(exclusive=True):
                raise AdminError("a bot is running on the PostgreSQL database: stop it first")
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
        else f"the key in {_key_file(config)}"
    )
    print(
        f"Now set BOT_DATABASE to that URL and BOT_ENCRYPTION_KEY to {key_hint} on every bot "
        "process; the tokens are encrypted under it."
    )


# -- rotate-key --------------------------------------------------------------------------------


async def rotate_key(
    config: Config,
    env: Mapping[str, str],
    *,
    new_key_file: Path | None = None,
    force: bool = False,
) -> None:
    """Re-encrypt every token under the new key (see ``ROTATE_KEY_HELP``)."""
    _database(config)
    given = _given_new_key(env, new_key_file)
    if config.storage.encryption_key:
        old_keys = parse_key_list(config.storage.encryption_key)
        if given is None and len(old_keys) < 2:
            raise AdminError(
                f"no new key: set {NEW_KEY_VARIABLE} (or pass --new-key-file); "
                "`python -m bot rotate-key --generate` prints a fresh one"
            )
        new_keys = old_keys if given is None else [given, *old_keys]
        if given is not None:
            _ensure_bot_stopped(config, force)
        async with _stopped_bot_store(config, old_keys) as store:
            done = await store.reencrypt_all(_cipher(new_keys, "the encryption keys"))
        print(f"re-encrypted the tokens of {done} links under the new key.")
        if given is not None:
            print(
                f"Now set BOT_ENCRYPTION_KEY to the new key (the value of {NEW_KEY_VARIABLE}), "
                f"remove {NEW_KEY_VARIABLE} and start the bot. Keep the old key only as long as "
                "you keep backups made with it."
            )
        else:
            print("Now set BOT_ENCRYPTION_KEY to the first key alone and restart the bot.")
        return
    await _rotate_key_file(config, given, force)


def _given_new_key(env: Mapping[str, str], new_key_file: Path | None) -> str | None:
    if new_key_file is not None:
        try:
            key = new_key_file.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            raise AdminError(f"cannot read the new key from {new_key_file}") from None
        what = str(new_key_file)
    else:
        key = env.get(NEW_KEY_VARIABLE, "").strip()
        what = NEW_KEY_VARIABLE
        if not key:
            return None
    if len(parse_key_list(key)) != 1:
        raise AdminError(f"{what} must hold exactly one key")
    _cipher([key], what)
    return key


async def _rotate_key_file(config: Config, given: str | None, force: bool) -> None:
    key_file = _key_file(config)
    pending = key_file.with_name(key_file.name + ".new")
    old_key = _current_keys(config)[0]
    if pending.exists():
        # An earlier run was interrupted: it may have written tokens under this key already.
        new_key = _current_keys_of(pending)
        if given is not None and given != new_key:
            raise AdminError(
                f"an interrupted rotation left {pending}: run rotate-key without a new key "
                "to finish it first"
            )
        print(f"finishing the rotation interrupted earlier (new key in {pending})")
    else:
        new_key = given if given is not None else generate_key()
    _ensure_bot_stopped(config, force)
    async with _stopped_bot_store(config, [old_key]) as store:
        if not pending.exists():
            _write_private_file(pending, new_key + "\n")
        done = await store.reencrypt_all(_cipher([new_key, old_key], "the encryption keys"))
        kept = complete_key_file_rotation(key_file, old_key, _utc_stamp())
    if kept is not None:
        print(f"the old key was kept in {kept}; store it with the backups made before now")
    print(f"re-encrypted the tokens of {done} links; {key_file} now holds the new key.")
    print("Start the bot again; nothing else needs to change.")


def _current_keys_of(path: Path) -> str:
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise AdminError(f"cannot read {path}") from None
    _cipher([key], str(path))
    return key


def print_new_key() -> None:
    """Print a fresh Fernet key (the only command that prints a key, because it is asked to)."""
    print(generate_key())


# -- healthcheck -------------------------------------------------------------------------------


def healthcheck(config: Config, *, max_age: float, timeout: float) -> tuple[bool, str]:
    """(healthy, why) of the running bot, as seen from inside its container."""
    if config.web.enabled:
        return _probe_healthz(config, timeout)
    path = heartbeat_path(config.storage)
    age = heartbeat_age(path)
    if age is None:
        return False, f"no heartbeat at {path}: the bot is not connected to Discord"
    if age > max_age:
        return False, f"heartbeat is {age:.0f} s old (limit {max_age:g} s)"
    return True, f"connected (heartbeat {age:.0f} s ago)"


def _probe_healthz(config: Config, timeout: float) -> tuple[bool, str]:
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(  # noqa: S104
        config.web.host, config.web.host
    )
    if ":" in host:
        host = f"[{host}]"
    url = f"http://{host}:{config.web.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{url} did not answer: {reason}"
    if status == 200:
        return True, f"{url} answered 200"
    return False, f"{url} answered {status}"


# -- dispatch ----------------------------------------------------------------------------------


def run_command(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
    """Run the subcommand in ``args``; AdminError for a failure to report."""
    if args.command == "db" and args.db_command == "backup":
        written = backup(config, args.path, force=args.force)
        print(f"backed up {config.storage.database} to {written}")
        print(
            "The encryption key is not in the backup: keep BOT_ENCRYPTION_KEY (or "
            f"{_key_file(config)}) safe, apart from the backups.",
            file=sys.stderr,
        )
        return 0
    if args.command == "db" and args.db_command == "copy":
        asyncio.run(db_copy(config, args.to))
        return 0
    if args.command == "db" and args.db_command == "stats":
        asyncio.run(db_stats(config, as_json=args.json))
        return 0
    if args.command == "rotate-key":
        if args.generate:
            print_new_key()
            return 0
        asyncio.run(rotate_key(config, env, new_key_file=args.new_key_file, force=args.force))
        return 0
    raise AssertionError(f"unknown command {args.command!r}")
