"""Persistence: members' Imgur links, authorization states and profile (bio) codes.

Knows nothing of Discord or HTTP.
"""

from .crypto import (
    TokenCipher,
    bio_code_digest,
    generate_key,
    load_or_create_key_file,
    state_digest,
)
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
from .models import AuthState, BioCode, DueLink, Link, LinkKind, LinkStatus, StoreStats
from .sqlite import (
    BIO_CODE_TTL,
    MAX_PENDING_BIO_CODES_PER_MEMBER,
    MAX_PENDING_STATES_PER_MEMBER,
    MEMORY,
    LinkStore,
)

__all__ = [
    "BIO_CODE_TTL",
    "MAX_PENDING_BIO_CODES_PER_MEMBER",
    "MAX_PENDING_STATES_PER_MEMBER",
    "MEMORY",
    "AttemptGoneError",
    "AuthState",
    "BioCode",
    "DueLink",
    "InvalidKeyError",
    "Link",
    "LinkKind",
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
    "bio_code_digest",
    "generate_key",
    "load_migrations",
    "load_or_create_key_file",
    "state_digest",
]
