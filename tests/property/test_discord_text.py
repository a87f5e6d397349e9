"""Any text through the one escaping module: within the limit, nothing Discord would format."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from bot.discord_text import block, inline, plain
from tests.property.strategies import texts

MASKED_LINK = re.compile(r"(?<!\\)(?:\\\\)*\[[^\]]*\]\(")
LINE_START_MARKUP = re.compile(r"^[ \t]*(?:#{1,3} |-# |> |>>> |[-*+] |\d+[.)] )", re.MULTILINE)
ANGLE_MENTION = re.compile(r"(?<!\\)(?:\\\\)*<(?:@|#|/|t:|a?:)")
UNESCAPED_INLINE = re.compile(r"(?<!\\)(?:\\\\)*(?:\*|_|~|\||`)")
INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
URL = re.compile(r"(?:https?|steam)://[^\s<\[\]()]+[^<.,:;\"'\s\[\]()]")
limits = st.sampled_from([1, 2, 3, 50, 100, 256, 1024, 2048, 4096])


@given(texts, limits)
def test_escaped_text_fits_and_formats_nothing(text: str, limit: int) -> None:
    for render in (inline, block):
        out = render(text, limit)
        assert len(out) <= limit
        assert not MASKED_LINK.search(out), out
        assert not LINE_START_MARKUP.search(out), out
        assert not ANGLE_MENTION.search(out), out
        assert not re.search(r"@(?:everyone|here)\b", out), out
        assert not UNESCAPED_INLINE.search(URL.sub("", out)), out
        assert not INVISIBLE.search(out.replace("@\u200b", "@")), out
    assert "\n" not in inline(text, limit)


@given(texts, limits, st.text(alphabet="abc?() ", min_size=1, max_size=10))
def test_plain_text_fits_and_is_never_empty_with_a_fallback(
    text: str, limit: int, fallback: str
) -> None:
    out = plain(text, limit, fallback=fallback)
    assert len(out) <= limit
    assert not INVISIBLE.search(out)
    assert "\n" not in out
    named = inline(text, max(limit, 16), fallback="(none)")
    assert named.strip()  # a field value Discord would accept


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=300))
def test_plain_ascii_words_pass_through_unchanged(text: str) -> None:
    words = " ".join(re.sub(r"[^A-Za-z0-9 ]", " ", text).split())
    assert inline(words, 4096) == words


def test_a_long_number_before_a_dot_is_escaped_too() -> None:
    # Found by hypothesis: a ten-digit "0000000000. 0" was left as a list marker.
    for render in (inline, block):
        assert not LINE_START_MARKUP.search(render("0000000000. 0", 100))
