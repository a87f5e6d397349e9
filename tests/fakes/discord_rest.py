"""REST half of the fake Discord: routes, recording, injected errors."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from tests.fakes.discord_models import (
    COMPONENTS_V2,
    EPHEMERAL,
    LOADING,
    MAX_FOLLOWUPS_WITHOUT_BOT,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    FakeMessage,
    RestCall,
)
from tests.fakes.discord_validation import (
    command_errors,
    discord_error,
    form_error,
    message_errors,
    modal_errors,
)

if TYPE_CHECKING:
    from tests.fakes.discord_models import FakeInteraction
    from tests.fakes.discord_state import DiscordState
    from tests.fakes.discord_world import World

API_PREFIX = "/api/v10"
# Per-request storage: the request's JSON body, its uploaded files, the JSON answered.
BODY = web.RequestKey[Any]("fake_discord_body")
FILES = web.RequestKey[list[dict[str, Any]]]("fake_discord_files")
RESPONSE = web.RequestKey[Any]("fake_discord_response")
_SENDABLE_FLAGS = EPHEMERAL | SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | COMPONENTS_V2
_TRUE = {"1", "true", "True"}

UNKNOWN_CHANNEL = (404, discord_error(10003, "Unknown Channel"))
UNKNOWN_MESSAGE = (404, discord_error(10008, "Unknown Message"))
UNKNOWN_WEBHOOK = (404, discord_error(10015, "Unknown Webhook"))
UNKNOWN_INTERACTION = (404, discord_error(10062, "Unknown interaction"))
ALREADY_ACKNOWLEDGED = (400, discord_error(40060, "Interaction has already been acknowledged."))
CANNOT_DM = (403, discord_error(50007, "Cannot send messages to this user"))
INVALID_WEBHOOK_TOKEN = (401, discord_error(50027, "Invalid Webhook Token"))
MISSING_ACCESS = (403, discord_error(50001, "Missing Access"))
MISSING_PERMISSIONS = (403, discord_error(50013, "Missing Permissions"))
TOO_MANY_FOLLOWUPS = (
    400,
    discord_error(40094, "This interaction has hit the maximum number of follow up messages"),
)


def _json(request: web.Request, data: Any, status: int = 200) -> web.Response:
    request[RESPONSE] = data
    # Exactly "application/json": discord.py parses nothing else (no "; charset=utf-8").
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _error(request: web.Request, error: tuple[int, dict[str, Any]]) -> web.Response:
    return _json(request, error[1], error[0])


def _no_content(request: web.Request) -> web.Response:
    request[RESPONSE] = None
    return web.Response(status=204)


def _choices_error(message: str) -> dict[str, Any]:
    return {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": message}]}


def _nest(body: dict[str, Any], key: str) -> dict[str, Any]:
    """Move a 50035 error tree under `key` (callback bodies carry the message in ``data``)."""
    if "errors" in body:
        return form_error({key: body["errors"]})
    return body


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class InjectedError:
    """The next `times` calls to ``method path`` (path may end in ``*``) get this answer."""

    method: str
    path: str
    status: int
    body: dict[str, Any]
    times: int
    headers: dict[str, str]

    def matches(self, method: str, path: str) -> bool:
        pattern = self.path
        on_path = path.startswith(pattern[:-1]) if pattern.endswith("*") else path == pattern
        return self.method == method and on_path and self.times > 0


class RestApi:
    """Route handlers answering from (and recording into) `state`."""

    def __init__(self, state: DiscordState, world: World) -> None:
        self.state = state
        self.world = world
        self._injected: list[InjectedError] = []

    def routes(self) -> list[web.RouteDef]:
        p = API_PREFIX
        return [
            web.get(p + "/users/@me", self._get_me),
            web.get(p + "/users/{user_id:\\d+}", self._get_user),
            web.post(p + "/users/@me/channels", self._create_dm),
            web.get(p + "/oauth2/applications/@me", self._get_application),
            web.get(p + "/applications/@me", self._get_application),
            web.get(p + "/gateway", self._get_gateway),
            web.get(p + "/gateway/bot", self._get_gateway_bot),
            web.get(p + "/applications/{app}/commands", self._get_commands),
            web.put(p + "/applications/{app}/commands", self._put_commands),
            web.get(p + "/applications/{app}/guilds/{guild}/commands", self._get_commands),
            web.put(p + "/applications/{app}/guilds/{guild}/commands", self._put_commands),
            web.post(p + "/interactions/{iid}/{token}/callback", self._callback),
            web.post(p + "/webhooks/{app}/{token}", self._followup),
            web.get(p + "/webhooks/{app}/{token}/messages/{mid}", self._webhook_message),
            web.patch(p + "/webhooks/{app}/{token}/messages/{mid}", self._webhook_message),
            web.delete(p + "/webhooks/{app}/{token}/messages/{mid}", self._webhook_message),
            web.get(p + "/channels/{cid:\\d+}", self._get_channel),
            web.get(p + "/channels/{cid:\\d+}/messages", self._get_history),
            web.post(p + "/channels/{cid:\\d+}/messages", self._post_message),
            web.get(p + "/channels/{cid:\\d+}/messages/{mid:\\d+}", self._channel_message),
            web.patch(p + "/channels/{cid:\\d+}/messages/{mid:\\d+}", self._channel_message),
            web.delete(p + "/channels/{cid:\\d+}/messages/{mid:\\d+}", self._channel_message),
            web.get(p + "/guilds/{gid:\\d+}", self._get_guild),
            web.get(p + "/guilds/{gid:\\d+}/channels", self._get_guild_channels),
            web.get(p + "/guilds/{gid:\\d+}/members/{uid:\\d+}", self._get_member),
            web.route("*", "/{tail:.*}", self._unknown_route),
        ]

    # -- injected errors ---------------------------------------------------------------------

    def inject_error(
        self,
        method: str,
        path: str,
        status: int,
        body: dict[str, Any] | None = None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` calls to ``method path`` (path may end in ``*``) with an error.

        A 429 needs ``{"retry_after": s}`` and a ``Via`` header for discord.py to retry; 5xx are
        retried by discord.py after 1, 3, 5... seconds, so prefer 4xx in fast tests.
        """
        self._injected.append(
            InjectedError(
                method=method.upper(),
                path=path,
                status=status,
                body=body if body is not None else {"message": "injected", "code": 0},
                times=times,
                headers=headers or {},
            )
        )

    def _take_injected_error(self, method: str, path: str) -> InjectedError | None:
        rule = next((r for r in self._injected if r.matches(method, path)), None)
        if rule is not None:
            rule.times -= 1
        return rule

    # -- recording ---------------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        path = request.path.removeprefix(API_PREFIX)
        body, files = await _read_body(request)
        request[BODY] = body
        request[FILES] = files
        call = RestCall(request.method, path, dict(request.query), body, files=files)
        self.state.rest_calls.append(call)
        response: web.StreamResponse
        injected = self._take_injected_error(request.method, path)
        if self._refuses(path):
            self.state.refused_calls.append(call)
            response = _error(request, MISSING_ACCESS)
        elif injected is not None:
            response = _json(request, injected.body, injected.status)
            response.headers.update(injected.headers)
        elif (
            self._needs_auth(path)
            and "tail" not in request.match_info  # unknown routes are a 404 whatever the token
            and request.headers.get("Authorization") != f"Bot {self.state.token}"
        ):
            response = _json(request, {"message": "401: Unauthorized", "code": 0}, 401)
        else:
            response = await handler(request)
        call.status = response.status
        call.response = request.get(RESPONSE)
        self.state.notify()
        return response

    def _refuses(self, path: str) -> bool:
        """Channel and guild routes of places the bot is not in: Discord says Missing Access."""
        parts = path.split("/")
        if len(parts) < 3 or not parts[2].isdigit():
            return False
        target = int(parts[2])
        if parts[1] == "channels":
            return target in self.state.foreign_channels or target in self.state.private_channels
        return parts[1] == "guilds" and target == self.state.other_guild_id

    @staticmethod
    def _needs_auth(path: str) -> bool:
        # GET /gateway is public; /gateway/bot, like every bot route, needs the bot token.
        return not path.startswith(("/interactions/", "/webhooks/")) and path != "/gateway"

    async def _unknown_route(self, request: web.Request) -> web.Response:
        self.state.unknown_routes.append(self.state.rest_calls[-1])
        return _json(request, {"message": "404: Not Found", "code": 0}, 404)

    # -- identity ----------------------------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        return _json(request, self.world.bot_user_payload())

    async def _get_user(self, request: web.Request) -> web.Response:
        user_id = int(request.match_info["user_id"])
        if user_id == self.state.bot_user.id:
            return _json(request, self.state.bot_user.payload())
        user = self.state.users.get(user_id)
        if user is None:
            return _json(request, discord_error(10013, "Unknown User"), 404)
        return _json(request, user.payload())

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json(request, self.world.application_payload())

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json(request, {"url": self.state.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json(
            request,
            {
                "url": self.state.gateway_url,
                "shards": self.state.shard_count,
                "session_start_limit": limit,
            },
        )

    # -- application commands ----------------------------------------------------------------

    async def _get_commands(self, request: web.Request) -> web.Response:
        if int(request.match_info["app"]) != self.state.application_id:
            return _json(request, discord_error(10002, "Unknown Application"), 404)
        guild = request.match_info.get("guild")
        stored = self.state.guild_commands.get(int(guild), []) if guild else self.state.commands
        return _json(request, stored)

    async def _put_commands(self, request: web.Request) -> web.Response:
        if int(request.match_info["app"]) != self.state.application_id:
            return _json(request, discord_error(10002, "Unknown Application"), 404)
        guild = request.match_info.get("guild")
        guild_id = int(guild) if guild else None
        if guild_id is not None and guild_id not in self.state.guild_names:
            return _json(request, discord_error(50001, "Missing Access"), 403)
        payload = request[BODY]
        if (errors := command_errors(payload)) is not None:
            return _json(request, errors, 400)
        previous = self.state.guild_commands.get(guild_id, []) if guild_id else self.state.commands
        ids = {(c.get("type", 1), c["name"]): c["id"] for c in previous}
        stored = []
        for command in payload:
            key = (command.get("type", 1), command["name"])
            entry = {
                "type": 1,
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                "contexts": None,
                "integration_types": [0],
                **command,
                "id": ids.get(key) or str(self.state.snowflakes.next()),
                "application_id": str(self.state.application_id),
                "version": str(self.state.snowflakes.next()),
            }
            if guild_id is not None:
                entry["guild_id"] = str(guild_id)
            stored.append(entry)
        if guild_id is None:
            self.state.commands = stored
        else:
            self.state.guild_commands[guild_id] = stored
        self.state.command_syncs.append((guild_id, payload))
        return _json(request, stored)

    # -- interactions ------------------------------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        inter = self.state.interactions.get(int(request.match_info["iid"]))
        if inter is None or inter.token != request.match_info["token"]:
            return _error(request, UNKNOWN_INTERACTION)
        body = request[BODY] or {}
        error = self._callback_error(inter, body, now)
        if error is not None:
            inter.rejected_callbacks.append((body, error[0], error[1]))
            return _error(request, error)
        inter.callbacks.append(body)
        inter.callback_times.append(now)
        ctype, data = body["type"], body.get("data") or {}
        message: FakeMessage | None = None
        if ctype in (4, 5):
            flags = int(data.get("flags") or 0)
            if inter.force_ephemeral:
                flags |= EPHEMERAL
            if ctype == 4 and not flags & EPHEMERAL and not inter.can_embed:
                data = {**data, "embeds": []}  # Discord drops what the member may not embed
            message = self.world.new_message(
                inter.channel_id,
                data if ctype == 4 else {},
                flags=(flags & _SENDABLE_FLAGS) if ctype == 4 else LOADING | (flags & EPHEMERAL),
                kind="response",
                interaction=inter,
                files=request[FILES],
            )
            inter.response_message = message
            await self.world.emit_message("MESSAGE_CREATE", message)
        elif ctype == 7:
            message = inter.target_message
            assert message is not None
            self.world.apply_edit(message, data, request[FILES])
            inter.edits.append((message, data))
            await self.world.emit_message("MESSAGE_UPDATE", message)
        elif ctype == 9:
            inter.modal = data
            self.state.modals[data["custom_id"]] = inter
        if request.query.get("with_response") not in _TRUE:
            return _no_content(request)
        return _json(request, self._callback_response(inter, ctype, message))

    def _callback_error(
        self, inter: FakeInteraction, body: dict[str, Any], now: float
    ) -> tuple[int, dict[str, Any]] | None:
        if inter.callbacks:
            return ALREADY_ACKNOWLEDGED
        public = not int((body.get("data") or {}).get("flags") or 0) & EPHEMERAL
        if (
            body.get("type") in (4, 5)
            and public
            and not inter.can_post
            and not inter.force_ephemeral
        ):
            return MISSING_PERMISSIONS  # a user install is held to the member's permissions
        if (
            self.state.ack_deadline is not None
            and inter.dispatched_at is not None
            and now - inter.dispatched_at > self.state.ack_deadline
        ):
            return UNKNOWN_INTERACTION
        ctype = body.get("type")
        valid = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}.get(inter.type, set())
        if ctype in (6, 7) and inter.target_message is None:
            valid = valid - {6, 7}
        if ctype not in valid:
            choices = ", ".join(str(v) for v in sorted(valid))
            return 400, form_error(
                {
                    "type": _choices_error(
                        f"Value must be one of {{{choices}}} for this interaction."
                    )
                }
            )
        data = body.get("data") or {}
        if ctype == 4 and (error := message_errors(data)) is not None:
            return 400, _nest(error, "data")
        if ctype == 7 and (error := message_errors(data, require_content=False)) is not None:
            return 400, _nest(error, "data")
        if ctype == 9 and (error := modal_errors(body.get("data"))) is not None:
            return 400, error
        return None

    def _callback_response(
        self, inter: FakeInteraction, ctype: int, message: FakeMessage | None
    ) -> dict[str, Any]:
        target = message or (inter.target_message if ctype == 6 else None)
        info: dict[str, Any] = {"id": str(inter.id), "type": inter.type}
        if target is not None:
            info["response_message_id"] = str(target.id)
            info["response_message_loading"] = target.is_loading
            info["response_message_ephemeral"] = target.is_ephemeral
        response: dict[str, Any] = {"interaction": info}
        if message is not None:
            response["resource"] = {"type": ctype, "message": message.payload()}
        return response

    def _webhook_interaction(
        self, request: web.Request
    ) -> tuple[FakeInteraction | None, tuple[int, dict[str, Any]] | None]:
        inter = self.state.interactions_by_token.get(request.match_info["token"])
        if inter is None or request.match_info["app"] != str(self.state.application_id):
            return None, UNKNOWN_WEBHOOK
        if inter.token_expired:
            return None, INVALID_WEBHOOK_TOKEN
        return inter, None

    async def _followup(self, request: web.Request) -> web.Response:
        inter, error = self._webhook_interaction(request)
        if inter is None or not inter.callbacks:
            return _error(request, error or UNKNOWN_WEBHOOK)
        body = request[BODY] or {}
        if (error_body := message_errors(body)) is not None:
            return _json(request, error_body, 400)
        if not inter.bot_present and len(inter.followups) >= MAX_FOLLOWUPS_WITHOUT_BOT:
            return _error(request, TOO_MANY_FOLLOWUPS)
        # The first follow-up after a defer replaces the "thinking" message and keeps the
        # defer's visibility, whatever flags it asks for.
        original = inter.response_message
        replaces = original if original is not None and original.is_loading else None
        flags = int(body.get("flags") or 0)
        if inter.force_ephemeral:
            flags |= EPHEMERAL
        if replaces is None and not flags & EPHEMERAL and not inter.can_post:
            return _error(request, MISSING_PERMISSIONS)
        ephemeral = flags & EPHEMERAL or (replaces is not None and replaces.is_ephemeral)
        if not ephemeral and not inter.can_embed:
            body = {**body, "embeds": []}  # Discord drops what the member may not embed
        body = {**body, "flags": flags}
        if replaces is not None:
            self.world.apply_edit(replaces, body, request[FILES])
            message = replaces
            inter.edits.append((message, body))
            await self.world.emit_message("MESSAGE_UPDATE", message)
        else:
            message = self.world.new_message(
                inter.channel_id,
                body,
                flags=int(body.get("flags") or 0) & _SENDABLE_FLAGS,
                kind="followup",
                interaction=inter,
                files=request[FILES],
            )
            await self.world.emit_message("MESSAGE_CREATE", message)
        inter.followups.append(message)
        if self.state.on_followup is not None:
            self.state.on_followup(inter)
        if request.query.get("wait") in _TRUE:
            return _json(request, message.payload())
        return _no_content(request)

    async def _webhook_message(self, request: web.Request) -> web.Response:
        inter, error = self._webhook_interaction(request)
        if inter is None:
            return _error(request, error or UNKNOWN_WEBHOOK)
        mid = request.match_info["mid"]
        if mid == "@original":
            message = inter.original_message
        else:
            message = next((m for m in inter.all_messages if str(m.id) == mid), None)
        if message is None or message.deleted:
            return _error(request, UNKNOWN_MESSAGE)
        if request.method == "DELETE":
            message.deleted = True
            await self.world.emit_message("MESSAGE_DELETE", message)
            return _no_content(request)
        if request.method == "PATCH":
            body = request[BODY] or {}
            if (error_body := message_errors(body, require_content=False)) is not None:
                return _json(request, error_body, 400)
            self.world.apply_edit(message, body, request[FILES])
            inter.edits.append((message, body))
            await self.world.emit_message("MESSAGE_UPDATE", message)
        return _json(request, message.payload())

    # -- channels and messages ---------------------------------------------------------------

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[BODY] or {}
        user = self.state.users.get(int(body.get("recipient_id") or 0))
        if user is None:
            return _json(request, discord_error(50033, "Invalid Recipient(s)"), 400)
        return _json(request, self.world.dm_channel_payload(user))

    async def _get_channel(self, request: web.Request) -> web.Response:
        payload = self.world.channel_payload(int(request.match_info["cid"]))
        if payload is None:
            return _error(request, UNKNOWN_CHANNEL)
        return _json(request, payload)

    async def _get_history(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["cid"])
        if self.world.channel_payload(cid) is None:
            return _error(request, UNKNOWN_CHANNEL)
        limit = int(request.query.get("limit", "50"))
        found = list(reversed(self.world.channel_messages(cid)))[:limit]
        return _json(request, [m.payload() for m in found])

    async def _post_message(self, request: web.Request) -> web.Response:
        cid = int(request.match_info["cid"])
        recipient = self.state.dm_channels.get(cid)
        if recipient is None and cid not in self.state.channels:
            return _error(request, UNKNOWN_CHANNEL)
        if recipient is not None and not recipient.dms_open:
            return _error(request, CANNOT_DM)
        body = request[BODY] or {}
        if (error_body := message_errors(body)) is not None:
            return _json(request, error_body, 400)
        flags = int(body.get("flags") or 0) & (
            SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | COMPONENTS_V2
        )
        message = self.world.new_message(
            cid,
            body,
            flags=flags,
            kind="dm" if recipient is not None else "channel",
            files=request[FILES],
        )
        if body.get("message_reference"):
            message.type = 19
        await self.world.emit_message("MESSAGE_CREATE", message)
        return _json(request, message.payload())

    async def _channel_message(self, request: web.Request) -> web.Response:
        cid, mid = int(request.match_info["cid"]), int(request.match_info["mid"])
        message = self.state.messages.get(mid)
        if message is None or message.deleted or message.channel_id != cid or message.is_ephemeral:
            return _error(request, UNKNOWN_MESSAGE)
        if request.method == "GET":
            return _json(request, message.payload())
        if message.author["id"] != str(self.state.bot_user.id):
            return _json(
                request, discord_error(50005, "Cannot edit a message authored by another user"), 403
            )
        if request.method == "DELETE":
            message.deleted = True
            await self.world.emit_message("MESSAGE_DELETE", message)
            return _no_content(request)
        body = request[BODY] or {}
        if (error_body := message_errors(body, require_content=False)) is not None:
            return _json(request, error_body, 400)
        self.world.apply_edit(message, body, request[FILES])
        await self.world.emit_message("MESSAGE_UPDATE", message)
        return _json(request, message.payload())

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild_id = int(request.match_info["gid"])
        if guild_id not in self.state.guild_names:
            return _json(request, discord_error(10004, "Unknown Guild"), 404)
        payload = self.world.guild_create_payload(guild_id)
        for key in ("channels", "members", "threads", "presences", "voice_states", "joined_at"):
            payload.pop(key, None)
        return _json(request, payload)

    async def _get_guild_channels(self, request: web.Request) -> web.Response:
        guild_id = int(request.match_info["gid"])
        if guild_id not in self.state.guild_names:
            return _json(request, discord_error(10004, "Unknown Guild"), 404)
        channels = [cid for cid in self.state.channels if self.world.guild_of(cid) == guild_id]
        return _json(request, [self.world.channel_payload(cid) for cid in channels])

    async def _get_member(self, request: web.Request) -> web.Response:
        uid = int(request.match_info["uid"])
        user = self.state.users.get(uid)
        if uid == self.state.bot_user.id:
            return _json(request, self.world.bot_member_payload())
        known_guild = int(request.match_info["gid"]) in self.state.guild_names
        if not known_guild or user is None or not user.in_guild:
            return _json(request, discord_error(10007, "Unknown Member"), 404)
        return _json(request, user.member_payload())


async def _read_body(request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
    """JSON body (or multipart ``payload_json``) and any uploaded files."""
    files: list[dict[str, Any]] = []
    if not request.can_read_body:
        return None, files
    if request.content_type.startswith("multipart/"):
        body: Any = None
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):  # nested multipart: not used by Discord
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            else:
                data = await part.read()
                files.append(
                    {
                        "name": part.name,
                        "filename": part.filename,
                        "size": len(data),
                        "content_type": part.headers.get("Content-Type"),
                    }
                )
        return body, files
    text = await request.text()
    if not text:
        return None, files
    try:
        return json.loads(text), files
    except ValueError:
        return text, files
