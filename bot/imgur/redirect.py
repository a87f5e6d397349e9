"""Read what Imgur's redirect carried: a ``?code=``, a ``#access_token=`` fragment, or an error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from .models import RedirectGrant, Tokens
from .parse import parse_tokens

_MAX_ERROR_TEXT = 100


def _first(params: dict[str, list[str]], key: str) -> str | None:
    values = params.get(key)
    return values[0] if values and values[0] else None


def grant_from_redirect(url: str) -> RedirectGrant:
    """The grant in a redirect URL; ``ValueError`` (never quoting the URL) if there is none.

    Looks for ``error`` first (query or fragment), then tokens in the fragment, then ``code``
    in the query. ``state`` may sit in the query or the fragment.
    """
    parts = urlsplit(url.strip().strip("<>"))
    query = parse_qs(parts.query)
    fragment = parse_qs(parts.fragment)
    state = _first(query, "state") or _first(fragment, "state")

    error = _first(query, "error") or _first(fragment, "error")
    if error is not None:
        return RedirectGrant(state=state, error=error[:_MAX_ERROR_TEXT])

    if "access_token" in fragment:
        try:
            tokens: Tokens = parse_tokens({key: values[0] for key, values in fragment.items()})
        except ValueError:
            raise ValueError(
                "the redirect's token fragment lacks a usable access_token or expires_in"
            ) from None
        return RedirectGrant(state=state, tokens=tokens)

    code = _first(query, "code")
    if code is not None:
        return RedirectGrant(state=state, code=code)

    raise ValueError("not an Imgur redirect: it carries no code, token or error")
