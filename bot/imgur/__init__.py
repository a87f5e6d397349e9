"""Async Imgur client: OAuth2 linking, the linked account and its favorites.

Knows nothing of Discord or storage.
"""

from .client import ImgurClient, error_from_response, retry_after
from .errors import (
    ImgurError,
    ImgurOddResponse,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidGrant,
    RateLimited,
)
from .models import (
    Account,
    Favorite,
    FavoriteAlbum,
    FavoriteImage,
    RateLimit,
    RedirectGrant,
    ResponseType,
    Sort,
    Tokens,
)
from .redirect import tokens_from_redirect

__all__ = [
    "Account",
    "Favorite",
    "FavoriteAlbum",
    "FavoriteImage",
    "ImgurClient",
    "ImgurError",
    "ImgurOddResponse",
    "ImgurRequestFailed",
    "ImgurUnavailable",
    "InvalidAccessToken",
    "InvalidGrant",
    "RateLimit",
    "RateLimited",
    "RedirectGrant",
    "ResponseType",
    "Sort",
    "Tokens",
    "error_from_response",
    "retry_after",
    "tokens_from_redirect",
]
