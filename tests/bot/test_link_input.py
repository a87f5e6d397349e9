import pytest

from bot.errors import AuthorizationDenied, InvalidLinkInput
from bot.linking import MAX_INPUT_LENGTH, parse_link_input


def test_bare_pin_is_accepted():
    assert parse_link_input("  a1b2c3d4e5  ").bare_value == "a1b2c3d4e5"


def test_redirect_with_code_carries_code_and_state():
    parsed = parse_link_input("https://example.org/cb?code=abcdef123&state=xyz")
    assert parsed.redirect is not None
    assert parsed.redirect.code == "abcdef123"
    assert parsed.redirect.state == "xyz"


def test_redirect_with_token_fragment_carries_tokens():
    url = (
        "https://example.org/cb?state=s1#access_token=" + "a" * 40 + "&expires_in=3600"
        "&token_type=bearer&refresh_token=" + "b" * 40 + "&account_username=bob&account_id=7"
    )
    parsed = parse_link_input(url)
    assert parsed.redirect is not None
    assert parsed.redirect.tokens is not None
    assert parsed.redirect.tokens.account_username == "bob"
    assert parsed.redirect.state == "s1"


def test_query_string_alone_is_accepted():
    parsed = parse_link_input("?code=abcdef123&state=xyz")
    assert parsed.redirect is not None
    assert parsed.redirect.code == "abcdef123"


def test_denied_redirect_says_so():
    with pytest.raises(AuthorizationDenied):
        parse_link_input("https://example.org/cb?error=access_denied&state=xyz")


@pytest.mark.parametrize(
    "text", ["", "   ", "pin with spaces", "<script>", "x" * (MAX_INPUT_LENGTH + 1), "ab"]
)
def test_malformed_input_is_refused_before_imgur(text):
    with pytest.raises(InvalidLinkInput):
        parse_link_input(text)


def test_address_without_code_or_token_is_refused():
    with pytest.raises(InvalidLinkInput):
        parse_link_input("https://example.org/cb?foo=bar")


def test_too_long_input_says_the_limit():
    with pytest.raises(InvalidLinkInput, match="at most 512"):
        parse_link_input("a" * 600)
