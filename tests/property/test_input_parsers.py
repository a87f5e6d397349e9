"""Every other parser of outside input: pasted PINs and redirects, rate-limit headers, config."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ENV_OVERRIDES, Config, ConfigError, parse_config
from bot.errors import AuthorizationDenied, InvalidLinkInput
from bot.imgur import RedirectGrant, grant_from_redirect, retry_after
from bot.imgur.parse import parse_rate_limit
from bot.linking import MAX_INPUT_LENGTH, LinkInput, parse_link_input
from tests.property.strategies import (
    attempt,
    nasty_text,
    numeric_strings,
    rate_limit_headers,
    redirect_urls,
    texts,
)

# --- what a member pastes into /imgur pin or the PIN modal -----------------------------------

pastes = st.one_of(
    redirect_urls,
    texts,
    st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=200),
    st.text(min_size=MAX_INPUT_LENGTH - 2, max_size=MAX_INPUT_LENGTH + 2),
)


@given(pastes)
def test_a_paste_is_a_link_input_or_a_clear_refusal(text: str) -> None:
    parsed = attempt(lambda: parse_link_input(text), InvalidLinkInput, AuthorizationDenied)
    if isinstance(parsed, Exception):
        assert len(str(parsed)) < 300  # a short message, never the paste itself echoed long
        return
    assert isinstance(parsed, LinkInput)
    assert (parsed.bare_value is None) != (parsed.redirect is None)
    if parsed.bare_value is not None:
        assert parsed.bare_value.isascii()
        assert 4 <= len(parsed.bare_value) <= 128
    grant = parsed.redirect
    if grant is not None:
        assert grant.error is None  # a denial is AuthorizationDenied
        assert grant.code is not None or grant.tokens is not None


@given(redirect_urls)
def test_a_redirect_is_a_grant_or_a_value_error(url: str) -> None:
    grant = attempt(lambda: grant_from_redirect(url), ValueError)
    if isinstance(grant, Exception):
        assert url not in str(grant) or len(url) < 3  # never quotes the URL back
        return
    assert isinstance(grant, RedirectGrant)
    assert grant.error is None or len(grant.error) <= 100
    if grant.tokens is not None:
        assert grant.tokens.access_token.isascii()
        grant.tokens.expires_at()


# --- rate-limit headers ----------------------------------------------------------------------


@given(rate_limit_headers, st.floats(min_value=0, max_value=4e9))
def test_retry_after_is_unknown_or_between_now_and_a_day(
    headers: dict[str, str], now: float
) -> None:
    seconds = retry_after(headers, now=now)
    assert seconds is None or 0.0 <= seconds <= 86_400.0


@given(rate_limit_headers)
def test_rate_limit_headers_give_bounded_numbers_or_none(headers: dict[str, str]) -> None:
    limit = parse_rate_limit(headers)
    if limit is None:
        return
    for value in dataclasses.astuple(limit):
        assert value is None or -(2**63) <= value < 2**63


# --- config files ----------------------------------------------------------------------------

SECTION_FIELDS = {
    section.name: [key.name for key in dataclasses.fields(getattr(Config(), section.name))]
    for section in dataclasses.fields(Config)
}
CONFIG_WORDS = [
    "auto", "global", "guild:12", "guild:²", "off", "pin", "code", "token", "bio", "oauth",
    "oauth,bio", "http://[", "https://example.com", "ws://x", "wss://", "0,1", "1,1", "DEBUG",
    "json", "0", "1", "yes", "no",
]  # fmt: skip
toml_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(),
    texts,
    numeric_strings,
    st.sampled_from(CONFIG_WORDS),
    st.datetimes(),
    st.dates(),
    st.times(),
)
# Strings that break int(), urlsplit() or a digit check, given as often as all the rest.
tricky_strings = st.sampled_from(
    ["²", "١٢", "guild:²", "guild:١", "guild:0", "guild:-1", "http://[", "https://[::1",
     "http://[::1]:99999", "wss://[", "²,1", "0,²", " ", "", "auto ", "-1", "1e400", "nan"]
)  # fmt: skip
toml_values = st.one_of(
    tricky_strings,
    toml_scalars,
    st.lists(st.one_of(tricky_strings, toml_scalars), max_size=4),
    st.dictionaries(st.text(max_size=8), toml_scalars, max_size=3),
)
ALL_KEYS = [(section, key) for section, keys in SECTION_FIELDS.items() for key in keys]


@st.composite
def config_files(draw: st.DrawFn) -> dict[str, Any]:
    """A parsed TOML document: known sections and keys mostly, with random values."""
    raw: dict[str, Any] = {}
    for section, keys in SECTION_FIELDS.items():
        if draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(keys), max_size=len(keys), unique=True))
            raw[section] = {key: draw(toml_values) for key in chosen}
    if draw(st.integers(0, 9)) == 0:
        raw[draw(st.text(max_size=8))] = draw(toml_values)  # an unknown or non-table section
    return raw


SECRET_VARS = ("DISCORD_TOKEN", "IMGUR_CLIENT_ID", "IMGUR_CLIENT_SECRET", "BOT_ENCRYPTION_KEY")
environments = st.builds(
    lambda plain, secrets: {**plain, **secrets},
    st.dictionaries(
        st.sampled_from(sorted(set(ENV_OVERRIDES) - set(SECRET_VARS))),
        st.one_of(nasty_text, numeric_strings, st.sampled_from(["auto", "1", "0,1", "pin", "bio"])),
        max_size=4,
    ),
    st.dictionaries(
        st.sampled_from(SECRET_VARS),
        st.text("0123456789abcdef", min_size=8, max_size=40).map("s3cr3t-".__add__),
        max_size=2,
    ),
)


@given(config_files(), environments)
def test_any_config_file_gives_a_config_or_a_config_error(
    raw: dict[str, Any], env: dict[str, str]
) -> None:
    config = attempt(lambda: parse_config(raw, env), ConfigError)
    if isinstance(config, Exception):
        assert str(config)
        assert "s3cr3t-" not in str(config)  # a secret's value is never quoted
        return
    assert isinstance(config, Config)
    assert config.discord.sync_guild_id is None or config.discord.sync_guild_id > 0


@given(st.sampled_from(ALL_KEYS), toml_values, st.sampled_from([{}, {"shard_count": 4}]))
def test_any_value_of_any_one_key_gives_a_config_or_a_config_error(
    where: tuple[str, str], value: Any, discord_extra: dict[str, Any]
) -> None:
    section, key = where
    raw: dict[str, Any] = {section: {key: value}}
    if section == "discord" and key != "shard_count":
        raw["discord"].update(discord_extra)
    outcome = attempt(lambda: parse_config(raw, {}), ConfigError)
    assert isinstance(outcome, Config | ConfigError)


def test_the_config_strategy_reaches_both_outcomes() -> None:
    """Guards the properties above: both a Config and a ConfigError must be reachable."""
    assert isinstance(parse_config({"web": {"port": 8081}}, {}), Config)
    with pytest.raises(ConfigError, match=r"web\.port"):
        parse_config({"web": {"port": dt.time(1, 2)}}, {})
