"""Hypothesis strategies for outside input: Imgur's JSON, URLs, headers, hostile text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from hypothesis import strategies as st

T = TypeVar("T")


def attempt(call: Callable[[], T], *refusals: type[Exception]) -> T | Exception:
    """What ``call`` returned, or the refusal it raised (anything else propagates)."""
    try:
        return call()
    except refusals as refusal:
        return refusal


# Text that means something to Discord, to a URL parser or to int(): mixed into random text.
NASTY_SNIPPETS = [
    "[x](https://evil.example)", "[a] [b](https://evil.example)", "](", "[", "]", "(", ")",
    "# ", "## ", "### ", "-# ", "> ", ">>> ", "- ", "* ", "+ ", "1. ", "2) ", "\n", "\n\n\n",
    "**", "__", "~~", "||", "`", "```", "\\", "\\\\", "@everyone", "@here",
    "<@123456789012345678>", "<@&123456789012345678>", "<#123456789012345678>",
    "</imgur link:123456789012345678>", "<t:1700000000:R>", "<:e:123456789012345678>",
    "https://example.com/a_b*c*", "http://i.imgur.com/x.jpg", "javascript:alert(1)",
    "\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\x00", "\x1b[31m", "\r\n", "\t",
    "😀", "👩\u200d💻", "²", "١", "--1", "1e999", "9" * 30, "\ud800",
]  # fmt: skip

nasty_text = st.lists(
    st.one_of(st.sampled_from(NASTY_SNIPPETS), st.text(max_size=20)), max_size=12
).map("".join)
texts = st.one_of(st.text(), nasty_text, st.text(min_size=3000, max_size=6000))

huge_integers = st.integers(min_value=-(10**400), max_value=10**400)
integers = st.one_of(
    st.integers(), huge_integers, st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, -(2**63) - 1])
)
floats = st.floats(allow_nan=True, allow_infinity=True)
numeric_strings = st.one_of(
    st.sampled_from(["--1", "-", "+1", "1e999", "1e3", "0x1f", "²", "١٢", " 42 ", "9" * 5000]),
    integers.map(str),
    floats.map(repr),
)
scalars = st.one_of(st.none(), st.booleans(), integers, floats, texts, numeric_strings)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

hosts = st.sampled_from(
    ["i.imgur.com", "imgur.com", "IMGUR.com", "imgur.com.evil.example", "evilimgur.com",
     "example.com", "127.0.0.1", "[::1]", "localhost", "", "a..b", "imgur.com@evil.example"]
)  # fmt: skip
schemes = st.sampled_from(["https://", "http://", "//", "HTTPS://", "ftp://", "javascript:", ""])
paths = st.one_of(st.text(max_size=30), st.sampled_from(["/a.jpg", "/a) [x](https://e)", "/a b"]))
urls = st.one_of(st.builds(lambda s, h, p: s + h + p, schemes, hosts, paths), texts)

ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
good_ids = st.text(alphabet=ALPHANUMERIC, min_size=5, max_size=8)
imgur_ids = st.one_of(
    good_ids, st.text(max_size=70), st.sampled_from(["../x", "a/b", "a?b", "a b", "", "x" * 65])
)
imgur_links = st.builds(
    lambda scheme, host, image_id, ext: f"{scheme}{host}/{image_id}{ext}",
    st.sampled_from(["https://", "http://", "//"]),
    st.sampled_from(["i.imgur.com", "imgur.com", "imgur.com/a", "example.com"]),
    good_ids,
    st.sampled_from([".jpg", ".mp4", ".gifv", "", "l.jpg"]),
)

FAVORITE_TEXT_FIELDS = ("title", "description", "type", "account_url")
FAVORITE_URL_FIELDS = ("mp4", "gifv", "cover")
FAVORITE_NUMBER_FIELDS = (
    "views", "ups", "downs", "points", "score", "width", "height", "datetime", "images_count",
    "cover_width", "cover_height", "size",
)  # fmt: skip
FAVORITE_FLAG_FIELDS = ("nsfw", "is_album", "animated")


def _field(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(values, json_values)


def mostly(usual: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``usual`` four times in five, else ``odd`` (``one_of`` would weigh them equally)."""
    return st.integers(0, 4).flatmap(lambda n: usual if n else odd)


# Mostly usable ids and links (so most items get through to the renderer), sometimes anything.
favorite_items = st.fixed_dictionaries(
    {
        "id": mostly(good_ids, st.one_of(imgur_ids, json_values)),
        "link": mostly(imgur_links, st.one_of(urls, json_values)),
    },
    optional={
        **{key: _field(texts) for key in FAVORITE_TEXT_FIELDS},
        **{key: _field(st.one_of(imgur_links, urls, imgur_ids)) for key in FAVORITE_URL_FIELDS},
        **{key: _field(st.one_of(integers, numeric_strings)) for key in FAVORITE_NUMBER_FIELDS},
        **{key: _field(st.booleans()) for key in FAVORITE_FLAG_FIELDS},
        "tags": json_values,
        "ad_config": json_values,
    },
)
favorites_data = st.one_of(
    st.lists(st.one_of(favorite_items, json_values), max_size=8), json_values
)

accounts = st.fixed_dictionaries(
    {},
    optional={
        "id": _field(integers),
        "url": _field(texts),
        "bio": _field(texts),
        "avatar": _field(urls),
        "reputation": _field(st.one_of(integers, floats)),
        "created": _field(integers),
        "pro_expiration": json_values,
        "user_follow": json_values,
    },
)

token_payloads = st.fixed_dictionaries(
    {},
    optional={
        "access_token": _field(st.one_of(texts, st.text("0123456789abcdef", min_size=40))),
        "refresh_token": _field(texts),
        "expires_in": _field(st.one_of(integers, numeric_strings, floats)),
        "token_type": _field(texts),
        "account_id": _field(st.one_of(integers, numeric_strings)),
        "account_username": _field(texts),
        "scope": json_values,
    },
)

header_values = st.one_of(
    numeric_strings,
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=40),
    st.sampled_from(
        ["Thu, 01 Jan 1970 00:01:40 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 0001 "
         "00:00:00 GMT", "Wed, 99 Foo 2024 99:99:99 GMT", "nan", "-inf", "inf", "1e400", "-5", ""]
    ),
)  # fmt: skip
RATE_LIMIT_HEADERS = (
    "Retry-After", "X-RateLimit-ClientLimit", "X-RateLimit-ClientRemaining",
    "X-RateLimit-UserLimit", "X-RateLimit-UserRemaining", "X-RateLimit-UserReset",
)  # fmt: skip
rate_limit_headers = st.dictionaries(
    st.one_of(st.sampled_from(RATE_LIMIT_HEADERS), st.text(max_size=10)), header_values, max_size=6
)


def query(params: dict[str, str]) -> str:
    return "&".join(
        f"{quote(k, safe='', errors='replace')}={quote(v, safe='', errors='replace')}"
        for k, v in params.items()
    )


redirect_keys = st.sampled_from(
    ["code", "state", "error", "access_token", "refresh_token", "expires_in", "token_type",
     "account_id", "account_username", "x"]
)  # fmt: skip
redirect_params = st.dictionaries(redirect_keys, st.one_of(texts, numeric_strings), max_size=6)
redirect_urls = st.one_of(
    st.builds(
        lambda base, q, f: f"{base}?{query(q)}" + (f"#{query(f)}" if f else ""),
        st.sampled_from(["https://bot.example/oauth/callback", "http://localhost/cb", "", "?"]),
        redirect_params,
        redirect_params,
    ),
    texts,
    st.sampled_from(["http://[", "https://[::1", "://", "#access_token=", "?code=", "=", "?=&="]),
)
