"""Exceptions of the application services. The cog turns each into one short message."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: a failure the member can be told about in plain words.

    ``message`` is the English text with ``{placeholders}`` (marked with ``bot.i18n.N_``), so the
    cog can show it in the member's language; ``str()`` of the error is the English text.
    """

    def __init__(self, message: str = "", /, **values: object) -> None:
        super().__init__(message.format_map(values) if values else message)
        self.message = message
        self.values = values


class NotLinked(ServiceError):
    """The member has no Imgur account linked."""


class LinkBroken(ServiceError):
    """Imgur refused the member's refresh token: they must link again."""


class AccountGone(LinkBroken):
    """The Imgur account a bio link was verified with no longer exists: link again."""


class NoAccessToken(ServiceError):
    """The link was verified by the member's Imgur profile: it holds no Imgur token."""


class InvalidLinkInput(ServiceError):
    """What the member pasted into ``/imgur pin`` is not a PIN, a code or a redirect URL."""


class UnknownState(ServiceError):
    """No pending link attempt matches (unknown, expired, used, or another member's)."""


class AuthorizationDenied(ServiceError):
    """The member pressed "deny" on Imgur's authorize page."""


class GrantRejected(ServiceError):
    """Imgur refused the PIN or code (wrong, expired or already used)."""


class AccountMismatch(ServiceError):
    """Tokens from a redirect do not belong to the account they claim."""


class LinkCancelled(ServiceError):
    """The member unlinked while this link was being completed: nothing was stored."""


class InvalidUsername(ServiceError):
    """What the member typed is not an Imgur username; the message says why."""


class BioAttemptUnknown(ServiceError):
    """No pending profile-code attempt matches (expired, used, unknown or another member's)."""


class ImgurUserNotFound(ServiceError):
    """Imgur has no account of that name (404)."""

    def __init__(self, username: str) -> None:
        super().__init__("Imgur has no account of that name")
        self.username = username


class BioCodeNotFound(ServiceError):
    """The profile's About text does not hold the member's code (yet); the attempt stays."""

    def __init__(self, username: str) -> None:
        super().__init__("the code is not in the profile's About text")
        self.username = username


class TooManyChecks(ServiceError):
    """The member made ``limit`` profile checks within the hour; next in ``retry_after`` s."""

    def __init__(self, limit: int, *, retry_after: float) -> None:
        super().__init__(f"at most {limit} profile checks an hour")
        self.limit = limit
        self.retry_after = max(0.0, retry_after)
