import pytest
from discord import app_commands

from bot import errors
from bot.imgur import (
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidGrant,
    RateLimited,
)
from cogs import replies


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.NotLinked(), replies.NOT_LINKED),
        (errors.LinkBroken(), replies.LINK_BROKEN),
        (errors.InvalidLinkInput("That is too long."), "That is too long."),
        (
            errors.UnknownState(),
            "That link attempt is unknown, expired (they last 10 minutes) or already used. "
            "Run `/imgur link` for a fresh one.",
        ),
        (errors.AuthorizationDenied(), replies.DENIED),
        (errors.GrantRejected(), replies.GRANT_REJECTED),
        (InvalidGrant("Invalid Pin", status=400), replies.GRANT_REJECTED),
        (errors.AccountMismatch(), replies.ACCOUNT_MISMATCH),
        (ImgurUnavailable("502"), replies.UNAVAILABLE),
        (InvalidAccessToken("no", status=403), replies.ACCESS_REFUSED),
        (ImgurRequestFailed("nope", status=418), "Imgur refused the request (418)"),
        (RateLimited("slow down"), "Try again in a few minutes."),
    ],
)
def test_every_known_failure_has_a_short_message(error, expected):
    text = replies.describe(error)
    assert text is not None
    assert expected in text
    assert len(text) < 300


def test_rate_limit_with_a_known_wait_gives_a_discord_timestamp():
    text = replies.describe(RateLimited("slow", retry_after=90))
    assert text is not None
    assert "<t:" in text


def test_wrapped_errors_are_unwrapped():
    inner = errors.NotLinked()
    wrapped = app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    wrapped.original = inner
    assert replies.unwrap(wrapped) is inner


def test_unexpected_errors_have_no_message():
    assert replies.describe(RuntimeError("boom")) is None
