"""``python -m bot rotate-key``: re-encrypt every stored token under a new encryption key, or
(``--generate``) print a new key and change nothing."""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

from bot.cli.handlers import CommandError, Subparsers, add_command, operator_command
from bot.cli.stores import cipher, current_keys, key_file, sqlite_file, stopped_bot_store, utc_stamp
from bot.config import Config
from bot.heartbeat import HEARTBEAT_MAX_AGE_SECONDS, heartbeat_age, heartbeat_path
from bot.secrets_env import parse_key_list
from bot.storage import generate_key
from bot.storage.crypto import complete_key_file_rotation, fsync_directory

NEW_KEY_VARIABLE = "BOT_NEW_ENCRYPTION_KEY"

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


def add_commands(subparsers: Subparsers, common: argparse.ArgumentParser) -> None:
    """Add ``rotate-key``; ``common`` holds the options every command takes."""
    rotate = add_command(
        subparsers,
        "rotate-key",
        rotate_key_handler,
        common,
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


@operator_command
def rotate_key_handler(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
    if args.generate:
        print_new_key()
        return 0
    asyncio.run(rotate_key(config, env, new_key_file=args.new_key_file, force=args.force))
    return 0


def print_new_key() -> None:
    """Print a fresh Fernet key (the only command that prints a key, because it is asked to)."""
    print(generate_key())


async def rotate_key(
    config: Config,
    env: Mapping[str, str],
    *,
    new_key_file: Path | None = None,
    force: bool = False,
) -> None:
    """Re-encrypt every token under the new key (see ``ROTATE_KEY_HELP``)."""
    sqlite_file(config)
    given = _given_new_key(env, new_key_file)
    if config.storage.encryption_key:
        old_keys = parse_key_list(config.storage.encryption_key)
        if given is None and len(old_keys) < 2:
            raise CommandError(
                f"no new key: set {NEW_KEY_VARIABLE} (or pass --new-key-file); "
                "`python -m bot rotate-key --generate` prints a fresh one"
            )
        new_keys = old_keys if given is None else [given, *old_keys]
        if given is not None:
            _ensure_bot_stopped(config, force)
        async with stopped_bot_store(config, old_keys) as store:
            done = await store.reencrypt_all(cipher(new_keys, "the encryption keys"))
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
            raise CommandError(f"cannot read the new key from {new_key_file}") from None
        what = str(new_key_file)
    else:
        key = env.get(NEW_KEY_VARIABLE, "").strip()
        what = NEW_KEY_VARIABLE
        if not key:
            return None
    if len(parse_key_list(key)) != 1:
        raise CommandError(f"{what} must hold exactly one key")
    cipher([key], what)
    return key


async def _rotate_key_file(config: Config, given: str | None, force: bool) -> None:
    path = key_file(config)
    pending = path.with_name(path.name + ".new")
    old_key = current_keys(config)[0]
    if pending.exists():
        # An earlier run was interrupted: it may have written tokens under this key already.
        new_key = _valid_key_in_file(pending)
        if given is not None and given != new_key:
            raise CommandError(
                f"an interrupted rotation left {pending}: run rotate-key without a new key "
                "to finish it first"
            )
        print(f"finishing the rotation interrupted earlier (new key in {pending})")
    else:
        new_key = given if given is not None else generate_key()
    _ensure_bot_stopped(config, force)
    async with stopped_bot_store(config, [old_key]) as store:
        if not pending.exists():
            _write_private_file(pending, new_key + "\n")
        done = await store.reencrypt_all(cipher([new_key, old_key], "the encryption keys"))
        kept = complete_key_file_rotation(path, old_key, utc_stamp())
    if kept is not None:
        print(f"the old key was kept in {kept}; store it with the backups made before now")
    print(f"re-encrypted the tokens of {done} links; {path} now holds the new key.")
    print("Start the bot again; nothing else needs to change.")


def _valid_key_in_file(path: Path) -> str:
    """The one key ``path`` holds; CommandError if it cannot be read or is no Fernet key."""
    try:
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise CommandError(f"cannot read {path}") from None
    cipher([key], str(path))
    return key


def _ensure_bot_stopped(config: Config, force: bool) -> None:
    age = heartbeat_age(heartbeat_path(config.storage))
    if age is not None and age <= HEARTBEAT_MAX_AGE_SECONDS and not force:
        raise CommandError(
            f"the bot seems to be running (heartbeat {age:.0f} s ago): stop it first "
            "(docker compose stop bot), or pass --force if it is not"
        )


def _write_private_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 holding ``text``; FileExistsError if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    fsync_directory(path.parent)
