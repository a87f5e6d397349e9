"""grant_from_redirect: what a pasted or received redirect URL carried."""

from __future__ import annotations

import pytest

from bot.imgur import grant_from_redirect

ACCESS = "4f3c1a9b8e7d6c5b4a39281706f5e4d3c2b1a098"
REFRESH = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
CODE = "0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d"


def test_code_and_state_are_read_from_the_query() -> None:
    grant = grant_from_redirect(f"https://bot.example/imgur/callback?code={CODE}&state=s1")

    assert (grant.code, grant.state, grant.tokens, grant.error) == (CODE, "s1", None, None)


def test_tokens_are_read_from_the_fragment() -> None:
    grant = grant_from_redirect(
        "https://bot.example/cb?state=s2#access_token="
        f"{ACCESS}&expires_in=315360000&token_type=bearer&refresh_token={REFRESH}"
        "&account_username=alice&account_id=123"
    )

    assert grant.state == "s2"
    assert grant.tokens is not None
    assert (grant.tokens.access_token, grant.tokens.refresh_token) == (ACCESS, REFRESH)
    assert (grant.tokens.expires_in, grant.tokens.account_username) == (315_360_000, "alice")
    assert grant.tokens.account_id == 123


def test_state_may_sit_in_the_fragment() -> None:
    grant = grant_from_redirect(f"https://x/cb#access_token={ACCESS}&expires_in=3600&state=s3")

    assert grant.state == "s3"


def test_denial_is_an_error_with_its_state() -> None:
    grant = grant_from_redirect("https://x/cb?error=access_denied&state=s4")

    assert (grant.error, grant.state, grant.code, grant.tokens) == (
        "access_denied",
        "s4",
        None,
        None,
    )


def test_error_wins_over_a_code() -> None:
    grant = grant_from_redirect(f"https://x/cb?code={CODE}&error=access_denied")

    assert (grant.error, grant.code) == ("access_denied", None)


def test_surrounding_whitespace_and_angle_brackets_are_ignored() -> None:
    grant = grant_from_redirect(f"  <https://x/cb?code={CODE}&state=s5>\n")

    assert (grant.code, grant.state) == (CODE, "s5")


def test_missing_state_is_none() -> None:
    assert grant_from_redirect(f"https://x/cb?code={CODE}").state is None


@pytest.mark.parametrize(
    "url",
    [
        "",
        "hello",
        "https://imgur.com/gallery/abc",
        "https://x/cb?code=&state=s",
        f"https://x/cb?state={CODE}",
    ],
)
def test_url_without_a_grant_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="not an Imgur redirect"):
        grant_from_redirect(url)


def test_token_fragment_without_lifetime_is_refused_without_quoting_the_token() -> None:
    with pytest.raises(ValueError, match="expires_in") as caught:
        grant_from_redirect(f"https://x/cb#access_token={ACCESS}&expires_in=soon")

    assert ACCESS not in str(caught.value)
