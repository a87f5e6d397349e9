"""One real headless browser through the whole ``token`` flow.

Chromium opens the link the member got: the bot's confirmation page, which names the member;
a click on "Continue to Imgur" opens the fake Imgur authorize URL, which redirects to the
callback page with the tokens in the fragment, and the page's script posts them. Needs
Playwright (Python) and a system Chromium (``.ci/install-browser``; ``CHROMIUM`` names another
binary). Without them the test is skipped with the reason, never passed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from bot.config import WebConfig
from bot.imgur import ResponseType
from bot.web import CallbackServer, WebDependencies

MEMBER = 31337
DISPLAY_NAME = "Alice <b>&</b> (@alice)"  # markup in a display name stays text
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
TIMEOUT_MS = 15_000


def skip(reason: str) -> None:
    print(f"browser test skipped: {reason}", file=sys.stderr)
    pytest.skip(reason)


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def response_type():
    return ResponseType.TOKEN


async def member_name(discord_user_id: int) -> str | None:
    return DISPLAY_NAME if discord_user_id == MEMBER else None


async def test_browser_links_through_the_token_redirect_and_keeps_no_token_in_the_address(
    links, link_store, fake_imgur, notifications, tmp_path: Path
):
    try:
        from playwright.async_api import Error as PlaywrightError
        from playwright.async_api import async_playwright
    except ImportError:
        skip("the playwright package is not installed (pip install playwright)")
    executable = chromium_path()
    if executable is None:
        skip("no chromium binary found (run .ci/install-browser, or set CHROMIUM)")

    server = CallbackServer(
        WebConfig(enabled=True, host="127.0.0.1", port=0, public_url="http://127.0.0.1"),
        WebDependencies(
            links, is_connected=lambda: True, notify=notifications, member_name=member_name
        ),
    )
    await server.start()
    callback_url = f"http://127.0.0.1:{server.port}/oauth/callback"
    links.confirm_url = f"http://127.0.0.1:{server.port}/oauth/continue"
    try:
        fake_imgur.add_account("alice")
        fake_imgur.login_as = "alice"
        fake_imgur.redirect_url = callback_url
        start = await links.start(MEMBER)

        async with async_playwright() as playwright:
            try:
                context = await playwright.chromium.launch_persistent_context(
                    str(tmp_path / "profile"),
                    executable_path=executable,
                    headless=True,
                    args=CHROMIUM_ARGS,
                    timeout=TIMEOUT_MS,
                )
            except PlaywrightError as exc:
                skip(f"chromium at {executable} could not be launched: {exc.message[:300]}")
            try:
                page = context.pages[0] if context.pages else await context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                console: list[str] = []
                page.on("console", lambda message: console.append(message.text))
                await page.goto(start.url)
                await page.wait_for_selector('body[data-result="confirm"]')
                confirm_heading = await page.inner_text("#title")
                confirm_member = await page.inner_text("#member")
                bold = await page.locator("main b").count()
                assert fake_imgur.count("authorize") == 0  # nothing at Imgur before the click
                await page.click("#continue")
                try:
                    await page.wait_for_selector(
                        'body[data-result="linked"], body[data-result="failed"]'
                    )
                except PlaywrightError:
                    pytest.fail(f"the page showed no result; its console said: {console}")
                result = await page.get_attribute("body", "data-result")
                heading = await page.inner_text("#title")
                message = await page.inner_text("#message")
                address = page.url
                location_hash = await page.evaluate("window.location.hash")
            finally:
                await context.close()
    finally:
        await server.stop()

    assert confirm_heading == f"Link your Imgur account to {DISPLAY_NAME} on Discord?"
    assert confirm_member == f"{DISPLAY_NAME} on Discord"
    assert bold == 0
    (authorize,) = [r for r in fake_imgur.requests if r.route == "authorize"]
    assert "referer" not in {name.lower() for name in authorize.headers}  # no-referrer held
    assert result == "linked", (heading, message, console)
    assert heading == "Linked"
    assert "alice" in message
    assert address == callback_url  # neither the #access_token fragment nor the state
    assert location_hash == ""
    assert not [line for line in console if "Content Security Policy" in line], console
    link = await link_store.get(MEMBER)
    assert link is not None
    assert link.imgur_username == "alice"
    assert notifications.sent == [(MEMBER, "Linked as **alice** on Imgur. Try `/imgur favorites`.")]
