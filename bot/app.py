"""The Bot subclass: owns the HTTP session, the store and the services, and wires them."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl
from discord.ext import commands

from bot.bio import BioLinkService
from bot.config import Config
from bot.database import open_store
from bot.favorites import FavoritesService, PageCache
from bot.i18n import Catalogs
from bot.imgur import ImgurClient
from bot.linking import LinkService
from bot.stale_components import answer_stale, is_handled
from bot.storage import Store
from bot.tokens import TokenManager

if TYPE_CHECKING:
    from bot.web import CallbackServer

log = logging.getLogger(__name__)

__all__ = ["COMMAND_SYNC_SETTING", "ImgurBot", "point_discord_at"]

EXTENSIONS = ("cogs.imgur",)
# The hash of the command tree last synced, in the database: every process sees it.
COMMAND_SYNC_SETTING = "command_sync_hash"
SHUTDOWN_REFRESH_WAIT = 5.0  # seconds that refreshes under way may take to finish at shutdown


def point_discord_at(api_base: str, gateway_url: str) -> None:
    """Send discord.py's REST calls to ``api_base`` and its gateway to ``gateway_url``."""
    discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class ImgurBot(commands.Bot):
    """The Discord bot. Everything it owns is created in ``setup_hook`` and closed in ``close``."""

    def __init__(self, config: Config, *, guild_ready_timeout: float = 2.0, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channel NSFW flags; no privileged intent is needed
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            guild_ready_timeout=guild_ready_timeout,
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.config = config
        self._session: aiohttp.ClientSession | None = None
        self._store: Store | None = None
        self._imgur: ImgurClient | None = None
        self._tokens: TokenManager | None = None
        self._links: LinkService | None = None
        self._favorites: FavoritesService | None = None
        self._bio: BioLinkService | None = None
        self._web: CallbackServer | None = None
        self.gateway_connected = asyncio.Event()
        self._gc_frozen = False
        self.catalogs = Catalogs()  # English until setup_hook loaded the shipped languages
        self._stale_answers: set[asyncio.Task[None]] = set()

    # Services, available once setup_hook ran.
    @property
    def store(self) -> Store:
        assert self._store is not None, "setup_hook has not run"
        return self._store

    @property
    def imgur(self) -> ImgurClient:
        assert self._imgur is not None, "setup_hook has not run"
        return self._imgur

    @property
    def tokens(self) -> TokenManager:
        assert self._tokens is not None, "setup_hook has not run"
        return self._tokens

    @property
    def links(self) -> LinkService:
        assert self._links is not None, "setup_hook has not run"
        return self._links

    @property
    def favorites(self) -> FavoritesService:
        assert self._favorites is not None, "setup_hook has not run"
        return self._favorites

    @property
    def bio(self) -> BioLinkService:
        assert self._bio is not None, "setup_hook has not run"
        return self._bio

    async def login(self, token: str) -> None:
        point_discord_at(self.config.discord.api_base, self.config.discord.gateway_url)
        await super().login(token)

    async def setup_hook(self) -> None:
        config = self.config
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=config.imgur.request_timeout_seconds),
            headers={"User-Agent": "imgur-link-bot (self-hosted Discord bot)"},
        )
        # Held shared while the bot runs: rotate-key refuses to run meanwhile.
        self._store = await open_store(config, hold_lock=True)
        self._imgur = ImgurClient(
            self._session,
            config.imgur.client_id,
            config.imgur.client_secret,
            api_base=config.imgur.api_base,
            timeout=config.imgur.request_timeout_seconds,
        )
        self._tokens = TokenManager(
            self._store,
            self._imgur,
            lead=timedelta(seconds=config.refresh.lead_seconds),
            concurrency=config.refresh.concurrency,
            lease=timedelta(seconds=config.refresh.lease_seconds),
        )
        cache = PageCache(config.cache.favorites_ttl_seconds, config.cache.max_entries)
        self._bio = BioLinkService(
            self._store,
            self._imgur,
            checks_per_hour=config.imgur.bio_checks_per_hour,
            on_change=cache.forget_member,
            notify=self.notify_member,
        )
        self._favorites = FavoritesService(self._imgur, self._tokens, cache, public=self._bio)
        self._links = LinkService(
            self._store,
            self._imgur,
            response_type=config.imgur.response_type,
            on_change=self._favorites.forget,
        )
        methods = config.imgur.methods_in_force
        if len(methods) < len(config.imgur.link_methods):
            log.warning(
                "IMGUR_CLIENT_SECRET is not set: only the bio link method is offered "
                "(OAuth needs the client secret)"
            )
        log.info("link methods offered: %s", ", ".join(methods))
        self.catalogs = await asyncio.to_thread(Catalogs.load)  # the extensions translate with it
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        await self.sync_commands()
        if config.web.enabled:
            # aiohttp.web costs memory: load it only when used
            from bot.web import CallbackServer, WebDependencies

            self._web = CallbackServer(
                config.web,
                WebDependencies(
                    self._links,
                    is_connected=self.gateway_connected.is_set,
                    notify=self.notify_member,
                    member_name=self.member_name,
                ),
            )
            # Code and token links open the server's confirmation page first (issue 10, 2).
            self._links.confirm_url = self._web.confirm_url
            await self._web.start()

    def dispatch(self, event_name: str, /, *args: Any, **kwargs: Any) -> None:
        super().dispatch(event_name, *args, **kwargs)
        # Called by discord.py right after it handed the interaction to its view store, before
        # any handler ran: what the store holds now is exactly what will handle it.
        if event_name == "interaction" and args and not is_handled(self._connection, args[0]):
            task = asyncio.create_task(answer_stale(args[0]), name="imgur-stale-interaction")
            self._stale_answers.add(task)
            task.add_done_callback(self._stale_answers.discard)

    async def member_name(self, discord_user_id: int) -> str | None:
        """How the web confirmation page names a member: "Alice (@alice)"; None if unknown."""
        user = self.get_user(discord_user_id)
        if user is None:
            try:
                user = await self.fetch_user(discord_user_id)
            except discord.HTTPException:
                return None
        handle = f"@{user}"
        return handle if user.display_name == user.name else f"{user.display_name} ({handle})"

    async def notify_member(self, discord_user_id: int, text: str) -> None:
        """DM a member; a closed DM or a Discord failure is logged, not raised."""
        try:
            channel = await self.create_dm(discord.Object(id=discord_user_id))
            await channel.send(text)
        except discord.HTTPException as exc:
            log.info("could not DM member %s (code %s)", discord_user_id, exc.code)

    async def sync_commands(self) -> None:
        """Sync the command tree as ``discord.sync_commands`` says, only when it changed."""
        mode = self.config.discord.sync_commands
        if mode == "off":
            return
        if not self.config.discord.runs_shard_zero:
            # Several processes share the bot: one sync is enough, and Discord limits them.
            log.info("application commands are synced by the process that runs shard 0")
            return
        guild_id = self.config.discord.sync_guild_id
        guild = discord.Object(id=guild_id) if guild_id is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        translator = self.tree.translator
        payload = [
            await command.get_translated_payload(self.tree, translator)
            if translator is not None
            else command.to_dict(self.tree)
            for command in self.tree.get_commands(guild=guild)
        ]
        digest = hashlib.sha256(json.dumps([mode, payload], sort_keys=True).encode()).hexdigest()
        if await self.store.get_setting(COMMAND_SYNC_SETTING) == digest:
            log.info("application commands unchanged; not syncing")
            return
        synced = await self.tree.sync(guild=guild)
        await self.store.set_setting(COMMAND_SYNC_SETTING, digest)
        log.info("synced %d application commands (%s)", len(synced), mode)

    async def on_ready(self) -> None:
        if not self.gateway_connected.is_set() and not self._gc_frozen:
            # Everything loaded so far lives as long as the bot: take it out of the collector's
            # full passes, which otherwise stall the event loop for 100+ ms under load.
            gc.freeze()
            self._gc_frozen = True
        self._gateway_up()
        user = self.user
        log.info(
            "connected as %s (%s) to %d guilds%s",
            user,
            user.id if user else "?",
            len(self.guilds),
            self._shards_text(),
        )

    async def on_resumed(self) -> None:
        self._gateway_up()

    def _gateway_up(self) -> None:
        """A connection came up (READY or RESUMED): the bot counts as connected."""
        self.gateway_connected.set()

    def _shards_text(self) -> str:
        return ""

    async def on_disconnect(self) -> None:
        self.gateway_connected.clear()

    async def close(self) -> None:
        self.gateway_connected.clear()
        if self._web is not None:  # first: it needs the store, and Discord for its DMs
            await self._web.stop()
            self._web = None
        await super().close()
        if self._tokens is not None:
            # A refresh Imgur already answered must reach the database: a rotated refresh
            # token lost here would break the member's link at the next start.
            await self._tokens.aclose(grace=SHUTDOWN_REFRESH_WAIT)
        if self._store is not None:
            await self._store.close()
            self._store = None
        if self._session is not None:
            await self._session.close()
            self._session = None


class ShardedImgurBot(ImgurBot, commands.AutoShardedBot):
    """The bot on several gateway connections (shards) at once, as ``discord.shard_*`` says.

    Connected (for ``/healthz`` and the heartbeat) means every shard of this process is.
    """

    def __init__(self, config: Config, *, guild_ready_timeout: float = 2.0) -> None:
        count = config.discord.shard_count
        super().__init__(
            config,
            guild_ready_timeout=guild_ready_timeout,
            shard_count=None if count == "auto" else count,  # None: ask GET /gateway/bot
            shard_ids=list(config.discord.shard_ids) or None,
        )
        self._shards_up: set[int] = set()

    def _own_shards(self) -> set[int]:
        if self.shard_ids:
            return set(self.shard_ids)
        return set(range(self.shard_count or 0))  # known once the shards were launched

    def _gateway_up(self) -> None:
        own = self._own_shards()
        if own and own <= self._shards_up:
            self.gateway_connected.set()
        else:
            self.gateway_connected.clear()

    def _shards_text(self) -> str:
        shards = ", ".join(str(shard) for shard in sorted(self._own_shards()))
        return f" on shard(s) {shards} of {self.shard_count}"

    async def on_shard_ready(self, shard_id: int) -> None:
        self._shards_up.add(shard_id)
        self._gateway_up()

    async def on_shard_resumed(self, shard_id: int) -> None:
        self._shards_up.add(shard_id)
        self._gateway_up()

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self._shards_up.discard(shard_id)
        self.gateway_connected.clear()


def _warn_if_split_over_sqlite(config: Config) -> None:
    ids, count = config.discord.shard_ids, config.discord.shard_count
    if not ids or not isinstance(count, int) or len(ids) == count or config.storage.is_postgres:
        return
    log.warning(
        "this process runs shard(s) %s of %d, other processes the rest: they must all share "
        "one database, and SQLite is for one process only; use PostgreSQL (see the README, "
        '"Outgrowing one process")',
        ", ".join(str(shard) for shard in ids),
        count,
    )


def create_bot(config: Config, *, guild_ready_timeout: float = 2.0) -> ImgurBot:
    """The bot ``config`` asks for: sharded when ``discord.shard_count`` is set."""
    if config.discord.sharded:
        _warn_if_split_over_sqlite(config)
        return ShardedImgurBot(config, guild_ready_timeout=guild_ready_timeout)
    return ImgurBot(config, guild_ready_timeout=guild_ready_timeout)
