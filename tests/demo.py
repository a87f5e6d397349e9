"""An offline demo: the real bot against the fake Discord and the fake Imgur.

    make demo        (or: .venv/bin/python -m tests.demo)

Plays a short session as one member (link, PIN, favorites with paging, status, unlink) and
prints what the member saw. Needs no account anywhere and no network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, TextIO

import aiohttp

from tests.e2e.conftest import make_config, running_bot
from tests.fakes.discord import FakeDiscord, FakeInteraction, FakeMessage, point_discord_py_at
from tests.fakes.imgur import FakeImgur


def describe(message: FakeMessage) -> list[str]:
    """A message as a member would read it, in plain text."""
    if message.kind == "dm":
        where = "a direct message"
    elif message.is_ephemeral:
        where = "only you can see this"
    else:
        where = "posted in the channel"
    lines = [f"  ({where})"]
    if message.content:
        lines += [f"  {line}" for line in message.content.splitlines()]
    for embed in message.embeds:
        title = embed.get("title", "")
        lines.append(f"  ┌ {title}" + (f"  <{embed['url']}>" if embed.get("url") else ""))
        lines += [f"  │ {line}" for line in embed.get("description", "").splitlines()]
        for field in embed.get("fields", []):
            lines.append(f"  │ {field['name']}: {field['value']}")
        if embed.get("image"):
            lines.append(f"  │ [picture] {embed['image']['url']}")
        if embed.get("footer"):
            lines.append(f"  └ {embed['footer']['text']}")
    buttons = []
    for row in message.components:
        for component in row.get("components", []):
            label = component.get("label", "?")
            state = " (disabled)" if component.get("disabled") else ""
            buttons.append(f"[{label}]{state}")
    if buttons:
        lines.append("  " + " ".join(buttons))
    return lines


# What a member must see in the transcript of a whole session (tests/e2e/test_demo.py, and the
# bot in its Docker container: tests/container_demo.py).
TRANSCRIPT_SHOWS = (
    "» alice: /imgur link",
    "Linked! Your Imgur account",
    "Imgur page 1 · 1–5 of 10",
    "Imgur page 2 · 1–4 of 4",
    "Hidden: marked NSFW",
    "» alice: /imgur status",
    "Unlinked.",
    "Imgur API calls made: 2 favorites pages",
)

# Starts the bot against the fakes for the session, stops it after.
BotStarter = Callable[[FakeDiscord, FakeImgur], AbstractAsyncContextManager[object]]


def in_process(workdir: Path) -> BotStarter:
    """The bot in this process (the default)."""

    @contextlib.asynccontextmanager
    async def start(discord: FakeDiscord, imgur: FakeImgur) -> AsyncIterator[object]:
        config = make_config(workdir, discord, imgur, imgur={"request_timeout_seconds": 5})
        async with running_bot(config, discord) as bot:
            yield bot

    return start


def button(message: FakeMessage, label: str) -> dict[str, Any]:
    for row in message.components:
        for component in row.get("components", []):
            if component.get("label") == label:
                return dict(component)
    raise LookupError(label)


async def play(out: TextIO, workdir: Path, *, bot: BotStarter | None = None) -> None:
    """Run the whole session, writing the transcript to ``out``; ``bot`` starts the bot."""

    def say(text: str = "") -> None:
        print(text, file=out)

    async with FakeImgur() as imgur, FakeDiscord() as discord:
        imgur.add_account("demo_imgurian", favorites=14)
        imgur.page_size = 10
        imgur.login_as = "demo_imgurian"  # who "clicks Allow" on the fake authorize page
        with point_discord_py_at(discord):
            async with (bot or in_process(workdir))(discord, imgur):
                alice = discord.add_user(name="alice")

                async def run(title: str, interaction: FakeInteraction) -> FakeMessage:
                    message = await interaction.wait_for_message()
                    say(f"» {title}")
                    for line in describe(message):
                        say(line)
                    say()
                    return message

                await run("alice: /imgur link", await discord.slash_command(alice, "imgur", "link"))
                dm = await discord.wait_for_dm(alice)
                say("» the bot's DM to alice")
                for line in describe(dm):
                    say(line)
                say()
                authorize = button(dm, "Authorize on Imgur")["url"]
                async with aiohttp.ClientSession() as session, session.get(authorize) as page:
                    pin = FakeImgur.pin_from_page(await page.text())
                say("» alice presses [Authorize on Imgur]; (fake) Imgur shows her a PIN\n")

                press = await discord.press_button(alice, dm, button(dm, "Enter PIN")["custom_id"])
                await press.wait_for_modal()
                say("» alice presses [Enter PIN]: a form asks for the PIN, she types it\n")
                modal = press.modal or {}
                (field,) = [c for row in modal["components"] for c in row["components"]]
                await run(
                    "the bot answers the form",
                    await discord.submit_modal(alice, press, {field["custom_id"]: pin}),
                )

                shown = await run(
                    "alice: /imgur favorites",
                    await discord.slash_command(alice, "imgur", "favorites", {}),
                )
                for _ in range(2):
                    nxt = await discord.press_button(
                        alice, shown, button(shown, "Next")["custom_id"]
                    )
                    footer = shown.embeds[-1]["footer"]["text"]
                    await nxt.wait_for_message(
                        lambda m, old=footer: m.embeds and m.embeds[-1]["footer"]["text"] != old
                    )
                    say("» alice presses [Next]; the message now reads")
                    for line in describe(shown):
                        say(line)
                    say()

                await run(
                    "alice: /imgur status", await discord.slash_command(alice, "imgur", "status")
                )
                ask = await run(
                    "alice: /imgur unlink", await discord.slash_command(alice, "imgur", "unlink")
                )
                confirm = await discord.press_button(alice, ask, button(ask, "Unlink")["custom_id"])
                await confirm.wait_for_message(lambda m: "Unlinked" in m.content)
                say("» alice presses [Unlink]")
                for line in describe(ask):
                    say(line)
                say()
        say(
            f"Imgur API calls made: {imgur.count('favorites')} favorites pages, "
            f"{imgur.count('account')} account look-ups, {imgur.count('token')} token exchanges."
        )


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(play(sys.stdout, Path(workdir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
