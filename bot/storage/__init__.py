"""Persistence: members' Imgur links, authorization states and profile (bio) codes.

Knows nothing of Discord or HTTP. Services depend on :class:`Store` (the Protocol);
:class:`LinkStore` implements it over the SQLite or the PostgreSQL backend, chosen by
``storage.database``.
"""

from .crypto import (
    TokenCipher,
    bio_code_digest,
    generate_key,
    key_fingerprint,
    load_or_create_key_file,
    state_digest,
)
from .errors import (
    AttemptGoneError,
    DatabaseUnavailableError,
    InvalidKeyError,
    LeaseLostError,
    LinkNotFoundError,
    MigrationError,
    SchemaTooNewError,
    StorageError,
    TokenDecryptError,
)
from .migrate import Migration, apply_migrations, load_migrations
from .models import AuthState, BioCode, DueLink, Link, LinkKind, LinkStatus, StoreStats
from .protocol import Store
from .refresh import RefreshRule
from .sqlite import MEMORY
from .store import (
    AUTH_STATE_TTL,
    BIO_CODE_TTL,
    DEFAULT_POOL_SIZE,
    MAX_PENDING_BIO_CODES_PER_MEMBER,
    MAX_PENDING_STATES_PER_MEMBER,
    LinkStore,
    is_postgres_url,
)

__all__ = [
    "AUTH_STATE_TTL",
    "BIO_CODE_TTL",
    "DEFAULT_POOL_SIZE",
    "MAX_PENDING_BIO_CODES_PER_MEMBER",
    "MAX_PENDING_STATES_PER_MEMBER",
    "MEMORY",
    "AttemptGoneError",
    "AuthState",
    "BioCode",
    "DatabaseUnavailableError",
    "DueLink",
    "InvalidKeyError",
    "LeaseLostError",
    "Link",
    "LinkKind",
    "LinkNotFoundError",
    "LinkStatus",
    "LinkStore",
    "Migration",
    "MigrationError",
    "RefreshRule",
    "SchemaTooNewError",
    "StorageError",
    "Store",
    "StoreStats",
    "TokenCipher",
    "TokenDecryptError",
    "apply_migrations",
    "bio_code_digest",
    "generate_key",
    "is_postgres_url",
    "key_fingerprint",
    "load_migrations",
    "load_or_create_key_file",
    "state_digest",
]
