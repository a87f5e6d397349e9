"""What the callback server works with, as the bot hands it over: ``create_app`` and
``CallbackServer`` both take one ``WebDependencies``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import KW_ONLY, dataclass, field

from bot.linking import LinkService
from bot.web.penalty import BadStatePenalty

__all__ = ["MemberName", "Notify", "WebDependencies"]

# Sends a Discord member a DM.
Notify = Callable[[int, str], Awaitable[None]]
# How the confirmation page names a Discord member ("Alice (@alice)"), or None if unknown.
MemberName = Callable[[int], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class WebDependencies:
    """The link service the routes complete links with, and the bot's side of things.

    ``is_connected`` says whether the Discord gateway is connected (``/healthz``); ``notify``
    DMs a member once their link is stored; ``member_name`` names the member on the
    confirmation page (without it, the page names the member's id); ``penalty`` slows down
    addresses that keep presenting unknown states.
    """

    links: LinkService
    _: KW_ONLY
    is_connected: Callable[[], bool]
    notify: Notify
    member_name: MemberName | None = None
    penalty: BadStatePenalty = field(default_factory=BadStatePenalty)
