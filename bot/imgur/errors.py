"""Exceptions raised by the Imgur client.

Messages never carry a token, PIN, code, state or secret: they are built from Imgur's
error text (which never echoes credentials) and the HTTP status only.
"""

from __future__ import annotations


class ImgurError(Exception):
    """Base class for every failure talking to Imgur."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class InvalidGrant(ImgurError):
    """The PIN, code or refresh token was refused: the member must authorize again."""


class InvalidAccessToken(ImgurError):
    """Imgur rejected the access token (401, or 403 "access token provided is invalid")."""


class RateLimited(ImgurError):
    """Imgur said 429; ``retry_after`` is seconds from now, when known."""

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ImgurUnavailable(ImgurError):
    """A temporary failure: 5xx, over capacity, timeout, connection error, non-JSON body."""


class ImgurRequestFailed(ImgurError):
    """Any other refusal (a 4xx that is none of the above)."""


class ImgurNotFound(ImgurRequestFailed):
    """404: Imgur has no such account (unknown, renamed away or deleted)."""


class InvalidClientId(ImgurError):
    """Imgur refused the bot's client id on a ``Client-ID`` call (401 or 403): an operator's
    problem (a wrong or revoked id), not a member's."""


class ImgurOddResponse(ImgurUnavailable):
    """Imgur answered, but with something the bot cannot use (an unusable shape, a body over
    the size cap): "Imgur sent something odd". Temporary as far as a member's link goes."""
