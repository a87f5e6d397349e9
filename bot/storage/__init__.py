"""Persistence: members' Imgur links and authorization states. Knows nothing of Discord or HTTP."""

from .crypto import TokenCipher, generate_key, load_or_create_key_file, state_digest
from .errors import (
    AttemptGoneError,
    InvalidKeyError,
    LinkNotFoundError,
    MigrationError,
    SchemaTooNewError,
    StorageError,
    TokenDecryptError,
)
from .migrate import Migration, apply_migrations, load_migrations
from .models import AuthState, DueLink, Link, LinkStatus, StoreStats
from .sqlite import MAX_PENDING_STATES_PER_MEMBER, MEMORY, LinkStore

__all__ = [
    "MAX_PENDING_STATES_PER_MEMBER",
    "MEMORY",
    "AttemptGoneError",
    "AuthState",
    "DueLink",
    "InvalidKeyError",
    "Link",
    "LinkNotFoundError",
    "LinkStatus",
    "LinkStore",
    "Migration",
    "MigrationError",
    "SchemaTooNewError",
    "StorageError",
    "StoreStats",
    "TokenCipher",
    "TokenDecryptError",
    "apply_migrations",
    "generate_key",
    "load_migrations",
    "load_or_create_key_file",
    "state_digest",
]
