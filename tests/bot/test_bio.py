"""Profile codes: their shape, finding them as whole words, usernames, the check limit."""

from __future__ import annotations

import re

import pytest

from bot.bio import (
    CODE_ALPHABET,
    BioChallenge,
    CheckLimiter,
    codes_in,
    generate_code,
    parse_username,
)
from bot.errors import InvalidUsername, TooManyChecks

SHAPE = re.compile(r"imgur-link-[A-Z0-9]{4}-[A-Z0-9]{4}")


def test_codes_are_short_unambiguous_and_random() -> None:
    codes = {generate_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert SHAPE.fullmatch(code)
        assert set(code.removeprefix("imgur-link-").replace("-", "")) <= set(CODE_ALPHABET)
    assert not set("01ILOU") & set(CODE_ALPHABET)


def test_a_challenge_never_shows_its_code() -> None:
    from datetime import UTC, datetime

    challenge = BioChallenge(1, "alice", "attempt-ref", datetime.now(UTC), code=generate_code())
    assert challenge.code not in repr(challenge)


@pytest.mark.parametrize(
    ("bio", "found"),
    [
        ("imgur-link-7KQ2-M9XD", ["imgur-link-7KQ2-M9XD"]),
        ("Hi! imgur-link-7kq2-m9xd.", ["imgur-link-7KQ2-M9XD"]),
        (
            "(imgur-link-7KQ2-M9XD)\nimgur-link-AAAA-BBBB",
            ["imgur-link-7KQ2-M9XD", "imgur-link-AAAA-BBBB"],
        ),
        ("**imgur-link-7KQ2-M9XD**", ["imgur-link-7KQ2-M9XD"]),
        ("xximgur-link-7KQ2-M9XD", []),
        ("imgur-link-7KQ2-M9XDyy", []),
        ("my-imgur-link-7KQ2-M9XD", []),
        ("imgur-link-7KQ2-M9XD-2", []),
        ("imgur-link-7KQ2-M9XD_", []),
        ("imgur-link-7KQ2M9XD", []),
        ("imgur-link-7KQ2-M9XDE", []),
        ("", []),
        (None, []),
    ],
)
def test_codes_are_found_only_as_whole_words(bio: str | None, found: list[str]) -> None:
    assert codes_in(bio) == found


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Alice_Imgur", "Alice_Imgur"),
        ("  @alice  ", "alice"),
        ("https://imgur.com/user/Alice", "Alice"),
        ("imgur.com/user/Alice/favorites", "Alice"),
        ("https://m.imgur.com/user/Alice?x=1", "Alice"),
    ],
)
def test_usernames_are_read_from_names_and_profile_addresses(text: str, name: str) -> None:
    assert parse_username(text) == name


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("not a name!", "does not look like"),
        ("a" * 64, "too long"),
        ("https://example.com/user/alice", "not an Imgur profile"),
        ("https://imgur.com/gallery/abc", "not an Imgur profile"),
        ("ålice", "does not look like"),
    ],
)
def test_bad_usernames_are_refused_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(InvalidUsername, match=why):
        parse_username(text)


def test_the_check_limit_is_per_member_and_slides() -> None:
    now = [1000.0]
    limiter = CheckLimiter(2, window=3600, monotonic=lambda: now[0])
    limiter.take(1)
    now[0] += 10
    limiter.take(1)
    limiter.take(2)
    with pytest.raises(TooManyChecks) as caught:
        limiter.take(1)
    assert caught.value.limit == 2
    assert caught.value.retry_after == pytest.approx(3590)
    now[0] += 3591
    limiter.take(1)  # the first check has left the window
    with pytest.raises(TooManyChecks):
        limiter.take(1)


def test_the_check_limit_refuses_a_nonsense_configuration() -> None:
    with pytest.raises(ValueError, match="limit"):
        CheckLimiter(0)
