"""Interaction injection for the fake Discord.

The helpers refuse (ValueError) what Discord's own client would not let a user send: options
a synced command does not have, a missing required option, a guild-only command used in a DM,
a disabled or missing button, someone else's ephemeral message, a modal value breaking the
modal's limits. Pass ``check=False`` to send it anyway.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_models import (
    CONTEXT_BOT_DM,
    CONTEXT_GUILD,
    CONTEXT_PRIVATE_CHANNEL,
    GUILD_INSTALL,
    MEMBER_PERMISSIONS,
    PERM_EMBED_LINKS,
    PERM_SEND_MESSAGES,
    PERM_USE_EXTERNAL_APPS,
    USER_INSTALL,
    FakeInteraction,
    FakeMessage,
    FakeUser,
)

if TYPE_CHECKING:
    from tests.fakes.discord_state import DiscordState
    from tests.fakes.discord_world import World

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
APP_PERMISSIONS = MEMBER_PERMISSIONS | (1 << 13) | (1 << 38)  # + manage messages, threads


_COERCE: dict[int, Any] = {3: str, 4: int, 5: bool, 10: float}


def _option_type(value: Any) -> int:
    if isinstance(value, FakeUser):
        return 6
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return 4
    if isinstance(value, float):
        return 10
    return 3


class InteractionInjector:
    """Builds INTERACTION_CREATE payloads the way Discord does and dispatches them."""

    def __init__(self, state: DiscordState, world: World) -> None:
        self.state = state
        self.world = world

    # -- public helpers ----------------------------------------------------------------------

    async def slash_command(
        self,
        user: FakeUser,
        name: str,
        subcommand: str | None = None,
        options: dict[str, Any] | None = None,
        *,
        group: str | None = None,
        channel_id: int | None = None,
        dm: bool = False,
        install: str | None = None,
        check: bool = True,
    ) -> FakeInteraction:
        """Run ``/name [group] [subcommand] option:value...`` as `user`.

        Option types come from the synced command when known (string 3, integer 4, ...),
        otherwise from the Python value (bool 5, int 4, float 10, str 3, FakeUser 6).
        ``install="user"`` runs it through the member's own install of the app (the default
        in the other server and in private channels, where the bot is not).
        """
        channel_id, guild_id = self._resolve_channel(user, channel_id, dm)
        install = install or self._default_install(channel_id)
        command = self.world.find_command(name, guild_id=guild_id)
        if command is not None and check:
            self._check_installable(command, install, self._context_of(channel_id, guild_id))
        if (
            command is None
            and check
            and self.world.find_command(name, guild_id=self.state.guild_id)
        ):
            raise ValueError(f"/{name} is a guild command: Discord does not offer it in DMs")
        if command is not None and check and guild_id is None and channel_id == user.dm_channel_id:
            contexts = command.get("contexts")
            if command.get("dm_permission") is False or (
                contexts is not None and 1 not in contexts
            ):
                raise ValueError(f"/{name} is not available in DMs (contexts={contexts})")
        leaf_defs = _leaf_definitions(command, group, subcommand) if command else None
        resolved: dict[str, dict[str, Any]] = {}
        built = []
        for key, value in (options or {}).items():
            definition = (leaf_defs or {}).get(key)
            if leaf_defs is not None and definition is None and check:
                raise ValueError(f"/{name} {subcommand or ''} has no option {key!r}")
            otype = definition["type"] if definition else _option_type(value)
            if check and definition and definition.get("choices"):
                allowed = [c["value"] for c in definition["choices"]]
                if value not in allowed:
                    raise ValueError(f"option {key!r}={value!r} is not one of {allowed}")
            if definition is not None and otype in _COERCE and not isinstance(value, FakeUser):
                try:
                    value = _COERCE[otype](value)  # Discord sends the declared JSON type
                except ValueError:
                    if check:
                        raise ValueError(f"option {key!r}={value!r} is not a {otype=}") from None
            if otype in (6, 9) and (isinstance(value, FakeUser) or int(value) in self.state.users):
                target = value if isinstance(value, FakeUser) else self.state.users[int(value)]
                resolved.setdefault("users", {})[str(target.id)] = target.payload()
                if guild_id is not None and target.in_guild:
                    members = resolved.setdefault("members", {})
                    members[str(target.id)] = target.member_payload(
                        with_user=False, permissions=True
                    )
                value = str(target.id)
            built.append({"name": key, "type": otype, "value": value})
        if check and leaf_defs is not None:
            missing = [
                d["name"]
                for d in leaf_defs.values()
                if d.get("required") and d["name"] not in (options or {})
            ]
            if missing:
                raise ValueError(f"/{name} {subcommand or ''} needs option(s) {missing}")
        if subcommand is not None:
            built = [{"name": subcommand, "type": 1, "options": built}]
            if group is not None:
                built = [{"name": group, "type": 2, "options": built}]
        data: dict[str, Any] = {
            "id": command["id"] if command else str(self.state.snowflakes.next()),
            "name": name,
            "type": 1,
            "options": built,
        }
        if command is not None and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        return await self.dispatch_interaction(
            user, type=2, data=data, channel_id=channel_id, install=install
        )

    async def press_button(
        self, user: FakeUser, message: Any, custom_id: str, *, check: bool = True
    ) -> FakeInteraction:
        """Press the button `custom_id` on `message` (a FakeMessage, discord.Message or id)."""
        msg, component = self._component_target(user, message, custom_id, check)
        component_type = component["type"] if component else 2
        data = {"custom_id": custom_id, "component_type": component_type}
        return await self._component_interaction(user, msg, data)

    async def select(
        self,
        user: FakeUser,
        message: Any,
        custom_id: str,
        values: list[str],
        *,
        check: bool = True,
    ) -> FakeInteraction:
        """Choose `values` in the select menu `custom_id` on `message`."""
        msg, component = self._component_target(user, message, custom_id, check)
        if check and component is not None:
            low, high = component.get("min_values", 1), component.get("max_values", 1)
            if not low <= len(values) <= high:
                raise ValueError(f"select {custom_id!r} takes {low}..{high} values")
            allowed = [o["value"] for o in component.get("options") or []]
            if allowed and any(v not in allowed for v in values):
                raise ValueError(f"select {custom_id!r} offers {allowed}, not {values}")
        data = {
            "custom_id": custom_id,
            "component_type": component["type"] if component else 3,
            "values": list(values),
        }
        return await self._component_interaction(user, msg, data)

    async def submit_modal(
        self,
        user: FakeUser,
        custom_id: str | FakeInteraction,
        values: Mapping[str, str | Sequence[str]],
        message: Any = None,
        *,
        check: bool = True,
    ) -> FakeInteraction:
        """Submit the modal the bot opened (type-9 callback) with text-input `values`.

        `custom_id` is the modal's custom id or the interaction that opened it. The submit comes
        from the opener's channel, and carries the opener's message when a button opened it.
        """
        opener: FakeInteraction | None
        if isinstance(custom_id, FakeInteraction):
            if custom_id.modal is None:
                raise ValueError(f"{custom_id!r} did not answer with a modal")
            opener = custom_id
        else:
            opener = self.state.modals.get(custom_id)
        modal = opener.modal if opener is not None else None
        if modal is not None:
            components = _submitted_components(modal["components"], values, check)
            modal_id = modal["custom_id"]
        else:
            if check:
                raise ValueError(f"the bot never opened a modal with custom_id {custom_id!r}")
            components = [
                {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]}
                for k, v in values.items()
            ]
            modal_id = str(custom_id)
        if message is None and opener is not None and opener.type == 3:
            message = opener.target_message
        msg = self._message(message) if message is not None else None
        if msg is not None:
            channel_id = msg.channel_id
        elif opener is not None:
            channel_id = opener.channel_id
        else:
            channel_id = None
        data = {"custom_id": modal_id, "components": components}
        install = opener.install if opener is not None else None
        return await self.dispatch_interaction(
            user, type=5, data=data, channel_id=channel_id, message=msg, install=install
        )

    async def dispatch_interaction(
        self,
        user: FakeUser,
        *,
        type: int,
        data: dict[str, Any],
        channel_id: int | None = None,
        dm: bool = False,
        message: FakeMessage | None = None,
        install: str | None = None,
    ) -> FakeInteraction:
        """Low level: send INTERACTION_CREATE with a complete payload; returns its record."""
        channel_id, guild_id = self._resolve_channel(user, channel_id, dm)
        install = install or self._default_install(channel_id)
        if install not in ("guild", "user"):
            raise ValueError(f"install must be 'guild' or 'user', not {install!r}")
        bot_present = guild_id in self.state.guild_names or channel_id == user.dm_channel_id
        if install == "guild" and not bot_present:
            raise ValueError("the bot is not in that channel: only a user install can be used")
        conn = self.state.connection_for(guild_id)  # the guild's shard; DMs: shard 0
        if conn is None:
            raise RuntimeError(
                f"no bot is connected to shard {self.state.shard_for(guild_id)} (IDENTIFY first)"
            )
        interaction_id = self.state.snowflakes.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.state.application_id),
            "type": type,
            "data": data,
            "token": token,
            "version": 1,
            "locale": user.locale,
            "app_permissions": str(APP_PERMISSIONS),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "channel_id": str(channel_id),
            "channel": self.world.channel_payload(channel_id),
        }
        owners = {"0": str(guild_id or 0)} if install == "guild" else {"1": str(user.id)}
        permissions = MEMBER_PERMISSIONS
        if guild_id == self.state.other_guild_id:
            # Held to the member's own permissions in a server the bot is not in.
            permissions = self.world.member_permissions_in(user, channel_id)
            payload["app_permissions"] = str(permissions)
        if guild_id is not None:
            member = user.member_payload(permissions=True)
            member["permissions"] = str(permissions if not bot_present else user.permissions)
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                member=member,
                authorizing_integration_owners=owners,
                context=CONTEXT_GUILD,
            )
        else:
            context = CONTEXT_PRIVATE_CHANNEL if channel_id in self.state.private_channels else 1
            payload.update(user=user.payload(), authorizing_integration_owners=owners)
            payload["context"] = context
        if message is not None:
            payload["message"] = message.payload()
        interaction = FakeInteraction(
            self.state,
            id=interaction_id,
            token=token,
            type=type,
            user=user,
            channel_id=channel_id,
            guild_id=guild_id,
            payload=payload,
            target_message=message,
        )
        interaction.install = install
        if not bot_present:
            interaction.bot_present = False
            interaction.can_post = bool(permissions & PERM_SEND_MESSAGES) or guild_id is None
            interaction.can_embed = bool(permissions & PERM_EMBED_LINKS) or guild_id is None
            interaction.force_ephemeral = guild_id is not None and not (
                permissions & PERM_USE_EXTERNAL_APPS
            )
        self.state.interactions[interaction_id] = interaction
        self.state.interactions_by_token[token] = interaction
        interaction.dispatched_at = time.monotonic()
        await conn.dispatch("INTERACTION_CREATE", payload)
        self.state.notify()
        return interaction

    # -- internals ---------------------------------------------------------------------------

    def _resolve_channel(
        self, user: FakeUser, channel_id: int | None, dm: bool
    ) -> tuple[int, int | None]:
        if dm:
            return user.dm_channel_id, None
        if channel_id is None:
            return self.state.text_channel_id, self.state.guild_id
        if channel_id in self.state.dm_channels:
            if self.state.dm_channels[channel_id] is not user:
                raise ValueError(f"channel {channel_id} is another user's DM")
            return channel_id, None
        if channel_id in self.state.channels:
            return channel_id, self.world.guild_of(channel_id)
        if channel_id in self.state.foreign_channels:
            return channel_id, self.state.other_guild_id
        if channel_id in self.state.private_channels:
            members = {int(r["id"]) for r in self.state.private_channels[channel_id]["recipients"]}
            if user.id not in members:
                raise ValueError(f"{user.name} is not in private channel {channel_id}")
            return channel_id, None
        raise ValueError(f"unknown channel {channel_id}")

    def _default_install(self, channel_id: int) -> str:
        foreign = (
            channel_id in self.state.foreign_channels or channel_id in self.state.private_channels
        )
        return "user" if foreign else "guild"

    def _context_of(self, channel_id: int, guild_id: int | None) -> int:
        if guild_id is not None:
            return CONTEXT_GUILD
        return (
            CONTEXT_PRIVATE_CHANNEL if channel_id in self.state.private_channels else CONTEXT_BOT_DM
        )

    async def _component_interaction(
        self, user: FakeUser, message: FakeMessage, data: dict[str, Any]
    ) -> FakeInteraction:
        """A press or choice on `message`, through the install that sent the message."""
        install = message.interaction.install if message.interaction is not None else None
        return await self.dispatch_interaction(
            user,
            type=3,
            data=data,
            channel_id=message.channel_id,
            message=message,
            install=install,
        )

    @staticmethod
    def _check_installable(command: dict[str, Any], install: str, context: int) -> None:
        """Discord offers a command only where its integration types and contexts allow."""
        types = command.get("integration_types") or [GUILD_INSTALL]
        wanted = USER_INSTALL if install == "user" else GUILD_INSTALL
        if wanted not in types:
            raise ValueError(
                f"/{command['name']} cannot be used through a {install} install "
                f"(integration_types={types})"
            )
        contexts = command.get("contexts")
        if contexts is not None and context not in contexts:
            raise ValueError(f"/{command['name']} is not offered in context {context}")

    def _message(self, message: Any) -> FakeMessage:
        message_id = message if isinstance(message, int) else message.id
        found = self.state.messages.get(int(message_id))
        if found is None:
            raise ValueError(f"the fake Discord has no message {message_id}")
        return found

    def _component_target(
        self, user: FakeUser, message: Any, custom_id: str, check: bool
    ) -> tuple[FakeMessage, dict[str, Any] | None]:
        msg = self._message(message)
        component = msg.component(custom_id)
        if check:
            if msg.deleted:
                raise ValueError(f"{msg!r} was deleted")
            if component is None:
                raise ValueError(f"{msg!r} has no component {custom_id!r}")
            if component.get("disabled"):
                raise ValueError(f"component {custom_id!r} on {msg!r} is disabled")
            if (
                msg.is_ephemeral
                and msg.interaction is not None
                and msg.interaction.user is not user
            ):
                raise ValueError(f"{msg!r} is ephemeral: only {msg.interaction.user.name} sees it")
        return msg, component


def _leaf_definitions(
    command: dict[str, Any], group: str | None, subcommand: str | None
) -> dict[str, dict[str, Any]]:
    options = command.get("options") or []
    for wanted, otype in ((group, 2), (subcommand, 1)):
        if wanted is None:
            continue
        found = next((o for o in options if o["name"] == wanted and o["type"] == otype), None)
        if found is None:
            raise ValueError(
                f"/{command['name']} has no {'group' if otype == 2 else 'subcommand'} {wanted!r}"
            )
        options = found.get("options") or []
    return {o["name"]: o for o in options if o.get("type") not in (1, 2)}


def _submitted_components(
    components: list[dict[str, Any]], values: Mapping[str, str | Sequence[str]], check: bool
) -> list[dict[str, Any]]:
    """What Discord sends back for a modal: its inputs (rows or labels) with the user's values."""
    used: set[str] = set()

    def submit(component: dict[str, Any]) -> dict[str, Any]:
        cid = component.get("custom_id")
        out: dict[str, Any] = {"type": component["type"]}
        if "id" in component:
            out["id"] = component["id"]
        if cid is None:
            return out
        out["custom_id"] = cid
        if component["type"] == 4:
            value = values.get(cid, component.get("value") or "")
            if check:
                if not isinstance(value, str):
                    raise ValueError(f"text input {cid!r} takes one string, not {value!r}")
                _check_text_input(component, value)
            out["value"] = value
        else:
            chosen = values.get(cid, [])
            out["values"] = [chosen] if isinstance(chosen, str) else list(chosen)
        used.add(cid)
        return out

    result = []
    for component in components:
        if component["type"] == 1:
            result.append({"type": 1, "components": [submit(c) for c in component["components"]]})
        elif component["type"] == 18:
            result.append({"type": 18, "component": submit(component["component"])})
        else:
            result.append(submit(component))
    unknown = set(values) - used
    if check and unknown:
        raise ValueError(f"the modal has no inputs {sorted(unknown)}")
    return result


def _check_text_input(component: dict[str, Any], value: str) -> None:
    cid = component["custom_id"]
    if component.get("required", True) and not value:
        raise ValueError(f"text input {cid!r} is required")
    if value and len(value) < (component.get("min_length") or 0):
        raise ValueError(f"text input {cid!r} needs at least {component['min_length']} chars")
    if len(value) > (component.get("max_length") or 4000):
        raise ValueError(f"text input {cid!r} takes at most {component.get('max_length')} chars")
