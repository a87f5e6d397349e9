"""Persistence: members' Imgur links and authorization states. Knows nothing of Discord or HTTP.

Services depend on :class:`Store` (the Protocol); :class:`LinkStore` implements it over the
SQLite or the PostgreSQL backend, chosen by ``storage.database``.
"""

from .crypto import (
    TokenCipher,
    generate_key,
    key_fingerprint,
    load_or_create_key_file,
    state_digest,
)
from .errors import (
    InvalidKeyError,
    LinkNotFoundError,
    MigrationError,
    SchemaTooNewError,
    StorageError,
    TokenDecryptError,
)
from .migrate import Migration, apply_migrations, load_migrations
from .models import AuthState, DueLink, Link, LinkStatus, StoreStats
from .protocol import Store
from .refresh import RefreshRule
from .sqlite import MEMORY
from .store import DEFAULT_POOL_SIZE, MAX_PENDING_STATES_PER_MEMBER, LinkStore, is_postgres_url

__all__ = [
    "DEFAULT_POOL_SIZE",
    "MAX_PENDING_STATES_PER_MEMBER",
    "MEMORY",
    "AuthState",
    "DueLink",
    "InvalidKeyError",
    "Link",
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
    "generate_key",
    "is_postgres_url",
    "key_fingerprint",
    "load_migrations",
    "load_or_create_key_file",
    "state_digest",
]
