"""Outside text (Imgur titles, descriptions, usernames) made safe to show in Discord.

The one place every renderer goes through, so nobody who posts on Imgur can put masked links,
headings, lists, quotes, spoilers, code blocks or mentions into a channel under the bot's name.

What Discord renders where (its embed docs and the API issues about them):
- descriptions, field values and message content: full markdown, masked links ``[x](url)``,
  headings ``#``/``##``/``###``, subtext ``-#``, lists, block quotes, mentions;
- titles and field names: inline markdown only (no masked links, no headings);
- footers and author names: no markdown at all, so escaping there would show backslashes.

:func:`inline` (titles, field names, a name inside a sentence) and :func:`block`
(descriptions, field values) escape; :func:`plain` (footers, author names) only cleans. All
three drop control and invisible format characters (zero-width spaces, bidi overrides), collapse
whitespace and cut to the limit given, counted in code points as Discord counts.

``discord.utils.escape_markdown`` alone is not enough: it escapes only the first ``[`` of a
line holding a masked link (``[a] [b](https://evil)`` keeps the second link), leaves ordered
lists, ``+`` lists and ``<`` (command and channel mentions) alone, and puts a visible backslash
before indented list markers. So escaping is done here, keeping bare URLs intact the way
discord.py does; ``discord.utils.escape_mentions`` still breaks ``@everyone`` and ``@id``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import discord

# Discord's limits, in code points (docs/discord-notes.md#messages-embeds-and-components-limits).
TITLE_LIMIT: Final = 256
DESCRIPTION_LIMIT: Final = 4096
FIELD_NAME_LIMIT: Final = 256
FIELD_VALUE_LIMIT: Final = 1024
FOOTER_LIMIT: Final = 2048
AUTHOR_NAME_LIMIT: Final = 256
CONTENT_LIMIT: Final = 2000
MESSAGE_EMBEDS_LIMIT: Final = 6000

ELLIPSIS: Final = "…"
_ZWJ: Final = "\u200d"  # joins emoji sequences (👩‍💻): the one format character kept
# A bare URL Discord turns into a link; its characters are left as they are (as discord.py does),
# except that brackets and parentheses end it here, so they are always escaped.
_URL: Final = re.compile(r"(?:https?|steam)://[^\s<\[\]()]+[^<.,:;\"'\s\[\]()]")
# Characters that start markdown anywhere in a line.
_INLINE_MARKUP: Final = re.compile(r"[\\*_~|`\[\]<]")
# Markers that mean something only at the start of a line (after any indentation).
_LINE_START_MARKUP: Final = re.compile(r"^([ \t]*)(#|>|-|\+|\d+(?=[.)]))", re.MULTILINE)
_SPACES: Final = re.compile(r"[^\S\n]+")
_BLANK_LINES: Final = re.compile(r"\n{3,}")
_TRAILING_BACKSLASHES: Final = re.compile(r"\\+$")


def _visible_char(char: str) -> bool:
    category = unicodedata.category(char)
    if category == "Cf":
        return char == _ZWJ
    return category not in ("Cc", "Cs")  # controls and lone surrogates (newlines come back later)


def _clean(text: str, *, multiline: bool, budget: int) -> str:
    """Without invisible characters, whitespace collapsed; at most ``budget`` code points read."""
    text = text[:budget].replace("\r\n", "\n").replace("\r", "\n")
    lines = ("".join(c for c in line if c == "\t" or _visible_char(c)) for line in text.split("\n"))
    if not multiline:
        return " ".join(" ".join(lines).split())
    collapsed = "\n".join(_SPACES.sub(" ", line).strip() for line in lines)
    return _BLANK_LINES.sub("\n\n", collapsed).strip()


def _escape(text: str) -> str:
    """Markdown and mentions escaped; bare URLs left whole so they still work."""
    parts: list[str] = []
    position = 0
    for url in _URL.finditer(text):
        parts.append(_INLINE_MARKUP.sub(r"\\\g<0>", text[position : url.start()]))
        parts.append(url.group())
        position = url.end()
    parts.append(_INLINE_MARKUP.sub(r"\\\g<0>", text[position:]))
    escaped = _LINE_START_MARKUP.sub(_escape_marker, "".join(parts))
    return discord.utils.escape_mentions(escaped)


def _escape_marker(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1." or "1)": escape the dot, not the number
        return f"{indent}{marker}\\"
    return f"{indent}\\{marker}"


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` code points, ending with an ellipsis when it was cut.

    A cut never leaves a lone backslash at the end, which would escape the ellipsis.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    head = text[: limit - 1].rstrip()
    trailing = _TRAILING_BACKSLASHES.search(head)
    if trailing is not None and len(trailing.group()) % 2:
        head = head[:-1].rstrip()
    return head + ELLIPSIS


def inline(text: str | None, limit: int, *, fallback: str = "") -> str:
    """Outside text for a title, a field name or inside a sentence: one line, escaped, cut."""
    cleaned = _clean(text or "", multiline=False, budget=limit * 4 + 64)
    return cut(_escape(cleaned), limit) if cleaned else cut(fallback, limit)


def block(text: str | None, limit: int, *, fallback: str = "") -> str:
    """Outside text for a description or a field value: lines kept, escaped, cut."""
    cleaned = _clean(text or "", multiline=True, budget=limit * 4 + 64)
    return cut(_escape(cleaned), limit) if cleaned else cut(fallback, limit)


def plain(text: str | None, limit: int, *, fallback: str = "") -> str:
    """Outside text for a footer or an author name, where Discord renders no markdown."""
    cleaned = _clean(text or "", multiline=False, budget=limit * 4 + 64)
    return cut(cleaned or fallback, limit)
