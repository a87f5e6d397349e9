"""What the fake Discord knows: one typed object that its parts (world, REST, gateway,
interaction injection) hold and change, and the change signal that its waits poll on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from tests.fakes.discord_models import (
    FakeDiscordTimeout,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RestCall,
    Snowflakes,
)
from tests.waiting import NotInTime, eventually

if TYPE_CHECKING:
    from tests.fakes.discord_gateway import GatewayConnection

T = TypeVar("T")


class DiscordOptions(TypedDict, total=False):
    """How a fake Discord behaves; each left out takes `DiscordState`'s default."""

    token: str
    bot_name: str
    ack_deadline: float | None  # None: no 3 s deadline for callbacks
    heartbeat_interval_ms: int
    gateway_compression: bool  # honour zlib-stream when the client asks for it
    privileged_intents: int  # the privileged intents the application may ask for
    message_events: bool  # MESSAGE_* gateway events for what the bot sends
    shard_count: int


Channel = dict[str, Any]
"""A channel's JSON payload as Discord sends it (foreign channels also carry ``permissions``)."""


class DiscordState:
    """The application, its bot user, guilds, channels, users, messages, interactions, commands,
    REST calls and gateway connections of one fake Discord.

    The guild's channels (``text_channel_id``...) and ``owner`` are added by `FakeDiscord`
    through its world right after this initialiser.
    """

    text_channel_id: int
    nsfw_channel_id: int
    other_text_channel_id: int
    other_nsfw_channel_id: int
    owner: FakeUser

    def __init__(
        self,
        *,
        token: str = "fake-discord-bot-token",
        bot_name: str = "Imgur Link Bot",
        ack_deadline: float | None = 3.0,
        heartbeat_interval_ms: int = 41250,
        gateway_compression: bool = True,
        privileged_intents: int = 0,
        message_events: bool = True,
        shard_count: int = 1,
    ) -> None:
        if shard_count < 1:
            raise ValueError("shard_count must be at least 1")
        self.token = token
        self.shard_count = shard_count
        self.ack_deadline = ack_deadline
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.gateway_compression = gateway_compression
        self.privileged_intents = privileged_intents
        self.message_events = message_events
        self.snowflakes = Snowflakes()
        self.application_id = self.snowflakes.next()
        self.application_flags = 1 << 23  # GATEWAY_MESSAGE_CONTENT_LIMITED
        self.bot_user = FakeUser(id=self.application_id, name=bot_name, bot=True, in_guild=True)
        # -- guilds and channels
        self.guild_id = self.snowflakes.next_on_shard(0, shard_count)
        self.guild_name = "Fake Guild"
        self.guild_names: dict[int, str] = {self.guild_id: self.guild_name}
        self.channels: dict[int, Channel] = {}
        # Another server whose members user-installed the app; the bot is not in it.
        self.other_guild_id = self.snowflakes.next()
        self.other_guild_external_apps = True  # False: the server turned off USE_EXTERNAL_APPS
        self.foreign_channels: dict[int, Channel] = {}
        self.private_channels: dict[int, Channel] = {}
        # -- users, messages, interactions, commands
        self.users: dict[int, FakeUser] = {}
        self.dm_channels: dict[int, FakeUser] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.modals: dict[str, FakeInteraction] = {}
        self.commands: list[dict[str, Any]] = []
        self.guild_commands: dict[int, list[dict[str, Any]]] = {}
        self.command_syncs: list[tuple[int | None, Any]] = []
        # Called after each follow-up message the fake accepted (a bench measures with it).
        self.on_followup: Callable[[FakeInteraction], None] | None = None
        # -- REST
        self.rest_calls: list[RestCall] = []
        self.unknown_routes: list[RestCall] = []
        self.refused_calls: list[RestCall] = []
        # -- gateway
        self.shards: dict[int, GatewayConnection] = {}  # identified connection of each shard
        self.held_down_shards: set[int] = set()  # IDENTIFY/RESUME get INVALID_SESSION (op 9)
        self.gateway_connections: list[GatewayConnection] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.sessions: dict[str, GatewayConnection] = {}
        self.heartbeats = 0
        self.identifies = 0
        self.resumes = 0
        self.presences: list[Any] = []
        self.ready_sent = asyncio.Event()
        self.port = 0
        self._changed = asyncio.Event()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        """Value (as a yarl.URL) for ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- shards ------------------------------------------------------------------------------

    def shard_for(self, guild_id: int | None) -> int:
        """The shard Discord sends a guild's events to; DMs (no guild) go to shard 0."""
        return 0 if guild_id is None else (guild_id >> 22) % self.shard_count

    def connection_for(self, guild_id: int | None) -> GatewayConnection | None:
        """The identified connection that gets the events of `guild_id` (None: DMs)."""
        return self.shards.get(self.shard_for(guild_id))

    # -- changes -----------------------------------------------------------------------------

    def notify(self) -> None:
        """Wake every `wait_for`: something changed."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self,
        check: Callable[[], T | None],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str | Callable[[], str] = "a condition",
    ) -> T:
        """Poll `check` on every change until it returns something truthy, or time out."""
        try:
            result = await eventually(
                check, timeout, what, every=0.05, woken_by=lambda: self._changed
            )
        except NotInTime as exc:
            raise FakeDiscordTimeout(str(exc)) from None
        assert result is not None  # eventually returns only a truthy value
        return result
