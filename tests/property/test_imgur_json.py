"""Any JSON from Imgur gives a value or a ValueError, and renders into what Discord accepts."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot import discord_text
from bot.imgur import FavoriteAlbum, FavoriteImage, ImgurError, error_from_response
from bot.imgur.parse import error_text, https, parse_account, parse_favorites, parse_tokens
from bot.render import MESSAGE_TOTAL_LIMIT, embed_length, render_favorites, render_item
from tests.fakes.discord_validation import embed_errors
from tests.property.strategies import (
    accounts,
    attempt,
    favorite_items,
    favorites_data,
    json_values,
    rate_limit_headers,
    token_payloads,
)

INT64 = range(-(2**63), 2**63)
MASKED_LINK = re.compile(r"(?<!\\)(?:\\\\)*\[[^\]]*\]\(")
OWN_LINK = "▶ [Play the animation]("
LINE_START_MARKUP = re.compile(r"^(?:#{1,3} |-# |> |[-*+] |\d+[.)] )", re.MULTILINE)
ANGLE_MENTION = re.compile(r"(?<!\\)(?:\\\\)*<(?:@|#|/|t:|a?:)")


def parse_or_refuse(data: Any) -> list[Any] | None:
    items = attempt(lambda: parse_favorites(data), ValueError)
    if isinstance(items, Exception):
        assert not isinstance(data, list), "a list is never refused whole"
        return None
    return items


def assert_safe_markdown(text: str) -> None:
    without_own = text.replace(OWN_LINK, "")
    assert not MASKED_LINK.search(without_own), text
    assert not LINE_START_MARKUP.search(text), text
    assert not ANGLE_MENTION.search(text), text
    assert not re.search(r"@(?:everyone|here)", text), text


@given(favorites_data)
def test_any_listing_parses_into_items_with_bounded_fields(data: Any) -> None:
    items = parse_or_refuse(data)
    for item in items or []:
        assert isinstance(item, FavoriteImage | FavoriteAlbum)
        assert re.fullmatch(r"[A-Za-z0-9]{1,64}", item.id)
        for url in (item.link, getattr(item, "mp4", None), getattr(item, "gifv", None)):
            assert url is None or (url.startswith("https://") and https(url) == url)
        for number in (item.views, item.ups, item.downs, item.points, item.datetime):
            assert number is None or number in INT64
        assert item.nsfw in (True, False, None)
        assert item.title is None or len(item.title) <= 1024
        assert item.description is None or len(item.description) <= 4096


@given(st.lists(favorite_items, max_size=8), st.booleans(), st.text())
def test_any_items_render_into_a_message_discord_accepts(
    data: list[Any], allow_nsfw: bool, footer: str
) -> None:
    items = parse_favorites(data)
    embeds = render_favorites(items, allow_nsfw=allow_nsfw, footer=footer)
    assert len(embeds) == min(len(items), 5)
    assert embed_errors([dict(embed) for embed in embeds]) is None
    assert sum(embed_length(embed) for embed in embeds) <= MESSAGE_TOTAL_LIMIT
    for item, embed in zip(items, embeds, strict=False):
        urls = [embed.get("url"), embed.get("image", {}).get("url")]
        assert all(url is None or url.startswith("https://") for url in urls), urls
        assert_safe_markdown(embed.get("title", ""))
        assert_safe_markdown(embed.get("description", ""))
        if item.nsfw is not False and not allow_nsfw:
            assert embed["title"].startswith("Hidden")
            assert "image" not in embed
            assert "url" not in embed


@given(favorite_items)
def test_a_play_link_only_ever_leads_to_imgur(data: dict[str, Any]) -> None:
    for item in parse_favorites([data]):
        description = render_item(item, allow_nsfw=True).get("description", "")
        for target in re.findall(r"\[Play the animation\]\(([^)]*)\)", description):
            assert re.match(r"https://([a-z0-9-]+\.)*imgur\.com(/|$)", target, re.I), target


@given(st.one_of(accounts, json_values))
def test_any_account_parses_or_is_refused_with_value_error(data: Any) -> None:
    account = attempt(lambda: parse_account(data), ValueError)
    if isinstance(account, Exception):
        return
    assert account.id in INT64
    assert account.username
    assert account.reputation is None or abs(account.reputation) < float("inf")
    assert account.created is None or 0 <= account.created <= 253_402_300_799
    assert account.avatar is None or account.avatar.startswith("https://")
    name = discord_text.inline(account.username, discord_text.FIELD_VALUE_LIMIT, fallback="?")
    assert 0 < len(name) <= discord_text.FIELD_VALUE_LIMIT
    assert_safe_markdown(name)


@given(st.one_of(token_payloads, json_values))
def test_any_token_answer_parses_or_is_refused_with_value_error(data: Any) -> None:
    tokens = attempt(lambda: parse_tokens(data), ValueError)
    if isinstance(tokens, Exception):
        return
    for secret in (tokens.access_token, tokens.refresh_token):
        assert secret is None or re.fullmatch(r"[\x21-\x7e]{1,2048}", secret)
    assert 0 <= tokens.expires_in <= 20 * 365 * 86_400
    tokens.expires_at()  # never overflows
    assert tokens.account_id is None or tokens.account_id in INT64


@given(json_values, st.integers(min_value=100, max_value=599), rate_limit_headers, st.booleans())
def test_any_error_answer_maps_to_an_imgur_error(
    payload: Any, status: int, headers: dict[str, str], token_endpoint: bool
) -> None:
    text = error_text(payload)
    assert text is None or 0 < len(text) <= 200
    error = error_from_response(status, payload, headers, token_endpoint=token_endpoint)
    assert isinstance(error, ImgurError)
