"""Linking by a code in the Imgur profile's About text, and reading what such a link may see.

Works with the client id alone (Imgur's OAuth has been broken since mid-2025): the member
names their Imgur account, gets a short code bound to them and to that name, puts it in the
profile's About text (the ``bio``), and the bot reads the public profile to find it. A bio
link holds no token, so it shows the account's public gallery favorites. Knows nothing of
Discord.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from bot.clock import Clock, utcnow
from bot.errors import (
    AccountGone,
    BioAttemptUnknown,
    BioCodeNotFound,
    ImgurUserNotFound,
    InvalidUsername,
    TooManyChecks,
)
from bot.i18n import N_
from bot.imgur import Favorite, ImgurClient, ImgurNotFound, Sort
from bot.storage import BIO_CODE_TTL as BIO_CODE_TTL  # how long a code lasts, for the cogs' texts
from bot.storage import Link, LinkKind, LinkNotFoundError, LinkStatus, Store

log = logging.getLogger(__name__)

# No 0/O, 1/I/L or U: nothing a member could misread or mistype for another character.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "imgur-link-"
CODE_GROUPS = 2
CODE_GROUP_LENGTH = 4
# A code is a whole word: nothing word-like (letters, digits, "_" or "-") right before or after.
_CODE_WORD = re.compile(
    r"(?<![\w-])imgur-link-([a-z0-9]{4})-([a-z0-9]{4})(?![\w-])", re.IGNORECASE | re.ASCII
)
_MAX_BIO_LENGTH = 10_000  # Imgur's About text is short; a longer answer is not read further
MAX_USERNAME_LENGTH = 63
# At least one letter or digit: a name of dots alone ("..") would walk up the URL path.
_USERNAME = re.compile(r"(?=[_.-]*[A-Za-z0-9])[A-Za-z0-9_.-]{1,63}", re.ASCII)
_PROFILE_HOSTS = {"imgur.com", "www.imgur.com", "m.imgur.com"}
CHECK_WINDOW_SECONDS = 3600.0
_MEMBERS_TRACKED = 10_000  # members whose recent checks are remembered (oldest forgotten)
# How long the name of a bio link is trusted before it is confirmed again by the account id: a
# name given up by a rename can be taken by someone else, whose favorites must not be shown.
IDENTITY_RECHECK_SECONDS = 86_400.0

ACCOUNT_GONE_NOTICE = (
    "Your Imgur link with this bot stopped working: the Imgur account it was verified with no "
    "longer exists. Run `/imgur link` in a server with the bot to link again."
)

Notify = Callable[[int, str], Awaitable[None]]


def generate_code() -> str:
    """A fresh code such as ``imgur-link-7KQ2-M9XD`` (about 39 random bits)."""
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return CODE_PREFIX + "-".join(groups)


def codes_in(bio: str | None) -> list[str]:
    """The code-shaped whole words of an About text, upper-cased as the bot writes them."""
    if not bio:
        return []
    return [
        f"{CODE_PREFIX}{first.upper()}-{second.upper()}"
        for first, second in _CODE_WORD.findall(bio[:_MAX_BIO_LENGTH])
    ]


def parse_username(text: str) -> str:
    """An Imgur username from what the member typed: the name, ``@name``, or a profile URL."""
    value = text.strip()
    if not value:
        raise InvalidUsername(N_("That was empty. Type your Imgur username."))
    if "/" in value or value.lower().startswith(("imgur.com", "www.imgur.com")):
        value = _username_from_url(value)
    value = value.removeprefix("@")
    if len(value) > MAX_USERNAME_LENGTH:
        raise InvalidUsername(
            N_("That is too long for an Imgur username (at most {limit} characters)."),
            limit=MAX_USERNAME_LENGTH,
        )
    if not _USERNAME.fullmatch(value):
        raise InvalidUsername(
            N_("That does not look like an Imgur username (letters, digits, `_`, `.` and `-`).")
        )
    return value


def _username_from_url(value: str) -> str:
    try:
        parts = urlsplit(value if "://" in value else "https://" + value)
        host = (parts.hostname or "").lower()
    except ValueError:  # "[/", "[::1/user/x": urlsplit refuses broken IPv6 hosts
        parts, host = urlsplit(""), ""
    segments = [segment for segment in parts.path.split("/") if segment]
    if host in _PROFILE_HOSTS and len(segments) >= 2 and segments[0].lower() == "user":
        return segments[1]
    raise InvalidUsername(
        N_(
            "That address is not an Imgur profile. Type your Imgur username, or paste "
            "`https://imgur.com/user/<name>`."
        )
    )


@dataclass(frozen=True, slots=True)
class BioChallenge:
    """What the member needs to verify: the code (a secret until it is in the profile),
    the Imgur username it is for, the non-secret attempt reference, and its expiry."""

    discord_user_id: int
    imgur_username: str
    attempt: str
    expires_at: datetime
    code: str = field(repr=False)


class CheckLimiter:
    """At most ``limit`` checks per member in any ``window`` seconds (each costs a credit)."""

    def __init__(
        self,
        limit: int,
        window: float = CHECK_WINDOW_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit must be at least 1 and window positive")
        self.limit = limit
        self.window = window
        self._now = monotonic
        self._checks: OrderedDict[int, deque[float]] = OrderedDict()

    def take(self, discord_user_id: int) -> None:
        """Count one check, or raise :class:`TooManyChecks` saying when the next is allowed."""
        now = self._now()
        recent = self._checks.get(discord_user_id)
        if recent is None:
            recent = self._checks[discord_user_id] = deque()
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.limit:
            raise TooManyChecks(self.limit, retry_after=recent[0] + self.window - now)
        recent.append(now)
        self._checks.move_to_end(discord_user_id)
        while len(self._checks) > _MEMBERS_TRACKED:
            self._checks.popitem(last=False)


class BioLinkService:
    """Profile-code attempts, their checks into ``bio`` links, and a bio link's favorites."""

    def __init__(
        self,
        store: Store,
        imgur: ImgurClient,
        *,
        checks_per_hour: int = 10,
        clock: Clock = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        on_change: Callable[[int], None] | None = None,
        notify: Notify | None = None,
    ) -> None:
        self._store = store
        self._imgur = imgur
        self._clock = clock
        self._limiter = CheckLimiter(checks_per_hour, monotonic=monotonic)
        self._monotonic = monotonic
        # (member, account id) -> when the link's name was last known to be that account's
        self._confirmed: OrderedDict[tuple[int, int], float] = OrderedDict()
        self._on_change = on_change
        self._notify = notify
        self._breaking: set[int] = set()

    async def start(self, discord_user_id: int, username_text: str) -> BioChallenge:
        """A fresh code for the member and the Imgur username they typed (no Imgur call)."""
        username = parse_username(username_text)
        code = generate_code()
        pending = await self._store.create_bio_code(
            discord_user_id, username, code, now=self._clock()
        )
        return BioChallenge(
            discord_user_id=discord_user_id,
            imgur_username=username,
            attempt=pending.attempt,
            expires_at=pending.expires_at,
            code=code,
        )

    async def check(self, discord_user_id: int, attempt: str) -> Link:
        """Read the profile once; link the member when its About text holds their code.

        :class:`BioAttemptUnknown` (expired, used, unknown or another member's),
        :class:`TooManyChecks`, :class:`ImgurUserNotFound`, :class:`BioCodeNotFound` (the
        attempt is kept: Imgur can take a minute to show a new About text), or an Imgur
        error. Linking replaces the member's previous link only here, on success.
        """
        pending = await self._store.get_bio_code(discord_user_id, attempt, now=self._clock())
        if pending is None:
            raise BioAttemptUnknown
        self._limiter.take(discord_user_id)
        try:
            account = await self._imgur.account_by_name(pending.imgur_username)
        except ImgurNotFound:
            raise ImgurUserNotFound(pending.imgur_username) from None
        now = self._clock()
        link = Link(
            discord_user_id=discord_user_id,
            imgur_account_id=account.id,
            imgur_username=account.username,
            access_token=None,
            refresh_token=None,
            expires_at=None,
            status=LinkStatus.OK,
            linked_at=now,
            kind=LinkKind.BIO,
        )
        done = await self._store.complete_bio_link(link, attempt, codes_in(account.bio), now=now)
        if done is None:
            if await self._store.get_bio_code(discord_user_id, attempt, now=now) is None:
                raise BioAttemptUnknown  # expired, or the member unlinked, meanwhile
            raise BioCodeNotFound(account.username)
        self._confirm(discord_user_id, account.id)
        log.info("member %s linked an Imgur account by profile code", discord_user_id)
        if self._on_change is not None:
            self._on_change(discord_user_id)
        return link

    async def purge_expired(self) -> int:
        """Forget profile codes past their lifetime (BIO_CODE_TTL); returns how many."""
        return await self._store.purge_expired_bio_codes(self._clock())

    async def gallery_favorites(self, link: Link, page: int, sort: Sort) -> list[Favorite]:
        """A page of a bio link's public gallery favorites, following a rename on Imgur.

        One call normally. The name is confirmed by the account id (one more call) when it was
        last confirmed over ``IDENTITY_RECHECK_SECONDS`` ago (or not since the bot started):
        a name given up by a rename may belong to someone else now. When Imgur no longer knows
        the name, the account is looked up by its id: renamed, the link takes the new name and
        the page is read again; gone, the link is marked broken, the member is told once, and
        :class:`AccountGone` raised.
        """
        account_id = link.imgur_account_id
        if account_id is None:  # not stored so by this bot: read by name alone
            return await self._imgur.gallery_favorites(link.imgur_username, page=page, sort=sort)
        username = link.imgur_username
        if not self._confirmed_recently(link.discord_user_id, account_id):
            username = await self._account_now_called(link, account_id)
        try:
            return await self._imgur.gallery_favorites(username, page=page, sort=sort)
        except ImgurNotFound:
            pass
        current = await self._account_now_called(link, account_id)
        if current == username:
            raise ImgurNotFound("Imgur has no gallery favorites for this account", status=404)
        return await self._imgur.gallery_favorites(current, page=page, sort=sort)

    def _confirm(self, discord_user_id: int, account_id: int) -> None:
        key = (discord_user_id, account_id)
        self._confirmed[key] = self._monotonic()
        self._confirmed.move_to_end(key)
        while len(self._confirmed) > _MEMBERS_TRACKED:
            self._confirmed.popitem(last=False)

    def _confirmed_recently(self, discord_user_id: int, account_id: int) -> bool:
        confirmed = self._confirmed.get((discord_user_id, account_id))
        return confirmed is not None and self._monotonic() - confirmed < IDENTITY_RECHECK_SECONDS

    async def _account_now_called(self, link: Link, account_id: int) -> str:
        """The account's name now; renames the link, or breaks it when the account is gone."""
        member = link.discord_user_id
        try:
            account = await self._imgur.account_by_id(account_id, link.imgur_username)
        except ImgurNotFound:
            await self._break(link)
            raise AccountGone from None
        if account.id != account_id:
            # Imgur answered for the name in the path, not the id: that name is someone
            # else's now, and the account cannot be found by its id.
            await self._break(link)
            raise AccountGone
        self._confirm(member, account_id)
        if account.username != link.imgur_username:
            try:
                await self._store.rename_account(member, account.username, linked_at=link.linked_at)
            except LinkNotFoundError:
                pass  # unlinked or linked anew meanwhile: the page is still this account's
            else:
                log.info("the Imgur account of member %s was renamed; following it", member)
        return account.username

    async def _break(self, link: Link) -> None:
        member = link.discord_user_id
        if member in self._breaking:
            return  # another call is breaking it right now, and tells the member
        self._breaking.add(member)
        try:
            stored = await self._store.get(member)
            if stored is None or stored.status is LinkStatus.BROKEN:
                return  # already told
            await self._store.mark_broken(
                member, "the Imgur account no longer exists", linked_at=link.linked_at
            )
        except LinkNotFoundError:
            return  # unlinked or linked anew meanwhile: nothing of the new link is broken
        finally:
            self._breaking.discard(member)
        log.warning("the Imgur account of member %s no longer exists; link marked broken", member)
        if self._on_change is not None:
            self._on_change(member)
        if self._notify is not None:
            await self._notify(member, ACCOUNT_GONE_NOTICE)
