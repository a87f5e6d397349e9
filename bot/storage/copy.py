"""Moving house: copy every row of one database into another, ciphertext as it is.

``python -m bot db copy --to postgresql://...`` uses it to move a SQLite database into
PostgreSQL. Rows already in the target are kept as they are, so running it twice is safe;
every copied member is checked to be in the target afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .backend import MIN_KEY, Backend
from .errors import StorageError
from .store import ROTATION_SETTING

__all__ = ["CopyResult", "copy_database"]

log = logging.getLogger(__name__)

COPY_BATCH = 1000


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What a copy did: links in the source, of them already in the target, and the rest."""

    links: int
    already_there: int
    states: int
    bio_codes: int

    @property
    def copied(self) -> int:
        return self.links - self.already_there


async def copy_database(source: Backend, target: Backend, *, batch: int = COPY_BATCH) -> CopyResult:
    """Copy links, pending states, bio codes and shared settings from ``source`` to ``target``.

    Tokens stay encrypted as they are (the same key reads them afterwards). Verified: every
    link of the source is in the target when this returns; ``StorageError`` otherwise.
    """
    if await source.get_setting(ROTATION_SETTING) is not None:
        raise StorageError(
            "a key rotation of the source database is unfinished: run rotate-key to finish it "
            "before copying"
        )
    links = already = 0
    after = MIN_KEY
    while rows := await source.link_rows(after, batch):
        ids = [row.discord_user_id for row in rows]
        already += await target.count_present(ids)
        await target.import_rows(rows, [], [], {})
        present = await target.count_present(ids)
        if present != len(rows):
            raise StorageError(
                f"only {present} of {len(rows)} links reached the target; nothing is deleted "
                "from the source, run the copy again"
            )
        links += len(rows)
        after = ids[-1]
    states = await source.state_rows()
    bio_codes = await source.bio_code_rows()
    await target.import_rows([], states, bio_codes, await source.settings())
    source_links = (await source.stats(0)).links
    if source_links != links:
        raise StorageError(f"the source changed while it was copied ({links} of {source_links})")
    log.info("copied %d links (%d were already there)", links - already, already)
    return CopyResult(
        links=links, already_there=already, states=len(states), bio_codes=len(bio_codes)
    )
