"""What a callback came to (an HTTP status and the words for the member), and its answer as a
page or as the JSON the token page shows."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot import discord_text
from bot.web.pages import render_page


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a callback came to: an HTTP status and the words for the member."""

    status: int
    title: str
    message: str
    retry: bool = False

    @property
    def ok(self) -> bool:
        return self.status < 400


AGAIN = "Run /imgur link in Discord for a fresh link."
DENIED = Outcome(403, "Not linked", "You declined on Imgur's page, so nothing was linked. " + AGAIN)
UNKNOWN_STATE = Outcome(
    400,
    "Link expired or already used",
    "This link attempt is unknown, expired (they last 10 minutes) or already used. " + AGAIN,
)
NO_GRANT = Outcome(400, "Nothing to link", "Imgur's answer held no usable code or token. " + AGAIN)
GRANT_REJECTED = Outcome(400, "Not linked", "Imgur did not accept this authorization. " + AGAIN)
ACCOUNT_MISMATCH = Outcome(
    400, "Not linked", "Those tokens do not belong to the account they name; nothing was linked."
)
CANCELLED = Outcome(
    409,
    "Not linked",
    "You unlinked in Discord while this link was being completed, so nothing was linked. " + AGAIN,
)
UNAVAILABLE = Outcome(
    503,
    "Imgur is not answering",
    "Imgur is not answering right now, so nothing was linked yet. Try again in a minute.",
    retry=True,
)
BROKEN = Outcome(500, "Something went wrong", "The bot could not finish linking. " + AGAIN)


def linked(username: str) -> Outcome:
    return Outcome(
        200,
        "Linked",
        f"The Imgur account {username} is now linked to the Discord member who asked the bot "
        "for this link; they got a DM saying so. You can close this tab and go back to "
        "Discord. If you did not ask for this link yourself, revoke the bot's access at "
        "https://imgur.com/account/settings/apps.",
    )


def linked_message(username: str) -> str:
    """The DM a member gets once the browser linked them."""
    name = discord_text.inline(username, 100, fallback="?")
    return f"Linked as **{name}** on Imgur. Try `/imgur favorites`."


def html_response(outcome: Outcome) -> web.Response:
    """The outcome as a result page."""
    text = render_page(outcome.title, outcome.message, result="linked" if outcome.ok else "failed")
    return web.Response(status=outcome.status, text=text, content_type="text/html")


def json_response(outcome: Outcome) -> web.Response:
    """The outcome as the JSON the token page's script shows."""
    body = {
        "ok": outcome.ok,
        "title": outcome.title,
        "message": outcome.message,
        "retry": outcome.retry,
    }
    return web.json_response(body, status=outcome.status)
