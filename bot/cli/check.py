"""``python -m bot --check``: open and migrate the database, report what is configured, and
connect nowhere."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Mapping

from bot.cli.handlers import operator_command
from bot.config import BIO, OAUTH, Config, ConfigError
from bot.database import open_store
from bot.startup import check_data_dir


async def check(config: Config) -> int:
    """Open and migrate the database and report what is configured; connect nowhere."""
    store = await open_store(config, finish_rotation=False)
    try:
        stats = await store.stats()
        rotating = await store.pending_rotation() is not None
        # Mid-rotation some tokens are under the new key: the rotation message covers that.
        key_matches = rotating or await store.key_reads_tokens()
        location = store.backend.location
    finally:
        await store.close()
    if not key_matches:
        print(
            f"error: the encryption key does not match the database {location}: it cannot "
            "decrypt the stored tokens (set BOT_ENCRYPTION_KEY to the key the bot used)",
            file=sys.stderr,
        )
        return 1
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


@operator_command
def check_handler(args: argparse.Namespace, config: Config, env: Mapping[str, str]) -> int:
    check_data_dir(config.storage)
    return asyncio.run(check(config))
