"""World of the fake Discord: users, channels, their payloads, stored messages."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord_gateway import INTENT_DIRECT_MESSAGES, INTENT_GUILD_MESSAGES
from tests.fakes.discord_models import (
    LOADING,
    MEMBER_PERMISSIONS,
    PERM_USE_EXTERNAL_APPS,
    SUPPRESS_EMBEDS,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    iso,
)
from tests.fakes.discord_state import DiscordState


class World:
    """Users, the guild and its channels, stored messages, kept in `state`."""

    def __init__(self, state: DiscordState) -> None:
        self.state = state

    # -- users and channels ------------------------------------------------------------------

    def add_user(
        self,
        user_id: int | None = None,
        name: str = "user",
        *,
        dms_open: bool = True,
        in_guild: bool = True,
        global_name: str | None = None,
        roles: list[int] | None = None,
        locale: str = "en-US",
    ) -> FakeUser:
        user = FakeUser(
            id=user_id or self.state.snowflakes.next(),
            name=name,
            global_name=global_name,
            dms_open=dms_open,
            in_guild=in_guild,
            roles=list(roles or []),
            locale=locale,
            dm_channel_id=self.state.snowflakes.next(),
        )
        self.state.users[user.id] = user
        self.state.dm_channels[user.dm_channel_id] = user
        return user

    def add_guild(self, name: str, *, shard: int | None = None) -> int:
        """Another guild the bot is in, on `shard` if given; returns its id.

        Every user with ``in_guild`` is a member of every guild. Add guilds before the bot
        connects, or dispatch its GUILD_CREATE (``guild_create_payload(id)``) afterwards.
        """
        if shard is not None and not 0 <= shard < self.state.shard_count:
            raise ValueError(f"shard {shard} is not one of the fake's {self.state.shard_count}")
        guild_id = (
            self.state.snowflakes.next()
            if shard is None
            else self.state.snowflakes.next_on_shard(shard, self.state.shard_count)
        )
        self.state.guild_names[guild_id] = name
        return guild_id

    def add_text_channel(
        self, name: str, *, nsfw: bool = False, guild_id: int | None = None
    ) -> int:
        """A guild text channel (add before the bot connects: no CHANNEL_CREATE is sent)."""
        channel_id = self.state.snowflakes.next()
        self.state.channels[channel_id] = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id or self.state.guild_id),
            "name": name,
            "position": len(self.state.channels),
            "parent_id": None,
            "topic": None,
            "nsfw": nsfw,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "permission_overwrites": [],
            "flags": 0,
        }
        return channel_id

    def add_foreign_channel(self, name: str, *, nsfw: bool = False, deny: int = 0) -> int:
        """A text channel of ``other_guild_id``, a server the bot is not in.

        ``deny`` takes permission bits away from members there (``PERM_SEND_MESSAGES``: they may
        not post; ``PERM_EMBED_LINKS``: no embeds).
        """
        channel_id = self.state.snowflakes.next()
        self.state.foreign_channels[channel_id] = {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(self.state.other_guild_id),
            "name": name,
            "position": len(self.state.foreign_channels),
            "parent_id": None,
            "topic": None,
            "nsfw": nsfw,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
            "permissions": str(MEMBER_PERMISSIONS & ~deny),
        }
        return channel_id

    def add_private_channel(self, owner: FakeUser, *others: FakeUser) -> int:
        """A group DM (several people) or a DM between two people; the bot is not in it."""
        channel_id = self.state.snowflakes.next()
        recipients = [u.payload() for u in (owner, *others)]
        channel: dict[str, Any] = {
            "id": str(channel_id),
            "type": 3 if len(others) > 1 else 1,
            "last_message_id": None,
            "recipients": recipients,
            "flags": 0,
        }
        if channel["type"] == 3:
            channel.update(name=None, icon=None, owner_id=str(owner.id))
        self.state.private_channels[channel_id] = channel
        return channel_id

    def member_permissions_in(self, user: FakeUser, channel_id: int) -> int:
        """What a member may do in a channel of the other server (user installs)."""
        channel = self.state.foreign_channels[channel_id]
        allowed = user.permissions & int(channel["permissions"])
        if not self.state.other_guild_external_apps:
            allowed &= ~PERM_USE_EXTERNAL_APPS
        return allowed

    def channel_payload(self, channel_id: int) -> dict[str, Any] | None:
        if channel_id in self.state.channels:
            return dict(self.state.channels[channel_id])
        if channel_id in self.state.foreign_channels:
            payload = dict(self.state.foreign_channels[channel_id])
            payload.pop("permissions")
            return payload
        if channel_id in self.state.private_channels:
            return dict(self.state.private_channels[channel_id])
        user = self.state.dm_channels.get(channel_id)
        return self.dm_channel_payload(user) if user is not None else None

    def dm_channel_payload(self, user: FakeUser) -> dict[str, Any]:
        return {
            "id": str(user.dm_channel_id),
            "type": 1,
            "last_message_id": None,
            "recipients": [user.payload()],
            "flags": 0,
        }

    def bot_user_payload(self) -> dict[str, Any]:
        return {
            **self.state.bot_user.payload(),
            "verified": True,
            "mfa_enabled": False,
            "locale": "en-US",
            "email": None,
            "bio": "",
        }

    def bot_member_payload(self, *, with_user: bool = True) -> dict[str, Any]:
        return self.state.bot_user.member_payload(with_user=with_user)

    def application_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.state.application_id),
            "name": self.state.bot_user.name,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.state.owner.payload(),
            "team": None,
            "flags": self.state.application_flags,
            "bot": self.state.bot_user.payload(),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "install_params": None,
            "integration_types_config": {"0": {}, "1": {}},
            "approximate_guild_count": 1,
        }

    def guild_of(self, channel_id: int) -> int | None:
        """The guild of a channel; None for a DM channel."""
        channel = self.state.channels.get(channel_id)
        return int(channel["guild_id"]) if channel is not None else None

    def guild_create_payload(self, guild_id: int | None = None) -> dict[str, Any]:
        guild_id = guild_id or self.state.guild_id
        channels = [cid for cid in self.state.channels if self.guild_of(cid) == guild_id]
        members = [self.bot_member_payload()]
        members += [u.member_payload() for u in self.state.users.values() if u.in_guild]
        everyone = {
            "id": str(guild_id),
            "name": "@everyone",
            "permissions": str(MEMBER_PERMISSIONS),
            "position": 0,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        return {
            "id": str(guild_id),
            "name": self.state.guild_names[guild_id],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.state.owner.id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": str(channels[0]) if channels else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "features": [],
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "joined_at": iso(),
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "members": members,
            "channels": [self.channel_payload(cid) for cid in channels],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_progress_bar_enabled": False,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "application_id": None,
            "vanity_url_code": None,
        }

    def find_command(self, name: str, *, guild_id: int | None = None) -> dict[str, Any] | None:
        """The synced chat-input command `name`: guild commands first (when in a guild)."""
        scopes = [self.state.guild_commands.get(guild_id, [])] if guild_id is not None else []
        for commands in [*scopes, self.state.commands]:
            for command in commands:
                if command["name"] == name and command.get("type", 1) == 1:
                    return command
        return None

    # -- message storage ---------------------------------------------------------------------

    def new_message(
        self,
        channel_id: int,
        body: dict[str, Any],
        *,
        flags: int,
        kind: str,
        interaction: FakeInteraction | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> FakeMessage:
        message = FakeMessage(
            id=self.state.snowflakes.next(),
            channel_id=channel_id,
            author=self.state.bot_user.payload(),
            content=body.get("content") or "",
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            flags=flags,
            guild_id=self.guild_of(channel_id),
            interaction=interaction,
            kind=kind,
        )
        message.attachments = self._attachments(message, body, files or [])
        if interaction is not None:
            message.webhook_id = self.state.application_id
            message.application_id = self.state.application_id
            if kind == "response" and interaction.type == 2:
                message.type = 20
        self.state.messages[message.id] = message
        return message

    def _attachments(
        self, message: FakeMessage, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        kept_ids = {str(a.get("id")) for a in body.get("attachments") or []}
        kept = [a for a in message.attachments if a["id"] in kept_ids]
        for upload in files:
            if not upload["name"].startswith("files["):
                continue
            aid = self.state.snowflakes.next()
            url = (
                f"https://cdn.discordapp.com/attachments/{message.channel_id}/{aid}/"
                f"{upload['filename']}"
            )
            kept.append(
                {
                    "id": str(aid),
                    "filename": upload["filename"],
                    "size": upload["size"],
                    "url": url,
                    "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                    "content_type": upload["content_type"],
                }
            )
        return kept

    def apply_edit(
        self, message: FakeMessage, body: dict[str, Any], files: list[dict[str, Any]]
    ) -> None:
        message.history.append(message.snapshot())
        if "content" in body:
            message.content = body["content"] or ""
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = list(body["components"] or [])
        if "attachments" in body or files:
            message.attachments = self._attachments(message, body, files)
        if "flags" in body and body["flags"] is not None:
            toggled = int(body["flags"]) & SUPPRESS_EMBEDS
            message.flags = (message.flags & ~SUPPRESS_EMBEDS) | toggled
        message.flags &= ~LOADING
        message.edited_timestamp = iso()

    async def emit_message(self, event: str, message: FakeMessage) -> None:
        """MESSAGE_* gateway events for non-ephemeral messages, when the intents ask for them."""
        conn = self.state.connection_for(message.guild_id)
        if not self.state.message_events or conn is None or message.is_ephemeral:
            return
        intent = INTENT_DIRECT_MESSAGES if message.guild_id is None else INTENT_GUILD_MESSAGES
        if not conn.intents & intent:
            return
        if event == "MESSAGE_DELETE":
            data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
        else:
            data = message.payload()
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
            if event == "MESSAGE_CREATE":
                data["member"] = self.bot_member_payload(with_user=False)
        await conn.dispatch(event, data)

    # -- messages ----------------------------------------------------------------------------

    def channel_messages(
        self, channel_id: int, *, include_ephemeral: bool = False
    ) -> list[FakeMessage]:
        """Messages in a channel, oldest first; ephemeral ones only when asked for."""
        return [
            m
            for m in self.state.messages.values()
            if m.channel_id == channel_id
            and not m.deleted
            and (include_ephemeral or not m.is_ephemeral)
        ]

    def dms(self, user: FakeUser) -> list[FakeMessage]:
        """Messages the bot sent to `user`'s DM channel (rejected DMs are not stored)."""
        return self.channel_messages(user.dm_channel_id)
