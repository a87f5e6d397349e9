"""Fixes proposed for the bot, applied by monkeypatching so they can be measured in the same run
as the code they would replace. Bench-only: nothing under ``bot/`` is edited.

- ``msgspec_decode``: ``bot.imgur.client._decode`` decodes bodies with ``msgspec.json`` instead
  of the standard library's ``json`` (same Python objects out).
- ``sweep_sql``: ``LinkStore.due_for_refresh`` lets SQLite drop the links that are not past
  half their token's life (``expires_at + issued <= 2 * now``, the rule of
  ``TokenManager.due``), so neither links refreshed earlier in the same sweep nor short-lived
  tokens refreshed recently are read, decrypted and turned into ``Link`` values; and it
  decrypts nothing, since the sweep only needs the keys (each refresh re-reads its link).
- ``sweep_sql_indexed``: the same through an index on the half-life expression, so links
  that are not past half their life are not even visited (``PROPOSED_INDEX_SQL``).
- ``struct_favorites``: ``FavoriteImage`` and ``FavoriteAlbum`` as ``msgspec.Struct`` types
  (same fields, defaults, methods; ``frozen=True, gc=False``): four times cheaper to build than
  frozen dataclasses, and never tracked by the garbage collector, so cached pages do not
  lengthen its full passes. Patched in before ``bot.app`` is imported.
- ``store_one_hop``: ``LinkStore._rows`` and ``_run`` make one trip to aiosqlite's thread
  instead of three and two (``execute_fetchall``; ``execute`` without the cursor context).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

PROPOSED_DUE_SQL = (
    "SELECT discord_user_id, imgur_account_id, imgur_username, expires_at, status, linked_at,"
    " refreshed_at FROM links WHERE status = 'ok' AND expires_at <= ?"
    " AND expires_at + COALESCE(refreshed_at, linked_at) <= ?"
    " AND (expires_at, discord_user_id) > (?, ?)"
    " ORDER BY expires_at, discord_user_id LIMIT ?"
)

# A migration would add this index; SQLite's planner prefers links_due_for_refresh (it yields
# the order), so the query names it.
PROPOSED_INDEX_SQL = (
    "CREATE INDEX IF NOT EXISTS links_half_life"
    " ON links (expires_at + COALESCE(refreshed_at, linked_at)) WHERE status = 'ok'"
)
PROPOSED_INDEXED_DUE_SQL = PROPOSED_DUE_SQL.replace(
    "FROM links", "FROM links INDEXED BY links_half_life"
)


@contextlib.contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    saved = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, saved)


def msgspec_decode() -> contextlib.AbstractContextManager[None]:
    import msgspec

    import bot.imgur.client as client_module

    decoder = msgspec.json.Decoder()
    not_json = client_module._NOT_JSON

    def decode(body: bytes) -> Any:
        if not body:
            return not_json
        try:
            return decoder.decode(body)
        except msgspec.DecodeError:
            return not_json

    return patched(client_module, "_decode", decode)


def sweep_sql(sql: str = PROPOSED_DUE_SQL) -> contextlib.AbstractContextManager[None]:
    from bot.storage import Link, LinkStatus, LinkStore
    from bot.storage import sqlite as store_module

    min_int64 = store_module._MIN_INT64

    def utc(seconds: int | None) -> datetime | None:
        return None if seconds is None else datetime.fromtimestamp(seconds, tz=UTC)

    async def due_for_refresh(
        self: Any, before: datetime, limit: int, *, after: tuple[datetime, int] | None = None
    ) -> list[Any]:
        # The real change would pass the sweep's start as `now`; the wall clock stands in.
        now = int(time.time())
        key = (min_int64, min_int64) if after is None else (int(after[0].timestamp()), after[1])
        async with self._lock:
            rows = await self._rows(sql, (int(before.timestamp()), 2 * now, *key, limit))
        return [
            Link(
                discord_user_id=row["discord_user_id"],
                imgur_account_id=row["imgur_account_id"],
                imgur_username=row["imgur_username"],
                access_token="",  # not read: the refresh reads the link again
                refresh_token="",
                expires_at=datetime.fromtimestamp(row["expires_at"], tz=UTC),
                status=LinkStatus(row["status"]),
                linked_at=utc(row["linked_at"]),
                refreshed_at=utc(row["refreshed_at"]),
            )
            for row in rows
        ]

    return patched(LinkStore, "due_for_refresh", due_for_refresh)


def sweep_sql_indexed() -> contextlib.AbstractContextManager[None]:
    """``sweep_sql`` through the index ``PROPOSED_INDEX_SQL`` (which must exist)."""
    return sweep_sql(PROPOSED_INDEXED_DUE_SQL)


def store_one_hop() -> contextlib.AbstractContextManager[None]:
    from bot.storage import LinkStore

    async def rows(self: Any, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return list(await self._conn().execute_fetchall(sql, params))

    async def run(self: Any, sql: str, params: Iterable[Any] = ()) -> int:
        cursor = await self._conn().execute(sql, params)
        return int(cursor.rowcount)

    stack = contextlib.ExitStack()
    stack.enter_context(patched(LinkStore, "_rows", rows))
    stack.enter_context(patched(LinkStore, "_run", run))
    return stack


def _struct_like(cls: type) -> type:
    """A frozen, GC-untracked ``msgspec.Struct`` with the fields and methods of dataclass
    ``cls``."""
    import dataclasses
    import types

    import msgspec

    fields: list[Any] = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if field.default is dataclasses.MISSING:
            fields.append((field.name, Any))
        else:
            fields.append((field.name, Any, field.default))
    namespace = {
        name: value
        for name, value in vars(cls).items()
        if isinstance(value, property | types.FunctionType) and not name.startswith("__")
    }
    return msgspec.defstruct(
        cls.__name__,
        fields,
        frozen=True,
        gc=False,
        kw_only=True,
        namespace=namespace,
        module=cls.__module__,
    )


def struct_favorites() -> contextlib.AbstractContextManager[None]:
    import importlib

    import bot.imgur
    import bot.imgur.models
    import bot.imgur.parse

    image = _struct_like(bot.imgur.models.FavoriteImage)
    album = _struct_like(bot.imgur.models.FavoriteAlbum)
    stack = contextlib.ExitStack()
    modules = [bot.imgur, bot.imgur.models, bot.imgur.parse]
    with contextlib.suppress(ImportError):
        modules.append(importlib.import_module("bot.render"))
    for module in modules:
        stack.enter_context(patched(module, "FavoriteImage", image))
        stack.enter_context(patched(module, "FavoriteAlbum", album))
    return stack
