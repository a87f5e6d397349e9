"""Favorites paging that keeps nothing in memory: every button carries its state in its custom id.

A favorites message has Previous / Next / Go to page buttons and, when browsed privately, a
select to share one of the shown favorites in the channel. Each custom id holds the owner, the
link kind, the sort, the Imgur page and the offset (:class:`PagerState`); the items classes are
registered once (``bot.add_dynamic_items``), so a press works on any message ever sent, after
restarts too, and fetches through the page cache. Nothing per message lives in the bot.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import discord

from bot import discord_text
from bot.favorites import ITEMS_PER_MESSAGE, FavoritesWindow
from bot.i18n import N_, Texts
from bot.imgur import Favorite, Sort
from bot.linking import Link, LinkKind
from bot.render import is_hidden, render_favorites, render_item, truncate
from cogs.i18n import texts_for
from cogs.places import Place
from cogs.replies import reply_privately, report_error

if TYPE_CHECKING:
    from bot.app import ImgurBot

log = logging.getLogger(__name__)

MAX_PAGE = 1000
LAST_OFFSET = 999  # past any Imgur page (about 60 items): the page's last window
KIND_CODES = {LinkKind.OAUTH: "o", LinkKind.BIO: "b"}
_SORT_CODES = {Sort.NEWEST: "n", Sort.OLDEST: "o"}
_SORTS = {code: sort for sort, code in _SORT_CODES.items()}
_PREFIX = "imgur:fav:"  # then the action (p, n, g, or s for the share menu) and the state
_STATE = (
    r"(?P<owner>[0-9]{1,20}):(?P<kind>[ob]):(?P<sort>[no]):"
    r"(?P<page>[0-9]{1,4}):(?P<offset>[0-9]{1,3})"
)
_ITEM_VALUE = re.compile(r"(?P<index>[0-9]{1,3}):(?P<id>[A-Za-z0-9]{1,32})")
SELECT_LABEL_LIMIT = 100
NOT_YOUR_PAGER = N_(
    "These buttons belong to the member who ran the command. "
    "Run `/imgur favorites` yourself to browse your own favorites."
)


@dataclass(frozen=True, slots=True)
class PagerState:
    """What one favorites message shows; fits in a custom id (at most 100 characters)."""

    owner: int
    kind: str  # a value of KIND_CODES
    sort: Sort
    page: int  # Imgur page, from 0
    offset: int

    def custom_id(self, action: str) -> str:
        return (
            f"{_PREFIX}{action}:{self.owner}:{self.kind}:{_SORT_CODES[self.sort]}:"
            f"{self.page}:{self.offset}"
        )

    @classmethod
    def from_match(cls, match: re.Match[str]) -> PagerState:
        return cls(
            owner=int(match["owner"]),
            kind=match["kind"],
            sort=_SORTS[match["sort"]],
            page=min(int(match["page"]), MAX_PAGE - 1),
            offset=int(match["offset"]),
        )

    def at(self, window: FavoritesWindow) -> PagerState:
        return replace(self, sort=window.sort, page=window.page, offset=window.offset)

    def following(self, window: FavoritesWindow) -> PagerState:
        """Where Next goes: later in this Imgur page, else the start of the next one."""
        if window.offset + ITEMS_PER_MESSAGE < window.page_size:
            return replace(self, offset=window.offset + ITEMS_PER_MESSAGE)
        return replace(self, page=min(window.page + 1, MAX_PAGE - 1), offset=0)

    def preceding(self, window: FavoritesWindow) -> PagerState:
        """Where Previous goes: earlier in this page, else the last window of the page before."""
        if window.offset > 0:
            return replace(self, offset=max(0, window.offset - ITEMS_PER_MESSAGE))
        return replace(self, page=max(0, window.page - 1), offset=LAST_OFFSET)


def link_kind_code(link: Link) -> str:
    """The one-letter code of a link's kind in custom ids."""
    return KIND_CODES[link.kind]


def footer_text(texts: Texts, window: FavoritesWindow) -> str:
    """ "Imgur page 2 · 6–10 of 60 · newest first", in the member's language."""
    order = texts("newest first") if window.sort is Sort.NEWEST else texts("oldest first")
    text = texts(
        "Imgur page {page} · {first}–{last} of {total} · {order}",
        page=texts.number(window.page + 1),
        first=texts.number(window.offset + 1),
        last=texts.number(window.offset + len(window.items)),
        total=texts.number(window.page_size),
        order=order,
    )
    if window.public_only:
        # A bio link reads with the client id alone: hidden or private favorites never come.
        text += " · " + texts("your public gallery favorites only")
    return text


def favorites_message(
    bot: ImgurBot,
    texts: Texts,
    state: PagerState,
    window: FavoritesWindow,
    *,
    place: Place,
    private: bool,
    at_end: bool = False,
) -> tuple[list[discord.Embed], discord.ui.View]:
    """The embeds and the (stateless) buttons of one favorites message."""
    state = state.at(window)
    payloads = render_favorites(
        window.items,
        allow_nsfw=place.allows_nsfw,
        footer=footer_text(texts, window),
        texts=texts,
    )
    embeds = [discord.Embed.from_dict(dict(payload)) for payload in payloads]
    view = discord.ui.View(timeout=None)
    last = at_end or bot.favorites.known_last(state.owner, window)
    # Previous and Next carry where they lead, so a press costs one page fetch at most.
    view.add_item(
        PagerButton.make(texts, state.preceding(window), "p", disabled=not window.has_previous)
    )
    view.add_item(
        PagerButton.make(texts, state.following(window), "n", disabled=last or not window.has_next)
    )
    view.add_item(PagerButton.make(texts, state, "g"))
    if private and not place.bot_dm:
        shareable = [
            (state.offset + index, item)
            for index, item in enumerate(window.items)
            if not is_hidden(item, allow_nsfw=place.allows_nsfw)
        ]
        if shareable:
            view.add_item(ShareSelect.make(texts, state, shareable))
    return embeds, view


async def _owner_only(interaction: discord.Interaction, owner: int) -> bool:
    if interaction.user.id == owner:
        return True
    texts = texts_for(interaction)
    await reply_privately(interaction, texts(NOT_YOUR_PAGER))
    return False


async def _current_window(
    bot: ImgurBot, interaction: discord.Interaction, state: PagerState
) -> FavoritesWindow | None:
    """The window ``state`` names; None (and a private note) when the link changed kind."""
    link = await bot.tokens.linked(state.owner)
    if link_kind_code(link) != state.kind:
        texts = texts_for(interaction)
        await reply_privately(
            interaction,
            texts("Your Imgur link changed since this message. Run `/imgur favorites` again."),
        )
        return None
    return await bot.favorites.window(state.owner, state.sort, state.page, state.offset)


async def show_window(
    interaction: discord.Interaction,
    state: PagerState,
    window: FavoritesWindow,
    *,
    at_end: bool = False,
) -> None:
    """Edit the message the interaction came from to show ``window``."""
    bot: ImgurBot = interaction.client  # type: ignore[assignment]
    message = interaction.message
    private = bool(message is not None and message.flags.ephemeral)
    embeds, view = favorites_message(
        bot,
        texts_for(interaction),
        state,
        window,
        place=Place.of(interaction),
        private=private,
        at_end=at_end,
    )
    await interaction.edit_original_response(embeds=embeds, view=view)


class PagerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=re.escape(_PREFIX) + r"(?P<action>[png]):" + _STATE,
):
    """Previous (p), Next (n) and Go to page (g) of a favorites message."""

    def __init__(self, state: PagerState, action: str, button: discord.ui.Button[Any]) -> None:
        super().__init__(button)
        self.state = state
        self.action = action

    @classmethod
    def make(
        cls, texts: Texts, state: PagerState, action: str, *, disabled: bool = False
    ) -> PagerButton:
        label, emoji = {
            "p": (texts("Previous"), "◀"),
            "n": (texts("Next"), "▶"),
            "g": (texts("Go to page…"), None),
        }[action]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label,
            emoji=emoji,
            style=discord.ButtonStyle.secondary,
            custom_id=state.custom_id(action),
            disabled=disabled,
            row=0,
        )
        return cls(state, action, button)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PagerButton:
        assert isinstance(item, discord.ui.Button)
        return cls(PagerState.from_match(match), match["action"], item)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await _owner_only(interaction, self.state.owner)

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            if self.action == "g":
                await interaction.response.send_modal(GoToPageModal(texts_for(interaction), self))
                return
            await self._move(interaction)
        except Exception as error:  # discord.py only logs what escapes a dynamic item
            await report_error(interaction, error)

    async def _move(self, interaction: discord.Interaction) -> None:
        bot: ImgurBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer()
        target = await _current_window(bot, interaction, self.state)
        if target is None:
            return
        if target.items:
            await show_window(interaction, self.state, target)
            return
        texts = texts_for(interaction)
        if self.action == "n" and self.state.offset == 0 and self.state.page > 0:
            # Past the last favorite: keep showing the last window, with Next now disabled.
            last = replace(self.state, page=self.state.page - 1, offset=LAST_OFFSET)
            current = await bot.favorites.window(last.owner, last.sort, last.page, last.offset)
            if current.items:
                await show_window(interaction, last, current, at_end=True)
            await reply_privately(interaction, texts("That was the last of your favorites."))
            return
        await reply_privately(
            interaction,
            texts(
                "There are no favorites on page {page}.",
                page=texts.number(self.state.page + 1),
            ),
        )


class GoToPageModal(discord.ui.Modal):
    """Asks for an Imgur page number; the message then shows that page."""

    def __init__(self, texts: Texts, button: PagerButton) -> None:
        super().__init__(title=texts("Go to a page"), timeout=600)
        self.state = button.state
        self.page: discord.ui.TextInput[GoToPageModal] = discord.ui.TextInput(
            label=texts("Imgur page (1–{last})", last=MAX_PAGE),
            placeholder=str(self.state.page + 1),
            min_length=1,
            max_length=len(str(MAX_PAGE)),
        )
        self.add_item(self.page)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        texts = texts_for(interaction)
        raw = self.page.value.strip()
        number = int(raw) if raw.isdecimal() else 0
        if not 1 <= number <= MAX_PAGE:
            await reply_privately(
                interaction,
                texts("Enter a page number from 1 to {last}.", last=MAX_PAGE),
            )
            return
        bot: ImgurBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer()
        target = replace(self.state, page=number - 1, offset=0)
        window = await _current_window(bot, interaction, target)
        if window is None:
            return
        if not window.items:
            await reply_privately(
                interaction,
                texts("There are no favorites on page {page}.", page=texts.number(number)),
            )
            return
        await show_window(interaction, target, window)

    async def on_error(  # type: ignore[override]  # discord.py's Modal narrows BaseView's
        self, interaction: discord.Interaction, error: Exception, /
    ) -> None:
        await report_error(interaction, error)


class ShareSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=re.escape(_PREFIX + "s:") + _STATE,
):
    """Shares one favorite of a private message publicly in the channel."""

    def __init__(self, state: PagerState, select: discord.ui.Select[Any]) -> None:
        super().__init__(select)
        self.state = state

    @classmethod
    def make(
        cls, texts: Texts, state: PagerState, items: list[tuple[int, Favorite]]
    ) -> ShareSelect:
        options = [
            discord.SelectOption(
                label=truncate(
                    f"{index - state.offset + 1}. "
                    + discord_text.plain(
                        item.title, SELECT_LABEL_LIMIT, fallback=texts("Untitled")
                    ),
                    SELECT_LABEL_LIMIT,
                ),
                value=f"{index}:{item.id}",
            )
            for index, item in items[:ITEMS_PER_MESSAGE]
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=state.custom_id("s"),
            placeholder=texts("Share one of these in the channel…"),
            options=options,
            row=1,
        )
        return cls(state, select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShareSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(PagerState.from_match(match), item)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await _owner_only(interaction, self.state.owner)

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            await self._share(interaction)
        except Exception as error:  # discord.py only logs what escapes a dynamic item
            await report_error(interaction, error)

    async def _share(self, interaction: discord.Interaction) -> None:
        texts = texts_for(interaction)
        place = Place.of(interaction)
        if not place.can_post or not place.can_embed:
            await reply_privately(
                interaction,
                texts("You cannot post pictures in this channel, so nothing was shared."),
            )
            return
        chosen = _ITEM_VALUE.fullmatch(self.item.values[0] if self.item.values else "")
        if chosen is None:
            await reply_privately(interaction, texts("Choose one of the favorites shown."))
            return
        bot: ImgurBot = interaction.client  # type: ignore[assignment]
        await interaction.response.defer()  # nothing visible yet: the share may still be refused
        link = await bot.tokens.linked(self.state.owner)
        if link_kind_code(link) != self.state.kind:
            await reply_privately(
                interaction,
                texts("Your Imgur link changed since this message. Run `/imgur favorites` again."),
            )
            return
        page = await bot.favorites.page(self.state.owner, self.state.sort, self.state.page)
        item = _find(page.items, int(chosen["index"]), chosen["id"])
        if item is None:
            await reply_privately(
                interaction, texts("That favorite is no longer among your Imgur favorites.")
            )
            return
        if is_hidden(item, allow_nsfw=place.allows_nsfw):
            await reply_privately(
                interaction,
                texts(
                    "That favorite is marked NSFW on Imgur: it can only be shared in an "
                    "age-restricted channel."
                ),
            )
            return
        embed = discord.Embed.from_dict(
            dict(render_item(item, allow_nsfw=place.allows_nsfw, texts=texts))
        )
        await interaction.followup.send(
            texts("{member} shared a favorite from Imgur:", member=interaction.user.mention),
            embed=embed,
            allowed_mentions=discord.AllowedMentions.none(),
        )


def _find(items: tuple[Favorite, ...], index: int, item_id: str) -> Favorite | None:
    """The item at ``index`` if it is still ``item_id``, else wherever ``item_id`` moved."""
    if 0 <= index < len(items) and items[index].id == item_id:
        return items[index]
    return next((item for item in items if item.id == item_id), None)
