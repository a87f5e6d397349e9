"""Finding 11 with a reader: unlink while another connection reads the database.

An operator's ``sqlite3`` shell, a backup tool or ``db copy`` holding a read transaction stops
SQLite's checkpoint from emptying the write-ahead log, so the checkpoint right after the
member's deletion does nothing. Once the reader is gone, the member's rows must still leave the
files soon, not "at some later write".
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from bot.storage import LinkStore
from tests.bot.storage.factories import make_link, sqlite_backend
from tests.waiting import eventually

NAME = b"very_unique_username_77"


def _files(db_path: Path) -> bytes:
    paths = [db_path, Path(f"{db_path}-wal")]
    return b"".join(path.read_bytes() for path in paths if path.exists())


async def test_unlink_while_another_connection_reads_leaves_nothing_once_it_is_gone(
    store: LinkStore, db_path: Path
) -> None:
    await store.save_link(make_link(1, imgur_username=NAME.decode()))
    await store.save_link(make_link(2))
    row = await store.backend.get(1)
    assert row is not None
    assert row.access_token is not None
    member = [NAME, row.access_token]
    await sqlite_backend(store).raw_rows("PRAGMA busy_timeout = 50")  # the reader stays: fail fast
    reader = sqlite3.connect(db_path, isolation_level=None)
    with contextlib.closing(reader):
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM links").fetchall()  # holds its snapshot
        assert await store.delete_member(1)
        reader.execute("COMMIT")
    await eventually(
        lambda: not [secret for secret in member if secret in _files(db_path)],
        10,
        "the member's rows gone from the database files",
        every=0.05,
    )
    assert await store.get(2) is not None
