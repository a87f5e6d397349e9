"""Exceptions raised by the storage layer.

Messages name what went wrong and where (a file, a member id, a schema version), never a key,
token or state.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class for every storage failure."""


class DatabaseUnavailableError(StorageError):
    """The database server could not be reached (down, starting, full): a later try may work."""


class TokenDecryptError(StorageError):
    """A stored token could not be decrypted with any configured key."""


class InvalidKeyError(StorageError, ValueError):
    """An encryption key is malformed or missing."""


class MigrationError(StorageError):
    """The database schema could not be brought up to date."""


class SchemaTooNewError(MigrationError):
    """The database was written by a newer version of the bot."""


class LinkNotFoundError(StorageError, LookupError):
    """An update was asked for a member who has no link (for example, unlinked meanwhile)."""

    def __init__(self, discord_user_id: int) -> None:
        super().__init__(f"member {discord_user_id} has no linked Imgur account")
        self.discord_user_id = discord_user_id


class AttemptGoneError(StorageError, LookupError):
    """A link attempt was deleted while it was being completed (the member unlinked)."""

    def __init__(self, discord_user_id: int) -> None:
        super().__init__(f"the link attempt of member {discord_user_id} no longer exists")
        self.discord_user_id = discord_user_id


class LeaseLostError(StorageError):
    """A write under a claim found the link leased to another owner: the claim ran out and
    another process took it over, so this process's write was not made."""

    def __init__(self, discord_user_id: int) -> None:
        super().__init__(
            f"the refresh claim of member {discord_user_id} is held by another process"
        )
        self.discord_user_id = discord_user_id
