"""The refresh rule: when a member's access token is due for refresh. Written once, here.

Refresh ``lead`` before expiry, but never before half the token's lifetime has passed: with
one-hour tokens and a one-day lead every use would otherwise refresh. A token with no lifetime
(it expires at or before it was issued) is due ``lead`` before its expiry.

The store keeps the moment this rule gives, ``refresh_after``, beside each link and indexes it,
so the sweep's query is ``refresh_after <= now`` in every backend: it costs O(due), not O(links).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

__all__ = ["DEFAULT_LEAD", "RefreshRule", "Refreshable"]

DEFAULT_LEAD = timedelta(days=1)


class Refreshable(Protocol):
    """What the rule looks at: a link's token times."""

    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def linked_at(self) -> datetime | None: ...
    @property
    def refreshed_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class RefreshRule:
    """Refresh ``lead`` before expiry, not before half the token's lifetime."""

    lead: timedelta = DEFAULT_LEAD

    def refresh_after(self, link: Refreshable) -> datetime | None:
        """The moment from which ``link`` is due; None for a link without a token (bio)."""
        if link.expires_at is None:
            return None
        issued = link.refreshed_at or link.linked_at
        lead = self.lead
        if issued is not None and link.expires_at > issued:
            lead = min(lead, (link.expires_at - issued) / 2)
        return link.expires_at - lead

    def due(self, link: Refreshable, now: datetime) -> bool:
        """Whether ``link``'s access token should be refreshed at ``now``."""
        moment = self.refresh_after(link)
        return moment is not None and now >= moment

    def refresh_after_seconds(self, expires_at: int | None, issued: int | None) -> int | None:
        """``refresh_after`` in whole Unix seconds, as the backends store it.

        Rounded up, so that ``refresh_after <= now`` (``now`` in whole seconds) holds exactly
        when ``due`` does. None without an expiry (a bio link: never due).
        """
        if expires_at is None:
            return None
        lead = self.lead.total_seconds()
        if issued is not None and expires_at > issued:
            lead = min(lead, (expires_at - issued) / 2)
        return math.ceil(expires_at - lead)
