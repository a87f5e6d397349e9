"""``python -m bot`` at DEBUG, linking members every way there is: no secret in any log line.

The real bot process (logging set up by ``main``, as an operator runs it) against the fake
Discord and the fake Imgur, with its callback server on. Members link with a PIN typed into
the modal, paste a redirect URL into ``/imgur pin``, send a code and state to the callback,
type an odd option value, and link by a code in the Imgur profile. discord.py logs every
gateway payload at DEBUG (INTERACTION_CREATE carries what they typed), aiosqlite every SQL
statement with its parameters: none of the values may reach the output.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import socket
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import aiohttp

from bot.storage import generate_key
from tests.e2e.test_link_flow import authorize_url
from tests.fakes.discord import FakeDiscord
from tests.fakes.imgur import FakeImgur
from tests.ops.conftest import clean_env

BIO_CODE = re.compile(r"imgur-link-[A-Z0-9]{4}-[A-Z0-9]{4}")
START_DEADLINE = 30.0
STOP_DEADLINE = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def state_in(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def test_a_debug_run_logs_no_pin_code_state_token_or_option_value(
    tmp_path: Path, http_session: aiohttp.ClientSession
) -> None:
    port = free_port()
    web = f"http://127.0.0.1:{port}"
    log_file = tmp_path / "bot.log"
    secrets_seen: dict[str, str] = {}
    async with FakeImgur() as imgur, FakeDiscord() as discord:
        env = clean_env(
            DISCORD_TOKEN=discord.token,
            DISCORD_API_BASE=discord.rest_base,
            DISCORD_GATEWAY_URL=discord.gateway_url,
            IMGUR_CLIENT_ID=imgur.client_id,
            IMGUR_CLIENT_SECRET=imgur.client_secret,
            IMGUR_API_BASE=imgur.base_url,
            BOT_DATABASE=str(tmp_path / "bot.db"),
            BOT_ENCRYPTION_KEY=generate_key(),
            BOT_WEB_ENABLED="true",
            BOT_WEB_PORT=str(port),
            BOT_PUBLIC_URL=web,
            BOT_LOG_LEVEL="DEBUG",
            BOT_LOG_FORMAT="json",
        )
        config = tmp_path / "config.toml"
        config.write_text('[web]\nhost = "127.0.0.1"\n', encoding="utf-8")
        with log_file.open("w", encoding="utf-8") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--config",
                str(config),
                env=env,
                cwd=tmp_path,
                stdout=log,
                stderr=log,
            )
            try:
                await discord.wait_until_ready_sent(timeout=START_DEADLINE)

                # 1. A PIN typed into the modal.
                imgur.add_account("alice_imgur")
                alice = discord.add_user(name="alice")
                await (await discord.slash_command(alice, "imgur", "link")).wait_for_message()
                dm = await discord.wait_for_dm(alice)
                secrets_seen["alice's state"] = state_in(authorize_url(dm))
                press = await discord.press_button(alice, dm, "imgur:enter-pin")
                modal = await press.wait_for_modal()
                (text_input,) = [c for row in modal["components"] for c in row["components"]]
                pin = imgur.issue_pin("alice_imgur")
                secrets_seen["the modal's PIN"] = pin
                submit = await discord.submit_modal(alice, press, {text_input["custom_id"]: pin})
                assert "alice" in (await submit.wait_for_message()).text

                # 2. A whole redirect URL pasted into /imgur pin (state and code).
                bob = discord.add_user(name="bob")
                await (await discord.slash_command(bob, "imgur", "link")).wait_for_message()
                bob_state = state_in(authorize_url(await discord.wait_for_dm(bob)))
                code = secrets.token_hex(12)
                secrets_seen["bob's state"], secrets_seen["bob's code"] = bob_state, code
                pasted = f"https://localhost/?state={bob_state}&code={code}"
                done = await discord.slash_command(bob, "imgur", "pin", {"code": pasted})
                await done.wait_for_message()

                # 3. A code and state sent to the callback server.
                carol = discord.add_user(name="carol")
                await (await discord.slash_command(carol, "imgur", "link")).wait_for_message()
                carol_state = state_in(authorize_url(await discord.wait_for_dm(carol)))
                web_code = secrets.token_hex(12)
                secrets_seen["carol's state"], secrets_seen["the web code"] = carol_state, web_code
                async with http_session.get(
                    f"{web}/oauth/callback", params={"code": web_code, "state": carol_state}
                ) as page:
                    await page.read()

                # 4. Any option value, even one shaped like nothing secret.
                dave = discord.add_user(name="dave")
                odd = "zz-option-value-" + secrets.token_hex(4)
                secrets_seen["an option value"] = odd
                done = await discord.slash_command(dave, "imgur", "pin", {"code": odd})
                await done.wait_for_message()

                # 5. A bio code: shown in a DM, read back from the Imgur profile.
                eve = discord.add_user(name="eve")
                imgur.add_account("eve_imgur")
                asked = await discord.slash_command(eve, "imgur", "link", {"username": "eve_imgur"})
                await asked.wait_for_message()
                offer = await discord.wait_for_dm(
                    eve, lambda m: bool(BIO_CODE.search(str(m.embeds)))
                )
                bio_code = BIO_CODE.findall(str(offer.embeds))[0]
                secrets_seen["the bio code"] = bio_code
                imgur.account("eve_imgur").bio = f"Hello! {bio_code}"
                (check,) = [
                    c
                    for row in offer.components
                    for c in row.get("components", [])
                    if c.get("label") == "Check"
                ]
                press = await discord.press_button(eve, offer, check["custom_id"])
                assert "verified by your profile" in (await press.wait_for_message()).text

                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), STOP_DEADLINE)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()

    output = log_file.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in output.splitlines()]
    loggers = {entry["logger"] for entry in entries}
    # The run really was at DEBUG, with discord.py's gateway traffic in it.
    assert any(entry["level"] == "DEBUG" for entry in entries)
    assert any("WebSocket Event" in entry["message"] for entry in entries), sorted(loggers)
    for what, value in secrets_seen.items():
        assert value not in output, f"{what} is in the log"
    assert discord.token not in output
    assert imgur.client_secret not in output
    for entry in entries:
        if entry["logger"].startswith("aiosqlite"):
            assert "alice_imgur" not in entry["message"], entry
