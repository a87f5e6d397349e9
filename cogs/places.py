"""Where an interaction happens: the bot's DM, a private channel, a server with or without the bot.

Everything here reads the interaction itself (its ``context``, ``channel`` payload and
``app_permissions``): for a user install in a server the bot is not in, that is all there is.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

_NSFW_CAPABLE = (
    discord.TextChannel,
    discord.Thread,
    discord.VoiceChannel,
    discord.StageChannel,
    discord.ForumChannel,
)


@dataclass(frozen=True, slots=True)
class Place:
    bot_dm: bool  # the member's DM with the bot
    bot_present: bool  # the bot is in this server (or it is the bot's DM)
    allows_nsfw: bool
    can_post: bool  # a public answer is allowed here
    can_embed: bool

    @classmethod
    def of(cls, interaction: discord.Interaction) -> Place:
        context = interaction.context
        in_guild = interaction.guild_id is not None
        private_channel = context.private_channel or (
            not in_guild and isinstance(interaction.channel, discord.GroupChannel)
        )
        bot_dm = not in_guild and not private_channel
        bot_present = bot_dm or (
            in_guild and interaction.client.get_guild(interaction.guild_id or 0) is not None
        )
        permissions = interaction.app_permissions
        if bot_dm:
            return cls(True, True, allows_nsfw=True, can_post=True, can_embed=True)
        # A user-installed app is held to the member's own permissions; a server that turned
        # off external apps gets private answers only.
        can_post = bot_present or (
            permissions.send_messages and interaction.permissions.use_external_apps
        )
        if private_channel:
            can_post = True  # a DM or group DM between people: the member may always post
        return cls(
            bot_dm=False,
            bot_present=bot_present,
            allows_nsfw=_nsfw_channel(interaction) if not private_channel else False,
            can_post=can_post,
            can_embed=permissions.embed_links,
        )


def _nsfw_channel(interaction: discord.Interaction) -> bool:
    """A server channel counts as age-restricted only when Discord marks it so."""
    channel = interaction.channel
    if isinstance(channel, _NSFW_CAPABLE):
        return channel.is_nsfw()
    return False
