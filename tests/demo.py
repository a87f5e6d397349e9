"""An offline demo: the real bot against the fake Discord and the fake Imgur.

    make demo        (or: .venv/bin/python -m tests.demo)

Plays a short session as three members and prints what they saw: alice links through Imgur's
authorize page (link, PIN, favorites with paging, status, unlink); bob links the way that works
on today's Imgur, by a code in his Imgur profile's About text, and pages his public gallery
favorites; jonas, whose Discord runs in German, added the app to his own account (a user
install) and uses it in a server the bot is not in: he browses privately and shares one
favorite with the channel. Needs no account anywhere and no network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
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
    if message.kind == "dm" or (
        message.interaction is not None and message.interaction.is_dm and not message.is_ephemeral
    ):
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
            if component.get("type") == 3:  # a select menu
                lines.append(f"  [{component.get('placeholder', '…')} ▾]")
                lines += [f"    · {option['label']}" for option in component.get("options", [])]
                continue
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
    "» bob: /imgur link",
    "[Verify with my Imgur profile]",
    "I could not find your code in the About text of **Bob\\_On\\_Imgur** yet",
    "Linked as **Bob\\_On\\_Imgur** (verified by your profile)",
    "Imgur page 1 · 6–10 of 10 · newest first · your public gallery favorites only",
    "Kind: Verified by your Imgur profile",
    "» jonas: /imgur verknüpfen benutzername:Jonas_Bilder",
    "Schau in deine Direktnachrichten",
    "Dein Code für das Imgur-Konto **Jonas\\_Bilder**",
    "Verknüpft als **Jonas\\_Bilder** (über dein Profil bestätigt)",
    "(only you can see this)",
    "Imgur-Seite 1 · 1–5 von 8 · neueste zuerst · nur deine öffentlichen Galerie-Favoriten",
    "[Zurück] (disabled) [Weiter] [Zu Seite…]",
    "[Einen davon im Kanal teilen… ▾]",
    "teilt einen Favoriten von Imgur:",
    "the interactions alone: 0 calls to its channels",
    "with the client id alone: 3 profile checks, 2 public favorites pages.",
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


def footer_changed(old: str) -> Callable[[FakeMessage], bool]:
    """A `wait_for_message` predicate: the last embed's footer no longer reads `old`."""
    return lambda m: bool(m.embeds) and m.embeds[-1]["footer"]["text"] != old


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
        imgur.add_account("Bob_On_Imgur", favorites=12, bio="Cat pictures, mostly.")
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
                    await nxt.wait_for_message(footer_changed(footer))
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
                await play_bio_member(discord, imgur, say, run)
                await play_user_install(discord, imgur, say, run)
        say(
            f"Imgur API calls made: {imgur.count('favorites')} favorites pages, "
            f"{imgur.count('account')} account look-ups, {imgur.count('token')} token exchanges; "
            f"with the client id alone: {imgur.count('public_account')} profile checks, "
            f"{imgur.count('gallery_favorites')} public favorites pages."
        )


async def play_bio_member(
    discord: FakeDiscord,
    imgur: FakeImgur,
    say: Any,
    run: Any,
) -> None:
    """bob verifies by his Imgur profile (a client id is all the bot needs) and browses."""
    bob = discord.add_user(name="bob")
    await run("bob: /imgur link", await discord.slash_command(bob, "imgur", "link"))
    offer = await discord.wait_for_dm(bob)
    say("» the bot's DM to bob")
    for line in describe(offer):
        say(line)
    say()
    press = await discord.press_button(
        bob, offer, button(offer, "Verify with my Imgur profile")["custom_id"]
    )
    modal = await press.wait_for_modal()
    (field,) = [c for row in modal["components"] for c in row["components"]]
    say("» bob presses [Verify with my Imgur profile]: a form asks for his Imgur username\n")
    code_message = await run(
        "the bot answers the form",
        await discord.submit_modal(bob, press, {field["custom_id"]: "bob_on_imgur"}),
    )
    found = re.search(r"imgur-link-[A-Z0-9]{4}-[A-Z0-9]{4}", str(code_message.embeds))
    code = found.group(0) if found else ""
    check_id = button(code_message, "Check")["custom_id"]
    await run(
        "bob presses [Check] before editing his profile",
        await discord.press_button(bob, code_message, check_id),
    )
    imgur.account("Bob_On_Imgur").bio = f"Cat pictures, mostly. {code}"
    say("» bob adds the code to his Imgur profile's About text and saves\n")
    await run("bob presses [Check] again", await discord.press_button(bob, code_message, check_id))
    shown = await run(
        "bob: /imgur favorites", await discord.slash_command(bob, "imgur", "favorites", {})
    )
    nxt = await discord.press_button(bob, shown, button(shown, "Next")["custom_id"])
    footer = shown.embeds[-1]["footer"]["text"]
    await nxt.wait_for_message(footer_changed(footer))
    say("» bob presses [Next]; the message now reads")
    for line in describe(shown):
        say(line)
    say()
    await run("bob: /imgur status", await discord.slash_command(bob, "imgur", "status"))


async def play_user_install(
    discord: FakeDiscord,
    imgur: FakeImgur,
    say: Any,
    run: Any,
) -> None:
    """jonas (German) uses his own install of the app where the bot is not, privately."""
    jonas = discord.add_user(name="jonas", locale="de")
    imgur.add_account("Jonas_Bilder", favorites=8, bio="Berge und Katzen.")
    there = discord.other_text_channel_id
    say(
        "» jonas's Discord runs in German. He added the app to his own account (Add to my "
        "account) and types in #other-general of a server the bot is not in\n"
    )
    await run(
        "jonas: /imgur verknüpfen benutzername:Jonas_Bilder",
        await discord.slash_command(
            jonas, "imgur", "link", {"username": "Jonas_Bilder"}, channel_id=there
        ),
    )
    code_message = await discord.wait_for_dm(jonas)
    say("» the bot's DM to jonas")
    for line in describe(code_message):
        say(line)
    say()
    found = re.search(r"imgur-link-[A-Z0-9]{4}-[A-Z0-9]{4}", str(code_message.embeds))
    imgur.account("Jonas_Bilder").bio = f"Berge und Katzen. {found.group(0) if found else ''}"
    say("» jonas adds the code to his Imgur profile's About text and saves\n")
    await run(
        "jonas presses [Prüfen]",
        await discord.press_button(
            jonas, code_message, button(code_message, "Prüfen")["custom_id"]
        ),
    )
    shown = await run(
        "jonas: /imgur favoriten privat:True (in the server without the bot)",
        await discord.slash_command(
            jonas, "imgur", "favorites", {"private": True}, channel_id=there
        ),
    )
    (menu,) = [c for row in shown.components for c in row["components"] if c["type"] == 3]
    choice = menu["options"][1]
    say(f"» jonas picks “{choice['label']}” in the share menu")
    share = await discord.select(jonas, shown, menu["custom_id"], [choice["value"]])
    posted = await share.wait_for_message(lambda m: not m.is_ephemeral)
    for line in describe(posted):
        say(line)
    say()
    refused = [c for c in discord.rest_calls if c.path.startswith(f"/channels/{there}")]
    say(
        f"» in that server the bot answered through the interactions alone: "
        f"{len(refused)} calls to its channels\n"
    )


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as workdir:
        asyncio.run(play(sys.stdout, Path(workdir)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
