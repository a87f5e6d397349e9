"""Starting, completing and removing a member's link. Knows nothing of Discord."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from bot.clock import Clock, utcnow
from bot.errors import (
    AccountMismatch,
    AuthorizationDenied,
    GrantRejected,
    InvalidLinkInput,
    LinkCancelled,
    UnknownState,
)
from bot.i18n import N_
from bot.imgur import (
    Account,
    ImgurClient,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidGrant,
    RateLimited,
    RedirectGrant,
    ResponseType,
    Tokens,
    parse_tokens,
    tokens_from_redirect,
)
from bot.storage import AttemptGoneError, AuthState, Link, LinkStatus, Store

log = logging.getLogger(__name__)

MAX_INPUT_LENGTH = 512
_BARE_VALUE = re.compile(r"[A-Za-z0-9._~-]{4,128}")
# What the web token page may post besides the state: the fields of Imgur's token fragment.
_TOKEN_PAGE_FIELDS = frozenset(
    {"access_token", "refresh_token", "expires_in", "token_type", "account_id", "account_username"}
)


@dataclass(frozen=True, slots=True)
class LinkStart:
    """An authorize URL for one member, valid until ``expires_at``."""

    url: str
    response_type: ResponseType
    expires_at: datetime

    def __repr__(self) -> str:  # the URL carries the state
        return f"LinkStart(response_type={self.response_type!r}, expires_at={self.expires_at!r})"


@dataclass(frozen=True, slots=True)
class PendingAttempt:
    """Whose a link attempt is, and Imgur's authorize URL for it (which carries the state)."""

    discord_user_id: int
    expires_at: datetime
    authorize_url: str

    def __repr__(self) -> str:
        return f"PendingAttempt(discord_user_id={self.discord_user_id!r})"


@dataclass(frozen=True, slots=True)
class LinkInput:
    """What a member pasted, once its shape is known: a bare value or a redirect."""

    bare_value: str | None = None
    redirect: RedirectGrant | None = None

    def __repr__(self) -> str:
        return "LinkInput(redirect)" if self.redirect else "LinkInput(bare)"


def parse_link_input(text: str) -> LinkInput:
    """Check the shape of a PIN, code or redirect URL before anything reaches Imgur."""
    value = text.strip()
    if not value:
        raise InvalidLinkInput(N_("That was empty. Paste the PIN Imgur showed you."))
    if len(value) > MAX_INPUT_LENGTH:
        raise InvalidLinkInput(
            N_("That is too long ({length} characters; at most {limit})."),
            length=len(value),
            limit=MAX_INPUT_LENGTH,
        )
    if "://" in value or value.startswith(("?", "#")) or "=" in value:
        url = value if "://" in value else "https://localhost/" + value
        try:
            grant = tokens_from_redirect(url)
        except ValueError:
            raise InvalidLinkInput(
                N_(
                    "That address holds no Imgur code or token. Paste the PIN, or the whole "
                    "address your browser ended on."
                )
            ) from None
        if grant.error is not None:
            raise AuthorizationDenied
        return LinkInput(redirect=grant)
    if not _BARE_VALUE.fullmatch(value):
        raise InvalidLinkInput(
            N_("That does not look like an Imgur PIN or code (letters and digits only).")
        )
    return LinkInput(bare_value=value)


def parse_token_page(payload: Mapping[str, object]) -> Tokens:
    """The tokens the web token page posted (the fragment of Imgur's ``token`` redirect);
    ``ValueError`` without a usable access token. Only the fragment's own fields count, and
    only as strings or whole numbers."""
    fields = {
        key: value
        for key, value in payload.items()
        if key in _TOKEN_PAGE_FIELDS
        and isinstance(value, str | int)
        and not isinstance(value, bool)
    }
    return parse_tokens(fields)


class LinkService:
    """Link attempts (states), their completion into stored links, and unlinking."""

    def __init__(
        self,
        store: Store,
        imgur: ImgurClient,
        *,
        response_type: ResponseType = ResponseType.PIN,
        clock: Clock = utcnow,
        on_change: Callable[[int], None] | None = None,
        confirm_url: str | None = None,
    ) -> None:
        # ``confirm_url``: in the code and token flows, the bot's own page that names the
        # member the Imgur account will be linked to before sending the browser on to Imgur
        # (bot.web's CONFIRM_PATH). Members are given it instead of Imgur's authorize URL.
        self.confirm_url = confirm_url
        self._store = store
        self._imgur = imgur
        self.response_type = response_type
        self._clock = clock
        self._on_change = on_change

    async def start(self, discord_user_id: int) -> LinkStart:
        """Create a fresh single-use state for the member and the authorize URL carrying it."""
        state = await self._store.create_state(
            discord_user_id, self.response_type.value, now=self._clock()
        )
        if self.confirm_url is not None and self.response_type is not ResponseType.PIN:
            url = self.confirm_url + "?" + urlencode({"state": state.state})
        else:
            url = self._imgur.authorize_url(self.response_type, state.state)
        return LinkStart(url=url, response_type=self.response_type, expires_at=state.expires_at)

    async def pending_attempt(self, state: str) -> PendingAttempt | None:
        """Whose unexpired attempt ``state`` is, without using it up; None if unknown.

        The store has no read-only look-up of a state, so the attempt is claimed and at once
        given back: it stays single-use (only a completion ends it).
        """
        claimed = await self._store.consume_state_any_member(state, now=self._clock())
        if claimed is None:
            return None
        if not await self._store.restore_state(claimed):
            return None  # unlinked meanwhile
        return PendingAttempt(
            discord_user_id=claimed.discord_user_id,
            expires_at=claimed.expires_at,
            authorize_url=self._imgur.authorize_url(ResponseType(claimed.response_type), state),
        )

    async def complete(self, discord_user_id: int, text: str) -> Link:
        """Finish linking from what the member pasted: a PIN, a code or a redirect URL."""
        parsed = parse_link_input(text)
        grant = parsed.redirect
        state = await self._store.consume_state(
            discord_user_id, grant.state if grant else None, now=self._clock()
        )
        return await self._finish(state, parsed)

    async def complete_from_callback(
        self, state: str, *, code: str | None = None, tokens: Tokens | None = None
    ) -> Link:
        """Finish linking from the web callback, which knows the state but not the member."""
        pending = await self._store.consume_state_any_member(state, now=self._clock())
        grant = RedirectGrant(state=state, code=code, tokens=tokens)
        return await self._finish(pending, LinkInput(redirect=grant))

    async def _finish(self, state: AuthState | None, parsed: LinkInput) -> Link:
        # The attempt is claimed (see LinkStore.consume_state) until it ends here: stored as a
        # link, given back for another try, or dropped. An unlink meanwhile deletes the claim,
        # and then nothing is stored nor given back: the unlink wins.
        if state is None:
            raise UnknownState
        try:
            return await self._complete(state, parsed)
        except (ImgurUnavailable, RateLimited, InvalidLinkInput):
            # Imgur did not decide, or the paste was of the wrong kind for this attempt: let
            # the member try again (the same PIN, or the whole address) without starting over.
            if not await self._store.restore_state(state):
                raise LinkCancelled from None
            raise
        except LinkCancelled:
            raise
        except BaseException:
            try:
                await self._store.drop_state(state)
            except Exception:  # the original failure is what counts; the claim expires anyway
                log.debug("could not drop a failed link attempt", exc_info=True)
            raise

    async def _complete(self, state: AuthState, parsed: LinkInput) -> Link:
        grant = parsed.redirect
        if grant is not None and grant.tokens is not None:
            return await self.complete_with_tokens(state, grant.tokens)
        code = grant.code if grant is not None else parsed.bare_value
        if code is None:
            raise InvalidLinkInput(N_("That address holds no Imgur code or token."))
        if grant is None and state.response_type == ResponseType.TOKEN.value:
            raise InvalidLinkInput(
                N_("Paste the whole address your browser ended on after authorizing.")
            )
        is_pin = grant is None and state.response_type == ResponseType.PIN.value
        return await self.complete_with_code(state, code, is_pin=is_pin)

    async def complete_with_code(self, state: AuthState, code: str, *, is_pin: bool) -> Link:
        """Exchange a PIN or code for tokens and store the link of the state's member."""
        try:
            if is_pin:
                tokens = await self._imgur.exchange_pin(code)
            else:
                tokens = await self._imgur.exchange_code(code)
        except InvalidGrant:
            raise GrantRejected from None
        if tokens.account_id is not None and tokens.account_username:
            # The PIN or code is spent now: take the account from Imgur's answer rather than
            # risk a second call whose failure would lose the exchange.
            account = Account(id=tokens.account_id, username=tokens.account_username)
        else:
            account = await self._imgur.account(tokens.access_token)
        return await self._save(state, tokens, account)

    async def complete_with_tokens(self, state: AuthState, tokens: Tokens) -> Link:
        """Store tokens that came in a redirect, once Imgur confirms whose they are."""
        try:
            account = await self._imgur.account(tokens.access_token)
        except InvalidAccessToken:
            raise GrantRejected from None
        claimed_id = tokens.account_id
        claimed_name = tokens.account_username
        if (claimed_id is not None and claimed_id != account.id) or (
            claimed_name is not None and claimed_name.lower() != account.username.lower()
        ):
            raise AccountMismatch
        return await self._save(state, tokens, account)

    async def _save(self, state: AuthState, tokens: Tokens, account: Account) -> Link:
        if not tokens.refresh_token:
            raise GrantRejected
        discord_user_id = state.discord_user_id
        now = self._clock()
        link = Link(
            discord_user_id=discord_user_id,
            imgur_account_id=account.id,
            imgur_username=account.username,
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_at=tokens.expires_at(now),
            status=LinkStatus.OK,
            linked_at=now,
            refreshed_at=now,
        )
        try:
            await self._store.save_link(link, attempt=state)
        except AttemptGoneError:
            log.info("member %s unlinked while linking; nothing stored", discord_user_id)
            raise LinkCancelled from None
        log.info("member %s linked an Imgur account", discord_user_id)
        self._changed(discord_user_id)
        return link

    async def current(self, discord_user_id: int) -> Link | None:
        """The member's link as stored (ok or broken), or None."""
        return await self._store.get(discord_user_id)

    async def database_answers(self) -> bool:
        """Whether the database answers (for a health check)."""
        return await self._store.ping()

    async def purge_expired_attempts(self) -> int:
        """Forget link attempts past their ten minutes; returns how many."""
        return await self._store.purge_expired_states(self._clock())

    async def unlink(self, discord_user_id: int) -> bool:
        """Delete every stored token and pending state of the member."""
        removed = await self._store.delete_member(discord_user_id)
        self._changed(discord_user_id)
        if removed:
            log.info("member %s unlinked", discord_user_id)
        return removed

    def _changed(self, discord_user_id: int) -> None:
        if self._on_change is not None:
            self._on_change(discord_user_id)
