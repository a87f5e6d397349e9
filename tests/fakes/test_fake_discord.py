"""The fake Discord works with the unmodified discord.py client.

A plain `commands.Bot` with a small `/demo` command group logs into `FakeDiscord`, syncs, becomes
ready, and answers interactions the fake injects; the fake answers like Discord does.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakes.discord import (
    FakeDiscord,
    FakeDiscordTimeout,
    FakeInteraction,
    point_discord_py_at,
)

START_TIMEOUT = 10.0


# -- the bot under test -------------------------------------------------------------------------


class PressView(discord.ui.View):
    def __init__(self, bot: DemoBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Press", custom_id="demo:press", style=discord.ButtonStyle.primary)
    async def press(
        self, interaction: discord.Interaction, button: discord.ui.Button[PressView]
    ) -> None:
        assert interaction.message is not None
        self.bot.seen.append(("pressed", interaction.user.id, interaction.message.id))
        await interaction.response.edit_message(
            content=f"pressed by {interaction.user.name}", view=None
        )
        self.stop()


class CodeModal(discord.ui.Modal, title="Enter your code"):
    code: discord.ui.TextInput[CodeModal] = discord.ui.TextInput(
        label="Code", custom_id="demo:code", min_length=4, max_length=8
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.code.value}", ephemeral=True)


class DemoBot(commands.Bot):
    def __init__(self, **options: Any) -> None:
        intents = discord.Intents.default()
        intents.members = False
        intents.message_content = False
        intents.presences = False
        options.setdefault("intents", intents)
        # on_ready fires guild_ready_timeout after the last GUILD_CREATE (2 s by default).
        options.setdefault("guild_ready_timeout", 0.05)
        super().__init__(command_prefix=commands.when_mentioned, help_command=None, **options)
        self.seen: list[Any] = []
        self.views: list[discord.ui.View] = []
        self.synced: list[app_commands.AppCommand] = []
        self.release = asyncio.Event()
        self.tree.add_command(build_demo_group(self))

    async def setup_hook(self) -> None:
        self.synced = await self.tree.sync()


def build_demo_group(bot: DemoBot) -> app_commands.Group:
    demo = app_commands.Group(name="demo", description="Commands that exercise the fake Discord")

    @demo.command(description="Say hello privately")
    async def hello(interaction: discord.Interaction, name: str, times: int = 1) -> None:
        await interaction.response.send_message(f"hello {name} x{times}", ephemeral=True)

    @demo.command(description="Where was I used?")
    async def where(interaction: discord.Interaction) -> None:
        channel = interaction.channel
        nsfw = channel.is_nsfw() if isinstance(channel, discord.TextChannel) else None
        kind = type(channel).__name__
        await interaction.response.send_message(f"{kind} nsfw={nsfw}", ephemeral=True)

    @demo.command(description="Defer, then follow up")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        # Not ephemeral on purpose: the first follow-up keeps the defer's visibility.
        await interaction.followup.send("done thinking")

    @demo.command(description="DM me")
    async def dm(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True)
        try:
            await interaction.user.send("a private hello")
        except discord.Forbidden as exc:
            bot.seen.append(exc)
            await interaction.followup.send("your DMs are closed", ephemeral=True)
        else:
            await interaction.followup.send("check your DMs", ephemeral=True)

    @demo.command(description="Post a button in the channel")
    async def button(interaction: discord.Interaction) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send("press me", view=PressView(bot))
        await interaction.response.send_message("posted", ephemeral=True)

    @demo.command(description="An ephemeral menu in a follow-up")
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("menu below", ephemeral=True)
        view = PressView(bot)
        bot.views.append(view)
        await interaction.followup.send("pick", view=view, ephemeral=True)

    @demo.command(description="Open a form")
    async def form(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(CodeModal())

    @demo.command(description="An embed over Discord's limits")
    async def huge(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="big", description="x" * 5000)
        try:
            await interaction.response.send_message(embed=embed)
        except discord.HTTPException as exc:
            bot.seen.append(exc)
            await interaction.response.send_message("that embed was too big", ephemeral=True)

    @demo.command(description="Never answers")
    async def ignore(interaction: discord.Interaction) -> None:
        bot.seen.append("ignored")

    @demo.command(description="Answers once the test says so")
    async def late(interaction: discord.Interaction) -> None:
        await bot.release.wait()
        try:
            await interaction.response.send_message("finally")
        except discord.NotFound as exc:
            bot.seen.append(exc)

    return demo


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_discord_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """An exception in a command, view or modal is only logged by discord.py: fail on it."""
    yield
    errors = [
        r for r in caplog.records if r.name.startswith("discord") and r.levelno >= logging.ERROR
    ]
    assert errors == [], [r.getMessage() for r in errors]


def _pending_tasks() -> list[asyncio.Task[Any]]:
    current = asyncio.current_task()
    return [t for t in asyncio.all_tasks() if t is not current and not t.done()]


@contextlib.asynccontextmanager
async def running(
    bot: commands.Bot | commands.AutoShardedBot, server: FakeDiscord
) -> AsyncIterator[commands.Bot | commands.AutoShardedBot]:
    """Log in, connect, wait for on_ready; always close the bot and reap its task."""
    connect: asyncio.Task[None] | None = None
    try:
        await bot.login(server.token)
        connect = asyncio.create_task(bot.connect(reconnect=False))
        ready = asyncio.create_task(bot.wait_until_ready())
        done, _ = await asyncio.wait(
            {connect, ready}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if connect in done:
                connect.result()  # raises what stopped the client
            raise AssertionError("the bot did not become ready")
        yield bot
    finally:
        await bot.close()
        if connect is not None:
            await asyncio.wait_for(connect, 5)


@pytest.fixture
async def server() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake, point_discord_py_at(fake):
        yield fake
    assert _pending_tasks() == []


@pytest.fixture
async def bot(server: FakeDiscord) -> AsyncIterator[DemoBot]:
    demo = DemoBot()
    async with running(demo, server):
        yield demo
        for view in demo.views:
            view.stop()
    server.assert_all_acknowledged(within=3.0)
    assert server.unknown_routes == []


# -- login, sync, ready -------------------------------------------------------------------------


async def test_login_sync_and_ready(server: FakeDiscord, bot: DemoBot) -> None:
    assert bot.user is not None
    assert bot.user.id == server.bot_user.id
    assert bot.application_id == server.application_id
    # The sync is recorded, with discord.py's payload, and answered with ids.
    assert len(server.command_syncs) == 1
    scope, payload = server.command_syncs[0]
    assert scope is None
    (demo,) = payload
    subcommands = {o["name"]: o for o in demo["options"]}
    assert {"hello", "slow", "dm", "button", "form", "huge", "ignore"} <= set(subcommands)
    assert [(o["name"], o["type"], o["required"]) for o in subcommands["hello"]["options"]] == [
        ("name", 3, True),
        ("times", 4, False),
    ]
    assert [c.name for c in bot.synced] == ["demo"]
    assert bot.synced[0].id == int(server.commands[0]["id"])
    # The guild and both channels are in discord.py's cache.
    guild = bot.get_guild(server.guild_id)
    assert guild is not None
    text = guild.get_channel(server.text_channel_id)
    nsfw = guild.get_channel(server.nsfw_channel_id)
    assert isinstance(text, discord.TextChannel)
    assert not text.is_nsfw()
    assert isinstance(nsfw, discord.TextChannel)
    assert nsfw.is_nsfw()
    # Login order and transport, as discord.py does it.
    paths = [(c.method, c.path) for c in server.rest_calls]
    assert paths[:3] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("PUT", f"/applications/{server.application_id}/commands"),
    ]
    assert server.gateway_queries[0] == {"v": "10", "encoding": "json", "compress": "zlib-stream"}
    assert server.heartbeats >= 1


async def test_plain_text_gateway_frames_are_accepted() -> None:
    async with FakeDiscord(gateway_compression=False) as server, point_discord_py_at(server):
        demo = DemoBot()
        async with running(demo, server):
            assert server.gateway is not None
            assert server.gateway.compress is None
            assert demo.get_guild(server.guild_id) is not None
            alice = server.add_user(name="alice")
            inter = await server.slash_command(alice, "demo", "hello", {"name": "a"})
            assert (await inter.wait_for_message()).content == "hello a x1"


async def test_privileged_intents_are_refused_like_discord() -> None:
    async with FakeDiscord() as server, point_discord_py_at(server):
        intents = discord.Intents.default()
        intents.members = True
        demo = DemoBot(intents=intents)
        # With reconnect=False discord.py raises the close itself; bot.start() (reconnect=True)
        # turns it into PrivilegedIntentsRequired.
        with pytest.raises(discord.ConnectionClosed) as closed:
            async with running(demo, server):
                pass
        assert closed.value.code == 4014


async def test_wrong_token_fails_login(server: FakeDiscord) -> None:
    demo = DemoBot()
    try:
        with pytest.raises(discord.LoginFailure):
            await demo.login("not-the-token")
    finally:
        await demo.close()
    assert server.rest_calls[-1].status == 401


# -- interactions -------------------------------------------------------------------------------


async def test_slash_command_ephemeral_reply(server: FakeDiscord, bot: DemoBot) -> None:
    alice = server.add_user(name="alice")
    inter = await server.slash_command(alice, "demo", "hello", {"name": "bob", "times": 3})
    option = inter.payload["data"]["options"][0]
    assert option["type"] == 1
    assert [(o["name"], o["type"]) for o in option["options"]] == [("name", 3), ("times", 4)]

    message = await inter.wait_for_message()
    assert message.content == "hello bob x3"
    assert message.is_ephemeral
    assert inter.response_message is message
    assert inter.callback_types == [4]
    assert inter.acknowledged_after is not None
    assert inter.acknowledged_after < 3.0
    # Ephemeral: not visible in the channel.
    assert server.channel_messages(server.text_channel_id) == []
    assert message in server.channel_messages(server.text_channel_id, include_ephemeral=True)


async def test_channel_resolution_nsfw_and_dm(server: FakeDiscord, bot: DemoBot) -> None:
    alice = server.add_user(name="alice")
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "TextChannel nsfw=False"),
        ({"channel_id": server.nsfw_channel_id}, "TextChannel nsfw=True"),
        ({"dm": True}, "DMChannel nsfw=None"),
    ]
    for kwargs, expected in cases:
        inter = await server.slash_command(alice, "demo", "where", **kwargs)
        assert (await inter.wait_for_message()).content == expected


async def test_defer_then_follow_up(server: FakeDiscord, bot: DemoBot) -> None:
    alice = server.add_user(name="alice")
    followed: list[FakeInteraction] = []
    server.on_followup = followed.append
    inter = await server.slash_command(alice, "demo", "slow")
    callback = await inter.wait_acknowledged()
    assert callback == {"type": 5, "data": {"flags": 64}}
    message = await inter.wait_for_message()
    assert message.content == "done thinking"
    # The follow-up replaced the "thinking" message and kept the defer's visibility.
    assert message is inter.response_message
    assert message.is_ephemeral
    assert not message.is_loading
    assert len(inter.messages) == 1
    # Each accepted follow-up is signalled once, with its interaction.
    assert await server.wait_for(lambda: followed, what="on_followup") == [inter]


async def test_dm_and_closed_dm(server: FakeDiscord, bot: DemoBot) -> None:
    open_user = server.add_user(name="open")
    closed_user = server.add_user(name="closed", dms_open=False)

    inter = await server.slash_command(open_user, "demo", "dm")
    dm = await server.wait_for_dm(open_user)
    assert dm.content == "a private hello"
    assert dm.kind == "dm"
    assert (await inter.wait_for_message()).content == "check your DMs"
    assert [(c.method, c.path) for c in server.calls("POST", "/users/@me/channels")] == [
        ("POST", "/users/@me/channels")
    ]

    inter = await server.slash_command(closed_user, "demo", "dm")
    reply = await inter.wait_for_message()
    assert reply.content == "your DMs are closed"
    assert reply.is_ephemeral
    forbidden = bot.seen[-1]
    assert isinstance(forbidden, discord.Forbidden)
    assert forbidden.code == 50007
    assert forbidden.text == "Cannot send messages to this user"
    assert server.dms(closed_user) == []
    rejected = server.calls("POST", f"/channels/{closed_user.dm_channel_id}/messages")
    assert [c.status for c in rejected] == [403]


async def test_view_button_press_edits_message(server: FakeDiscord, bot: DemoBot) -> None:
    alice = server.add_user(name="alice")
    bob = server.add_user(name="bob")
    inter = await server.slash_command(alice, "demo", "button")
    assert (await inter.wait_for_message()).content == "posted"
    (posted,) = server.channel_messages(server.text_channel_id)
    assert posted.content == "press me"
    assert [b["custom_id"] for b in posted.buttons] == ["demo:press"]

    press = await server.press_button(bob, posted, "demo:press")
    await press.wait_acknowledged()
    assert press.callback_types == [7]
    assert posted.content == "pressed by bob"
    assert posted.components == []
    assert posted.history[0]["content"] == "press me"
    assert bot.seen == [("pressed", bob.id, posted.id)]
    with pytest.raises(ValueError, match="no component"):
        await server.press_button(bob, posted, "demo:press")


async def test_view_on_ephemeral_follow_up(server: FakeDiscord, bot: DemoBot) -> None:
    alice = server.add_user(name="alice")
    inter = await server.slash_command(alice, "demo", "menu")
    menu = await inter.wait_for_message(lambda m: m.content == "pick")
    assert menu.is_ephemeral
    assert menu.kind == "followup"
    with pytest.raises(ValueError, match="ephemeral"):
        await server.press_button(server.add_user(name="mallory"), menu, "demo:press")

    press = await server.press_button(alice, menu, "demo:press")
    await press.wait_acknowledged()
    assert menu.content == "pressed by alice"
    assert bot.seen == [("pressed", alice.id, menu.id)]


async def test_modal_open_and_submit(server: FakeDiscord, bot: DemoBot) -> None:
    alice = server.add_user(name="alice")
    inter = await server.slash_command(alice, "demo", "form")
    modal = await inter.wait_for_modal()
    assert inter.callback_types == [9]
    assert modal["title"] == "Enter your code"
    assert inter.modal is not None
    assert modal["custom_id"] == inter.modal["custom_id"]
    with pytest.raises(ValueError, match="at least 4"):
        await server.submit_modal(alice, inter, {"demo:code": "12"})

    submit = await server.submit_modal(alice, inter, {"demo:code": "1234"})
    reply = await submit.wait_for_message()
    assert reply.content == "got 1234"
    assert reply.is_ephemeral


async def test_oversized_embed_is_rejected_with_50035(server: FakeDiscord, bot: DemoBot) -> None:
    alice = server.add_user(name="alice")
    inter = await server.slash_command(alice, "demo", "huge")
    reply = await inter.wait_for_message()
    assert reply.content == "that embed was too big"
    error = bot.seen[-1]
    assert isinstance(error, discord.HTTPException)
    assert error.status == 400
    assert error.code == 50035
    (rejected,) = inter.rejected_callbacks
    assert rejected[2]["errors"]["data"]["embeds"]["0"]["description"]["_errors"][0] == {
        "code": "BASE_TYPE_MAX_LENGTH",
        "message": "Must be 4096 or fewer in length.",
    }


async def test_unanswered_interaction_fails_the_deadline_check(
    server: FakeDiscord, bot: DemoBot
) -> None:
    alice = server.add_user(name="alice")
    inter = await server.slash_command(alice, "demo", "ignore")
    await server.wait_for(lambda: "ignored" in bot.seen, what="the command to run")
    with pytest.raises(AssertionError, match=str(inter.id)):
        server.assert_all_acknowledged()
    with pytest.raises(FakeDiscordTimeout):
        await inter.wait_acknowledged(timeout=0.2)
    inter.expect_unacknowledged = True  # so the fixture's teardown check passes
    server.assert_all_acknowledged()


async def test_late_callback_gets_unknown_interaction() -> None:
    async with FakeDiscord(ack_deadline=0.3) as server, point_discord_py_at(server):
        demo = DemoBot()
        async with running(demo, server):
            alice = server.add_user(name="alice")
            inter = await server.slash_command(alice, "demo", "late")
            assert inter.dispatched_at is not None
            start = inter.dispatched_at
            await server.wait_for(lambda: time.monotonic() - start > 0.3, what="the deadline")
            demo.release.set()
            await server.wait_for(lambda: demo.seen, what="the late answer")
            assert isinstance(demo.seen[0], discord.NotFound)
            assert demo.seen[0].code == 10062
            assert inter.acknowledged_after is None
            with pytest.raises(AssertionError, match="10062"):
                server.assert_all_acknowledged(within=0.3)


async def test_raw_protocol_errors(server: FakeDiscord, bot: DemoBot) -> None:
    """Second callback → 40060; unknown webhook → 10015; unknown route → recorded 404."""
    alice = server.add_user(name="alice")
    inter = await server.slash_command(alice, "demo", "ignore")
    await server.wait_for(lambda: "ignored" in bot.seen, what="the command to run")
    callback_url = f"{server.rest_base}/interactions/{inter.id}/{inter.token}/callback"
    body = {"type": 4, "data": {"content": "manual", "flags": 64}}
    async with aiohttp.ClientSession() as http:
        async with http.post(callback_url, json=body, params={"with_response": "1"}) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
            data = await resp.json()
        assert data["interaction"]["id"] == str(inter.id)
        assert data["interaction"]["response_message_ephemeral"] is True
        assert data["resource"]["type"] == 4
        assert data["resource"]["message"]["content"] == "manual"

        async with http.post(callback_url, json=body) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 40060

        webhook = f"{server.rest_base}/webhooks/{server.application_id}/nope"
        async with http.post(webhook, json={"content": "x"}) as resp:
            assert resp.status == 404
            assert (await resp.json())["code"] == 10015

        async with http.get(f"{server.rest_base}/no/such/route") as resp:
            assert resp.status == 404
            assert resp.headers["Content-Type"] == "application/json"
    assert [c.path for c in server.unknown_routes] == ["/no/such/route"]
    server.unknown_routes.clear()  # expected here; the fixture checks there are none


# -- more of the protocol -----------------------------------------------------------------------


class ExtraBot(DemoBot):
    """Guild-synced commands, a user option, a select menu, files, edits of @original."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.tree.remove_command("demo")
        extra = app_commands.Group(name="extra", description="More of the protocol")
        self.guild_for_sync: discord.Object | None = None

        @extra.command(description="Edit the original response, then follow up")
        async def steps(interaction: discord.Interaction, who: discord.Member) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.edit_original_response(content=f"step 1 for {who.name}")
            original = await interaction.original_response()
            self.seen.append(("original", original.id, original.content))
            await interaction.followup.send(
                "step 2", file=discord.File(io.BytesIO(b"abc"), "a.txt")
            )

        @extra.command(description="A select menu")
        async def choose(interaction: discord.Interaction) -> None:
            view = ChoiceView(self)
            self.views.append(view)
            await interaction.response.send_message("choose", view=view)

        self.tree.add_command(extra)

    async def setup_hook(self) -> None:
        guild = discord.Object(id=self.guild_id_to_sync)  # type: ignore[attr-defined]
        self.tree.copy_global_to(guild=guild)
        self.tree.clear_commands(guild=None)
        self.synced = await self.tree.sync(guild=guild)


class ChoiceView(discord.ui.View):
    def __init__(self, bot: DemoBot) -> None:
        super().__init__(timeout=60)
        self.bot = bot

    @discord.ui.select(
        custom_id="extra:choice",
        options=[
            discord.SelectOption(label="Cats", value="cats"),
            discord.SelectOption(label="Dogs", value="dogs"),
        ],
    )
    async def choice(
        self, interaction: discord.Interaction, select: discord.ui.Select[ChoiceView]
    ) -> None:
        await interaction.response.defer()  # type 6: deferred update
        await interaction.edit_original_response(content=f"chose {select.values[0]}", view=None)
        self.stop()


async def test_guild_sync_user_option_files_and_select(server: FakeDiscord) -> None:
    extra = ExtraBot()
    extra.guild_id_to_sync = server.guild_id  # type: ignore[attr-defined]
    async with running(extra, server):
        assert server.commands == []
        assert [c["name"] for c in server.guild_commands[server.guild_id]] == ["extra"]
        alice = server.add_user(name="alice")
        bob = server.add_user(name="bob")
        with pytest.raises(ValueError, match="guild command"):
            await server.slash_command(alice, "extra", "steps", {"who": bob}, dm=True)

        inter = await server.slash_command(alice, "extra", "steps", {"who": bob})
        assert inter.payload["data"]["guild_id"] == str(server.guild_id)
        step2 = await inter.wait_for_message(lambda m: m.content == "step 2")
        original = inter.response_message
        assert original is not None
        assert original.content == "step 1 for bob"
        assert not original.is_loading
        assert step2 is not original  # the original was edited, so the follow-up is new
        assert step2.attachments[0]["filename"] == "a.txt"
        assert step2.attachments[0]["size"] == 3
        assert ("original", original.id, "step 1 for bob") in extra.seen

        inter = await server.slash_command(alice, "extra", "choose")
        chooser = await inter.wait_for_message()
        with pytest.raises(ValueError, match="offers"):
            await server.select(alice, chooser, "extra:choice", ["birds"])
        pick = await server.select(alice, chooser, "extra:choice", ["dogs"])
        await pick.wait_for_message(lambda m: m.content == "chose dogs")
        assert pick.callback_types == [6]
        assert chooser.components == []
        # Public messages also reached the bot as MESSAGE_CREATE (guild_messages intent).
        assert any(m.id == chooser.id for m in extra.cached_messages)
    server.assert_all_acknowledged()


async def test_gateway_resume_after_disconnect(server: FakeDiscord) -> None:
    demo = DemoBot()
    await demo.login(server.token)
    connect = asyncio.create_task(demo.connect(reconnect=True))
    try:
        await asyncio.wait_for(demo.wait_until_ready(), START_TIMEOUT)
        await server.disconnect_gateway(4000)
        await server.wait_for(lambda: server.resumes == 1, what="a RESUME")
        alice = server.add_user(name="alice")
        inter = await server.slash_command(alice, "demo", "hello", {"name": "again"})
        assert (await inter.wait_for_message()).content == "hello again x1"
    finally:
        await demo.close()
        await asyncio.wait_for(connect, 5)
