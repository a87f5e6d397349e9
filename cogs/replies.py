"""Every failure a member can meet, as one short private message; the one place that decides."""

from __future__ import annotations

import logging
import secrets
import time

import discord
from discord import app_commands

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
from bot.imgur import (
    ImgurError,
    ImgurNotFound,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidClientId,
    InvalidGrant,
    RateLimited,
)

log = logging.getLogger(__name__)

NOT_LINKED = "You have not linked an Imgur account yet. Run `/imgur link` to start."
LINK_BROKEN = (
    "Imgur no longer accepts your link (the app was revoked, or the link expired). "
    "Run `/imgur link` to link again."
)
UNKNOWN_STATE = (
    "That link attempt is unknown, expired (they last 10 minutes) or already used. "
    "Run `/imgur link` for a fresh one."
)
DENIED = "You declined on Imgur's page, so nothing was linked. Run `/imgur link` to try again."
GRANT_REJECTED = (
    "Imgur did not accept that PIN or code. Each one works once and only for a few minutes: "
    "run `/imgur link` for a new one."
)
LINK_CANCELLED = (
    "You unlinked while this link was being completed, so nothing was linked and nothing of it "
    "was kept. Run `/imgur link` to link again."
)
ACCOUNT_MISMATCH = "Those tokens do not belong to the account they name; nothing was linked."
UNAVAILABLE = "Imgur is not answering right now. Your link is fine; try again in a minute."
ACCESS_REFUSED = (
    "Imgur rejected your access token even after a refresh. Try again shortly; if it keeps "
    "happening, run `/imgur link` again."
)
ACCOUNT_GONE = (
    "The Imgur account your link was verified with no longer exists. "
    "Run `/imgur link` to link again."
)
BIO_ATTEMPT_UNKNOWN = (
    "That code is unknown, expired (codes last 15 minutes) or already used. "
    "Run `/imgur link` for a fresh one."
)
CLIENT_ID_REFUSED = (
    "Imgur refused this bot's client id, so nothing can be read from Imgur right now. "
    "Please tell the server owner (the bot's log says more)."
)
BIO_LINK_HOLDS_NOTHING = (
    "Your link was verified by your Imgur profile, so the bot holds no Imgur token for you "
    "and can show only your public gallery favorites."
)
PUBLIC_KEY = "public_defer"


def code_not_found_text(username: str) -> str:
    name = discord.utils.escape_markdown(username)
    return (
        f"I could not find your code in the About text of **{name}** yet. Check that you saved "
        "it there exactly as shown; Imgur can take a minute to show a new About text, so "
        "press **Check** again in a minute. Your code stays valid until it expires."
    )


def user_not_found_text(username: str) -> str:
    name = discord.utils.escape_markdown(username)
    return (
        f"Imgur has no user named **{name}**. Check the spelling (it is the name in "
        "imgur.com/user/<name>) and run `/imgur link` again."
    )


def too_many_checks_text(exc: TooManyChecks) -> str:
    when = int(time.time() + exc.retry_after) + 1
    return (
        f"You can check your profile {exc.limit} times an hour (each check costs this bot "
        f"Imgur credits). Try again <t:{when}:R>; your code stays valid until it expires."
    )


PLACEHOLDER_GONE = "Nothing to show here."


def rate_limited_text(exc: RateLimited) -> str:
    """Say when to try again, as a Discord timestamp the client shows in local time."""
    if exc.retry_after is not None and exc.retry_after > 0:
        when = int(time.time() + exc.retry_after)
        return f"Imgur is rate-limiting this bot right now. Try again <t:{when}:R>."
    return "Imgur is rate-limiting this bot right now. Try again in a few minutes."


def describe(error: BaseException) -> str | None:
    """The member-facing text for a known failure, or None for an unexpected one."""
    match error:
        case NotLinked():
            return NOT_LINKED
        case AccountGone():
            return ACCOUNT_GONE
        case LinkBroken():
            return LINK_BROKEN
        case InvalidLinkInput():
            return str(error) or "That does not look like an Imgur PIN, code or address."
        case UnknownState():
            return UNKNOWN_STATE
        case InvalidUsername():
            return str(error) or "That does not look like an Imgur username."
        case BioAttemptUnknown():
            return BIO_ATTEMPT_UNKNOWN
        case BioCodeNotFound():
            return code_not_found_text(error.username)
        case ImgurUserNotFound():
            return user_not_found_text(error.username)
        case TooManyChecks():
            return too_many_checks_text(error)
        case NoAccessToken():
            return BIO_LINK_HOLDS_NOTHING
        case InvalidClientId():
            return CLIENT_ID_REFUSED
        case AuthorizationDenied():
            return DENIED
        case GrantRejected() | InvalidGrant():
            return GRANT_REJECTED
        case AccountMismatch():
            return ACCOUNT_MISMATCH
        case LinkCancelled():
            return LINK_CANCELLED
        case RateLimited():
            return rate_limited_text(error)
        case InvalidAccessToken():
            return ACCESS_REFUSED
        case ImgurUnavailable():
            return UNAVAILABLE
        case ImgurNotFound():
            return "Imgur could not find that. Try again later."
        case ImgurRequestFailed():
            return f"Imgur refused the request ({error.status or 'no status'}). Try again later."
        case ImgurError():
            return UNAVAILABLE
        case app_commands.TransformerError():
            return "One of the options has a value this command does not accept."
        case app_commands.CommandOnCooldown():
            when = int(time.time() + error.retry_after) + 1
            return f"You are going a little fast. Try again <t:{when}:R>."
        case app_commands.CheckFailure():
            return "You cannot use this command here."
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
        if interaction.extras.get(PUBLIC_KEY):
            # The first follow-up after a public defer would replace the public "thinking…"
            # placeholder: settle the placeholder neutrally, answer privately, then remove it.
            interaction.extras[PUBLIC_KEY] = False
            await interaction.edit_original_response(content=PLACEHOLDER_GONE)
            await interaction.followup.send(text, ephemeral=True)
            try:
                await interaction.delete_original_response()
            except discord.HTTPException:
                log.debug("could not delete the public placeholder", exc_info=True)
            return
        await interaction.followup.send(text, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message to member %s", interaction.user.id)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the member what went wrong; log unexpected errors with a reference they can quote."""
    error = unwrap(error)
    text = describe(error)
    if text is None:
        reference = secrets.token_hex(4)
        log.error(
            "unexpected error (reference %s) in %s for member %s",
            reference,
            interaction.command.qualified_name if interaction.command else "a component",
            interaction.user.id,
            exc_info=error,
        )
        text = f"Something went wrong on the bot's side (reference `{reference}`). Try again later."
    await reply_privately(interaction, text)
