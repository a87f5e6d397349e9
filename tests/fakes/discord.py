"""A fake Discord (REST + gateway) that the unmodified discord.py client logs into.

Usage::

    async with FakeDiscord() as server, point_discord_py_at(server):
        bot = commands.Bot(..., guild_ready_timeout=0.1)   # on_ready waits this long after
        await bot.login(server.token)                       # the last GUILD_CREATE (2 s default)
        task = asyncio.create_task(bot.connect(reconnect=False))
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        alice = server.add_user(name="alice")
        inter = await server.slash_command(alice, "imgur", "link", {"code": "abc"})
        message = await inter.wait_for_message()
        ...
        await bot.close(); await task
        server.assert_all_acknowledged()

The fake answers like Discord: JSON with Content-Type exactly ``application/json``, 403/50007
for a DM to a user with DMs closed, 400/50035 for embeds over the limits, 400/40060 for a second
response to an interaction, 404/10062 for a callback later than `ack_deadline` (3 s), 404/10015
for a follow-up on an unknown token (or before the first response), 401 for a wrong bot token.
Every REST call is in ``server.rest_calls``; unknown routes get 404 and land in
``server.unknown_routes`` too. Privileged intents are refused (close 4014) unless enabled with
``privileged_intents=``.

Shards: ``FakeDiscord(shard_count=N)`` reports N at ``GET /gateway/bot``; every IDENTIFY must then
carry ``shard: [id, N]`` (4011 "Sharding required" without one, 4010 "Invalid shard" for an id out
of range or another count: stricter than Discord, which accepts any sufficient count). Events
go where Discord sends them: a guild's (GUILD_CREATE, messages, interactions) to shard
``(guild_id >> 22) % N``, DMs to shard 0. ``add_guild(name, shard=k)`` makes a guild on shard k;
``held_down_shards`` keeps shards out (their IDENTIFY and RESUME get op 9 Invalid Session).
Pieces live in ``discord_models`` (value types), ``discord_state`` (everything the fake knows,
one typed object), and the parts that hold that state: ``discord_world`` (users, channels,
payloads, stored messages), ``discord_rest``, ``discord_gateway``, ``discord_interactions``
(slash commands, buttons, selects, modals); ``discord_validation`` checks what the bot sends.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any, Unpack

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from tests.fakes.discord_gateway import Gateway, GatewayConnection
from tests.fakes.discord_interactions import InteractionInjector
from tests.fakes.discord_models import (
    FakeDiscordTimeout,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    RestCall,
)
from tests.fakes.discord_rest import API_PREFIX, RestApi
from tests.fakes.discord_state import DiscordOptions, DiscordState
from tests.fakes.discord_world import World

__all__ = [
    "FakeDiscord",
    "FakeDiscordTimeout",
    "FakeInteraction",
    "FakeMessage",
    "FakeUser",
    "RestCall",
    "point_discord_py_at",
]

GUILD_EVENTS = {"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"}  # the guild's id is "id"


class FakeDiscord(DiscordState):
    """One application, one bot user, one guild with a text and an NSFW text channel.

    Also another guild the bot is not in (``other_guild_id``, channels from
    `add_foreign_channel`) and private channels (`add_private_channel`): there only a member's
    user install of the app can be used (``install="user"``), with Discord's limits.

    The server is its `DiscordState` (``server.messages``, ``server.shards``...) served by
    parts that each hold that state: ``world`` (users, channels, payloads, messages), ``rest``,
    ``gateway_endpoint`` and ``injector`` (interactions). The methods tests use are the
    server's own (``server.add_user`` is ``server.world.add_user``); the rest are reached
    through the part (``server.world.channel_payload(id)``).
    """

    def __init__(self, **options: Unpack[DiscordOptions]) -> None:
        super().__init__(**options)
        self.world = World(self)
        self.rest = RestApi(self, self.world)
        self.gateway_endpoint = Gateway(self, self.world)
        self.injector = InteractionInjector(self, self.world)
        world, injector = self.world, self.injector
        self.add_user = world.add_user
        self.add_guild = world.add_guild
        self.add_text_channel = world.add_text_channel
        self.add_foreign_channel = world.add_foreign_channel
        self.add_private_channel = world.add_private_channel
        self.guild_create_payload = world.guild_create_payload
        self.channel_messages = world.channel_messages
        self.dms = world.dms
        self.slash_command = injector.slash_command
        self.press_button = injector.press_button
        self.select = injector.select
        self.submit_modal = injector.submit_modal
        self.dispatch_interaction = injector.dispatch_interaction
        self.inject_error = self.rest.inject_error
        self.text_channel_id = self.add_text_channel("general")
        self.nsfw_channel_id = self.add_text_channel("nsfw-pics", nsfw=True)
        self.other_text_channel_id = self.add_foreign_channel("other-general")
        self.other_nsfw_channel_id = self.add_foreign_channel("other-nsfw", nsfw=True)
        self.owner = self.add_user(name="guild-owner")
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(middlewares=[self.rest.middleware])
        app.router.add_get("/gateway", self.gateway_endpoint.handle)
        app.router.add_routes(self.rest.routes())
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        for conn in self.gateway_connections:
            if not conn.ws.closed:
                await conn.close(1001, "fake Discord shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def rest_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return self.base_url + API_PREFIX

    # -- gateway control ---------------------------------------------------------------------

    @property
    def gateway(self) -> GatewayConnection | None:
        """The connection of shard 0 (the only one when the bot is not sharded)."""
        return self.shards.get(0)

    async def dispatch(self, event: str, data: Any) -> None:
        """Send any gateway event to the shard that owns it (its guild's, or shard 0)."""
        guild = data.get("guild_id") if isinstance(data, dict) else None
        if event in GUILD_EVENTS and isinstance(data, dict):
            guild = data.get("id")
        shard = self.shard_for(int(guild) if guild is not None else None)
        conn = self.shards.get(shard)
        if conn is None:
            raise RuntimeError(f"no bot is connected to shard {shard} of the fake gateway")
        await conn.dispatch(event, data)

    async def disconnect_gateway(self, code: int = 4000, *, shard: int = 0) -> None:
        """Close a shard's websocket: 4000 makes discord.py RESUME; 4004, 4010-4014 are fatal."""
        conn = self.shards.get(shard)
        if conn is not None:
            await conn.close(code)

    def expire_token(self, interaction: FakeInteraction) -> None:
        """As if 15 minutes passed: follow-ups and edits now get 401/50027."""
        interaction.token_expired = True

    # -- observation -------------------------------------------------------------------------

    async def wait_until_ready_sent(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """READY and GUILD_CREATE went out (on_ready follows `guild_ready_timeout` later)."""
        await self.wait_for(self.ready_sent.is_set, timeout=timeout, what="IDENTIFY/READY")

    async def wait_for_dm(
        self,
        user: FakeUser,
        predicate: Callable[[FakeMessage], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> FakeMessage:
        """First DM to `user` matching `predicate` (already sent ones count)."""
        check = predicate or (lambda m: not m.is_loading)
        return await self.wait_for(
            lambda: next((m for m in self.dms(user) if check(m)), None),
            timeout=timeout,
            what=f"a DM to {user.name}",
        )

    async def wait_for_message(
        self,
        predicate: Callable[[FakeMessage], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> FakeMessage:
        """First stored message anywhere (ephemeral included) matching `predicate`."""
        return await self.wait_for(
            lambda: next((m for m in self.messages.values() if predicate(m)), None),
            timeout=timeout,
            what="a matching message",
        )

    async def wait_for_rest_call(
        self,
        predicate: Callable[[RestCall], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RestCall:
        return await self.wait_for(
            lambda: next((c for c in self.rest_calls if c.status and predicate(c)), None),
            timeout=timeout,
            what="a matching REST call",
        )

    def calls(self, method: str, path_prefix: str = "") -> list[RestCall]:
        return [c for c in self.rest_calls if c.method == method and c.path.startswith(path_prefix)]

    # -- deadlines ---------------------------------------------------------------------------

    def unacknowledged(self, within: float = 3.0) -> list[str]:
        """Descriptions of interactions without an accepted callback within `within` s."""
        problems = []
        now = time.monotonic()
        for inter in self.interactions.values():
            if inter.expect_unacknowledged:
                continue
            after = inter.acknowledged_after
            if after is not None and after <= within:
                continue
            if after is not None:
                problems.append(f"{inter!r}: acknowledged after {after:.2f}s")
                continue
            waited = now - (inter.dispatched_at or now)
            late = [
                status for _, status, body in inter.rejected_callbacks if body.get("code") == 10062
            ]
            detail = " (its late callback got 10062)" if late else ""
            problems.append(f"{inter!r}: not acknowledged after {waited:.2f}s{detail}")
        return problems

    def assert_all_acknowledged(self, within: float = 3.0) -> None:
        """Raise AssertionError listing each interaction not acknowledged within `within` s.

        An interaction still pending counts as a failure: call this once the test is done
        (or use `wait_all_acknowledged` to give pending ones their full deadline first).
        Mark an interaction the test deliberately leaves unanswered with
        ``interaction.expect_unacknowledged = True``.
        """
        problems = self.unacknowledged(within)
        if problems:
            raise AssertionError(
                f"{len(problems)} interaction(s) not acknowledged within {within}s:\n  "
                + "\n  ".join(problems)
            )

    async def wait_all_acknowledged(self, within: float = 3.0) -> None:
        """Wait until each interaction is acknowledged or its deadline passed, then assert."""

        def settled() -> bool:
            now = time.monotonic()
            return all(
                i.acknowledged or i.expect_unacknowledged or now - (i.dispatched_at or now) > within
                for i in self.interactions.values()
            )

        with contextlib.suppress(FakeDiscordTimeout):
            await self.wait_for(settled, timeout=within + 0.5, what="interaction deadlines")
        self.assert_all_acknowledged(within)


class point_discord_py_at:
    """Point discord.py's REST base and gateway URL at `server`; restore them on exit.

    Works as ``with point_discord_py_at(server):`` and ``async with point_discord_py_at(server):``
    (class attributes: set it before ``bot.login``; it affects every client in the process).
    """

    def __init__(self, server: FakeDiscord) -> None:
        self.server = server
        self._saved: tuple[str, yarl.URL] | None = None

    def __enter__(self) -> FakeDiscord:
        self._saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = self.server.rest_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.server.gateway_url)
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        assert self._saved is not None
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved

    async def __aenter__(self) -> FakeDiscord:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)
