"""The fake Discord gateway: HELLO, heartbeats, IDENTIFY/RESUME, READY, GUILD_CREATE, dispatches."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.discord_state import DiscordState
    from tests.fakes.discord_world import World

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_RESUME = 6
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT


class GatewayConnection:
    """One websocket from the bot. Frames go out under a lock so zlib-stream stays in order."""

    def __init__(self, ws: web.WebSocketResponse, *, compress: str | None) -> None:
        self.ws = ws
        self.compress = compress
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._lock = asyncio.Lock()
        self.sequence = 0
        self.session_id: str | None = None
        self.intents = 0
        self.identify: dict[str, Any] | None = None
        self.shard: tuple[int, int] = (0, 1)  # [id, count] from IDENTIFY
        self.received: list[dict[str, Any]] = []
        self.sent: list[dict[str, Any]] = []

    @property
    def identified(self) -> bool:
        return self.session_id is not None

    async def send(self, op: int, d: Any, t: str | None = None) -> None:
        async with self._lock:
            frame: dict[str, Any] = {"op": op, "d": d, "s": None, "t": t}
            if op == OP_DISPATCH:
                self.sequence += 1
                frame["s"] = self.sequence
            text = json.dumps(frame)
            self.sent.append(frame)
            if self._zlib is not None:
                data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(text)

    async def dispatch(self, event: str, data: Any) -> None:
        await self.send(OP_DISPATCH, data, event)

    async def close(self, code: int, message: str = "") -> None:
        await self.ws.close(code=code, message=message.encode())


class Gateway:
    """The websocket endpoint: each connection's frames, answered from (and into) `state`."""

    def __init__(self, state: DiscordState, world: World) -> None:
        self.state = state
        self.world = world

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        # zlib-stream is honoured when asked (and `gateway_compression` is on); any other
        # transport compression (zstd-stream) is answered with plain text frames, which
        # discord.py accepts: only binary frames go through its decompressor.
        if compress != "zlib-stream" or not self.state.gateway_compression:
            compress = None
        conn = GatewayConnection(ws, compress=compress)
        self.state.gateway_connections.append(conn)
        self.state.gateway_queries.append(dict(request.query))
        try:
            await conn.send(OP_HELLO, {"heartbeat_interval": self.state.heartbeat_interval_ms})
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    if msg.type is WSMsgType.BINARY:
                        await conn.close(4002, "Decode error")
                    continue
                try:
                    frame = json.loads(msg.data)
                except ValueError:
                    await conn.close(4002, "Decode error")
                    break
                conn.received.append(frame)
                await self._handle_frame(conn, frame)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            if self.state.shards.get(conn.shard[0]) is conn:
                del self.state.shards[conn.shard[0]]
            self.state.notify()
        return ws

    async def _handle_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            self.state.heartbeats += 1
            await conn.send(OP_HEARTBEAT_ACK, None)
        elif op == OP_IDENTIFY:
            await self._identify(conn, data or {})
        elif op == OP_RESUME:
            await self._resume(conn, data or {})
        elif op == OP_PRESENCE:
            self.state.presences.append(data)
        elif op == OP_REQUEST_MEMBERS:
            await self._request_members(conn, data or {})
        else:
            log.debug("fake gateway ignores op %s", op)

    async def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        if conn.identified:
            await conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.state.token:
            await conn.close(4004, "Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.state.privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = data.get("shard", [0, 1])
        if "shard" not in data and self.state.shard_count > 1:
            await conn.close(4011, "Sharding required.")
            return
        if not _valid_shard(shard, self.state.shard_count):
            await conn.close(4010, "Invalid shard.")
            return
        if shard[0] in self.state.held_down_shards:
            await conn.send(OP_INVALID_SESSION, False)
            return
        conn.identify = data
        conn.intents = intents
        conn.shard = (shard[0], shard[1])
        self.state.identifies += 1
        conn.session_id = secrets.token_hex(16)
        self.state.sessions[conn.session_id] = conn
        self.state.shards[conn.shard[0]] = conn
        guilds = [
            gid for gid in self.state.guild_names if self.state.shard_for(gid) == conn.shard[0]
        ]
        ready = {
            "v": 10,
            "user": self.world.bot_user_payload(),
            "guilds": [{"id": str(gid), "unavailable": True} for gid in guilds],
            "session_id": conn.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.state.gateway_url,
            "shard": list(conn.shard),
            "application": {
                "id": str(self.state.application_id),
                "flags": self.state.application_flags,
            },
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
            "_trace": ["fake-discord"],
        }
        await conn.dispatch("READY", ready)
        for gid in guilds:
            await conn.dispatch("GUILD_CREATE", self.world.guild_create_payload(gid))
        if len(self.state.shards) == self.state.shard_count:
            self.state.ready_sent.set()
        self.state.notify()

    async def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        old = self.state.sessions.get(data.get("session_id", ""))
        held_down = old is not None and old.shard[0] in self.state.held_down_shards
        if old is None or held_down or data.get("token") != self.state.token:
            await conn.send(OP_INVALID_SESSION, False)
            return
        conn.session_id = old.session_id
        conn.identify = old.identify
        conn.intents = old.intents
        conn.shard = old.shard
        conn.sequence = max(int(data.get("seq") or 0), old.sequence)
        assert conn.session_id is not None
        self.state.sessions[conn.session_id] = conn
        self.state.shards[conn.shard[0]] = conn
        self.state.resumes += 1
        await conn.dispatch("RESUMED", {"_trace": ["fake-discord"]})
        self.state.notify()

    async def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        members = [u.member_payload() for u in self.state.users.values() if u.in_guild]
        members.append(self.world.bot_member_payload())
        guild_id = data.get("guild_id")
        chunk: dict[str, Any] = {
            "guild_id": str(guild_id if guild_id is not None else self.state.guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await conn.dispatch("GUILD_MEMBERS_CHUNK", chunk)


def _valid_shard(shard: Any, shard_count: int) -> bool:
    """``[id, count]`` with ``count`` the fake's own shard count and ``0 <= id < count``."""
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
        and shard[1] == shard_count
        and 0 <= shard[0] < shard_count
    )
