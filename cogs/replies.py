"""Every failure a member can meet, as one short private message; the one place that decides."""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import discord
from discord import app_commands

from bot import discord_text
from bot.bio import BIO_CODE_TTL
from bot.errors import (
    AccountGone,
    AccountMismatch,
    AuthorizationDenied,
    BioAttemptUnknown,
    BioCodeNotFound,
    GrantRejected,
    ImgurUserNotFound,
    InvalidLinkInput,
    InvalidUsername,
    LinkBroken,
    LinkCancelled,
    NoAccessToken,
    NotLinked,
    TooManyChecks,
    UnknownState,
)
from bot.i18n import ENGLISH_TEXTS, N_, Texts
from bot.imgur import (
    ImgurError,
    ImgurNotFound,
    ImgurOddResponse,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidClientId,
    InvalidGrant,
    RateLimited,
)
from bot.linking import AUTH_STATE_TTL
from cogs.i18n import texts_for

log = logging.getLogger(__name__)

NOT_LINKED = N_("You have not linked an Imgur account yet. Run `/imgur link` to start.")
LINK_BROKEN = N_(
    "Imgur no longer accepts your link (the app was revoked, or the link expired). "
    "Run `/imgur link` to link again."
)
UNKNOWN_STATE = N_(
    "That link attempt is unknown, expired (they last {minutes} minutes) or already used. "
    "Run `/imgur link` for a fresh one."
)
DENIED = N_("You declined on Imgur's page, so nothing was linked. Run `/imgur link` to try again.")
GRANT_REJECTED = N_(
    "Imgur did not accept that PIN or code. Each one works once and only for a few minutes: "
    "run `/imgur link` for a new one."
)
LINK_CANCELLED = N_(
    "You unlinked while this link was being completed, so nothing was linked and nothing of it "
    "was kept. Run `/imgur link` to link again."
)
ACCOUNT_MISMATCH = N_("Those tokens do not belong to the account they name; nothing was linked.")
UNAVAILABLE = N_("Imgur is not answering right now. Your link is fine; try again in a minute.")
ODD_RESPONSE = N_(
    "Imgur sent something odd that the bot cannot use. Your link is fine; try again later."
)
ACCESS_REFUSED = N_(
    "Imgur rejected your access token even after a refresh. Try again shortly; if it keeps "
    "happening, run `/imgur link` again."
)
BAD_INPUT = N_("That does not look like an Imgur PIN, code or address.")
ACCOUNT_GONE = N_(
    "The Imgur account your link was verified with no longer exists. "
    "Run `/imgur link` to link again."
)
BIO_ATTEMPT_UNKNOWN = N_(
    "That code is unknown, expired (codes last {minutes} minutes) or already used. "
    "Run `/imgur link` for a fresh one."
)
CLIENT_ID_REFUSED = N_(
    "Imgur refused this bot's client id, so nothing can be read from Imgur right now. "
    "Please tell the server owner (the bot's log says more)."
)
BIO_LINK_HOLDS_NOTHING = N_(
    "Your link was verified by your Imgur profile, so the bot holds no Imgur token for you "
    "and can show only your public gallery favorites."
)
# The interaction.extras entry that says a command deferred publicly (see reply_privately).
DEFERRED_PUBLICLY = "deferred_publicly"
PLACEHOLDER_GONE = N_("Nothing to show here.")


def unknown_state_text(texts: Texts = ENGLISH_TEXTS) -> str:
    return texts(UNKNOWN_STATE, minutes=_minutes(AUTH_STATE_TTL))


def bio_attempt_unknown_text(texts: Texts = ENGLISH_TEXTS) -> str:
    return texts(BIO_ATTEMPT_UNKNOWN, minutes=_minutes(BIO_CODE_TTL))


def _minutes(lifetime: timedelta) -> int:
    return lifetime // timedelta(minutes=1)


def code_not_found_text(username: str, texts: Texts = ENGLISH_TEXTS) -> str:
    return texts(
        "I could not find your code in the About text of **{username}** yet. Check that you "
        "saved it there exactly as shown; Imgur can take a minute to show a new About text, so "
        "press **Check** again in a minute. Your code stays valid until it expires.",
        username=discord_text.inline(username, 100, fallback="?"),
    )


def user_not_found_text(username: str, texts: Texts = ENGLISH_TEXTS) -> str:
    return texts(
        "Imgur has no user named **{username}**. Check the spelling (it is the name in "
        "imgur.com/user/<name>) and run `/imgur link` again.",
        username=discord_text.inline(username, 100, fallback="?"),
    )


def too_many_checks_text(exc: TooManyChecks, texts: Texts = ENGLISH_TEXTS) -> str:
    return texts(
        "You can check your profile {limit} times an hour (each check costs this bot "
        "Imgur credits). Try again {when}; your code stays valid until it expires.",
        limit=texts.number(exc.limit),
        when=discord.utils.format_dt(in_seconds(exc.retry_after + 1), "R"),
    )


def in_seconds(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def rate_limited_text(exc: RateLimited, texts: Texts = ENGLISH_TEXTS) -> str:
    """Say when to try again, as a Discord timestamp the client shows in local time."""
    if exc.retry_after is not None and exc.retry_after > 0:
        return texts(
            "Imgur is rate-limiting this bot right now. Try again {when}.",
            when=discord.utils.format_dt(in_seconds(exc.retry_after), "R"),
        )
    return texts("Imgur is rate-limiting this bot right now. Try again in a few minutes.")


def describe(error: BaseException, texts: Texts = ENGLISH_TEXTS) -> str | None:
    """The member-facing text for a known failure, or None for an unexpected one."""
    match error:
        case NotLinked():
            return texts(NOT_LINKED)
        case AccountGone():
            return texts(ACCOUNT_GONE)
        case LinkBroken():
            return texts(LINK_BROKEN)
        case InvalidLinkInput():
            if not error.message:
                return texts(BAD_INPUT)
            return texts(error.message, **error.values)
        case UnknownState():
            return unknown_state_text(texts)
        case InvalidUsername():
            if not error.message:
                return texts("That does not look like an Imgur username.")
            return texts(error.message, **error.values)
        case BioAttemptUnknown():
            return bio_attempt_unknown_text(texts)
        case BioCodeNotFound():
            return code_not_found_text(error.username, texts)
        case ImgurUserNotFound():
            return user_not_found_text(error.username, texts)
        case TooManyChecks():
            return too_many_checks_text(error, texts)
        case NoAccessToken():
            return texts(BIO_LINK_HOLDS_NOTHING)
        case InvalidClientId():
            return texts(CLIENT_ID_REFUSED)
        case AuthorizationDenied():
            return texts(DENIED)
        case GrantRejected() | InvalidGrant():
            return texts(GRANT_REJECTED)
        case AccountMismatch():
            return texts(ACCOUNT_MISMATCH)
        case LinkCancelled():
            return texts(LINK_CANCELLED)
        case RateLimited():
            return rate_limited_text(error, texts)
        case InvalidAccessToken():
            return texts(ACCESS_REFUSED)
        case ImgurOddResponse():
            return texts(ODD_RESPONSE)
        case ImgurUnavailable():
            return texts(UNAVAILABLE)
        case ImgurNotFound():
            return texts("Imgur could not find that. Try again later.")
        case ImgurRequestFailed():
            return texts(
                "Imgur refused the request ({status}). Try again later.",
                status=error.status or texts("no status"),
            )
        case ImgurError():
            return texts(UNAVAILABLE)
        case app_commands.TransformerError():
            return texts("One of the options has a value this command does not accept.")
        case app_commands.CommandOnCooldown():
            return texts(
                "You are going a little fast. Try again {when}.",
                when=discord.utils.format_dt(in_seconds(error.retry_after + 1), "R"),
            )
        case app_commands.CheckFailure():
            return texts("You cannot use this command here.")
    return None


def unwrap(error: BaseException) -> BaseException:
    """The project exception inside discord.py's wrappers."""
    while isinstance(error, app_commands.CommandInvokeError | discord.app_commands.AppCommandError):
        inner = getattr(error, "original", None)
        if inner is None:
            break
        error = inner
    return error


async def reply_privately(interaction: discord.Interaction, text: str) -> None:
    """Answer only the member: ephemeral, even when the command had deferred publicly."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(text, ephemeral=True)
            return
        if interaction.extras.get(DEFERRED_PUBLICLY):
            # The first follow-up after a public defer would replace the public "thinking…"
            # placeholder: settle the placeholder neutrally, answer privately, then remove it.
            interaction.extras[DEFERRED_PUBLICLY] = False
            texts = texts_for(interaction)
            await interaction.edit_original_response(content=texts(PLACEHOLDER_GONE))
            await interaction.followup.send(text, ephemeral=True)
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                log.debug("could not delete the public placeholder", exc_info=True)
            return
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message to member %s", interaction.user.id)


# Unknown interaction (not acknowledged in time), unknown webhook (its token expired).
EXPIRED_INTERACTION_CODES = frozenset({10062, 10015})


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong; log unexpected errors with a reference they can quote."""
    error = unwrap(error)
    if isinstance(error, discord.NotFound) and error.code in EXPIRED_INTERACTION_CODES:
        # Discord dropped the interaction: it was not acknowledged within 3 s (the bot was
        # too busy), or its 15 minutes are over. Nothing can reach the member through it.
        log.warning(
            "an interaction of member %s expired before the bot answered it (code %s)",
            interaction.user.id,
            error.code,
        )
        return
    texts = texts_for(interaction)
    text = describe(error, texts)
    if text is None:
        reference = secrets.token_hex(4)
        log.error(
            "unexpected error (reference %s) in %s for member %s",
            reference,
            interaction.command.qualified_name if interaction.command else "a component",
            interaction.user.id,
            exc_info=error,
        )
        text = texts(
            "Something went wrong on the bot's side (reference `{reference}`). Try again later.",
            reference=reference,
        )
    await reply_privately(interaction, text)
