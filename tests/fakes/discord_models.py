"""Value types of the fake Discord: users, messages, interactions, recorded REST calls."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.discord_state import DiscordState

DISCORD_EPOCH_MS = 1420070400000
# Message flags.
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
COMPONENTS_V2 = 1 << 15

# Discord permission bits used in payloads.
PERM_ADD_REACTIONS = 1 << 6
PERM_VIEW_CHANNEL = 1 << 10
PERM_SEND_MESSAGES = 1 << 11
PERM_EMBED_LINKS = 1 << 14
PERM_ATTACH_FILES = 1 << 15
PERM_READ_HISTORY = 1 << 16
PERM_EXTERNAL_EMOJIS = 1 << 18
PERM_USE_APP_COMMANDS = 1 << 31
PERM_USE_EXTERNAL_APPS = 1 << 50
MEMBER_PERMISSIONS = (
    PERM_ADD_REACTIONS
    | PERM_VIEW_CHANNEL
    | PERM_SEND_MESSAGES
    | PERM_EMBED_LINKS
    | PERM_ATTACH_FILES
    | PERM_READ_HISTORY
    | PERM_EXTERNAL_EMOJIS
    | PERM_USE_APP_COMMANDS
    | PERM_USE_EXTERNAL_APPS
)
# Interaction contexts and installation kinds.
CONTEXT_GUILD, CONTEXT_BOT_DM, CONTEXT_PRIVATE_CHANNEL = 0, 1, 2
GUILD_INSTALL, USER_INSTALL = 0, 1
MAX_FOLLOWUPS_WITHOUT_BOT = 5


class FakeDiscordTimeout(TimeoutError, AssertionError):
    """A wait on the fake Discord ran out of time (both a TimeoutError and an AssertionError)."""


class Snowflakes:
    """Discord snowflakes: milliseconds since 2015 << 22, so discord.py can read their time."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (now_ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)
        self._last = value = max(value, self._last + 1)
        return value

    def next_on_shard(self, shard: int, shard_count: int) -> int:
        """A fresh snowflake whose guild would live on ``shard``: ``(id >> 22) % count``."""
        value = self.next()
        moment = value >> 22
        value = ((moment + (shard - moment) % shard_count) << 22) | (value & ((1 << 22) - 1))
        self._last = max(value, self._last)
        return value


def snowflake_time(snowflake: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=dt.UTC)


def iso(moment: dt.datetime | None = None) -> str:
    return (moment or dt.datetime.now(dt.UTC)).isoformat()


@dataclass(eq=False)
class FakeUser:
    """A Discord user known to the fake. ``dms_open=False`` makes DMs fail with 403/50007."""

    id: int
    name: str
    global_name: str | None = None
    dms_open: bool = True
    bot: bool = False
    in_guild: bool = True
    roles: list[int] = field(default_factory=list)
    permissions: int = MEMBER_PERMISSIONS
    locale: str = "en-US"
    dm_channel_id: int = 0
    joined_at: str = field(default_factory=iso)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data

    def member_payload(
        self, *, with_user: bool = True, permissions: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        if with_user:
            data["user"] = self.payload()
        if permissions:
            data["permissions"] = str(self.permissions)
        return data


@dataclass(eq=False)
class RestCall:
    """One request the bot made to the fake REST API (path is relative to ``/api/v10``)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    response: Any = None
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def __repr__(self) -> str:
        return f"<RestCall {self.method} {self.path} -> {self.status}>"


@dataclass(eq=False)
class FakeMessage:
    """A message as Discord stores it. Mutated in place by edits; ``history`` keeps old versions."""

    id: int
    channel_id: int
    author: dict[str, Any]
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    attachments: list[dict[str, Any]] = field(default_factory=list)
    guild_id: int | None = None
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    interaction: FakeInteraction | None = None
    kind: str = "channel"  # "channel", "dm", "response", "followup"
    timestamp: str = field(default_factory=iso)
    edited_timestamp: str | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def is_loading(self) -> bool:
        """A deferred ("thinking…") response that nothing has replaced yet."""
        return bool(self.flags & LOADING)

    @property
    def embed(self) -> dict[str, Any] | None:
        return self.embeds[0] if self.embeds else None

    @property
    def text(self) -> str:
        """Content plus every string inside the embeds: handy for "does it mention X" checks."""
        parts = [self.content]
        for embed in self.embeds:
            parts.extend(_strings(embed))
        return "\n".join(p for p in parts if p)

    def walk_components(self) -> Iterator[dict[str, Any]]:
        stack = list(reversed(self.components))
        while stack:
            component = stack.pop()
            yield component
            for key in ("accessory", "component"):
                if isinstance(component.get(key), dict):
                    stack.append(component[key])
            stack.extend(reversed(component.get("components") or []))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.walk_components() if c.get("type") == 2]

    def component(self, custom_id: str) -> dict[str, Any] | None:
        return next((c for c in self.walk_components() if c.get("custom_id") == custom_id), None)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "type": self.type,
            "content": self.content,
            "author": copy.deepcopy(self.author),
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "mention_channels": [],
            "attachments": copy.deepcopy(self.attachments),
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "reactions": [],
            "pinned": False,
            "flags": self.flags,
        }
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction is not None:
            inter = self.interaction
            meta: dict[str, Any] = {
                "id": str(inter.id),
                "type": inter.type,
                "user": inter.user.payload(),
                "authorizing_integration_owners": inter.payload.get(
                    "authorizing_integration_owners", {}
                ),
            }
            if inter.type == 3 and inter.target_message is not None:
                meta["interacted_message_id"] = str(inter.target_message.id)
            if self.kind == "followup" and inter.response_message is not None:
                meta["original_response_message_id"] = str(inter.response_message.id)
            data["interaction_metadata"] = meta
        return data

    def snapshot(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "embeds": copy.deepcopy(self.embeds),
            "components": copy.deepcopy(self.components),
            "flags": self.flags,
            "edited_timestamp": self.edited_timestamp,
        }

    def __repr__(self) -> str:
        flags = " ephemeral" if self.is_ephemeral else ""
        flags += " loading" if self.is_loading else ""
        return f"<FakeMessage id={self.id} {self.kind}{flags} content={self.content[:40]!r}>"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class FakeInteraction:
    """An interaction the fake Discord dispatched, and everything the bot did with it."""

    def __init__(
        self,
        server: DiscordState,
        *,
        id: int,
        token: str,
        type: int,
        user: FakeUser,
        channel_id: int,
        guild_id: int | None,
        payload: dict[str, Any],
        target_message: FakeMessage | None = None,
    ) -> None:
        self.server = server
        self.id = id
        self.token = token
        self.type = type
        self.user = user
        self.channel_id = channel_id
        self.guild_id = guild_id
        self.payload = payload
        self.target_message = target_message
        self.dispatched_at: float | None = None
        self.callbacks: list[dict[str, Any]] = []
        self.callback_times: list[float] = []
        self.rejected_callbacks: list[tuple[dict[str, Any], int, dict[str, Any]]] = []
        self.modal: dict[str, Any] | None = None
        self.response_message: FakeMessage | None = None
        self.followups: list[FakeMessage] = []
        self.edits: list[tuple[FakeMessage, dict[str, Any]]] = []
        self.token_expired = False
        self.expect_unacknowledged = False
        # A user install where the bot is not (another server, a private channel): Discord
        # allows 5 follow-ups, holds the app to the member's permissions, and, in a server
        # that turned external apps off, makes every response ephemeral.
        self.install = "guild"
        self.bot_present = True
        self.can_post = True
        self.can_embed = True
        self.force_ephemeral = False

    @property
    def is_dm(self) -> bool:
        return self.guild_id is None

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    @property
    def acknowledged_after(self) -> float | None:
        """Seconds from dispatch to the first accepted callback, or None."""
        if not self.callback_times or self.dispatched_at is None:
            return None
        return self.callback_times[0] - self.dispatched_at

    @property
    def callback_types(self) -> list[int]:
        return [c["type"] for c in self.callbacks]  # accepted callbacks all have one

    @property
    def original_message(self) -> FakeMessage | None:
        """What ``@original`` refers to: the response message, or the component's message."""
        if self.response_message is not None:
            return self.response_message
        if self.callbacks and self.callbacks[0].get("type") in (6, 7):
            return self.target_message
        return None

    @property
    def messages(self) -> list[FakeMessage]:
        """Messages this interaction created (its response, then follow-ups), current state."""
        found = [self.response_message] if self.response_message is not None else []
        found += [m for m in self.followups if m is not self.response_message]
        return [m for m in found if not m.deleted]

    @property
    def all_messages(self) -> list[FakeMessage]:
        """`messages` plus the component message this interaction edited (type 7, @original)."""
        found = self.messages
        for message, _ in self.edits:
            if message not in found:
                found.append(message)
        return found

    async def wait_acknowledged(self, timeout: float = 3.0) -> dict[str, Any]:  # noqa: ASYNC109
        """Wait for the first callback the fake accepted; returns its payload."""
        await self.server.wait_for(
            lambda: self.acknowledged, timeout=timeout, what=f"an acknowledgement of {self!r}"
        )
        return self.callbacks[0]

    async def wait_for_message(
        self,
        predicate: Callable[[FakeMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> FakeMessage:
        """First message of `all_messages` (in order) matching predicate; re-checked on every edit.

        Without a predicate, a deferred response still "thinking" does not count.
        """
        check = predicate or (lambda m: not m.is_loading)

        def find() -> FakeMessage | None:
            return next((m for m in self.all_messages if check(m)), None)

        return await self.server.wait_for(find, timeout=timeout, what=f"a message from {self!r}")

    async def wait_for_modal(self, timeout: float = 3.0) -> dict[str, Any]:  # noqa: ASYNC109
        await self.server.wait_for(
            lambda: self.modal is not None, timeout=timeout, what=f"a modal from {self!r}"
        )
        assert self.modal is not None
        return self.modal

    def __repr__(self) -> str:
        kinds = {2: "command", 3: "component", 4: "autocomplete", 5: "modal_submit"}
        what = self.payload.get("data", {}).get("name") or self.payload.get("data", {}).get(
            "custom_id"
        )
        return (
            f"<FakeInteraction id={self.id} {kinds.get(self.type, self.type)} {what!r} "
            f"user={self.user.name} callbacks={self.callback_types}>"
        )
