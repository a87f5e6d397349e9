"""Imgur's text as Discord would render it: no masked links, headings, lists, quotes or mentions."""

import re

import pytest

from bot import discord_text
from bot.discord_text import block, cut, inline, plain

# A masked link Discord would render: an unescaped "[" ... "](" (an even run of backslashes
# before the "[" escapes only themselves).
MASKED_LINK = re.compile(r"(?<!\\)(?:\\\\)*\[[^\]]*\]\(")
LINE_START_MARKUP = re.compile(r"^(?:#{1,3} |-# |> |>>> |[-*+] |\d+[.)] )", re.MULTILINE)


@pytest.mark.parametrize(
    "text",
    [
        "[free nitro](https://evil.example/login)",
        "[a] [b](https://evil.example)",
        "look [here](<https://evil.example>) now",
        "[**bold**](https://evil.example)",
        "[x]\n(https://evil.example)",
        "[https://imgur.com](https://evil.example)",
        "\\[x](https://evil.example)",
    ],
)
def test_masked_links_never_survive(text):
    for escaped in (block(text, 4096), inline(text, 256)):
        assert not MASKED_LINK.search(escaped), escaped
        assert "evil.example" in escaped  # the text is shown, not dropped


@pytest.mark.parametrize(
    "text",
    [
        "# big",
        "## bigger",
        "### biggest",
        "-# small print",
        "> quoted",
        ">>> quoted to the end",
        "- item",
        "* item",
        "+ item",
        "1. first",
        "2) second",
        "   - indented item",
        "ok\n# heading on line two",
    ],
)
def test_headings_lists_and_quotes_at_line_starts_are_escaped(text):
    escaped = block(text, 4096)
    assert not LINE_START_MARKUP.search(escaped), escaped
    assert "\\ " not in escaped  # no visible backslash before a space (as escape_markdown does)


# "<@id>", "<@&id>", "<#id>", "</command:id>", "<t:...>", "<:emoji:id>" with an unescaped "<".
ANGLE_MENTION = re.compile(r"(?<!\\)(?:\\\\)*<(?:@|#|/|t:|a?:)")


@pytest.mark.parametrize("text", ["@everyone look", "@here", "mail @123456789012345678"])
def test_everyone_here_and_id_mentions_are_broken(text):
    escaped = block(text, 4096)
    assert not re.search(r"@(?:everyone|here|[0-9]{17,20})", escaped), escaped


@pytest.mark.parametrize(
    "text",
    [
        "hi <@123456789012345678>",
        "hi <@!123456789012345678>",
        "role <@&123456789012345678>",
        "run </imgur link:123456789012345678>",
        "see <#123456789012345678>",
        "at <t:1700000000:R>",
        "<:party:123456789012345678>",
    ],
)
def test_angle_bracket_mentions_are_escaped(text):
    escaped = block(text, 4096)
    assert not ANGLE_MENTION.search(escaped), escaped


@pytest.mark.parametrize("mark", ["**", "__", "~~", "||", "`", "```", "*", "_"])
def test_inline_markdown_is_escaped(mark):
    escaped = inline(f"{mark}loud{mark}", 256)
    assert escaped.startswith("\\")
    assert re.sub(r"\\(.)", r"\1", escaped) == f"{mark}loud{mark}"


def test_bare_urls_stay_usable():
    text = "source: https://example.com/some_path_with__underscores?a=1&b=*2*"
    assert "https://example.com/some_path_with__underscores?a=1&b=*2*" in block(text, 4096)


def test_plain_text_is_unchanged():
    assert inline("A cat on a mat", 256) == "A cat on a mat"
    assert block("Line one\nLine two", 4096) == "Line one\nLine two"


def test_invisible_and_control_characters_are_dropped():
    text = "a\u200bl\u202ei\u2066c\x00e\x1b[31m\ufeff"
    assert inline(text, 256) == "alice[31m".replace("[", "\\[")


def test_emoji_sequences_keep_their_joiners():
    assert inline("👩\u200d💻", 256) == "👩\u200d💻"


def test_a_name_of_only_invisible_characters_gets_the_fallback():
    assert inline("\u200b\u200b \u2060", 256, fallback="(none)") == "(none)"
    assert block("\u200b", 1024, fallback="(none)") == "(none)"


def test_whitespace_is_collapsed_and_blank_line_runs_shortened():
    assert inline("a \n\n b\t\tc", 256) == "a b c"
    assert block("a\n\n\n\n\nb  c", 4096) == "a\n\nb c"


@pytest.mark.parametrize("render", [inline, block, plain])
@pytest.mark.parametrize("limit", [1, 2, 10, 256, 1024, 2048, 4096])
def test_every_output_fits_its_limit(render, limit):
    for text in ("x" * 10_000, "*" * 10_000, "[" * 5000, "\\" * 5000, "@everyone " * 900):
        assert len(render(text, limit)) <= limit


def test_a_cut_never_leaves_a_lone_backslash_before_the_ellipsis():
    escaped = inline("*" * 300, 256)
    assert escaped.endswith("…")
    assert not re.search(r"(?<!\\)(?:\\\\)*\\…$", escaped)


def test_footers_are_cleaned_but_not_escaped():
    # Discord renders no markdown in footers: a backslash there would show.
    assert plain("page 1 · *newest* first\u200b", 2048) == "page 1 · *newest* first"


def test_cut_counts_code_points_as_discord_does():
    assert cut("😀" * 300, 256) == "😀" * 255 + "…"
    assert discord_text.TITLE_LIMIT == 256
