"""Exceptions of the application services. The cog turns each into one short message."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: a failure the member can be told about in plain words."""


class NotLinked(ServiceError):
    """The member has no Imgur account linked."""


class LinkBroken(ServiceError):
    """Imgur refused the member's refresh token: they must link again."""


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
