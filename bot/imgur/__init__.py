"""Async Imgur client: OAuth2 linking, accounts and favorites (Bearer or Client-ID).

Knows nothing of Discord or storage.
"""

from .client import ImgurClient, error_from_response, retry_after
from .errors import (
    ImgurError,
    ImgurNotFound,
    ImgurOddResponse,
    ImgurRequestFailed,
    ImgurUnavailable,
    InvalidAccessToken,
    InvalidClientId,
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
from .parse import parse_tokens
from .redirect import tokens_from_redirect

__all__ = [
    "Account",
    "Favorite",
    "FavoriteAlbum",
    "FavoriteImage",
    "ImgurClient",
    "ImgurError",
    "ImgurNotFound",
    "ImgurOddResponse",
    "ImgurRequestFailed",
    "ImgurUnavailable",
    "InvalidAccessToken",
    "InvalidClientId",
    "InvalidGrant",
    "RateLimit",
    "RateLimited",
    "RedirectGrant",
    "ResponseType",
    "Sort",
    "Tokens",
    "error_from_response",
    "parse_tokens",
    "retry_after",
    "tokens_from_redirect",
]
